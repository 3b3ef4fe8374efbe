package edge_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"

	"github.com/rearview-dev/rearview/edge"
	"github.com/rearview-dev/rearview/edge/wasmhost"
	"github.com/rearview-dev/rearview/sdkproto"
)

// shopDSNPath is the envelope path of project "shop" (testKey's project).
var shopDSNPath = "/api/" + sdkproto.SentryProjectID("shop") + "/envelope/"

func sentryFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile("sentry/testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// postSentry posts body to path (with ?query) and returns the answer.
func (h *harness) postSentry(tb testing.TB, path string, body []byte, hdr map[string]string) answer {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.url+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return do(tb, req)
}

// sentryEnvelope builds an envelope whose header names the shop's DSN.
func sentryEnvelope(items ...string) []byte {
	return []byte(`{"event_id":"0123456789abcdef0123456789abcdef","sent_at":"2026-12-03T15:13:40.494Z","dsn":"http://` + testKey + `@edge.test/` + sdkproto.SentryProjectID("shop") + `","sdk":{"name":"sentry.javascript.browser","version":"11.12.0"}}` + "\n" + strings.Join(items, "\n") + "\n")
}

func TestSentryEnvelopeBecomesABatch(t *testing.T) {
	h := newHarness(t, edge.Config{})
	body := sentryFixture(t, "event-checkout.envelope")
	a := h.postSentry(t, shopDSNPath+"?sentry_version=7&sentry_key="+testKey+"&sentry_client=sentry.javascript.browser%2F11.12.0", body, nil)
	if a.status != http.StatusOK || a.body["id"] != "f6501f98cd9e4b93b0524f1ee087378e" {
		t.Fatalf("got %d %v", a.status, a.body)
	}
	// A retry (the SDK's transport after a lost answer) is stored once.
	h.postSentry(t, shopDSNPath+"?sentry_key="+testKey, body, nil)
	got, _ := h.bySubject(t)
	if fmt.Sprint(got) != fmt.Sprint(map[string]int{sdkproto.Subject("eu", "shop", sdkproto.KindError): 1}) {
		t.Fatalf("stream holds %v", got)
	}
	s, _ := h.js.Stream(context.Background(), sdkproto.StreamName)
	m, err := s.GetMsg(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := sdkproto.Decode(m.Data, sdkproto.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	e := b.Events[0].Error
	if e.Value != "Cannot read properties of undefined (reading 'map')" || e.TraceID != "df3b6182ca1e4734b51dc90b962ede54" || len(e.Stack) != 6 || b.Session.ID != "9038d6eb29554908a6f71096213b80f0" {
		t.Errorf("published %+v", b)
	}
}

func TestSentryAuth(t *testing.T) {
	h := newHarness(t, edge.Config{})
	event := func(id string) string {
		return `{"type":"event"}` + "\n" + `{"event_id":"` + id + `","message":"hello"}`
	}
	noDSN := func(items ...string) []byte {
		return []byte(`{"event_id":"0123456789abcdef0123456789abcdef"}` + "\n" + strings.Join(items, "\n") + "\n")
	}
	for i, c := range []struct {
		name   string
		path   string
		body   []byte
		hdr    map[string]string
		status int
		detail string
	}{
		{"X-Sentry-Auth", shopDSNPath, noDSN(event("a0")), map[string]string{"X-Sentry-Auth": "Sentry sentry_version=7, sentry_key=" + testKey}, 200, ""},
		{"sentry_key", shopDSNPath + "?sentry_key=" + testKey, noDSN(event("a1")), nil, 200, ""},
		{"no trailing slash", strings.TrimSuffix(shopDSNPath, "/") + "?sentry_key=" + testKey, noDSN(event("a9")), nil, 200, ""},
		{"envelope header dsn", shopDSNPath, sentryEnvelope(event("a2")), nil, 200, ""},
		{"store endpoint", "/api/" + sdkproto.SentryProjectID("shop") + "/store/?sentry_key=" + testKey, []byte(`{"event_id":"a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3","exception":{"values":[{"type":"Error","value":"x"}]}}`), nil, 200, ""},
		{"no key", shopDSNPath, noDSN(event("a4")), nil, 401, "missing authorization"},
		{"unknown key", shopDSNPath + "?sentry_key=rvk_nope", noDSN(event("a5")), nil, 401, "unknown public key"},
		{"another project's id", "/api/12345/envelope/?sentry_key=" + testKey, noDSN(event("a6")), nil, 403, "does not belong to this key"},
		{"project id not a number", "/api/shop/envelope/?sentry_key=" + testKey, noDSN(event("a7")), nil, 400, "not a number"},
		{"dsn of another project than the URL", "/api/999/envelope/", sentryEnvelope(event("a8")), nil, 400, "the envelope's DSN names project"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := h.postSentry(t, c.path, c.body, c.hdr)
			if a.status != c.status || c.detail != "" && !strings.Contains(fmt.Sprint(a.body["detail"]), c.detail) {
				t.Fatalf("case %d: got %d %v, want %d %q", i, a.status, a.body, c.status, c.detail)
			}
			if c.status != 200 && a.header.Get("X-Sentry-Error") == "" {
				t.Error("no X-Sentry-Error header")
			}
		})
	}
}

func TestSentryRejectsBadEnvelopes(t *testing.T) {
	h := newHarness(t, edge.Config{})
	path := shopDSNPath + "?sentry_key=" + testKey
	big := `{"type":"event"}` + "\n" + `{"event_id":"b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1","message":"` + strings.Repeat("x", 1<<20) + `"}`
	var bomb bytes.Buffer
	bw := brotli.NewWriterLevel(&bomb, 5)
	bw.Write(sentryEnvelope())
	bw.Write(make([]byte, 101<<20))
	bw.Close()
	for _, c := range []struct {
		name   string
		body   []byte
		hdr    map[string]string
		status int
		detail string
	}{
		{"truncated header", []byte(`{"event_id":"0123`), nil, 400, "envelope header"},
		{"length that lies", sentryEnvelope(`{"type":"event","length":5000}`, `{}`), nil, 400, "runs past the end"},
		{"event over 1 MiB", sentryEnvelope(big), nil, 413, "exceed the limit"},
		{"brotli bomb", bomb.Bytes(), map[string]string{"Content-Encoding": "br"}, 413, "inflates to more than"},
		{"unknown encoding", sentryEnvelope(), map[string]string{"Content-Encoding": "zstd"}, 415, "unsupported content encoding"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := h.postSentry(t, path, c.body, c.hdr)
			if a.status != c.status || !strings.Contains(fmt.Sprint(a.body["detail"]), c.detail) {
				t.Fatalf("got %d %v, want %d %q", a.status, a.body, c.status, c.detail)
			}
		})
	}
	if n := h.streamMsgs(t); n != 0 {
		t.Errorf("refused envelopes published %d messages", n)
	}
}

// TestSentryKeepsGoodItems: items that cannot be used are dropped with an
// outcome, as Relay drops them in processing; the rest are published.
func TestSentryKeepsGoodItems(t *testing.T) {
	h := newHarness(t, edge.Config{})
	body := sentryEnvelope(
		`{"type":"event"}`, `{"event_id":`, // broken JSON
		`{"type":"event"}`, `{"event_id":"c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1","exception":{"values":[{"type":"Error","value":"kept"}]}}`,
		`{"type":"profile"}`, `{}`,
		`{"type":"client_report"}`, `{"discarded_events":[{"reason":"queue_overflow","category":"error","quantity":2}]}`,
		`{"type":"session"}`, `{"sid":"x"}`)
	a := h.postSentry(t, shopDSNPath+"?sentry_key="+testKey, body, nil)
	if a.status != http.StatusOK {
		t.Fatalf("got %d %v", a.status, a.body)
	}
	got, outcome := h.bySubject(t)
	if got[sdkproto.Subject("eu", "shop", sdkproto.KindError)] != 1 || got[sdkproto.Subject("eu", "shop", sdkproto.KindOutcome)] != 1 {
		t.Fatalf("stream holds %v", got)
	}
	var o sdkproto.Outcome
	json.Unmarshal(outcome, &o)
	want := map[string]int{"invalid": 1, "unsupported-item:profile": 1, "sdk:queue_overflow:error": 2}
	if fmt.Sprint(o.Dropped) != fmt.Sprint(want) || o.Accepted != 1 {
		t.Errorf("outcome %s, want dropped %v and 1 accepted", outcome, want)
	}

	// An envelope with nothing to publish but drops still reports them.
	a = h.postSentry(t, shopDSNPath+"?sentry_key="+testKey, sentryEnvelope(`{"type":"client_report"}`, `{"discarded_events":[{"reason":"sample_rate","category":"transaction","quantity":7}]}`), nil)
	got, outcome = h.bySubject(t)
	json.Unmarshal(outcome, &o)
	if a.status != 200 || got[sdkproto.Subject("eu", "shop", sdkproto.KindOutcome)] != 2 || o.Dropped["sdk:sample_rate:transaction"] != 7 {
		t.Errorf("client report alone: %d, stream %v, outcome %s", a.status, got, outcome)
	}
}

func TestSentryCORS(t *testing.T) {
	h := newHarness(t, edge.Config{})
	req, _ := http.NewRequest(http.MethodOptions, h.url+shopDSNPath, nil)
	req.Header.Set("Origin", "https://shop.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "x-sentry-auth") ||
		!strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "x-sentry-rate-limits") {
		t.Errorf("preflight %d %v", resp.StatusCode, resp.Header)
	}
}

func TestSentryRateLimit(t *testing.T) {
	h := newHarness(t, edge.Config{})
	path := "/api/" + sdkproto.SentryProjectID("slow") + "/envelope/?sentry_key=rvk_slow"
	var last answer
	for i := 0; i < 10; i++ {
		last = h.postSentry(t, path, []byte(`{}`+"\n"+`{"type":"event"}`+"\n"+`{"event_id":"d`+strconv.Itoa(i)+`","message":"m"}`+"\n"), nil)
		if last.status == http.StatusTooManyRequests {
			break
		}
	}
	if last.status != http.StatusTooManyRequests || last.header.Get("Retry-After") == "" || !strings.HasSuffix(last.header.Get("X-Sentry-Rate-Limits"), "::project:rate_limited") {
		t.Fatalf("got %d %v %v", last.status, last.header, last.body)
	}
}

// TestSentryGoesThroughThePolicyModule posts a Sentry error and replay
// carrying personal data through the real wasm module: what reaches NATS is
// masked as a batch of Rearview's SDK would be.
func TestSentryGoesThroughThePolicyModule(t *testing.T) {
	ctx := context.Background()
	stage, err := wasmhost.New(ctx, wasmhost.Config{Instances: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stage.Close(ctx) })
	h := newHarness(t, edge.Config{Stage: stage})

	const email, card = "maria.kowalski@example.org", "4242 4242 4242 4242"
	rrweb := `[{"type":4,"data":{"href":"https://shop.example/checkout","width":800,"height":600},"timestamp":1796310846200},` +
		`{"type":2,"data":{"node":{"type":0,"id":1,"childNodes":[{"type":2,"id":2,"tagName":"p","attributes":{},"childNodes":[{"type":3,"id":3,"textContent":"Receipt goes to ` + email + `"}]}]}},"timestamp":1796310846210},` +
		`{"type":3,"data":{"source":5,"id":2,"text":"` + card + `","isChecked":false},"timestamp":1796310846300}]`
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write([]byte(rrweb))
	zw.Close()
	rec := append([]byte(`{"segment_id":0}`+"\n"), z.Bytes()...)
	body := sentryEnvelope(
		`{"type":"event"}`, `{"event_id":"e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1","exception":{"values":[{"type":"Error","value":"no account for `+email+`"}]},"request":{"url":"https://shop.example/checkout?email=`+email+`","headers":{"User-Agent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"}}}`,
		`{"type":"replay_event"}`, `{"replay_id":"f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0","segment_id":0,"timestamp":1796310846.4,"replay_start_timestamp":1796310846.1,"replay_type":"session","urls":["https://shop.example/checkout"]}`,
		`{"type":"replay_recording","length":`+strconv.Itoa(len(rec))+`}`+"\n"+string(rec))
	a := h.postSentry(t, shopDSNPath+"?sentry_key="+testKey, body, map[string]string{"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"})
	if a.status != http.StatusOK {
		t.Fatalf("got %d %v", a.status, a.body)
	}
	got, _ := h.bySubject(t)
	if got[sdkproto.Subject("eu", "shop", sdkproto.KindError)] != 1 || got[sdkproto.Subject("eu", "shop", sdkproto.KindReplay)] != 1 {
		t.Fatalf("stream holds %v", got)
	}
	s, _ := h.js.Stream(ctx, sdkproto.StreamName)
	info, _ := s.Info(ctx)
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		for _, pii := range []string{email, card, strings.ReplaceAll(card, " ", "")} {
			if bytes.Contains(m.Data, []byte(pii)) {
				t.Errorf("%q reached NATS in %s: %s", pii, m.Subject, m.Data)
			}
		}
	}
}

// BenchmarkSentryIngest measures an error envelope of @sentry/browser from
// HTTP POST to the JetStream ack: read, parse, translate, decode, stage
// (pass-through), publish to a real in-process NATS server. Every envelope
// has its own event id, so JetStream stores each one.
func BenchmarkSentryIngest(b *testing.B) {
	h := newHarness(b, edge.Config{EventsPerSecond: 1e9, Burst: 1e9})
	tmpl := sentryFixture(b, "event-checkout.envelope")
	const id = "f6501f98cd9e4b93b0524f1ee087378e"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	url := h.url + shopDSNPath + "?sentry_key=" + testKey
	b.SetBytes(int64(len(tmpl)))
	i := 0
	for b.Loop() {
		body := bytes.ReplaceAll(tmpl, []byte(id), []byte(fmt.Sprintf("%032x", i)))
		i++
		resp, err := client.Post(url, "text/plain;charset=UTF-8", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	if got := h.streamMsgs(b); got != uint64(b.N) {
		b.Fatalf("stream holds %d messages after %d envelopes: some were duplicates", got, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "envelopes/s")
}
