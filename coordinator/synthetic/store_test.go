package synthetic_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/rearview-dev/rearview/coordinator/auth"
	"github.com/rearview-dev/rearview/coordinator/store/storetest"
	"github.com/rearview-dev/rearview/coordinator/synthetic"
)

func lab(id, release, url string, ts int64, lcp, cls float64) synthetic.Result {
	return synthetic.Result{ID: id, RunID: "run-" + release, Source: synthetic.SourceCI, Release: release, Profile: synthetic.Mobile,
		Check: url, Kind: synthetic.KindLighthouse, URL: url, TS: ts, Passed: true, DurationMS: 9000,
		Metrics: map[string]float64{synthetic.LCP: lcp, synthetic.CLS: cls, synthetic.Score: 0.9}}
}

func valid(t *testing.T, rs ...synthetic.Result) []synthetic.Result {
	t.Helper()
	for i := range rs {
		if err := rs[i].Validate("r"); err != nil {
			t.Fatal(err)
		}
	}
	return rs
}

func TestStoreReleasesSummaryCompare(t *testing.T) {
	ctx := context.Background()
	s := synthetic.NewStore(storetest.Open(t))
	first := valid(t,
		lab("a1", "r1", "https://shop.example.com/", 1000, 1400, 0),
		lab("a2", "r1", "https://shop.example.com/", 1001, 1500, 0),
		lab("a3", "r1", "https://shop.example.com/", 1002, 1900, 0.01),
		lab("a4", "r1", "https://shop.example.com/product/123", 1003, 2000, 0),
	)
	n, err := s.Save(ctx, "shop", first)
	if err != nil || n != 4 {
		t.Fatalf("save: %d %v", n, err)
	}
	// A retried upload stores nothing twice.
	if n, err := s.Save(ctx, "shop", first); err != nil || n != 0 {
		t.Fatalf("save again: %d %v", n, err)
	}
	if _, err := s.Save(ctx, "shop", valid(t, lab("b1", "r2", "https://shop.example.com/", 5000, 1450, 0.13))); err != nil {
		t.Fatal(err)
	}
	// Another project's results are its own.
	if _, err := s.Save(ctx, "other", valid(t, lab("a1", "r9", "https://x.example.com/", 9000, 1, 0))); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ of, want string }{{"r2", "r1"}, {"r1", ""}, {"r3", "r2"}} {
		if got, err := s.Previous(ctx, "shop", c.of); err != nil || got != c.want {
			t.Errorf("previous of %s = %q (%v), want %q", c.of, got, err, c.want)
		}
	}
	sum, err := s.Summary(ctx, "shop", "r1", 0)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, r := range sum {
		got[r.Route+" "+r.Metric] = r.Median
	}
	if got["/ LCP"] != 1500 || got["/ CLS"] != 0 || got["/product/:id LCP"] != 2000 {
		t.Errorf("summary %v", got)
	}
	head, _ := s.Summary(ctx, "shop", "r2", 0)
	for _, c := range synthetic.Compare(sum, head) {
		if c.Route == "/" && c.Metric == synthetic.LCP {
			if c.Change == nil || fmt.Sprintf("%.3f", *c.Change) != "-0.033" {
				t.Errorf("LCP change %v", c.Change)
			}
		}
		if c.Route == "/product/:id" && c.Head != nil {
			t.Errorf("r2 has no product run: %+v", c)
		}
	}
}

