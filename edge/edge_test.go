package edge_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/rearview-dev/rearview/edge"
	"github.com/rearview-dev/rearview/internal/testenv"
	"github.com/rearview-dev/rearview/sdkproto"
)

const testKey = "rvk_test"

type harness struct {
	ns  *server.Server
	js  jetstream.JetStream
	srv *edge.Server
	url string
}

// newHarness starts a real NATS server with the stream and keys bucket the
// coordinator would create, and an edge serving over HTTP, and waits until
// the edge is ready.
func newHarness(tb testing.TB, cfg edge.Config) *harness {
	tb.Helper()
	h := startHarness(tb, cfg)
	testenv.Eventually(tb, 10*time.Second, func() error {
		if !h.srv.Ready() {
			return fmt.Errorf("edge not ready")
		}
		return nil
	})
	return h
}

// startHarness is newHarness without waiting for the edge to be ready.
func startHarness(tb testing.TB, cfg edge.Config) *harness {
	tb.Helper()
	ns := testenv.NATS(tb)
	nc, err := nats.Connect(ns.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: sdkproto.StreamName, Subjects: []string{sdkproto.SubjectAll}, Duplicates: time.Minute, MaxMsgSize: 8 << 20}); err != nil {
		tb.Fatal(err)
	}
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: sdkproto.KeysBucket})
	if err != nil {
		tb.Fatal(err)
	}
	v, _ := json.Marshal(sdkproto.ProjectKey{Project: "shop", Name: "Shop"})
	if _, err := kv.Put(ctx, testKey, v); err != nil {
		tb.Fatal(err)
	}
	v, _ = json.Marshal(sdkproto.ProjectKey{Project: "slow", Name: "Slow", RateLimit: 1})
	if _, err := kv.Put(ctx, "rvk_slow", v); err != nil {
		tb.Fatal(err)
	}
	cfg.JetStream = js
	if cfg.Region == "" {
		cfg.Region = "eu"
	}
	srv, err := edge.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	go srv.Run(rctx)
	hs := httptest.NewServer(srv.Handler())
	tb.Cleanup(hs.Close)
	return &harness{ns: ns, js: js, srv: srv, url: hs.URL}
}

