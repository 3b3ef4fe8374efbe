package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"text/tabwriter"
	"time"

	"github.com/rearview-dev/rearview/coordinator"
	"github.com/rearview-dev/rearview/coordinator/alert"
	"github.com/rearview-dev/rearview/coordinator/synthetic"
	"github.com/rearview-dev/rearview/coordinator/vitals"
)

// RUMFlags configure web vitals and alerting in a coordinator.
type RUMFlags struct {
	AlertsConfig string `name:"alerts-config" help:"Alert rules file (YAML or JSON, {rules: [...]}) loaded at start; rules need ids." type:"existingfile" env:"REARVIEW_ALERTS_CONFIG"`
	AlertWebhook string `name:"alert-webhook" help:"Default webhook (Slack-compatible) for alert rules without their own." env:"REARVIEW_ALERT_WEBHOOK"`
	SyntheticFlags
}

// rum holds the vitals aggregation and the alert evaluator of a
// coordinator; register is called inline among the API mounts, after the
// issues package registered its hook (alerts count errors by issue). Every
// coordinator runs the hooks; folding and evaluating run under leases.
type rum struct {
	err    error
	vitals *vitals.Vitals
	alerts *alert.Alerts
}

func (r *rum) register(ctx context.Context, coord *coordinator.Coordinator, f RUMFlags, ro *runOnce, log *slog.Logger) func(*http.ServeMux) {
	v, err := vitals.Register(coord, vitals.Options{NoFolder: true, Logger: log})
	if err != nil {
		r.err = err
		return func(*http.ServeMux) {}
	}
	r.vitals = v
	ro.start(leaseVitals, v.Run)
	syn := synthetic.NewStore(coord.DB())
	a, err := alert.Register(coord, alert.Options{Webhook: f.AlertWebhook, Vitals: v, Probes: probeFailures{syn}, NoEvaluator: true, Logger: log})
	if err != nil {
		r.err = err
		return v.Mount
	}
	r.alerts = a
	ro.start(leaseAlerts, a.Run)
	if f.AlertsConfig != "" {
		n, err := a.LoadRules(ctx, f.AlertsConfig)
		if err != nil {
			r.err = err
		} else {
			log.Info("alert rules loaded", "file", f.AlertsConfig, "rules", n)
		}
	}
	if err := f.startProbes(ro, syn, log); err != nil {
		r.err = err
	}
	return func(mux *http.ServeMux) {
		v.Mount(mux)
		a.Mount(mux)
		synthetic.NewAPI(syn, log).Mount(mux)
	}
}

// close releases what the aggregation and the evaluator hold; call it after
// the consumer and the run-once loops stopped. Pending vitals stay in the
// outbox, where queries read them, for the fold lease's next holder.
func (r *rum) close() {
	if r.alerts != nil {
		r.alerts.Close()
	}
	if r.vitals != nil {
		r.vitals.Close()
	}
}

// AlertsCmd manages alert rules through the API.
type AlertsCmd struct {
	List    AlertsListCmd    `cmd:"" help:"List a project's alert rules."`
	Add     AlertsAddCmd     `cmd:"" help:"Add or replace an alert rule."`
	Rm      AlertsRmCmd      `cmd:"" help:"Delete an alert rule."`
	History AlertsHistoryCmd `cmd:"" help:"Show the alerts that fired."`
}

// AlertsListCmd lists rules.
type AlertsListCmd struct {
	Project string `help:"Project id (required with the admin token)." env:"REARVIEW_PROJECT"`
	JSON    bool   `help:"Print JSON."`
	APIFlags
}

func projectQuery(p string) string {
	if p == "" {
		return ""
	}
	return "?project=" + url.QueryEscape(p)
}

