package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"log/slog"

	"github.com/rearview-dev/rearview/coordinator/alert"
	"github.com/rearview-dev/rearview/coordinator/synthetic"
	"github.com/rearview-dev/rearview/coordinator/synthetic/runner"
)

// SyntheticCmd runs synthetic checks.
type SyntheticCmd struct {
	Run SyntheticRunCmd `cmd:"" help:"Run a config's Lighthouse lab runs and journeys, judge them against budgets and the previous release, upload the results."`
}

// SyntheticRunCmd is `rearview synthetic run`, for CI.
type SyntheticRunCmd struct {
	Config     string `help:"The checks (synthetic.yaml)." required:"" type:"existingfile"`
	Release    string `help:"Release the checked build is (a git SHA); default: the config's." env:"REARVIEW_RELEASE,GITHUB_SHA"`
	BaseURL    string `name:"base-url" help:"Override the config's base_url (a preview deployment)." env:"REARVIEW_SYNTHETIC_BASE_URL"`
	Baseline   string `help:"Compare with this release instead of the one checked before --release."`
	Project    string `help:"Project id (required with the admin token)." env:"REARVIEW_PROJECT"`
	RunID      string `name:"run-id" help:"Id of this run; default: random (GitHub: the workflow run)." env:"GITHUB_RUN_ID"`
	Lighthouse string `help:"Lighthouse CLI command; default: lighthouse on PATH." env:"REARVIEW_LIGHTHOUSE"`
	Chromium   string `help:"Chromium binary (also Lighthouse's CHROME_PATH); default: chromium on PATH." env:"REARVIEW_CHROMIUM,CHROME_PATH"`
	NoUpload   bool   `name:"no-upload" help:"Judge only; send nothing to Rearview (no comparison with earlier releases either)."`
	Output     string `help:"Also write the results as JSON to this file." type:"path"`
	APIFlags
}

// Run runs the checks; a broken budget, a regression or a failed check
// exits non-zero after the table.
func (c *SyntheticRunCmd) Run(g *Globals) error {
	log := g.Logger()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := runner.LoadConfig(c.Config)
	if err != nil {
		return err
	}
	if c.BaseURL != "" {
		cfg.BaseURL = c.BaseURL
	}
	if c.Project == "" {
		c.Project = cfg.Project
	}
	release := c.Release
	if release == "" {
		release = cfg.Release
	}
	if release == "" {
		return fmt.Errorf("synthetic run: no release: pass --release (or set release in %s)", c.Config)
	}
	var budgets []runner.Budget
	for _, b := range cfg.Budgets {
		pb, err := runner.ParseBudget(string(b))
		if err != nil {
			return err
		}
		budgets = append(budgets, pb)
	}
	r := runner.Runner{Chromium: c.Chromium, Source: synthetic.SourceCI, Release: release, RunID: c.RunID, Logger: log}
	if r.Chromium == "" {
		r.Chromium = runner.FindChromium()
	}
	if r.Chromium == "" {
		return fmt.Errorf("synthetic run: no Chromium found: install it or pass --chromium")
	}
	if c.Lighthouse != "" {
		r.Lighthouse = strings.Fields(c.Lighthouse)
	} else {
		r.Lighthouse = runner.FindLighthouse("")
	}
	if r.RunID == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		r.RunID = hex.EncodeToString(b)
	} else {
		r.RunID = release + "-" + r.RunID
	}

	// The baseline before the run, so this release's own upload is not it.
	var base struct {
		Release string                 `json:"release"`
		Rows    []synthetic.SummaryRow `json:"rows"`
	}
	if !c.NoUpload {
		q := url.Values{"previous_of": {release}}
		if c.Baseline != "" {
			q = url.Values{"release": {c.Baseline}}
		}
		if c.Project != "" {
			q.Set("project", c.Project)
		}
		if err := c.call("GET", "/api/v1/synthetic/summary?"+q.Encode(), nil, &base); err != nil {
			return fmt.Errorf("synthetic run: previous release: %w", err)
		}
	}
	results, err := r.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if c.Output != "" {
		b, _ := json.MarshalIndent(synthetic.Upload{Results: results}, "", "  ")
		if err := os.WriteFile(c.Output, b, 0o644); err != nil {
			return fmt.Errorf("synthetic run: %w", err)
		}
	}
	verdicts := runner.Judge(results, budgets, base.Rows, float64(cfg.Margin))
	if err := runner.WriteTable(os.Stdout, verdicts, release, base.Release); err != nil {
		return err
	}
	if !c.NoUpload {
		var out struct {
			Stored int `json:"stored"`
		}
		if err := c.call("POST", "/api/v1/synthetic/runs"+projectQuery(c.Project), synthetic.Upload{Results: results}, &out); err != nil {
			return fmt.Errorf("synthetic run: upload: %w", err)
		}
		fmt.Printf("uploaded %d result(s) for release %s (run %s)\n", out.Stored, release, r.RunID)
	}
	if runner.Broken(verdicts) {
		n := 0
		for _, v := range verdicts {
			if v.Status != runner.OK {
				n++
			}
		}
		return fmt.Errorf("synthetic run: release %s: %d problem(s)", release, n)
	}
	return nil
}

