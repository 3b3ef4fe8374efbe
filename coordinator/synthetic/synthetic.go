// Package synthetic keeps the results of synthetic checks beside RUM: the
// Lighthouse lab runs and scripted journeys that `rearview synthetic run`
// uploads from CI and that a coordinator's scheduled probes record.
//
// A result is stored once by its runner-made id, tagged with its release and
// device profile, so a release's lab numbers can be compared with the
// previous release's (Store.Summary, Store.Compare) and shown beside the
// field's. Synthetic sessions themselves (the journeys' SDK data) go through
// the edge like any other, flagged synthetic: coordinator.Message.Synthetic
// keeps them out of RUM percentiles and error-rate baselines, while their
// errors still become issues with their replay.
package synthetic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/rearview-dev/rearview/coordinator/route"
)

// Kinds of check.
const (
	KindLighthouse = "lighthouse" // a Lighthouse lab run of one URL
	KindJourney    = "journey"    // a scripted journey in headless Chromium
)

// Sources of a result.
const (
	SourceCI    = "ci"    // rearview synthetic run
	SourceProbe = "probe" // a coordinator's scheduled probe
)

// Device profiles: Lighthouse's mobile (Moto G Power, slow 4G, 4× CPU) and
// desktop (no CPU slow-down, fast network) presets.
const (
	Mobile  = "mobile"
	Desktop = "desktop"
)

// Metric names of a lab run. Times are in milliseconds; CLS is unitless and
// Score is Lighthouse's performance score, 0 to 1.
const (
	LCP   = "LCP"
	CLS   = "CLS"
	TBT   = "TBT"
	FCP   = "FCP"
	TTFB  = "TTFB"
	SI    = "SI"
	Score = "score"
	// Duration is a journey's wall time, in milliseconds.
	Duration = "duration"
)

// Metrics lists every lab metric in the order tables show them.
func Metrics() []string { return []string{LCP, CLS, TBT, FCP, TTFB, SI, Score} }

// HigherIsBetter reports whether a larger value of metric is an
// improvement (only the score): regressions are judged by it.
func HigherIsBetter(metric string) bool { return metric == Score }

// Result is one check's outcome.
type Result struct {
	// ID identifies the result: the same ID uploaded twice is stored once.
	ID      string `json:"id"`
	RunID   string `json:"run_id"`
	Source  string `json:"source"`
	Release string `json:"release,omitempty"`
	Profile string `json:"profile"`
	Check   string `json:"check"`
	Kind    string `json:"kind"`
	URL     string `json:"url"`
	// Route is URL's normalised path (/product/:id), filled on upload.
	Route string `json:"route"`
	// TS is when the check started (Unix ms).
	TS         int64              `json:"ts"`
	Passed     bool               `json:"passed"`
	DurationMS float64            `json:"duration_ms"`
	Metrics    map[string]float64 `json:"metrics,omitempty"`
	// Error says why a check failed: the failing step, a page exception,
	// Lighthouse's runtime error.
	Error string `json:"error,omitempty"`
	// SessionID is the Rearview session a journey recorded (its replay).
	SessionID string `json:"session_id,omitempty"`
	Steps     []Step `json:"steps,omitempty"`
}

// Step is one step of a journey.
type Step struct {
	Name       string  `json:"name"`
	DurationMS float64 `json:"duration_ms"`
	Passed     bool    `json:"passed"`
	Error      string  `json:"error,omitempty"`
}

// Limits of an upload.
const (
	MaxResults    = 500
	MaxUploadSize = 4 << 20
	maxShort      = 128
	maxURL        = 2048
	maxError      = 2048
	maxSteps      = 200
)

// Upload is the body of POST /api/v1/synthetic/runs.
type Upload struct {
	Results []Result `json:"results"`
}

// ValidationError names the field of an upload that is wrong.
type ValidationError struct {
	Path string
	Msg  string
}

func (e *ValidationError) Error() string { return e.Path + ": " + e.Msg }

func invalid(path, format string, a ...any) error {
	return &ValidationError{Path: path, Msg: fmt.Sprintf(format, a...)}
}

