package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/rearview-dev/rearview/coordinator/synthetic"
)

// chromeFlags are the flags every Chromium the runners start gets: headless
// in a closed network, no background traffic, a fresh profile.
var chromeFlags = []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
	"--disable-component-update", "--no-first-run", "--disable-sync", "--disable-dev-shm-usage",
	"--disable-blink-features=AutomationControlled"}

// lighthouseReport is the part of Lighthouse's JSON report we read.
type lighthouseReport struct {
	LighthouseVersion string `json:"lighthouseVersion"`
	FinalURL          string `json:"finalDisplayedUrl"`
	RuntimeError      *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"runtimeError"`
	Categories struct {
		Performance struct {
			Score *float64 `json:"score"`
		} `json:"performance"`
	} `json:"categories"`
	Audits map[string]struct {
		NumericValue *float64 `json:"numericValue"`
	} `json:"audits"`
}

// audits maps Lighthouse audit ids to our metric names.
var audits = map[string]string{
	"largest-contentful-paint": synthetic.LCP,
	"cumulative-layout-shift":  synthetic.CLS,
	"total-blocking-time":      synthetic.TBT,
	"first-contentful-paint":   synthetic.FCP,
	"server-response-time":     synthetic.TTFB,
	"speed-index":              synthetic.SI,
}

// lighthouse audits u once with profile's preset, throttled as throttling
// says (Simulate or DevTools), and returns its metrics.
func (r *Runner) lighthouse(ctx context.Context, u, profile, throttling string) (map[string]float64, error) {
	if len(r.Lighthouse) == 0 {
		return nil, fmt.Errorf("no lighthouse command: install it (npm i -g lighthouse@12.2.3) or pass --lighthouse")
	}
	dir, err := os.MkdirTemp("", "rearview-lighthouse")
	if err != nil {
		return nil, fmt.Errorf("lighthouse: %w", err)
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "report.json")
	flags := append(append([]string{}, chromeFlags...), "--user-data-dir="+filepath.Join(dir, "profile"))
	args := append(append([]string{}, r.Lighthouse[1:]...), u,
		"--output=json", "--output-path="+out, "--quiet", "--only-categories=performance",
		"--max-wait-for-load=45000", "--chrome-flags="+strings.Join(flags, " "))
	// Lighthouse 12 emulates a plain Chrome's User-Agent: without our
	// token the page's SDK would report the lab run as a real visitor.
	ua := mobileUA
	if profile == synthetic.Desktop {
		args = append(args, "--preset=desktop")
		ua = desktopUA
	}
	args = append(args, "--emulatedUserAgent="+ua, "--throttling-method="+throttling)
	cctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, r.Lighthouse[0], args...)
	cmd.Env = append(os.Environ(), "CHROME_PATH="+r.Chromium)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("lighthouse %s: %w: %s", u, err, tail(stderr.String(), 600))
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("lighthouse %s: report: %w", u, err)
	}
	return ParseReport(b)
}

// ParseReport reads the metrics out of a Lighthouse JSON report.
func ParseReport(b []byte) (map[string]float64, error) {
	var rep lighthouseReport
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("lighthouse report: %w", err)
	}
	if rep.RuntimeError != nil && rep.RuntimeError.Code != "" {
		return nil, fmt.Errorf("lighthouse: %s: %s", rep.RuntimeError.Code, rep.RuntimeError.Message)
	}
	m := map[string]float64{}
	for id, name := range audits {
		if a, ok := rep.Audits[id]; ok && a.NumericValue != nil {
			m[name] = *a.NumericValue
		}
	}
	if s := rep.Categories.Performance.Score; s != nil {
		m[synthetic.Score] = *s
	}
	if _, ok := m[synthetic.LCP]; !ok {
		return nil, fmt.Errorf("lighthouse report without LCP (version %q)", rep.LighthouseVersion)
	}
	return m, nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
