package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"time"
	"unicode/utf8"

	"github.com/rearview-dev/rearview/coordinator/route"
	"github.com/rearview-dev/rearview/coordinator/synthetic"
)

// Runner runs a config's checks, one at a time (Lighthouse measures a page
// best on an otherwise idle machine).
type Runner struct {
	// Chromium is the browser binary (Lighthouse's CHROME_PATH too).
	Chromium string
	// Lighthouse is the command that runs Lighthouse's CLI, e.g.
	// ["lighthouse"] or ["npx", "lighthouse"]; empty skips lab runs with
	// a failed result.
	Lighthouse []string
	// Source, Release and RunID tag every result.
	Source  string
	Release string
	RunID   string
	Logger  *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// FindChromium returns the first Chromium on PATH ("" if none).
func FindChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// FindLighthouse returns the Lighthouse CLI: dir's node_modules/.bin, or
// lighthouse on PATH; nil if neither.
func FindLighthouse(dir string) []string {
	if dir != "" {
		p := filepath.Join(dir, "node_modules", ".bin", "lighthouse")
		if _, err := os.Stat(p); err == nil {
			return []string{p}
		}
	}
	if p, err := exec.LookPath("lighthouse"); err == nil {
		return []string{p}
	}
	return nil
}

// Run runs every page (each profile, cfg.Runs times) and every journey of
// cfg and returns one result per run. A check that cannot run is a failed
// result, not an error: the error is for a cancelled context only.
func (r *Runner) Run(ctx context.Context, cfg *Config) ([]synthetic.Result, error) {
	log := r.Logger
	if log == nil {
		log = slog.Default()
	}
	now := r.Now
	if now == nil {
		now = time.Now
	}
	source := r.Source
	if source == "" {
		source = synthetic.SourceCI
	}
	var out []synthetic.Result
	result := func(check, kind, profile, u string, n int) synthetic.Result {
		sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%s\x00%s\x00%d", r.RunID, check, kind, profile, n)))
		return synthetic.Result{ID: hex.EncodeToString(sum[:12]), RunID: r.RunID, Source: source, Release: r.Release,
			Profile: profile, Check: check, Kind: kind, URL: u, Route: route.Normalise(u), TS: now().UnixMilli()}
	}
	for _, p := range cfg.Pages {
		u, err := absURL(cfg.BaseURL, p.URL)
		if err != nil {
			return nil, err // ParseConfig checked it
		}
		for _, profile := range p.Profiles {
			for n := range cfg.Runs {
				if err := ctx.Err(); err != nil {
					return out, err
				}
				res := result(p.Name, synthetic.KindLighthouse, profile, u, n)
				t0 := time.Now()
				m, err := r.lighthouse(ctx, u, profile, p.Throttling)
				res.DurationMS = float64(time.Since(t0).Milliseconds())
				if err != nil {
					res.Error = err.Error()
				} else {
					res.Passed, res.Metrics = true, m
				}
				res.Error = clip(res.Error)
				log.Info("lighthouse", "page", p.Name, "profile", profile, "throttling", p.Throttling, "lcp_ms", m[synthetic.LCP], "cls", m[synthetic.CLS], "took", time.Since(t0).Round(time.Millisecond), "err", err)
				out = append(out, res)
			}
		}
	}
	for _, j := range cfg.Journeys {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		first, _ := absURL(cfg.BaseURL, j.Steps[0].Goto)
		res := result(j.Name, synthetic.KindJourney, j.Profile, first, 0)
		r.journey(ctx, cfg.BaseURL, j, &res)
		res.Error = clip(res.Error)
		for i := range res.Steps {
			res.Steps[i].Error = clip(res.Steps[i].Error)
		}
		log.Info("journey", "journey", j.Name, "passed", res.Passed, "took_ms", res.DurationMS, "session", res.SessionID, "err", res.Error)
		out = append(out, res)
	}
	return out, ctx.Err()
}

// clip keeps an error message within what an upload accepts.
func clip(s string) string {
	const max = 1900
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
