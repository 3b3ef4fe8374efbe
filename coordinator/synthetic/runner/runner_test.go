package runner_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/coordinator/synthetic"
	"github.com/rearview-dev/rearview/coordinator/synthetic/runner"
)

func TestParseConfig(t *testing.T) {
	c, err := runner.LoadConfig("testdata/synthetic.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Margin != 0.10 || c.Runs != 1 || time.Duration(c.Schedule) != 5*time.Minute || len(c.Journeys[0].Steps) != 9 || c.Journeys[0].Timeout == 0 ||
		c.Pages[0].Throttling != runner.DevTools {
		t.Errorf("config %+v", c)
	}
	if c, err := runner.ParseConfig([]byte("pages: [{url: http://a.test/}]")); err != nil {
		t.Error(err)
	} else if c.Pages[0].Throttling != runner.Simulate {
		t.Errorf("a page's throttling defaults to %q, want Lighthouse's default", c.Pages[0].Throttling)
	}
	bad := []struct{ name, yaml, want string }{
		{"unknown key", "pages: [{url: http://a.test/, colour: red}]", "field colour not found"},
		{"nothing", "margin: 5%", "no pages and no journeys"},
		{"relative without base", "pages: [{url: /}]", "relative and there is no base_url"},
		{"bad profile", "pages: [{url: http://a.test/, profiles: [watch]}]", `profile "watch"`},
		{"bad throttling", "pages: [{url: http://a.test/, throttling: provided}]", `throttling "provided" is not simulate or devtools`},
		{"two actions", "journeys: [{name: j, steps: [{goto: http://a.test/, click: '#x'}]}]", "exactly one of"},
		{"no goto first", "journeys: [{name: j, steps: [{click: '#x'}]}]", "first step must be a goto"},
		{"same name", "pages: [{name: a, url: http://a.test/}, {name: a, url: http://a.test/x}]", `name "a" used twice`},
		{"bad budget", "pages: [{url: http://a.test/}]\nbudgets: ['LCP about 2s']", "budgets[0]"},
		{"bad margin", "margin: lots\npages: [{url: http://a.test/}]", "margin"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			_, err := runner.ParseConfig([]byte(b.yaml))
			if err == nil || !strings.Contains(err.Error(), b.want) {
				t.Errorf("error %v, want %q", err, b.want)
			}
		})
	}
}

func TestParseBudget(t *testing.T) {
	cases := []struct {
		in   string
		want runner.Budget
		err  string
	}{
		{in: "LCP <= 2500ms on /checkout mobile", want: runner.Budget{Metric: "LCP", Op: "<=", Limit: 2500, Route: "/checkout", Profile: "mobile"}},
		{in: "lcp < 2.5s", want: runner.Budget{Metric: "LCP", Op: "<", Limit: 2500}},
		{in: "CLS <= 0.1", want: runner.Budget{Metric: "CLS", Op: "<=", Limit: 0.1}},
		{in: "score >= 90%", want: runner.Budget{Metric: "score", Op: ">=", Limit: 0.9}},
		{in: "TBT <= 200 on /product/123 desktop", want: runner.Budget{Metric: "TBT", Op: "<=", Limit: 200, Route: "/product/:id", Profile: "desktop"}},
		{in: "duration <= 10s on checkout", want: runner.Budget{Metric: "duration", Op: "<=", Limit: 10000, Route: "checkout"}},
		{in: "INP <= 200ms", err: "unknown metric INP"},
		{in: "CLS <= 0.1s", err: "unit s does not fit CLS"},
		{in: "LCP == 1", err: "want METRIC"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			b, err := runner.ParseBudget(c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			b.Text = ""
			if err != nil || b != c.want {
				t.Fatalf("got %+v %v, want %+v", b, err, c.want)
			}
		})
	}
}

func lab(release, profile string, m map[string]float64) synthetic.Result {
	return synthetic.Result{Check: "home", Kind: synthetic.KindLighthouse, Release: release, Profile: profile, Route: "/", URL: "http://shop.test/", Passed: true, Metrics: m}
}

