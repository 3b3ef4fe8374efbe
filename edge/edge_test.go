package edge_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
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
// coordinator would create, and an edge serving over HTTP.
func newHarness(tb testing.TB, cfg edge.Config) *harness {
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
	testenv.Eventually(tb, 10*time.Second, func() error {
		if !srv.Ready() {
			return fmt.Errorf("edge not ready")
		}
		return nil
	})
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

func TestIngestDeduplicatesRetries(t *testing.T) {
	h := newHarness(t, edge.Config{})
	body := vector(t, "vitals-batch.json")
	for i := 0; i < 3; i++ {
		if a := h.post(t, body, nil); a.status != http.StatusAccepted {
			t.Fatalf("post %d: %d %v", i, a.status, a.body)
		}
	}
	// The gzip form of the same batch is the same batch.
	if a := h.post(t, gzipped(body), map[string]string{"Content-Encoding": "gzip"}); a.status != http.StatusAccepted {
		t.Fatalf("gzip post: %d %v", a.status, a.body)
	}
	if n := h.streamMsgs(t); n != 2 { // vital + session kinds, once
		t.Fatalf("stream holds %d messages, want 2", n)
	}
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
func BenchmarkIngest(b *testing.B) {
	h := newHarness(b, edge.Config{EventsPerSecond: 1e9, Burst: 1e9})
	var m map[string]any
	json.Unmarshal(vector(b, "error-batch.json"), &m)
	proto := m["events"].([]any)[0].(map[string]any)
	bodies := make([][]byte, 64)
	for j := range bodies {
		var evs []any
		for i := 0; i < 50; i++ {
			e := map[string]any{}
			for k, v := range proto {
				e[k] = v
			}
			e["id"] = fmt.Sprintf("e-%d-%d", j, i)
			evs = append(evs, e)
		}
		m["events"] = evs
		bodies[j], _ = json.Marshal(m)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.SetBytes(int64(len(bodies[0])))
	b.ResetTimer()
	i := 0
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, h.url+"/v1/ingest", bytes.NewReader(bodies[i%len(bodies)]))
		i++
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Rearview-Key", testKey)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "batches/s")
	b.ReportMetric(float64(b.N*50)/b.Elapsed().Seconds(), "events/s")
}
