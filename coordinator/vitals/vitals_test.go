package vitals_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/rearview-dev/rearview/coordinator"
	"github.com/rearview-dev/rearview/coordinator/blob"
	"github.com/rearview-dev/rearview/coordinator/store/storetest"
	"github.com/rearview-dev/rearview/coordinator/vitals"
	"github.com/rearview-dev/rearview/internal/testenv"
	"github.com/rearview-dev/rearview/sdkproto"
)

const admin = "rva_vitals_test"

const (
	uaPixel   = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36"
	uaIPhone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1"
	uaDesktop = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	uaFirefox = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
	uaBot     = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
)

// rig is a real NATS server, a consuming coordinator with vitals
// registered, and its API.
type rig struct {
	js      jetstream.JetStream
	db      *sql.DB
	blobs   blob.Store
	project string
	coord   *coordinator.Coordinator
	v       *vitals.Vitals
	api     string
	stop    func()
	now     time.Time
	// later moves the coordinators' clock past now (ns).
	later atomic.Int64
}

func newRig(t *testing.T) *rig {
	t.Helper()
	_, js := testenv.JetStream(t)
	db := storetest.Open(t)
	blobs, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{js: js, db: db, blobs: blobs, now: time.UnixMilli(1_764_028_800_000)}
	r.start(t)
	p, _, err := r.coord.CreateProject(context.Background(), "Shop", "")
	if err != nil {
		t.Fatal(err)
	}
	r.project = p.ID
	return r
}