func vector(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile("../sdkproto/testdata/valid/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
}

func (h *harness) post(tb testing.TB, body []byte, hdr map[string]string) answer {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.url+"/v1/ingest", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Rearview-Key", testKey)
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	return do(tb, req)
}

// do sends req and returns the edge's answer, its JSON body decoded.
func do(tb testing.TB, req *http.Request) answer {
	tb.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

func (h *harness) streamMsgs(tb testing.TB) uint64 {
	tb.Helper()
	s, err := h.js.Stream(context.Background(), sdkproto.StreamName)
	if err != nil {
		tb.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return info.State.Msgs
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func TestIngestPublishesByKind(t *testing.T) {
	h := newHarness(t, edge.Config{CountryHeader: "CF-IPCountry"})
	a := h.post(t, vector(t, "error-batch.json"), map[string]string{"CF-IPCountry": "de", "X-Forwarded-For": "203.0.113.9"})
	if a.status != http.StatusAccepted || a.body["accepted"] != 2.0 {
		t.Fatalf("got %d %v", a.status, a.body)
	}
	s, _ := h.js.Stream(context.Background(), sdkproto.StreamName)
	for seq, want := range map[uint64]sdkproto.Kind{1: sdkproto.KindError, 2: sdkproto.KindBreadcrumb} {
		m, err := s.GetMsg(context.Background(), seq)
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != sdkproto.Subject("eu", "shop", want) {
			t.Errorf("message %d subject %s, want kind %s", seq, m.Subject, want)
		}
		if m.Header.Get(sdkproto.HeaderCountry) != "DE" || m.Header.Get(sdkproto.HeaderMsgID) == "" {
			t.Errorf("headers %v", m.Header)
		}
		if bytes.Contains(m.Data, []byte("203.0.113.9")) || strings.Contains(fmt.Sprint(m.Header), "203.0.113.9") {
			t.Error("client IP reached NATS")
		}
		b, _, err := sdkproto.Decode(m.Data, sdkproto.DefaultLimits())
		if err != nil {
			t.Fatalf("published batch does not decode: %v", err)
		}
		for _, ev := range b.Events {
			if ev.Kind != want {
				t.Errorf("message for %s carries a %s event", want, ev.Kind)
			}
		}
	}
}

// bySubject returns how many messages the stream holds per subject, and
// the data of the last outcome.
func (h *harness) bySubject(tb testing.TB) (map[string]int, []byte) {
	tb.Helper()
	ctx := context.Background()
	s, err := h.js.Stream(ctx, sdkproto.StreamName)
	if err != nil {
		tb.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	got := map[string]int{}
	var outcome []byte
	for seq := info.State.FirstSeq; seq > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			tb.Fatalf("message %d: %v", seq, err)
		}
		got[m.Subject]++
		if strings.HasSuffix(m.Subject, "."+string(sdkproto.KindOutcome)) {
			outcome = m.Data
		}
	}
	return got, outcome
}

// dropKind drops every event of one kind, as a crawler rule would.
type dropKind sdkproto.Kind

func (k dropKind) Apply(_ context.Context, in edge.StageInput) (edge.StageOutput, error) {
	b, _, err := sdkproto.Decode(in.Batch, sdkproto.DefaultLimits())
	if err != nil {
		return edge.StageOutput{}, err
	}
	var keep []sdkproto.Event
	for _, ev := range b.Events {
		if ev.Kind != sdkproto.Kind(k) {
			keep = append(keep, ev)
		}
	}
	dropped := len(b.Events) - len(keep)
	b.Events = keep
	out, err := sdkproto.Encode(b)
	if err != nil {
		return edge.StageOutput{}, err
	}
	return edge.StageOutput{Batch: out, Dropped: map[string]int{"web-crawlers": dropped}}, nil
}

// TestIngestDeduplicatesRetries posts each batch three times and once
// gzipped, as an SDK retrying after a lost answer would: JetStream must
// store every message once, the outcome counting the drops included (its
// bytes differ between retries: it carries the time).
func TestIngestDeduplicatesRetries(t *testing.T) {
	cases := []struct {
		name    string
		stage   edge.Stage
		vector  string
		want    map[sdkproto.Kind]int
		dropped int
	}{
		{"kept events", nil, "vitals-batch.json", map[sdkproto.Kind]int{sdkproto.KindVital: 1, sdkproto.KindSession: 1}, 0},
		{"some events dropped", dropKind(sdkproto.KindBreadcrumb), "error-batch.json", map[sdkproto.Kind]int{sdkproto.KindError: 1, sdkproto.KindOutcome: 1}, 1},
		{"every event dropped", dropAll{}, "error-batch.json", map[sdkproto.Kind]int{sdkproto.KindOutcome: 1}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, edge.Config{Stage: tc.stage})
			body := vector(t, tc.vector)
			for i := 0; i < 3; i++ {
				if a := h.post(t, body, nil); a.status != http.StatusAccepted {
					t.Fatalf("post %d: %d %v", i, a.status, a.body)
				}
				// A later retry carries a later outcome timestamp.
				time.Sleep(2 * time.Millisecond)
			}
			// The gzip form of the same batch is the same batch.
			if a := h.post(t, gzipped(body), map[string]string{"Content-Encoding": "gzip"}); a.status != http.StatusAccepted {
				t.Fatalf("gzip post: %d %v", a.status, a.body)
			}
			got, outcome := h.bySubject(t)
			want := map[string]int{}
			for kind, n := range tc.want {
				want[sdkproto.Subject("eu", "shop", kind)] = n
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("stream holds %v, want %v", got, want)
			}
			if tc.dropped > 0 {
				var o sdkproto.Outcome
				if err := json.Unmarshal(outcome, &o); err != nil || o.Dropped["web-crawlers"] != tc.dropped {
					t.Fatalf("outcome %s (%v), want %d web-crawlers dropped", outcome, err, tc.dropped)
				}
			}
		})
	}
}

// gatedStage is a Readier forwarding batches unchanged once ready is
// closed; it counts the batches it was asked to apply before.
type gatedStage struct {
	ready chan struct{}
	early atomic.Int64
}

func (g *gatedStage) Ready() <-chan struct{} { return g.ready }

func (g *gatedStage) Apply(ctx context.Context, in edge.StageInput) (edge.StageOutput, error) {
	select {
	case <-g.ready:
		return edge.PassThrough{}.Apply(ctx, in)
	default:
		g.early.Add(1)
		return edge.StageOutput{}, fmt.Errorf("gated: %w", edge.ErrNotReady)
	}
}

// notReadyStage guards itself without telling the edge (no Ready).
type notReadyStage struct{}

func (notReadyStage) Apply(context.Context, edge.StageInput) (edge.StageOutput, error) {
	return edge.StageOutput{}, fmt.Errorf("policies: %w", edge.ErrNotReady)
}

func (h *harness) readyz(tb testing.TB) (int, string) {
	tb.Helper()
	resp, err := http.Get(h.url + "/readyz")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestIngestWaitsForPolicies starts an edge whose stage has not loaded its
// policies: the edge must not run the stage (it would apply the default
// policy where a stricter one is stored) nor publish, but answer 503 with
// Retry-After so the SDK retries, and fail /readyz. Once the policies are
// in, the same batch is accepted.
func TestIngestWaitsForPolicies(t *testing.T) {
	g := &gatedStage{ready: make(chan struct{})}
	h := startHarness(t, edge.Config{Stage: g})
	testenv.Eventually(t, 10*time.Second, func() error {
		// The keys load first; then only the policies are missing.
		if st, body := h.readyz(t); st != http.StatusServiceUnavailable || !strings.Contains(body, "policies are not loaded") {
			return fmt.Errorf("readyz %d %q", st, body)
		}
		return nil
	})
	body := vector(t, "error-batch.json")
	a := h.post(t, body, nil)
	if a.status != http.StatusServiceUnavailable || a.header.Get("Retry-After") == "" || a.body["error"] != "not_ready" ||
		!strings.Contains(fmt.Sprint(a.body["detail"]), "policies are not loaded") {
		t.Fatalf("before the policies: %d %v %v", a.status, a.header, a.body)
	}
	if n := g.early.Load(); n != 0 {
		t.Fatalf("the stage ran on %d batches before its policies were loaded", n)
	}
	if n := h.streamMsgs(t); n != 0 {
		t.Fatalf("%d messages published before the policies were loaded", n)
	}
	if h.srv.Ready() {
		t.Fatal("edge ready before the policies were loaded")
	}

	close(g.ready)
	if st, body := h.readyz(t); st != http.StatusOK {
		t.Fatalf("readyz after the policies: %d %q", st, body)
	}
	if a := h.post(t, body, nil); a.status != http.StatusAccepted || a.body["accepted"] != 2.0 {
		t.Fatalf("after the policies: %d %v", a.status, a.body)
	}
	if n := h.streamMsgs(t); n != 2 {
		t.Fatalf("stream holds %d messages, want 2", n)
	}

	t.Run("stage not ready without telling", func(t *testing.T) {
		h := newHarness(t, edge.Config{Stage: notReadyStage{}})
		a := h.post(t, body, nil)
		if a.status != http.StatusServiceUnavailable || a.header.Get("Retry-After") == "" || a.body["error"] != "not_ready" {
			t.Fatalf("got %d %v %v", a.status, a.header, a.body)
		}
		if n := h.streamMsgs(t); n != 0 {
			t.Fatalf("%d messages published", n)
		}
	})
}

func TestIngestRejectsBadInput(t *testing.T) {
	h := newHarness(t, edge.Config{Limits: sdkproto.Limits{MaxCompressed: 64 << 10, MaxBody: 256 << 10, MaxEvents: 20, MaxString: 32 << 10, MaxDepth: 64}})
	good := vector(t, "error-batch.json")
	var m map[string]any
	json.Unmarshal(good, &m)
	many := func() []byte {
		evs := m["events"].([]any)
		var out []any
		for i := 0; i < 21; i++ {
			e := map[string]any{}
			for k, v := range evs[1].(map[string]any) {
				e[k] = v
			}
			e["id"] = fmt.Sprintf("b-%d", i)
			out = append(out, e)
		}
		c := map[string]any{}
		for k, v := range m {
			c[k] = v
		}
		c["events"] = out
		b, _ := json.Marshal(c)
		return b
	}()
	bomb := gzipped(make([]byte, 50<<20))
	cases := []struct {
		name   string
		body   []byte
		hdr    map[string]string
		status int
		code   string
		detail string
	}{
		{"malformed JSON", []byte(`{"v":1,`), nil, 400, "malformed_json", "malformed JSON"},
		{"wrong key", good, map[string]string{"X-Rearview-Key": "rvk_nope"}, 401, "unauthorized", "unknown or disabled project key"},
		{"missing key", good, map[string]string{"X-Rearview-Key": ""}, 401, "unauthorized", "missing project key"},
		{"oversize body", append(good, bytes.Repeat([]byte(" "), 64<<10)...), nil, 413, "too_large", "body exceeds 65536 bytes"},
		{"gzip bomb", bomb, map[string]string{"Content-Encoding": "gzip"}, 413, "too_large", "decoded body exceeds 262144 bytes"},
		{"wrong content type", good, map[string]string{"Content-Type": "application/xml"}, 415, "unsupported_media_type", `content type "application/xml"`},
		{"unsupported encoding", good, map[string]string{"Content-Encoding": "br"}, 415, "bad_encoding", `unsupported content encoding "br"`},
		{"too deep", []byte(`{"v":1,"events":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`), nil, 400, "too_deep", "nesting exceeds depth 64"},
		{"too many events", many, nil, 413, "too_many_events", "21 events exceed the limit of 20"},
		{"invalid field", bytes.Replace(good, []byte(`"seq": 3`), []byte(`"seq": "x"`), 1), nil, 400, "invalid", "session.seq: expected integer, got string"},
	}
	if len(bomb) > 64<<10 {
		t.Fatalf("bomb is %d bytes compressed; it must fit the wire limit to test inflation", len(bomb))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := h.post(t, tc.body, tc.hdr)
			if a.status != tc.status || a.body["error"] != tc.code || !strings.Contains(fmt.Sprint(a.body["detail"]), tc.detail) {
				t.Fatalf("got %d %v; want %d %s ~%q", a.status, a.body, tc.status, tc.code, tc.detail)
			}
			// The edge keeps serving after every bad request.
			if ok := h.post(t, good, nil); ok.status != http.StatusAccepted {
				t.Fatalf("good batch after bad one: %d %v", ok.status, ok.body)
			}
		})
	}
}