// SyntheticFlags configure a coordinator's scheduled probes.
type SyntheticFlags struct {
	SyntheticConfig     string `name:"synthetic-config" help:"Checks to probe on their schedule (synthetic.yaml with project set); one coordinator probes at a time (lease synthetic)." type:"existingfile" env:"REARVIEW_SYNTHETIC_CONFIG"`
	SyntheticLighthouse string `name:"synthetic-lighthouse" help:"Lighthouse CLI for the probes' lab runs; default: lighthouse on PATH." env:"REARVIEW_LIGHTHOUSE"`
	SyntheticChromium   string `name:"synthetic-chromium" help:"Chromium for the probes; default: chromium on PATH." env:"REARVIEW_CHROMIUM"`
}

// startProbes runs the configured probes under the synthetic lease.
func (f SyntheticFlags) startProbes(ro *runOnce, store *synthetic.Store, log *slog.Logger) error {
	if f.SyntheticConfig == "" {
		return nil
	}
	cfg, err := runner.LoadConfig(f.SyntheticConfig)
	if err != nil {
		return err
	}
	if cfg.Project == "" {
		return fmt.Errorf("synthetic config %s: probes need project", f.SyntheticConfig)
	}
	r := &runner.Runner{Chromium: f.SyntheticChromium, Release: cfg.Release, Logger: log.With("component", "synthetic-probe")}
	if r.Chromium == "" {
		r.Chromium = runner.FindChromium()
	}
	if r.Chromium == "" {
		return fmt.Errorf("synthetic probes: no Chromium found: install it or pass --synthetic-chromium")
	}
	if f.SyntheticLighthouse != "" {
		r.Lighthouse = strings.Fields(f.SyntheticLighthouse)
	} else {
		r.Lighthouse = runner.FindLighthouse("")
	}
	save := func(ctx context.Context, rs []synthetic.Result) error {
		for i := range rs {
			if err := rs[i].Validate(fmt.Sprintf("results[%d]", i)); err != nil {
				return err
			}
		}
		_, err := store.Save(ctx, cfg.Project, rs)
		return err
	}
	log.Info("synthetic probes", "config", f.SyntheticConfig, "project", cfg.Project, "every", time.Duration(cfg.Schedule), "pages", len(cfg.Pages), "journeys", len(cfg.Journeys))
	ro.start(leaseSynthetic, func(ctx context.Context) { r.Probe(ctx, cfg, save) })
	return nil
}

// probeFailures gives alert rules the store's probe failures.
type probeFailures struct{ s *synthetic.Store }

func (p probeFailures) ProbeFailures(ctx context.Context, project string, since, until int64) ([]alert.ProbeFailure, error) {
	fs, err := p.s.ProbeFailures(ctx, project, since, until)
	if err != nil {
		return nil, err
	}
	out := make([]alert.ProbeFailure, len(fs))
	for i, f := range fs {
		out[i] = alert.ProbeFailure{Check: f.Check, URL: f.URL, Failures: f.Failures, Runs: f.Runs, LastError: f.LastError}
	}
	return out, nil
}