// start runs a coordinator (a fresh one on every call, as after a restart)
// over the rig's database.
func (r *rig) start(t *testing.T) {
	t.Helper()
	c, err := coordinator.New(context.Background(), coordinator.Config{JetStream: r.js, DB: r.db, Blobs: r.blobs, AdminToken: admin, FetchBatch: 64})
	if err != nil {
		t.Fatal(err)
	}
	v, err := vitals.Register(c, vitals.Options{FoldInterval: 50 * time.Millisecond, Now: func() time.Time { return r.now.Add(time.Duration(r.later.Load())) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	srv := httptest.NewServer(c.Handler(v.Mount))
	r.coord, r.v, r.api = c, v, srv.URL
	stopped := false
	r.stop = func() {
		if stopped {
			return
		}
		stopped = true
		srv.Close()
		cancel()
		<-done
		v.Close()
	}
	t.Cleanup(r.stop)
}

type sample struct {
	id      string
	ua      string
	country string
	url     string
	metric  string
	value   float64
	ts      int64
	// synthetic marks a synthetic check's sample, as the edge does.
	synthetic bool
}

// publish sends samples as one batch per (ua, country), the way an edge
// publishes: subject per kind, country header, receive time header. msgID
// distinguishes deliberate re-sends from JetStream's dedupe.
func (r *rig) publish(t *testing.T, msgID string, samples []sample) {
	t.Helper()
	type group struct {
		ua, country string
		synthetic   bool
	}
	batches := map[group]*sdkproto.Batch{}
	var order []group
	for _, s := range samples {
		g := group{s.ua, s.country, s.synthetic}
		b := batches[g]
		if b == nil {
			b = &sdkproto.Batch{V: 1, SDK: sdkproto.SDK{Name: "test", Version: "1"},
				Session: sdkproto.Session{ID: "s-" + msgID + "-" + strconv.Itoa(len(order)), StartedAt: s.ts},
				Page:    sdkproto.Page{URL: s.url}, Device: sdkproto.Device{UA: s.ua, Viewport: sdkproto.Size{W: 400, H: 800}}, SentAt: s.ts}
			batches[g] = b
			order = append(order, g)
		}
		b.Events = append(b.Events, sdkproto.Event{ID: s.id, TS: s.ts, Kind: sdkproto.KindVital, Vital: &sdkproto.Vital{Name: s.metric, Value: s.value, URL: s.url}})
	}
	ctx := context.Background()
	n := 0
	for _, g := range order {
		b := batches[g]
		for i := 0; i < len(b.Events); i += 400 {
			part := *b
			part.Events = b.Events[i:min(i+400, len(b.Events))]
			data, err := json.Marshal(&part)
			if err != nil {
				t.Fatal(err)
			}
			m := nats.NewMsg(sdkproto.Subject("eu", r.project, sdkproto.KindVital))
			m.Data = data
			m.Header.Set(sdkproto.HeaderCountry, g.country)
			m.Header.Set(sdkproto.HeaderReceivedAt, strconv.FormatInt(r.now.UnixMilli(), 10))
			m.Header.Set(sdkproto.HeaderMsgID, fmt.Sprintf("%s-%d", msgID, n))
			if g.synthetic {
				m.Header.Set(sdkproto.HeaderSynthetic, "1")
			}
			n++
			if _, err := r.js.PublishMsg(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// waitEvents waits until the coordinator stored n vital events.
func (r *rig) waitEvents(t *testing.T, n int) {
	t.Helper()
	testenv.Eventually(t, 20*time.Second, func() error {
		var got int
		if err := r.db.QueryRow(`SELECT count(*) FROM events WHERE project = ? AND kind = 'vital'`, r.project).Scan(&got); err != nil {
			return err
		}
		if got < n {
			return fmt.Errorf("%d of %d vital events stored", got, n)
		}
		return nil
	})
}

func (r *rig) get(t *testing.T, path string, out any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", r.api+path, nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("GET %s: %v: %s", path, err, body)
		}
	}
	return resp.StatusCode
}

// traffic plants a slow slice: mobile users in India see LCP ≈ 4.2 s while
// everyone else sees ≈ 1.8 s.
func traffic(start int64, prefix string) []sample {
	var out []sample
	uas := []string{uaPixel, uaIPhone, uaDesktop, uaFirefox}
	countries := []string{"IN", "US", "DE", "BR"}
	routes := []string{"https://shop.test/products/1", "https://shop.test/products/2?x=y", "https://shop.test/checkout", "https://shop.test/"}
	i := 0
	for _, ua := range uas {
		for _, c := range countries {
			for k := range 60 {
				v := 1500 + float64(k*10) // 1.5 .. 2.09 s
				if c == "IN" && (ua == uaPixel || ua == uaIPhone) {
					v = 4100 + float64(k*10) // 4.1 .. 4.69 s
				}
				out = append(out, sample{id: fmt.Sprintf("%s-%d", prefix, i), ua: ua, country: c, url: routes[k%len(routes)], metric: "LCP", value: v, ts: start + int64(k)*1000})
				i++
			}
		}
	}
	// Bots never count, however slow.
	for k := range 50 {
		out = append(out, sample{id: fmt.Sprintf("%s-bot-%d", prefix, k), ua: uaBot, country: "US", url: routes[0], metric: "LCP", value: 30000, ts: start})
	}
	return out
}

func TestVitalsThroughNATS(t *testing.T) {
	r := newRig(t)
	start := r.now.UnixMilli() - 10*vitals.Minute
	r.publish(t, "a", traffic(start, "e"))
	r.waitEvents(t, 16*60+50)
	q := fmt.Sprintf("project=%s&metric=LCP&from=%d&to=%d", r.project, start-vitals.Hour, r.now.UnixMilli())

	var all vitals.Summary
	if st := r.get(t, "/api/v1/vitals?"+q, &all); st != 200 {
		t.Fatalf("status %d", st)
	}
	if all.Count != 16*60 {
		t.Fatalf("count %d, want %d (bots must not count)", all.Count, 16*60)
	}
	if len(all.Series) == 0 {
		t.Fatal("no series")
	}

	t.Run("cut device=mobile&country=IN", func(t *testing.T) {
		var s vitals.Summary
		r.get(t, "/api/v1/vitals?"+q+"&device=mobile&country=in", &s)
		if s.Count != 120 {
			t.Fatalf("count %d, want 120", s.Count)
		}
		if want := 4100 + 0.75*590.0; s.P75 < want*0.99 || s.P75 > want*1.01 {
			t.Errorf("p75 %v, want ≈ %v", s.P75, want)
		}
		if s.Poor != 1 || s.Good != 0 {
			t.Errorf("shares good %v poor %v, want all poor", s.Good, s.Poor)
		}
	})
	t.Run("cut by route with an id", func(t *testing.T) {
		var s vitals.Summary
		r.get(t, "/api/v1/vitals?"+q+"&route=/products/999", &s)
		if s.Count != 16*30 {
			t.Fatalf("count %d, want %d", s.Count, 16*30)
		}
	})
	t.Run("breakdown by device", func(t *testing.T) {
		var b struct{ Rows []vitals.Row }
		if st := r.get(t, "/api/v1/vitals/breakdown?"+q+"&by=device", &b); st != 200 {
			t.Fatalf("status %d", st)
		}
		got := map[string]int64{}
		for _, row := range b.Rows {
			got[row.Key] = row.Count
		}
		if got["mobile"] != 480 || got["desktop"] != 480 || len(got) != 2 {
			t.Errorf("rows %+v", b.Rows)
		}
	})
	t.Run("worst cuts find the planted slice", func(t *testing.T) {
		var w vitals.Worst
		if st := r.get(t, "/api/v1/vitals/worst?"+q, &w); st != 200 {
			t.Fatalf("status %d", st)
		}
		if len(w.Cuts) == 0 {
			t.Fatal("no cuts")
		}
		t.Logf("worst cuts: %+v", w.Cuts)
		top := w.Cuts[0]
		if len(top.Dims) != 2 || top.Dims["device"] != "mobile" || top.Dims["country"] != "IN" {
			t.Fatalf("top cut %+v, want mobile × IN; all: %+v", top, w.Cuts)
		}
		if top.Ratio < 2 {
			t.Errorf("ratio %v", top.Ratio)
		}
		if w.OverallP75 > 2500 {
			t.Errorf("overall p75 %v", w.OverallP75)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		for _, p := range []string{
			"/api/v1/vitals?project=" + r.project + "&metric=XYZ",
			"/api/v1/vitals?project=" + r.project + "&from=abc",
			"/api/v1/vitals?project=" + r.project + "&from=10&to=5",
			"/api/v1/vitals/breakdown?" + q + "&by=planet",
			"/api/v1/vitals/worst?" + q + "&min_count=-1",
			"/api/v1/vitals?" + q + "&step=week",
		} {
			if st := r.get(t, p, nil); st != http.StatusBadRequest {
				t.Errorf("GET %s: status %d, want 400", p, st)
			}
		}
		if st := r.get(t, "/api/v1/vitals?metric=LCP", nil); st != http.StatusBadRequest {
			t.Errorf("admin without project: %d", st)
		}
	})
}

func TestRestartDoesNotDoubleCount(t *testing.T) {
	r := newRig(t)
	start := r.now.UnixMilli() - 5*vitals.Minute
	batch := traffic(start, "r")
	r.publish(t, "first", batch)
	r.waitEvents(t, len(batch))
	count := func() int64 {
		s, err := r.v.Summarize(context.Background(), vitals.Query{Project: r.project, Metric: vitals.LCP, From: start - vitals.Hour, To: r.now.UnixMilli()}, -1)
		if err != nil {
			t.Fatal(err)
		}
		return s.Count
	}
	want := int64(16 * 60)
	if got := count(); got != want {
		t.Fatalf("before restart: %d, want %d", got, want)
	}
	// Stop with part of the samples still in the outbox: the coordinator
	// stops, the final fold runs or not, either way nothing is lost.
	r.stop()
	r.start(t)
	if got := count(); got != want {
		t.Fatalf("after restart: %d, want %d", got, want)
	}
	// The edge retried everything (new message ids, same event ids): the
	// coordinator stores nothing new and the hook never runs.
	r.publish(t, "retry", batch)
	extra := []sample{{id: "late-1", ua: uaPixel, country: "FR", url: "https://shop.test/", metric: "LCP", value: 1000, ts: start}}
	r.publish(t, "late", extra)
	r.waitEvents(t, len(batch)+1)
	testenv.Eventually(t, 10*time.Second, func() error {
		if _, err := r.v.Fold(context.Background()); err != nil {
			return err
		}
		if got := count(); got != want+1 {
			return fmt.Errorf("after redelivery: %d, want %d", got, want+1)
		}
		return nil
	})
	var pending int
	r.db.QueryRow(`SELECT count(*) FROM vital_samples`).Scan(&pending)
	if pending != 0 {
		t.Errorf("%d samples left in the outbox after a fold", pending)
	}
	// Sketches at every resolution agree after the fold.
	for _, res := range []int64{vitals.Minute, vitals.Hour, vitals.Day} {
		var n int64
		r.db.QueryRow(`SELECT coalesce(sum(good+ni+poor), 0) FROM vital_sketches WHERE project = ? AND res = ?`, r.project, res).Scan(&n)
		if n != want+1 {
			t.Errorf("res %d holds %d samples, want %d", res, n, want+1)
		}
	}
}

// TestSyntheticSamplesStayOutOfRUM: a synthetic check's vitals, however
// slow and however many, change neither the count nor the p75 of the field.
func TestSyntheticSamplesStayOutOfRUM(t *testing.T) {
	r := newRig(t)
	start := r.now.UnixMilli() - 10*vitals.Minute
	var field []sample
	for k := range 100 {
		field = append(field, sample{id: fmt.Sprintf("f-%d", k), ua: uaPixel, country: "DE", url: "https://shop.test/", metric: "LCP", value: 1000 + float64(k*10), ts: start + int64(k)*1000})
	}
	r.publish(t, "field", field)
	r.waitEvents(t, 100)
	q := fmt.Sprintf("/api/v1/vitals?project=%s&metric=LCP&from=%d&to=%d&route=/", r.project, start-vitals.Hour, r.now.UnixMilli())
	var before vitals.Summary
	if st := r.get(t, q, &before); st != 200 || before.Count != 100 {
		t.Fatalf("field: status %d, count %d", st, before.Count)
	}
	var lab []sample
	for k := range 200 {
		lab = append(lab, sample{id: fmt.Sprintf("s-%d", k), ua: uaPixel, country: "DE", url: "https://shop.test/", metric: "LCP", value: 9000, ts: start + int64(k)*1000, synthetic: true})
	}
	r.publish(t, "synthetic", lab)
	r.waitEvents(t, 300) // stored as events, with the session flagged
	var flagged int
	if err := r.db.QueryRow(`SELECT count(*) FROM sessions WHERE project = ? AND flag_synthetic = 1`, r.project).Scan(&flagged); err != nil || flagged != 1 {
		t.Fatalf("synthetic sessions %d (%v), want 1", flagged, err)
	}
	var after vitals.Summary
	r.get(t, q, &after)
	if after.Count != before.Count || after.P75 != before.P75 {
		t.Fatalf("synthetic samples moved the field: count %d → %d, p75 %v → %v", before.Count, after.Count, before.P75, after.P75)
	}
}