func TestIngestKeepsGoodEventsOfABatch(t *testing.T) {
	h := newHarness(t, edge.Config{})
	body := bytes.Replace(vector(t, "vitals-batch.json"), []byte(`"name": "CLS"`), []byte(`"name": "XYZ"`), 1)
	a := h.post(t, body, nil)
	if a.status != http.StatusAccepted || a.body["accepted"] != 3.0 {
		t.Fatalf("got %d %v", a.status, a.body)
	}
	rej := a.body["rejected"].([]any)[0].(map[string]any)
	if rej["path"] != "events[1].vital.name" || rej["id"] != "v-2" {
		t.Fatalf("rejected %v", rej)
	}
}

func TestIngestCORSAndBeacon(t *testing.T) {
	h := newHarness(t, edge.Config{})
	req, _ := http.NewRequest(http.MethodOptions, h.url+"/v1/ingest", nil)
	req.Header.Set("Origin", "https://shop.example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "X-Rearview-Key") {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	// sendBeacon: text/plain, key in the query string, gzip without header.
	r2, _ := http.NewRequest(http.MethodPost, h.url+"/v1/ingest?key="+testKey, bytes.NewReader(gzipped(vector(t, "replay-batch.json"))))
	r2.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	resp, err = http.DefaultClient.Do(r2)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Fatalf("beacon: %d", resp.StatusCode)
	}
}