// DecodeUpload parses and validates an upload strictly: unknown fields,
// missing or oversized values and impossible metrics are errors naming
// their JSON path. It fills each result's Route.
func DecodeUpload(body []byte) (Upload, error) {
	var u Upload
	if len(body) > MaxUploadSize {
		return u, invalid("", "upload of %d bytes is over %d", len(body), MaxUploadSize)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&u); err != nil {
		return Upload{}, &ValidationError{Path: "", Msg: "decode upload: " + err.Error()}
	}
	if dec.More() {
		return Upload{}, invalid("", "trailing data after the upload object")
	}
	if len(u.Results) == 0 {
		return Upload{}, invalid("results", "at least one result is required")
	}
	if len(u.Results) > MaxResults {
		return Upload{}, invalid("results", "%d results, at most %d", len(u.Results), MaxResults)
	}
	for i := range u.Results {
		if err := u.Results[i].Validate(fmt.Sprintf("results[%d]", i)); err != nil {
			return Upload{}, err
		}
	}
	return u, nil
}

// Validate checks r and fills its Route; path prefixes error paths.
func (r *Result) Validate(path string) error {
	short := func(name, v string, required bool) error {
		switch {
		case required && v == "":
			return invalid(path+"."+name, "required")
		case len(v) > maxShort:
			return invalid(path+"."+name, "longer than %d bytes", maxShort)
		case !utf8.ValidString(v):
			return invalid(path+"."+name, "not UTF-8")
		}
		return nil
	}
	for _, f := range []struct {
		name, v  string
		required bool
	}{{"id", r.ID, true}, {"run_id", r.RunID, true}, {"release", r.Release, false}, {"check", r.Check, true}, {"session_id", r.SessionID, false}} {
		if err := short(f.name, f.v, f.required); err != nil {
			return err
		}
	}
	if r.Source != SourceCI && r.Source != SourceProbe {
		return invalid(path+".source", "%q is not ci or probe", r.Source)
	}
	if r.Profile != Mobile && r.Profile != Desktop {
		return invalid(path+".profile", "%q is not mobile or desktop", r.Profile)
	}
	if r.Kind != KindLighthouse && r.Kind != KindJourney {
		return invalid(path+".kind", "%q is not lighthouse or journey", r.Kind)
	}
	u, err := url.Parse(r.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(r.URL) > maxURL {
		return invalid(path+".url", "want an absolute http(s) URL of at most %d bytes", maxURL)
	}
	r.Route = route.Normalise(r.URL)
	if r.TS <= 0 {
		return invalid(path+".ts", "want Unix milliseconds")
	}
	if !finite(r.DurationMS) || r.DurationMS < 0 {
		return invalid(path+".duration_ms", "want a non-negative number")
	}
	for name, v := range r.Metrics {
		if !knownMetric(name) {
			return invalid(path+".metrics."+name, "unknown metric (want %s)", strings.Join(Metrics(), ", "))
		}
		if !finite(v) || v < 0 || (name == Score && v > 1) || (name != Score && name != CLS && v > 600_000) {
			return invalid(path+".metrics."+name, "implausible value %v", v)
		}
	}
	if len(r.Error) > maxError || !utf8.ValidString(r.Error) {
		return invalid(path+".error", "longer than %d bytes or not UTF-8", maxError)
	}
	if len(r.Steps) > maxSteps {
		return invalid(path+".steps", "%d steps, at most %d", len(r.Steps), maxSteps)
	}
	for i, s := range r.Steps {
		p := fmt.Sprintf("%s.steps[%d]", path, i)
		if err := short("name", s.Name, true); err != nil {
			return invalid(p+".name", "%s", err.(*ValidationError).Msg)
		}
		if !finite(s.DurationMS) || s.DurationMS < 0 {
			return invalid(p+".duration_ms", "want a non-negative number")
		}
		if len(s.Error) > maxError {
			return invalid(p+".error", "longer than %d bytes", maxError)
		}
	}
	return nil
}

func knownMetric(name string) bool {
	for _, m := range Metrics() {
		if m == name {
			return true
		}
	}
	return false
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// IsValidation reports whether err is an upload's fault (400), not the
// server's.
func IsValidation(err error) bool {
	var ve *ValidationError
	return errors.As(err, &ve)
}
