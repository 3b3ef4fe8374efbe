package alert_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/rearview-dev/rearview/coordinator"
	"github.com/rearview-dev/rearview/coordinator/alert"
	"github.com/rearview-dev/rearview/coordinator/blob"
	"github.com/rearview-dev/rearview/coordinator/issues"
	"github.com/rearview-dev/rearview/coordinator/store/storetest"
	"github.com/rearview-dev/rearview/coordinator/vitals"
	"github.com/rearview-dev/rearview/internal/testenv"
	"github.com/rearview-dev/rearview/sdkproto"
)

const admin = "rva_alert_test"

// webhook is an httptest receiver that keeps every payload.
type webhook struct {
	mu  sync.Mutex
	got []alert.Payload
	srv *httptest.Server
}

func newWebhook(t *testing.T) *webhook {
	w := &webhook{}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var p alert.Payload
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		w.mu.Lock()
		w.got = append(w.got, p)
		w.mu.Unlock()
	}))
	t.Cleanup(w.srv.Close)
	return w
}

func (w *webhook) payloads() []alert.Payload {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]alert.Payload(nil), w.got...)
}

type fakeIssues struct {
	mu          sync.Mutex
	fresh, regr []alert.Issue
}

func (f *fakeIssues) pick(is []alert.Issue, since, until int64) []alert.Issue {
	var out []alert.Issue
	for _, i := range is {
		if i.At > since && i.At <= until {
			out = append(out, i)
		}
	}
	return out
}

func (f *fakeIssues) NewIssues(_ context.Context, _ string, since, until int64) ([]alert.Issue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pick(f.fresh, since, until), nil
}

func (f *fakeIssues) Regressions(_ context.Context, _ string, since, until int64) ([]alert.Issue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pick(f.regr, since, until), nil
}

type rig struct {
	js      jetstream.JetStream
	db      *sql.DB
	c       *coordinator.Coordinator
	a       *alert.Alerts
	iss     *issues.Service // with rigOptions.realIssues
	vit     *vitals.Vitals  // with rigOptions.vitals
	api     string
	project string
	now     time.Time
	clockMu sync.Mutex
	issues  *fakeIssues
	hook    *webhook
}

func (r *rig) clock() time.Time {
	r.clockMu.Lock()
	defer r.clockMu.Unlock()
	return r.now
}

func (r *rig) advance(d time.Duration) {
	r.clockMu.Lock()
	r.now = r.now.Add(d)
	r.clockMu.Unlock()
}

// rigOptions replace the rig's fakes with the real packages.
type rigOptions struct {
	// realIssues registers the issues package's hook; alerts read its
	// table through SQLIssues.
	realIssues bool
	// vitals registers the vitals aggregation and backs vital rules.
	vitals bool
}

func newRig(t *testing.T) *rig { return newRigWith(t, rigOptions{}) }