func TestIngestRateLimit(t *testing.T) {
	h := newHarness(t, edge.Config{})
	var last answer
	for i := 0; i < 10; i++ {
		body := bytes.Replace(vector(t, "vitals-batch.json"), []byte(`"seq": 0`), []byte(fmt.Sprintf(`"seq": %d`, i)), 1)
		last = h.post(t, body, map[string]string{"X-Rearview-Key": "rvk_slow"})
		if last.status == http.StatusTooManyRequests {
			break
		}
	}
	if last.status != http.StatusTooManyRequests || last.header.Get("Retry-After") == "" || last.body["error"] != "rate_limited" {
		t.Fatalf("got %d %v %v", last.status, last.header, last.body)
	}
}

func TestIngestAnswers503WhenNATSIsDown(t *testing.T) {
	h := newHarness(t, edge.Config{PublishTimeout: time.Second})
	h.ns.Shutdown()
	a := h.post(t, vector(t, "error-batch.json"), nil)
	if a.status != http.StatusServiceUnavailable || a.header.Get("Retry-After") == "" || a.body["error"] != "unavailable" {
		t.Fatalf("got %d %v %v", a.status, a.header, a.body)
	}
}

type dropAll struct{}

func (dropAll) Apply(_ context.Context, in edge.StageInput) (edge.StageOutput, error) {
	b, _, err := sdkproto.Decode(in.Batch, sdkproto.DefaultLimits())
	if err != nil {
		return edge.StageOutput{}, err
	}
	return edge.StageOutput{Dropped: map[string]int{"web-crawlers": len(b.Events)}}, nil
}

