package alert

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"time"

	"github.com/rearview-dev/rearview/coordinator/route"
	"github.com/rearview-dev/rearview/coordinator/vitals"
)

// Kind is what a rule watches.
type Kind string

// Rule kinds.
const (
	// ErrorRate fires when a page's or an issue's errors in the last
	// Window are Factor× above the average of the same window over the
	// previous 24 hours, and at least MinCount.
	ErrorRate Kind = "error_rate"
	// NewIssue fires once for every issue first seen after the rule exists.
	NewIssue Kind = "new_issue"
	// Regression fires when a resolved issue happens again.
	Regression Kind = "regression"
	// VitalP75 fires when a page's p75 of Metric over Window exceeds
	// Threshold (default: Google's "good" boundary) with MinCount samples.
	VitalP75 Kind = "vital_p75"
	// SyntheticFailure fires when a scheduled synthetic probe (Target: the
	// check's name, empty for any) failed at least MinCount times (default
	// 1) in the last Window (default 15 min).
	SyntheticFailure Kind = "synthetic"
)

// Scopes of an ErrorRate rule.
const (
	ScopePage  = "page"
	ScopeIssue = "issue"
)

// Rule is an alert rule. Durations are in milliseconds on the wire.
type Rule struct {
	ID      string `json:"id" yaml:"id"`
	Project string `json:"project" yaml:"project"`
	Name    string `json:"name,omitempty" yaml:"name"`
	Kind    Kind   `json:"kind" yaml:"kind"`
	// Scope is page or issue (ErrorRate); Target a route ("/checkout",
	// normalised) or an issue id, empty for every page or issue.
	Scope  string `json:"scope,omitempty" yaml:"scope"`
	Target string `json:"target,omitempty" yaml:"target"`
	// Factor is how many times the baseline counts as a spike (default 5).
	Factor float64 `json:"factor,omitempty" yaml:"factor"`
	// MinCount is the minimum volume in the window (default 10 errors, or
	// 50 vital samples).
	MinCount int64 `json:"min_count,omitempty" yaml:"min_count"`
	// WindowMS is the evaluation window (default 5 min; 1 h for vitals).
	WindowMS int64 `json:"window_ms,omitempty" yaml:"window_ms"`
	// Metric and Threshold configure VitalP75.
	Metric    string  `json:"metric,omitempty" yaml:"metric"`
	Threshold float64 `json:"threshold,omitempty" yaml:"threshold"`
	// CooldownMS is the quiet time after a notification for the same rule
	// and key (default 1 h).
	CooldownMS int64 `json:"cooldown_ms,omitempty" yaml:"cooldown_ms"`
	// Webhook receives the Slack-compatible notification; empty uses the
	// coordinator's default webhook.
	Webhook   string `json:"webhook,omitempty" yaml:"webhook"`
	CreatedAt int64  `json:"created_at" yaml:"-"`
}

const (
	minute = int64(time.Minute / time.Millisecond)
	hour   = 60 * minute
	day    = 24 * hour
)

// Normalize fills defaults and validates r.
func (r *Rule) Normalize() error {
	if r.Project == "" {
		return fmt.Errorf("rule: project is required")
	}
	if r.ID == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		r.ID = "ar_" + hex.EncodeToString(b)
	}
	if len(r.ID) > 64 || len(r.Name) > 200 || len(r.Target) > 512 {
		return fmt.Errorf("rule %s: id, name or target too long", r.ID)
	}
	if r.CooldownMS == 0 {
		r.CooldownMS = hour
	}
	if r.CooldownMS < 0 || r.WindowMS < 0 || r.MinCount < 0 || r.Factor < 0 {
		return fmt.Errorf("rule %s: negative window, cooldown, factor or min_count", r.ID)
	}
	if r.Webhook != "" {
		u, err := url.Parse(r.Webhook)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("rule %s: webhook must be an http(s) URL", r.ID)
		}
	}
	switch r.Kind {
	case ErrorRate:
		if r.Scope == "" {
			r.Scope = ScopePage
		}
		if r.Scope != ScopePage && r.Scope != ScopeIssue {
			return fmt.Errorf("rule %s: scope must be page or issue", r.ID)
		}
		if r.Scope == ScopePage && r.Target != "" {
			r.Target = route.Normalise(r.Target)
		}
		if r.Factor == 0 {
			r.Factor = 5
		}
		if r.Factor <= 1 {
			return fmt.Errorf("rule %s: factor must be above 1", r.ID)
		}
		if r.MinCount == 0 {
			r.MinCount = 10
		}
		if r.WindowMS == 0 {
			r.WindowMS = 5 * minute
		}
		if r.WindowMS < minute || r.WindowMS > 6*hour || r.WindowMS%minute != 0 {
			return fmt.Errorf("rule %s: window must be whole minutes between 1 min and 6 h", r.ID)
		}
	case NewIssue, Regression:
		r.Scope = ""
	case VitalP75:
		th, ok := vitals.ThresholdOf(vitals.Metric(r.Metric))
		if !ok {
			return fmt.Errorf("rule %s: metric must be LCP, INP, CLS, FCP or TTFB", r.ID)
		}
		if r.Threshold == 0 {
			r.Threshold = th.Good
		}
		if r.Target != "" {
			r.Target = route.Normalise(r.Target)
		}
		if r.MinCount == 0 {
			r.MinCount = 50
		}
		if r.WindowMS == 0 {
			r.WindowMS = hour
		}
		if r.WindowMS < minute || r.WindowMS > 7*day {
			return fmt.Errorf("rule %s: window must be between 1 min and 7 days", r.ID)
		}
	case SyntheticFailure:
		r.Scope = ""
		if r.MinCount == 0 {
			r.MinCount = 1
		}
		if r.WindowMS == 0 {
			r.WindowMS = 15 * minute
		}
		if r.WindowMS < minute || r.WindowMS > 7*day {
			return fmt.Errorf("rule %s: window must be between 1 min and 7 days", r.ID)
		}
	default:
		return fmt.Errorf("rule %s: kind must be error_rate, new_issue, regression, vital_p75 or synthetic", r.ID)
	}
	return nil
}