func newRigWith(t *testing.T, o rigOptions) *rig {
	t.Helper()
	_, js := testenv.JetStream(t)
	ctx := context.Background()
	db := storetest.Open(t)
	blobs, _ := blob.NewDir(t.TempDir())
	c, err := coordinator.New(ctx, coordinator.Config{JetStream: js, DB: db, Blobs: blobs, AdminToken: admin, FetchBatch: 64})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{js: js, db: db, c: c, now: time.UnixMilli(1_764_028_800_000 + 30_000), issues: &fakeIssues{}, hook: newWebhook(t)}
	opts := alert.Options{Interval: -1, Webhook: r.hook.srv.URL, Issues: r.issues, Now: r.clock}
	if o.realIssues {
		// Before the alert hook, which reads the issue id it assigns.
		r.iss = issues.Register(c, nil, issues.Options{Now: r.clock})
		opts.Issues = nil
	}
	if o.vitals {
		v, err := vitals.Register(c, vitals.Options{Now: r.clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { v.Close() })
		r.vit = v
		opts.Vitals = v
	}
	a, err := alert.Register(c, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	r.a = a
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { c.Run(cctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	srv := httptest.NewServer(c.Handler(a.Mount))
	t.Cleanup(srv.Close)
	r.api = srv.URL
	p, _, err := c.CreateProject(ctx, "Shop", "")
	if err != nil {
		t.Fatal(err)
	}
	r.project = p.ID
	return r
}

type errEvent struct {
	url     string
	ts      int64
	release string
	// synthetic marks a synthetic check's error, as the edge does; one
	// batch is all synthetic or none.
	synthetic bool
}

var published int

// publish sends error events through NATS as an edge would.
func (r *rig) publish(t *testing.T, evs []errEvent) {
	t.Helper()
	for i := 0; i < len(evs); i += 300 {
		part := evs[i:min(i+300, len(evs))]
		b := sdkproto.Batch{V: 1, SDK: sdkproto.SDK{Name: "t", Version: "1"}, Session: sdkproto.Session{ID: "s-" + strconv.Itoa(published), StartedAt: part[0].ts},
			Page: sdkproto.Page{URL: part[0].url}, Device: sdkproto.Device{UA: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0.0.0 Safari/537.36"}, SentAt: part[0].ts}
		for _, e := range part {
			published++
			b.Events = append(b.Events, sdkproto.Event{ID: "e-" + strconv.Itoa(published), TS: e.ts, Kind: sdkproto.KindError,
				Error: &sdkproto.Error{Type: "TypeError", Value: "x is undefined", Mechanism: sdkproto.MechanismOnError, URL: e.url, Release: e.release}})
		}
		data, _ := json.Marshal(&b)
		m := nats.NewMsg(sdkproto.Subject("eu", r.project, sdkproto.KindError))
		m.Data = data
		m.Header.Set(sdkproto.HeaderReceivedAt, strconv.FormatInt(r.clock().UnixMilli(), 10))
		m.Header.Set(sdkproto.HeaderMsgID, "m-"+strconv.Itoa(published))
		if part[0].synthetic {
			m.Header.Set(sdkproto.HeaderSynthetic, "1")
		}
		if _, err := r.js.PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
}

func (r *rig) waitErrors(t *testing.T, n int) {
	t.Helper()
	testenv.Eventually(t, 20*time.Second, func() error {
		var got int
		r.db.QueryRow(`SELECT coalesce(sum(count), 0) FROM alert_counts WHERE scope = 'page'`).Scan(&got)
		if got < n {
			return fmt.Errorf("%d of %d errors counted", got, n)
		}
		return nil
	})
}

func (r *rig) do(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, r.api+path, rd)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// perHour returns n errors on url in each of the 24 hours before the
// window that ends now, spread over each hour.
func perHour(url string, now int64, n int) []errEvent {
	var out []errEvent
	for h := 1; h <= 24; h++ {
		for k := range n {
			out = append(out, errEvent{url: url, ts: now - int64(h)*3_600_000 - int64(k)*60_000 - 1})
		}
	}
	return out
}

func inWindow(url string, now int64, n int) []errEvent {
	var out []errEvent
	for k := range n {
		out = append(out, errEvent{url: url, ts: now - int64(k%50)*60_000})
	}
	return out
}

func TestErrorRateSpike(t *testing.T) {
	r := newRig(t)
	now := r.clock().UnixMilli()
	// One rule over every page: 1-hour window, 5× baseline, ≥ 10 errors.
	st, body := r.do(t, "POST", "/api/v1/alerts/rules?project="+r.project, alert.Rule{ID: "spikes", Name: "Error spikes", Kind: alert.ErrorRate, Scope: alert.ScopePage, WindowMS: 3_600_000, Factor: 5, MinCount: 10})
	if st != http.StatusCreated {
		t.Fatalf("create rule: %d %s", st, body)
	}
	var evs []errEvent
	// /checkout: 6/h baseline, 30 in the last hour: 5×, fires.
	evs = append(evs, perHour("https://shop.test/checkout?step=2", now, 6)...)
	evs = append(evs, inWindow("https://shop.test/checkout", now, 30)...)
	// /cart: 6/h baseline, steady 2× (12): does not fire.
	evs = append(evs, perHour("https://shop.test/cart", now, 6)...)
	evs = append(evs, inWindow("https://shop.test/cart", now, 12)...)
	// /search: 1/h baseline, 6 now: 6× but below the minimum volume.
	evs = append(evs, perHour("https://shop.test/search", now, 1)...)
	evs = append(evs, inWindow("https://shop.test/search", now, 6)...)
	// /orders/:id: no baseline, 9 now: below the minimum volume.
	evs = append(evs, inWindow("https://shop.test/orders/123", now, 9)...)
	r.publish(t, evs)
	r.waitErrors(t, len(evs))

	// Evaluated every minute for five minutes: one notification.
	for range 5 {
		if err := r.a.Evaluate(context.Background()); err != nil {
			t.Fatal(err)
		}
		r.advance(time.Minute)
	}
	got := r.hook.payloads()
	if len(got) != 1 {
		t.Fatalf("webhook received %d notifications, want 1: %+v", len(got), got)
	}
	p := got[0]
	if p.Alert == nil || p.Alert.Key != "/checkout" || p.Alert.Value != 30 || p.Alert.Baseline != 6 {
		t.Errorf("alert %+v", p.Alert)
	}
	if p.Text == "" || len(p.Blocks) == 0 || p.Blocks[0].Type != "section" || p.Blocks[0].Text == nil {
		t.Errorf("payload is not Slack-shaped: %+v", p)
	}

	st, body = r.do(t, "GET", "/api/v1/alerts/history?project="+r.project, nil)
	var h struct{ History []alert.Fired }
	json.Unmarshal(body, &h)
	if st != 200 || len(h.History) != 1 || !h.History[0].Delivered || h.History[0].RuleID != "spikes" {
		t.Fatalf("history %d %s", st, body)
	}

	// After the cooldown, a spike that is still going on fires again.
	r.advance(2 * time.Hour)
	r.publish(t, inWindow("https://shop.test/checkout", r.clock().UnixMilli(), 60))
	r.waitErrors(t, len(evs)+60)
	if err := r.a.Evaluate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(r.hook.payloads()); n != 2 {
		t.Errorf("after cooldown: %d notifications, want 2", n)
	}
}

func TestIssueRules(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	for _, rule := range []alert.Rule{{ID: "new", Project: r.project, Kind: alert.NewIssue}, {ID: "regr", Project: r.project, Kind: alert.Regression}} {
		if _, err := r.a.PutRule(ctx, rule); err != nil {
			t.Fatal(err)
		}
	}
	now := r.clock().UnixMilli()
	r.issues.mu.Lock()
	r.issues.fresh = []alert.Issue{{ID: "old", Title: "before the rule", At: now - 1000}, {ID: "i1", Title: "TypeError: x is undefined", At: now + 10}}
	r.issues.regr = []alert.Issue{{ID: "i0", Title: "came back", At: now + 20}}
	r.issues.mu.Unlock()
	for range 3 {
		r.advance(time.Minute)
		if err := r.a.Evaluate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got := r.hook.payloads()
	if len(got) != 2 {
		t.Fatalf("%d notifications, want 2 (new i1, regression i0): %+v", len(got), got)
	}
	keys := map[string]bool{got[0].Alert.Key: true, got[1].Alert.Key: true}
	if !keys["i1"] || !keys[fmt.Sprintf("i0@%d", now+20)] {
		t.Errorf("keys %v", keys)
	}
}

func TestRulesAPIAndConfig(t *testing.T) {
	r := newRig(t)
	bad := []alert.Rule{
		{Kind: "nonsense"},
		{Kind: alert.ErrorRate, Factor: 0.5},
		{Kind: alert.ErrorRate, WindowMS: 1000},
		{Kind: alert.VitalP75, Metric: "FID"},
		{Kind: alert.NewIssue, Webhook: "ftp://x"},
	}
	for _, b := range bad {
		if st, body := r.do(t, "POST", "/api/v1/alerts/rules?project="+r.project, b); st != http.StatusBadRequest {
			t.Errorf("POST %+v: %d %s", b, st, body)
		}
	}
	if st, _ := r.do(t, "POST", "/api/v1/alerts/rules?project="+r.project, "not a rule"); st != http.StatusBadRequest {
		t.Errorf("non-object body: %d", st)
	}
	cfg := filepath.Join(t.TempDir(), "alerts.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`rules:
  - id: checkout-spike
    project: %s
    kind: error_rate
    target: https://shop.test/checkout?x=1
  - id: lcp-checkout
    project: %s
    kind: vital_p75
    metric: LCP
    target: /checkout
`, r.project, r.project)), 0o600)
	for range 2 { // loading twice updates, not duplicates
		if n, err := r.a.LoadRules(context.Background(), cfg); err != nil || n != 2 {
			t.Fatalf("load config: %d %v", n, err)
		}
	}
	st, body := r.do(t, "GET", "/api/v1/alerts/rules?project="+r.project, nil)
	var list struct{ Rules []alert.Rule }
	json.Unmarshal(body, &list)
	if st != 200 || len(list.Rules) != 2 {
		t.Fatalf("rules %d %s", st, body)
	}
	byID := map[string]alert.Rule{}
	for _, x := range list.Rules {
		byID[x.ID] = x
	}
	if x := byID["checkout-spike"]; x.Target != "/checkout" || x.Factor != 5 || x.MinCount != 10 || x.WindowMS != 300_000 {
		t.Errorf("defaults not applied: %+v", x)
	}
	if x := byID["lcp-checkout"]; x.Threshold != 2500 {
		t.Errorf("vital threshold default: %+v", x)
	}
	// Another project may not take the id over, by API or by config file.
	other, _, err := r.c.CreateProject(context.Background(), "Blog", "")
	if err != nil {
		t.Fatal(err)
	}
	if st, body := r.do(t, "POST", "/api/v1/alerts/rules?project="+other.ID, alert.Rule{ID: "checkout-spike", Kind: alert.NewIssue}); st != http.StatusConflict {
		t.Errorf("POST another project's rule id: %d %s", st, body)
	}
	if st, _ := r.do(t, "DELETE", "/api/v1/alerts/rules/checkout-spike?project="+r.project, nil); st != http.StatusNoContent {
		t.Errorf("delete: %d", st)
	}
	if st, _ := r.do(t, "DELETE", "/api/v1/alerts/rules/checkout-spike?project="+r.project, nil); st != http.StatusNotFound {
		t.Errorf("delete again: %d", st)
	}
	os.WriteFile(cfg, []byte(`rules: [{kind: new_issue, project: x}]`), 0o600)
	if _, err := alert.LoadConfig(cfg); err == nil {
		t.Error("a rule without id loaded")
	}
	os.WriteFile(cfg, []byte(`{"rules": [{"id": "j", "project": "x", "kind": "new_issue", "colour": "red"}]}`), 0o600)
	if _, err := alert.LoadConfig(cfg); err == nil {
		t.Error("unknown field accepted")
	}
}

type fakeVitals struct{ rows []vitals.Row }

func (f fakeVitals) Breakdown(_ context.Context, q vitals.Query, by vitals.Dimension, _ int) ([]vitals.Row, error) {
	var out []vitals.Row
	for _, r := range f.rows {
		if q.Filter.Route == "" || q.Filter.Route == r.Key {
			out = append(out, r)
		}
	}
	return out, nil
}

func TestVitalRule(t *testing.T) {
	db := storetest.Open(t)
	hook := newWebhook(t)
	fv := fakeVitals{rows: []vitals.Row{
		{Key: "/checkout", Count: 200, P75: 4200},
		{Key: "/", Count: 500, P75: 1800},
		{Key: "/rare", Count: 10, P75: 9000}, // too few samples
	}}
	a, err := alert.New(db, alert.Options{Webhook: hook.srv.URL, Vitals: fv, Issues: &fakeIssues{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := a.PutRule(ctx, alert.Rule{ID: "lcp", Project: "shop", Kind: alert.VitalP75, Metric: "LCP"}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := a.Evaluate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got := hook.payloads()
	if len(got) != 1 || got[0].Alert.Key != "/checkout" || got[0].Alert.Value != 4200 {
		t.Fatalf("notifications %+v", got)
	}
}

// TestSyntheticErrorsStayOutOfBaseline: a probe's errors are stored (they
// become issues) but never counted into the error-rate baseline.
func TestSyntheticErrorsStayOutOfBaseline(t *testing.T) {
	r := newRig(t)
	const page = "https://shop.test/checkout"
	ev := func(n int, synthetic bool) []errEvent {
		out := make([]errEvent, n)
		for i := range out {
			out[i] = errEvent{url: page, ts: r.clock().UnixMilli(), synthetic: synthetic}
		}
		return out
	}
	r.publish(t, ev(5, false))
	r.waitErrors(t, 5)
	r.publish(t, ev(40, true))
	r.publish(t, ev(1, false))
	r.waitErrors(t, 6)
	var stored, counted int
	testenv.Eventually(t, 10*time.Second, func() error {
		if err := r.db.QueryRow(`SELECT count(*) FROM events WHERE project = ? AND kind = 'error'`, r.project).Scan(&stored); err != nil {
			return err
		}
		if stored != 46 {
			return fmt.Errorf("%d of 46 errors stored", stored)
		}
		return nil
	})
	if err := r.db.QueryRow(`SELECT coalesce(sum(count), 0) FROM alert_counts WHERE scope = 'page'`).Scan(&counted); err != nil {
		t.Fatal(err)
	}
	if counted != 6 {
		t.Fatalf("baseline counts %d errors, want the 6 real ones (40 synthetic stored but not counted)", counted)
	}
}

type fakeProbes []alert.ProbeFailure

func (f fakeProbes) ProbeFailures(context.Context, string, int64, int64) ([]alert.ProbeFailure, error) {
	return f, nil
}

func TestSyntheticRule(t *testing.T) {
	db := storetest.Open(t)
	hook := newWebhook(t)
	probes := fakeProbes{
		{Check: "checkout", URL: "https://shop.test/checkout", Failures: 2, Runs: 3, LastError: "step 4 (assert-text): no \"Thank you\""},
		{Check: "home", URL: "https://shop.test/", Failures: 1, Runs: 3, LastError: "timeout"},
	}
	a, err := alert.New(db, alert.Options{Webhook: hook.srv.URL, Probes: probes, Issues: &fakeIssues{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := a.PutRule(ctx, alert.Rule{ID: "probe", Project: "shop", Kind: alert.SyntheticFailure, MinCount: 2}); err != nil {
		t.Fatal(err)
	}
	for range 3 { // the cooldown holds repeats back
		if err := a.Evaluate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got := hook.payloads()
	if len(got) != 1 || got[0].Alert.Key != "checkout" || !strings.Contains(got[0].Text, "Thank you") {
		t.Fatalf("notifications %+v", got)
	}
}