func TestIngestPublishesOutcomeForDrops(t *testing.T) {
	h := newHarness(t, edge.Config{Stage: dropAll{}})
	a := h.post(t, vector(t, "error-batch.json"), nil)
	if a.status != http.StatusAccepted || a.body["accepted"] != 0.0 {
		t.Fatalf("got %d %v", a.status, a.body)
	}
	s, _ := h.js.Stream(context.Background(), sdkproto.StreamName)
	m, err := s.GetMsg(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	var o sdkproto.Outcome
	if err := json.Unmarshal(m.Data, &o); err != nil || m.Subject != sdkproto.Subject("eu", "shop", sdkproto.KindOutcome) || o.Dropped["web-crawlers"] != 2 {
		t.Fatalf("outcome %s %s %v", m.Subject, m.Data, err)
	}
}

// BenchmarkIngest measures the HTTP → decode → stage → JetStream path with
// a 50-event error batch, acked by a real (in-process) NATS server.
//
// Every iteration posts a batch of its own session: message ids are
// hashes of the data, so a repeated body would be a JetStream duplicate,
// acked without being stored, and the benchmark would measure dedupe.
func BenchmarkIngest(b *testing.B) {
	benchIngest(b, newHarness(b, edge.Config{EventsPerSecond: 1e9, Burst: 1e9}))
}

// TestIngestMarksSyntheticChecks: a batch is marked synthetic for the
// coordinator by its session flag or by the runners' User-Agent token, and
// only then.
func TestIngestMarksSyntheticChecks(t *testing.T) {
	h := newHarness(t, edge.Config{})
	flagged := bytes.Replace(vector(t, "error-batch.json"), []byte(`"flags": {`), []byte(`"flags": {"synthetic": true, `), 1)
	if bytes.Equal(flagged, vector(t, "error-batch.json")) {
		t.Fatal("the vector has no flags object to extend")
	}
	cases := []struct {
		name string
		body []byte
		ua   string
		want string
	}{
		{"plain", vector(t, "error-batch.json"), "", ""},
		{"session flag", flagged, "", "1"},
		{"user-agent token", vector(t, "error-batch.json"), "Mozilla/5.0 Chrome/131.0.0.0 Safari/537.36 " + sdkproto.SyntheticUAToken, "1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := h.streamMsgs(t)
			// Each case's batch must be new to the dedupe window.
			body := bytes.Replace(c.body, []byte(`"seq": `), []byte(`"seq": 1`+strings.Repeat("0", len(c.name))), 1)
			a := h.post(t, body, map[string]string{"User-Agent": c.ua})
			if a.status != http.StatusAccepted {
				t.Fatalf("got %d %v", a.status, a.body)
			}
			s, _ := h.js.Stream(context.Background(), sdkproto.StreamName)
			m, err := s.GetMsg(context.Background(), before+1)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Header.Get(sdkproto.HeaderSynthetic); got != c.want {
				t.Errorf("%s header %q, want %q", sdkproto.HeaderSynthetic, got, c.want)
			}
		})
	}
}

