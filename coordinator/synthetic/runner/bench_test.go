package runner_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/rearview-dev/rearview/coordinator/synthetic"
	"github.com/rearview-dev/rearview/coordinator/synthetic/runner"
	"github.com/rearview-dev/rearview/e2e/demo"
	"github.com/rearview-dev/rearview/internal/testenv"
)

// benchRun runs cfg once per op against the demo shop (no SDK, hero image
// at its usual 1.5 s) and reports the wall time of one check.
func benchRun(b *testing.B, cfg string, lighthouse bool) {
	shop := httptest.NewServer(demo.Handler(demo.Options{}))
	defer shop.Close()
	c, err := runner.ParseConfig([]byte("base_url: " + shop.URL + "\n" + cfg))
	if err != nil {
		b.Fatal(err)
	}
	r := runner.Runner{Chromium: testenv.ChromiumPath(b), RunID: "bench"}
	if lighthouse {
		r.Lighthouse = []string{testenv.Lighthouse(b)}
	}
	for b.Loop() {
		res, err := r.Run(context.Background(), c)
		if err != nil || len(res) != 1 || !res[0].Passed {
			b.Fatalf("%+v %v", res, err)
		}
	}
}

// BenchmarkLighthouse is one mobile Lighthouse run of the demo home page.
func BenchmarkLighthouse(b *testing.B) {
	benchRun(b, "pages: [{name: home, url: /, profiles: [mobile]}]", true)
}

// BenchmarkJourney is a three-step journey in a fresh headless Chromium.
func BenchmarkJourney(b *testing.B) {
	benchRun(b, `journeys:
  - name: browse
    steps:
      - goto: /
      - wait-for-selector: 'body[data-ready="true"]'
      - assert-text: {selector: h1, contains: Autumn collection}
`, false)
}

// BenchmarkJudge judges a 100-page run against 5 budgets and a baseline.
func BenchmarkJudge(b *testing.B) {
	var results []synthetic.Result
	for i := range 100 {
		r := lab("r2", "mobile", map[string]float64{"LCP": 1400 + float64(i), "CLS": 0.01, "TBT": 50, "FCP": 900, "TTFB": 20, "SI": 1800, "score": 0.95})
		r.Route = "/p/" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		results = append(results, r)
	}
	baseline := synthetic.Summarize(results)
	var budgets []runner.Budget
	for _, s := range []string{"LCP <= 2500ms", "CLS <= 0.1", "TBT <= 200ms", "score >= 90%", "LCP <= 2s on /p/aa mobile"} {
		bu, _ := runner.ParseBudget(s)
		budgets = append(budgets, bu)
	}
	for b.Loop() {
		if vs := runner.Judge(results, budgets, baseline, 0.1); len(vs) != 700 {
			b.Fatalf("%d verdicts", len(vs))
		}
	}
}