// Run lists the rules.
func (c *AlertsListCmd) Run() error {
	var out struct {
		Rules []alert.Rule `json:"rules"`
	}
	if err := c.call("GET", "/api/v1/alerts/rules"+projectQuery(c.Project), nil, &out); err != nil {
		return err
	}
	if c.JSON {
		return json.NewEncoder(os.Stdout).Encode(out)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tSCOPE\tTARGET\tCONDITION\tNAME")
	for _, r := range out.Rules {
		cond := ""
		switch r.Kind {
		case alert.ErrorRate:
			cond = fmt.Sprintf("%g× 24h baseline over %s, ≥ %d", r.Factor, time.Duration(r.WindowMS)*time.Millisecond, r.MinCount)
		case alert.VitalP75:
			cond = fmt.Sprintf("%s p75 > %g over %s, ≥ %d samples", r.Metric, r.Threshold, time.Duration(r.WindowMS)*time.Millisecond, r.MinCount)
		case alert.SyntheticFailure:
			cond = fmt.Sprintf("≥ %d failed probes over %s", r.MinCount, time.Duration(r.WindowMS)*time.Millisecond)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Kind, r.Scope, r.Target, cond, r.Name)
	}
	return tw.Flush()
}

// AlertsAddCmd adds a rule.
type AlertsAddCmd struct {
	Kind      string        `arg:"" enum:"error_rate,new_issue,regression,vital_p75,synthetic" help:"error_rate, new_issue, regression, vital_p75 or synthetic (a scheduled probe failed; --target: the check's name)."`
	Project   string        `help:"Project id (required with the admin token)." env:"REARVIEW_PROJECT"`
	ID        string        `help:"Rule id; default: generated. An existing id is replaced."`
	Name      string        `help:"Rule name shown in notifications."`
	Scope     string        `help:"error_rate: page or issue." enum:",page,issue" default:""`
	Target    string        `help:"A page route (/checkout) or issue id; empty: every one."`
	Factor    float64       `help:"error_rate: times the 24 h baseline (default 5)."`
	MinCount  int64         `name:"min-count" help:"Minimum volume in the window (default 10 errors, 50 vital samples)."`
	Window    time.Duration `help:"Evaluation window (default 5m; 1h for vitals)."`
	Metric    string        `help:"vital_p75: LCP, INP, CLS, FCP or TTFB."`
	Threshold float64       `help:"vital_p75: p75 limit (ms; CLS unitless); default Google's 'good' boundary."`
	Cooldown  time.Duration `help:"Quiet time after a notification (default 1h)."`
	Webhook   string        `help:"Webhook URL for this rule; default: the coordinator's."`
	APIFlags
}

// Run creates the rule.
func (c *AlertsAddCmd) Run() error {
	in := alert.Rule{ID: c.ID, Project: c.Project, Name: c.Name, Kind: alert.Kind(c.Kind), Scope: c.Scope, Target: c.Target,
		Factor: c.Factor, MinCount: c.MinCount, WindowMS: c.Window.Milliseconds(), Metric: c.Metric, Threshold: c.Threshold,
		CooldownMS: c.Cooldown.Milliseconds(), Webhook: c.Webhook}
	var out alert.Rule
	if err := c.call("POST", "/api/v1/alerts/rules"+projectQuery(c.Project), in, &out); err != nil {
		return err
	}
	fmt.Printf("rule %s saved (%s, project %s)\n", out.ID, out.Kind, out.Project)
	return nil
}

// AlertsRmCmd deletes a rule.
type AlertsRmCmd struct {
	ID      string `arg:"" help:"Rule id."`
	Project string `help:"Project id (required with the admin token)." env:"REARVIEW_PROJECT"`
	APIFlags
}

// Run deletes the rule.
func (c *AlertsRmCmd) Run() error {
	if err := c.call("DELETE", "/api/v1/alerts/rules/"+url.PathEscape(c.ID)+projectQuery(c.Project), nil, nil); err != nil {
		return err
	}
	fmt.Printf("rule %s deleted\n", c.ID)
	return nil
}

// AlertsHistoryCmd shows fired alerts.
type AlertsHistoryCmd struct {
	Project string `help:"Project id (required with the admin token)." env:"REARVIEW_PROJECT"`
	Limit   int    `help:"How many." default:"50"`
	JSON    bool   `help:"Print JSON."`
	APIFlags
}

// Run prints the history.
func (c *AlertsHistoryCmd) Run() error {
	q := projectQuery(c.Project)
	if q == "" {
		q = "?"
	} else {
		q += "&"
	}
	var out struct {
		History []alert.Fired `json:"history"`
	}
	if err := c.call("GET", fmt.Sprintf("/api/v1/alerts/history%slimit=%d", q, c.Limit), nil, &out); err != nil {
		return err
	}
	if c.JSON {
		return json.NewEncoder(os.Stdout).Encode(out)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FIRED\tRULE\tKEY\tSENT\tMESSAGE")
	for _, f := range out.History {
		sent := "yes"
		if !f.Delivered {
			sent = "no " + f.Error
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", time.UnixMilli(f.FiredAt).UTC().Format(time.RFC3339), f.RuleID, f.Key, sent, f.Message)
	}
	return tw.Flush()
}