// flakyStage fails like a trapping wasm module until fixed is set, then
// drops every event.
type flakyStage struct{ fixed atomic.Bool }

func (f *flakyStage) Apply(ctx context.Context, in edge.StageInput) (edge.StageOutput, error) {
	if f.fixed.Load() {
		return dropAll{}.Apply(ctx, in)
	}
	return edge.StageOutput{}, errors.New("policy module: apply: wasm error: unreachable\nwasm stack trace:\n\t.runtime.abort()\n\t.engine.(*Engine).Handle(i32) (instance replaced)")
}

// TestIngestPolicyFailure checks what the edge answers when the policy
// module fails on a batch: a 500 the SDK retries, a reference to the log
// line and none of the failure's internals; one outcome counting the
// batch's events however often it is retried, and a retry that succeeds
// still stores its own.
func TestIngestPolicyFailure(t *testing.T) {
	logs := &syncWriter{w: &bytes.Buffer{}}
	st := &flakyStage{}
	h := newHarness(t, edge.Config{Stage: st, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	body := vector(t, "error-batch.json")
	var refs []string
	for range 2 {
		a := h.post(t, body, nil)
		detail, _ := a.body["detail"].(string)
		if a.status != http.StatusInternalServerError || a.body["error"] != "policy_failed" || a.header.Get("Retry-After") == "" {
			t.Fatalf("got %d %v %v", a.status, a.header, a.body)
		}
		if strings.Contains(detail, "wasm") || strings.Contains(detail, "runtime") || !strings.Contains(detail, "(ref ") {
			t.Fatalf("detail %q: want a reference and no internals", detail)
		}
		refs = append(refs, strings.TrimSuffix(detail[strings.Index(detail, "(ref ")+5:], ")"))
	}
	if refs[0] == refs[1] {
		t.Fatalf("two failures, one reference %s", refs[0])
	}
	if l := logs.String(); !strings.Contains(l, "ref="+refs[0]) || !strings.Contains(l, "wasm error: unreachable") || strings.Contains(l, "runtime.abort") {
		t.Fatalf("log: want the reference and the error's first line, not its trace:\n%s", l)
	}
	if n := h.streamMsgs(t); n != 1 {
		t.Fatalf("%d messages after a failed batch and its failed retry, want 1 outcome", n)
	}
	s, _ := h.js.Stream(context.Background(), sdkproto.StreamName)
	m, err := s.GetMsg(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	var o sdkproto.Outcome
	if err := json.Unmarshal(m.Data, &o); err != nil || o.Dropped[edge.ReasonPolicyFailed] != 2 || o.Accepted != 0 {
		t.Fatalf("outcome %s (%v), want 2 %s", m.Data, err, edge.ReasonPolicyFailed)
	}
	st.fixed.Store(true)
	if a := h.post(t, body, nil); a.status != http.StatusAccepted {
		t.Fatalf("retry after the fix: %d %v", a.status, a.body)
	}
	if n := h.streamMsgs(t); n != 2 {
		t.Fatalf("%d messages, want the failure's outcome and the retry's", n)
	}
}

// syncWriter serialises writes from the edge's handlers.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.(*bytes.Buffer).String()
}