func TestJudge(t *testing.T) {
	var budgets []runner.Budget
	for _, s := range []string{"LCP <= 2500ms on / mobile", "CLS <= 0.1", "duration <= 5s on checkout"} {
		b, err := runner.ParseBudget(s)
		if err != nil {
			t.Fatal(err)
		}
		budgets = append(budgets, b)
	}
	baseline := synthetic.Summarize([]synthetic.Result{lab("r1", "mobile", map[string]float64{"LCP": 1400, "CLS": 0, "TBT": 13, "score": 0.99})})
	journey := synthetic.Result{Check: "checkout", Kind: synthetic.KindJourney, Profile: "desktop", Route: "/", URL: "http://shop.test/", DurationMS: 3000, Error: "step 9 (assert-text): the page threw TypeError"}
	cases := []struct {
		name    string
		results []synthetic.Result
		want    map[string]string // metric → status
	}{
		{"same as before", []synthetic.Result{lab("r2", "mobile", map[string]float64{"LCP": 1450, "CLS": 0, "TBT": 37, "score": 0.98})},
			map[string]string{"LCP": runner.OK, "CLS": runner.OK, "TBT": runner.OK, "score": runner.OK}},
		{"CLS over budget", []synthetic.Result{lab("r2", "mobile", map[string]float64{"LCP": 1450, "CLS": 0.13, "TBT": 13, "score": 0.96})},
			map[string]string{"LCP": runner.OK, "CLS": runner.OverLimit, "TBT": runner.OK, "score": runner.OK}},
		{"LCP regressed within budget", []synthetic.Result{lab("r2", "mobile", map[string]float64{"LCP": 2000, "CLS": 0, "TBT": 13, "score": 0.85})},
			map[string]string{"LCP": runner.Regressed, "CLS": runner.OK, "TBT": runner.OK, "score": runner.Regressed}},
		{"budget only for its profile", []synthetic.Result{lab("r2", "desktop", map[string]float64{"LCP": 3000})},
			map[string]string{"LCP": runner.OK}},
		{"journey failed", []synthetic.Result{journey}, map[string]string{"duration": runner.Failed}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vs := runner.Judge(c.results, budgets, baseline, 0.10)
			got := map[string]string{}
			for _, v := range vs {
				got[v.Metric] = v.Status
			}
			for m, st := range c.want {
				if got[m] != st {
					t.Errorf("%s: %s, want %s (%+v)", m, got[m], st, vs)
				}
			}
			if len(got) != len(c.want) {
				t.Errorf("verdicts %v, want %v", got, c.want)
			}
			var sb strings.Builder
			if err := runner.WriteTable(&sb, vs, "r2", "r1"); err != nil {
				t.Fatal(err)
			}
			if runner.Broken(vs) != strings.Contains(sb.String(), "problem(s)") {
				t.Errorf("table and Broken disagree:\n%s", sb.String())
			}
		})
	}
}

func TestParseLighthouseReport(t *testing.T) {
	b, err := os.ReadFile("testdata/lighthouse-12.2.3-regressed.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := runner.ParseReport(b)
	if err != nil {
		t.Fatal(err)
	}
	if m["LCP"] < 1000 || m["CLS"] < 0.1 || m["score"] != 0.96 || len(m) != 7 {
		t.Errorf("metrics %v", m)
	}
	if _, err := runner.ParseReport([]byte(`{"lighthouseVersion":"12.2.3","runtimeError":{"code":"NO_FCP","message":"The page did not paint any content."}}`)); err == nil || !strings.Contains(err.Error(), "NO_FCP") {
		t.Errorf("runtime error: %v", err)
	}
}

// TestLighthouseArguments runs a stand-in Lighthouse that records its
// arguments and writes a stored report: each page's throttling and
// profile reach the command line, and the report's metrics the result.
func TestLighthouseArguments(t *testing.T) {
	dir := t.TempDir()
	report, err := filepath.Abs("testdata/lighthouse-12.2.3-regressed.json")
	if err != nil {
		t.Fatal(err)
	}
	fake := filepath.Join(dir, "lighthouse")
	script := `#!/bin/sh
printf '%s\n' "$@" >> "` + filepath.Join(dir, "args") + `"
echo --- >> "` + filepath.Join(dir, "args") + `"
for a in "$@"; do case "$a" in --output-path=*) cp "` + report + `" "${a#--output-path=}";; esac; done
`
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := runner.ParseConfig([]byte(`base_url: http://shop.test
pages:
  - {name: lab, url: /, profiles: [mobile, desktop], throttling: devtools}
  - {name: plain, url: /p}
`))
	if err != nil {
		t.Fatal(err)
	}
	r := runner.Runner{Chromium: "/nonexistent/chromium", Lighthouse: []string{fake}, RunID: "t"}
	res, err := r.Run(t.Context(), c)
	if err != nil || len(res) != 3 {
		t.Fatalf("%d results, %v", len(res), err)
	}
	for _, x := range res {
		if !x.Passed || x.Metrics[synthetic.CLS] < 0.1 {
			t.Errorf("%s %s: %+v", x.Check, x.Profile, x)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "args"))
	if err != nil {
		t.Fatal(err)
	}
	runs := strings.Split(strings.TrimSuffix(string(b), "---\n"), "---\n")
	want := []struct{ url, throttling, preset string }{
		{"http://shop.test/", "--throttling-method=devtools", ""},
		{"http://shop.test/", "--throttling-method=devtools", "--preset=desktop"},
		{"http://shop.test/p", "--throttling-method=simulate", ""},
	}
	if len(runs) != len(want) {
		t.Fatalf("%d runs:\n%s", len(runs), b)
	}
	for i, w := range want {
		args := strings.Split(strings.TrimSpace(runs[i]), "\n")
		if args[0] != w.url || !slices.Contains(args, w.throttling) || slices.Contains(args, "--preset=desktop") != (w.preset != "") {
			t.Errorf("run %d: %q, want %s %s %s", i, args, w.url, w.throttling, w.preset)
		}
	}
}