func TestProbeFailures(t *testing.T) {
	ctx := context.Background()
	s := synthetic.NewStore(storetest.Open(t))
	probe := func(id, check string, ts int64, passed bool, why string) synthetic.Result {
		return synthetic.Result{ID: id, RunID: id, Source: synthetic.SourceProbe, Profile: synthetic.Desktop, Check: check,
			Kind: synthetic.KindJourney, URL: "https://shop.example.com/checkout", TS: ts, Passed: passed, Error: why}
	}
	if _, err := s.Save(ctx, "shop", valid(t,
		probe("p1", "checkout", 100, true, ""),
		probe("p2", "checkout", 200, false, "older"),
		probe("p3", "checkout", 300, false, "step 3: no text"),
		probe("p4", "home", 300, true, ""),
	)); err != nil {
		t.Fatal(err)
	}
	fs, err := s.ProbeFailures(ctx, "shop", 150, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || fs[0].Check != "checkout" || fs[0].Failures != 2 || fs[0].Runs != 2 || fs[0].LastError != "step 3: no text" {
		t.Fatalf("failures %+v", fs)
	}
}

func TestAPIRejectsBadUploads(t *testing.T) {
	s := synthetic.NewStore(storetest.Open(t))
	mux := http.NewServeMux()
	synthetic.NewAPI(s, nil).Mount(mux)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r.WithContext(auth.With(r.Context(), auth.Principal{Project: "shop"})))
	}))
	defer srv.Close()
	good, _ := json.Marshal(synthetic.Upload{Results: []synthetic.Result{lab("a1", "r1", "https://shop.example.com/", 1000, 1400, 0)}})
	cases := []struct {
		name   string
		body   string
		status int
		detail string
	}{
		{"good", string(good), 201, ""},
		{"not json", "{", 400, "decode upload"},
		{"unknown field", strings.Replace(string(good), `"check"`, `"colour":1,"check"`, 1), 400, "unknown field"},
		{"no results", `{"results":[]}`, 400, "results: at least one"},
		{"bad profile", strings.Replace(string(good), `"mobile"`, `"watch"`, 1), 400, `results[0].profile: "watch"`},
		{"bad metric", strings.Replace(string(good), `"score":0.9`, `"score":3`, 1), 400, "results[0].metrics.score: implausible"},
		{"unknown metric", strings.Replace(string(good), `"score":0.9`, `"INP":3`, 1), 400, "results[0].metrics.INP: unknown metric"},
		{"relative url", strings.Replace(string(good), `"url":"https://shop.example.com/"`, `"url":"/"`, 1), 400, "results[0].url"},
		{"too large", `{"results":[` + strings.Repeat(" ", synthetic.MaxUploadSize) + `]}`, 413, "upload over"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := http.Post(srv.URL+"/api/v1/synthetic/runs", "application/json", strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out map[string]any
			json.NewDecoder(resp.Body).Decode(&out)
			if resp.StatusCode != c.status || !strings.Contains(fmt.Sprint(out["detail"]), c.detail) {
				t.Errorf("got %d %v, want %d %q", resp.StatusCode, out, c.status, c.detail)
			}
		})
	}
	runs, err := s.Runs(context.Background(), "shop", synthetic.Filter{})
	if err != nil || len(runs) != 1 || runs[0].Route != "/" {
		t.Fatalf("stored %+v %v: only the good upload, with its route", runs, err)
	}
}

func FuzzDecodeUpload(f *testing.F) {
	for _, name := range []string{"ci.json", "journey.json"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		u, err := synthetic.DecodeUpload(body)
		if err != nil {
			if !synthetic.IsValidation(err) {
				t.Fatalf("not a validation error: %v", err)
			}
			return
		}
		// What is accepted is within the limits and round-trips.
		if len(u.Results) == 0 || len(u.Results) > synthetic.MaxResults {
			t.Fatalf("%d results accepted", len(u.Results))
		}
		b, err := json.Marshal(u)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := synthetic.DecodeUpload(b); err != nil {
			t.Fatalf("re-encoded upload rejected: %v", err)
		}
	})
}

// TestSyntheticIssues lists the issues synthetic sessions' errors fell
// into, with the newest synthetic session, and none of the real ones'.
func TestSyntheticIssues(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO sessions (project, id, started_at, last_seen, flag_synthetic) VALUES (?, ?, 1, 1, ?)`, []any{"shop", "s-real", 0}},
		{`INSERT INTO sessions (project, id, started_at, last_seen, flag_synthetic) VALUES (?, ?, 1, 1, ?)`, []any{"shop", "s-probe-1", 1}},
		{`INSERT INTO sessions (project, id, started_at, last_seen, flag_synthetic) VALUES (?, ?, 1, 1, ?)`, []any{"shop", "s-probe-2", 1}},
		{`INSERT INTO issues (project, id, title, first_seen, last_seen) VALUES (?, ?, ?, 1, 1)`, []any{"shop", "i-map", "TypeError: reading 'map'"}},
		{`INSERT INTO issues (project, id, title, first_seen, last_seen) VALUES (?, ?, ?, 1, 1)`, []any{"shop", "i-real", "only real users"}},
		{`INSERT INTO events (project, id, session_id, kind, ts, received_at, issue_id, payload) VALUES (?, ?, ?, 'error', ?, 0, ?, '{}')`, []any{"shop", "e1", "s-probe-2", 10, "i-map"}},
		{`INSERT INTO events (project, id, session_id, kind, ts, received_at, issue_id, payload) VALUES (?, ?, ?, 'error', ?, 0, ?, '{}')`, []any{"shop", "e2", "s-probe-1", 20, "i-map"}},
		{`INSERT INTO events (project, id, session_id, kind, ts, received_at, issue_id, payload) VALUES (?, ?, ?, 'error', ?, 0, ?, '{}')`, []any{"shop", "e3", "s-real", 30, "i-map"}},
		{`INSERT INTO events (project, id, session_id, kind, ts, received_at, issue_id, payload) VALUES (?, ?, ?, 'error', ?, 0, ?, '{}')`, []any{"shop", "e4", "s-real", 40, "i-real"}},
	} {
		if _, err := db.ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	is, err := synthetic.NewStore(db).Issues(ctx, "shop", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(is) != 1 || is[0].ID != "i-map" || is[0].Events != 2 || is[0].LastSeen != 20 || is[0].Session != "s-probe-1" {
		t.Fatalf("synthetic issues %+v", is)
	}
}
