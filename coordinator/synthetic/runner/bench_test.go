package runner_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/coordinator/synthetic"
	"github.com/rearview-dev/rearview/coordinator/synthetic/runner"
	"github.com/rearview-dev/rearview/e2e/demo"
	"github.com/rearview-dev/rearview/internal/testenv"
	"github.com/rearview-dev/rearview/sdkproto/browser"
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

// BenchmarkLabHero audits the demo shop's home page at both releases of
// e2e.TestSyntheticReleases, the second with the planted hero regression
// (no fetchpriority, no dimensions), with either throttling method, and
// reports Lighthouse's LCP, FCP and CLS. The pages load the Rearview SDK in
// their head as the shop is installed, from a stand-in edge (the script,
// and 202 to whatever it sends): the render-blocking script is what keeps
// layout, and so the boost of a hero without fetchpriority, late. The hero
// answers after 2.5 s, as in the e2e test's lab shops.
func BenchmarkLabHero(b *testing.B) {
	edge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Allow-Headers", "*")
		if r.Method == http.MethodGet && r.URL.Path == "/sdk/v1.js" {
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
			w.Write(browser.Script())
			return
		}
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer edge.Close()
	for _, throttling := range []string{runner.Simulate, runner.DevTools} {
		for _, regress := range []bool{false, true} {
			name := throttling + "/r1"
			if regress {
				name = throttling + "/r2-regressed"
			}
			b.Run(name, func(b *testing.B) {
				shop := httptest.NewServer(demo.Handler(demo.Options{EdgeURL: edge.URL, Key: "rvk_bench", HeroDelay: 2500 * time.Millisecond, HeroRegression: regress}))
				defer shop.Close()
				c, err := runner.ParseConfig([]byte("base_url: " + shop.URL + "\npages: [{name: home, url: /, profiles: [mobile], throttling: " + throttling + "}]\n"))
				if err != nil {
					b.Fatal(err)
				}
				r := runner.Runner{Chromium: testenv.ChromiumPath(b), Lighthouse: []string{testenv.Lighthouse(b)}, RunID: "bench"}
				var lcp, fcp, cls float64
				for b.Loop() {
					res, err := r.Run(context.Background(), c)
					if err != nil || len(res) != 1 || !res[0].Passed {
						b.Fatalf("%+v %v", res, err)
					}
					lcp += res[0].Metrics[synthetic.LCP]
					fcp += res[0].Metrics[synthetic.FCP]
					cls += res[0].Metrics[synthetic.CLS]
				}
				n := float64(b.N)
				b.ReportMetric(lcp/n, "LCP-ms")
				b.ReportMetric(fcp/n, "FCP-ms")
				b.ReportMetric(cls/n, "CLS")
			})
		}
	}
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
