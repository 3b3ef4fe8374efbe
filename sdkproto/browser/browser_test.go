package browser_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/rearview-dev/rearview/edge"
	"github.com/rearview-dev/rearview/internal/testenv"
	"github.com/rearview-dev/rearview/sdkproto"
	"github.com/rearview-dev/rearview/sdkproto/browser"
)

const key = "rvk_browser"

// The personal data the test types or shows; none of it may reach NATS.
var pii = []string{"jane@example.com", "4111 1111 1111 1111", "4111111111111111", "Jane Secret Doe", "blocked-content-7731", "call me at midnight"}

// page is the shop the SDK is tested on. Its edge is another origin, as in
// production: the SDK's requests must work cross-origin without preflight.
var page = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Shop</title>
<style>body{font:16px sans-serif;margin:0} #hero{display:block}</style></head>
<body>
<h1 id="title">Checkout</h1>
<img id="hero" src="/hero.png" width="640" height="360" alt="">
<form id="signup" onsubmit="return false">
  <input id="email" type="email" name="email">
  <input id="card" name="card">
  <textarea id="notes"></textarea>
</form>
<p class="customer" data-rv-mask>Jane Secret Doe</p>
<div data-rv-block>blocked-content-7731</div>
<button id="checkout" class="btn primary">Pay</button>
<button id="boom">Break</button>
<script>
// The page's own view of LCP: the test interacts only once the hero image
// is the candidate, because the first input ends LCP (web-vitals reports
// the h1 if a key press comes before the image's paint).
window.lcpCandidate = '';
new PerformanceObserver(function (l) { l.getEntries().forEach(function (e) { window.lcpCandidate = e.element ? e.element.id : ''; }); })
  .observe({ type: 'largest-contentful-paint', buffered: true });
</script>
<script src="{{.Edge}}/sdk/v1.js"></script>
<script>
Rearview.init({
  dsn: {{.DSN}},
  release: 'r-test', environment: 'test', flushInterval: 300,
  replay: { sessionSampleRate: 0, onErrorSampleRate: 1, bufferSeconds: 60 },
});
Rearview.setUser({ id: 'u-1' });
Rearview.setTag('component', 'checkout');
function applyCart(status) { if (status !== 200) throw new TypeError('cart failed with ' + status); }
document.getElementById('checkout').addEventListener('click', function () {
  fetch('/api/cart').then(function (r) { applyCart(r.status); });
});
document.getElementById('boom').addEventListener('click', function onBoom() {
  window.notAFunction();
});
</script>
</body></html>`))

// app is the shop's own server: the page, an image for LCP and a failing API
// that records the traceparent it was sent.
type app struct {
	edgeURL string
	mu      sync.Mutex
	parents []string
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		dsn := strings.Replace(a.edgeURL, "http://", "http://"+key+"@", 1) + "/shop"
		_ = page.Execute(w, map[string]string{"Edge": a.edgeURL, "DSN": dsn})
	case "/hero.png":
		// As large as it is shown: LCP discounts upscaled images.
		img := image.NewRGBA(image.Rect(0, 0, 640, 360))
		for i := range img.Pix {
			img.Pix[i] = uint8(i * 7)
		}
		img.Set(0, 0, color.White)
		w.Header().Set("Content-Type", "image/png")
		_ = png.Encode(w, img)
	case "/api/cart":
		a.mu.Lock()
		a.parents = append(a.parents, r.Header.Get("traceparent"))
		a.mu.Unlock()
		http.Error(w, `{"error":"out of stock"}`, http.StatusInternalServerError)
	default:
		http.NotFound(w, r)
	}
}

// startEdge runs an edge that serves script at /sdk/v1.js.
func startEdge(t *testing.T, script []byte) (jetstream.JetStream, string) {
	t.Helper()
	js, url, _ := startEdgeLog(t, script)
	return js, url
}

// ingestLog keeps every body POSTed to the edge's /v1/ingest, inflated:
// the bytes the SDK sent, before the edge decodes, rejects or masks any.
type ingestLog struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (l *ingestLog) add(body []byte) {
	if len(body) > 1 && body[0] == 0x1f && body[1] == 0x8b {
		if zr, err := gzip.NewReader(bytes.NewReader(body)); err == nil {
			if b, err := io.ReadAll(zr); err == nil {
				body = b
			}
		}
	}
	l.mu.Lock()
	l.bodies = append(l.bodies, body)
	l.mu.Unlock()
}

func (l *ingestLog) all() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.bodies)
}

// startEdgeLog is startEdge that also logs what reaches /v1/ingest.
func startEdgeLog(t *testing.T, script []byte) (jetstream.JetStream, string, *ingestLog) {
	t.Helper()
	ingested := &ingestLog{}
	_, js := testenv.JetStream(t)
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: sdkproto.StreamName, Subjects: []string{sdkproto.SubjectAll}, Duplicates: time.Minute, MaxMsgSize: 8 << 20}); err != nil {
		t.Fatal(err)
	}
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: sdkproto.KeysBucket})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := json.Marshal(sdkproto.ProjectKey{Project: "shop", Name: "Shop"})
	if _, err := kv.Put(ctx, key, v); err != nil {
		t.Fatal(err)
	}
	srv, err := edge.New(edge.Config{Region: "eu", JetStream: js, SDKScript: script})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go srv.Run(rctx)
	h := srv.Handler()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/ingest" && r.Method == http.MethodPost {
			body, _ := io.ReadAll(r.Body)
			ingested.add(body)
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if r.URL.Path == "/v1/ingest" {
			// Shown when a test fails: what the SDK sent and the edge said.
			t.Logf("ingest: %d bytes %q -> %d %s", r.ContentLength, r.Header.Get("Content-Type"), rec.Code, strings.TrimSpace(rec.Body.String()))
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(hs.Close)
	testenv.Eventually(t, 10*time.Second, func() error {
		if !srv.Ready() {
			return fmt.Errorf("edge not ready")
		}
		return nil
	})
	return js, hs.URL, ingested
}

// published is one message the edge put on the stream.
type published struct {
	subject string
	raw     []byte
	batch   *sdkproto.Batch
}

// readStream returns every message on the stream, each decoded strictly.
func readStream(t *testing.T, js jetstream.JetStream) []published {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, sdkproto.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []published
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		p := published{subject: m.Subject, raw: m.Data}
		if !strings.HasSuffix(m.Subject, ".outcome") {
			b, rejected, err := sdkproto.Decode(m.Data, sdkproto.DefaultLimits())
			if err != nil || len(rejected) > 0 {
				t.Fatalf("message %d on %s does not decode: %v %v", seq, m.Subject, err, rejected)
			}
			p.batch = b
		}
		out = append(out, p)
	}
	return out
}

func events(msgs []published, kind sdkproto.Kind) []sdkproto.Event {
	var out []sdkproto.Event
	for _, m := range msgs {
		if m.batch == nil {
			continue
		}
		for _, e := range m.batch.Events {
			if e.Kind == kind {
				out = append(out, e)
			}
		}
	}
	return out
}

func TestBrowserSDK(t *testing.T) {
	js, edgeURL := startEdge(t, browser.Script())
	shop := &app{edgeURL: edgeURL}
	as := httptest.NewServer(shop)
	t.Cleanup(as.Close)
	ctx := testenv.Browser(t)

	run := func(what string, a chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, a); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	run("open the shop", chromedp.Navigate(as.URL+"/"))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`typeof Rearview === 'object' && document.readyState === 'complete'`)); err != nil {
		t.Fatalf("SDK not loaded: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.lcpCandidate === 'hero'`)); err != nil {
		t.Fatalf("hero image never became the LCP candidate: %v", err)
	}
	run("type an e-mail", chromedp.SendKeys("#email", "jane@example.com"))
	run("type a card number", chromedp.SendKeys("#card", "4111 1111 1111 1111"))
	run("type a note", chromedp.SendKeys("#notes", "call me at midnight"))
	// The failing request, then the error that follows it in a promise.
	run("click checkout", chromedp.Click("#checkout"))
	testenv.Eventually(t, 10*time.Second, func() error {
		shop.mu.Lock()
		defer shop.mu.Unlock()
		if len(shop.parents) == 0 {
			return fmt.Errorf("/api/cart not called yet")
		}
		return nil
	})
	run("click the broken button", chromedp.Click("#boom"))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`Rearview.flush().then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatalf("flush: %v", err)
	}

	var msgs []published
	testenv.Eventually(t, 20*time.Second, func() error {
		msgs = readStream(t, js)
		if n := len(events(msgs, sdkproto.KindError)); n < 2 {
			return fmt.Errorf("%d errors on the stream, want 2", n)
		}
		if len(events(msgs, sdkproto.KindReplay)) == 0 {
			return fmt.Errorf("no replay segment on the stream")
		}
		names := map[string]bool{}
		for _, v := range events(msgs, sdkproto.KindVital) {
			names[v.Vital.Name] = true
		}
		for _, n := range []string{"TTFB", "FCP", "LCP"} {
			if !names[n] {
				return fmt.Errorf("vital %s not on the stream (have %v)", n, names)
			}
		}
		return nil
	})

	shop.mu.Lock()
	parent := shop.parents[0]
	shop.mu.Unlock()
	parts := strings.Split(parent, "-")
	if len(parts) != 4 || parts[0] != "00" || len(parts[1]) != 32 || len(parts[2]) != 16 || parts[3] != "01" {
		t.Fatalf("traceparent sent to the API = %q, want 00-<32 hex>-<16 hex>-01", parent)
	}
	traceID := parts[1]

	t.Run("errors", func(t *testing.T) {
		var onerror, rejection *sdkproto.Error
		for _, e := range events(msgs, sdkproto.KindError) {
			switch e.Error.Mechanism {
			case sdkproto.MechanismOnError:
				onerror = e.Error
			case sdkproto.MechanismUnhandledRejection:
				rejection = e.Error
			}
		}
		if onerror == nil || rejection == nil {
			t.Fatalf("want an onerror and an unhandledrejection error, got %+v / %+v", onerror, rejection)
		}
		if onerror.Type != "TypeError" || onerror.Handled {
			t.Errorf("onerror: type %q handled %v, want an unhandled TypeError", onerror.Type, onerror.Handled)
		}
		if len(onerror.Stack) == 0 || onerror.Stack[0].Function != "HTMLButtonElement.onBoom" || !strings.HasPrefix(onerror.Stack[0].URL, as.URL) || onerror.Stack[0].Line == 0 || onerror.Stack[0].Column == 0 {
			t.Errorf("onerror stack = %+v, want the page's onBoom frame with line and column", onerror.Stack)
		}
		if onerror.Release != "r-test" || onerror.Environment != "test" || onerror.Tags["component"] != "checkout" {
			t.Errorf("onerror release/env/tags = %q %q %v", onerror.Release, onerror.Environment, onerror.Tags)
		}
		var click, fetch *sdkproto.Breadcrumb
		for i, b := range onerror.Breadcrumbs {
			switch b.Category {
			case "ui.click":
				if b.Selector == "button#boom" {
					click = &onerror.Breadcrumbs[i]
				}
			case "fetch":
				fetch = &onerror.Breadcrumbs[i]
			}
		}
		if click == nil {
			t.Errorf("no ui.click breadcrumb for button#boom in %+v", onerror.Breadcrumbs)
		}
		if fetch == nil || fetch.HTTP == nil || fetch.HTTP.Status != 500 || fetch.HTTP.Method != "GET" || fetch.HTTP.URL != as.URL+"/api/cart" || fetch.HTTP.TraceID != traceID || fetch.HTTP.DurationMS <= 0 {
			t.Errorf("fetch breadcrumb = %+v, want GET /api/cart 500 with duration and trace id %s", fetch, traceID)
		} else if fetch.HTTP.RequestHeaders != nil || fetch.HTTP.ResponseBody != "" {
			t.Errorf("fetch breadcrumb captured headers or body of a URL not allow-listed: %+v", fetch.HTTP)
		}
		if rejection.Type != "TypeError" || rejection.Value != "cart failed with 500" {
			t.Errorf("rejection = %q %q", rejection.Type, rejection.Value)
		}
		if len(rejection.Stack) == 0 || rejection.Stack[0].Function != "applyCart" {
			t.Errorf("rejection stack = %+v, want applyCart innermost", rejection.Stack)
		}
		if rejection.TraceID != traceID || len(rejection.SpanID) != 16 {
			t.Errorf("rejection trace %q span %q, want the failed request's trace %s", rejection.TraceID, rejection.SpanID, traceID)
		}
	})

	t.Run("vitals", func(t *testing.T) {
		for _, e := range events(msgs, sdkproto.KindVital) {
			v := e.Vital
			if v.Rating == "" || v.NavigationType != "navigate" || v.MetricID == "" || v.URL != as.URL+"/" {
				t.Errorf("%s: rating %q navigation %q id %q url %q", v.Name, v.Rating, v.NavigationType, v.MetricID, v.URL)
			}
			if v.Name == "LCP" && v.Attribution["element"] != "img#hero" {
				t.Errorf("LCP attributed to %q, want img#hero (%v)", v.Attribution["element"], v.Attribution)
			}
			if v.Attribution["release"] != "r-test" {
				t.Errorf("%s: release %q in attribution, want r-test", v.Name, v.Attribution["release"])
			}
		}
	})

	t.Run("replay buffer flushed on error", func(t *testing.T) {
		segs := events(msgs, sdkproto.KindReplay)
		first := segs[0].Replay
		if first.Segment != 0 || !first.FromBuffer {
			t.Errorf("first segment %d from_buffer %v, want 0 from the buffer", first.Segment, first.FromBuffer)
		}
		var rr []struct {
			Type int `json:"type"`
		}
		if err := json.Unmarshal(first.Events, &rr); err != nil {
			t.Fatal(err)
		}
		meta := -1
		for i, e := range rr {
			if e.Type == 4 {
				meta = i
				break
			}
		}
		if meta < 0 || meta+1 >= len(rr) || rr[meta+1].Type != 2 {
			t.Errorf("first segment has rrweb types %v, want a Meta then a FullSnapshot", rr)
		}
		for _, want := range []string{`"source":5`, `****************`} {
			found := false
			for _, s := range segs {
				found = found || bytes.Contains(s.Replay.Events, []byte(want))
			}
			if !found {
				t.Errorf("no replay segment contains %s (masked input events)", want)
			}
		}
	})

	t.Run("session", func(t *testing.T) {
		var id string
		for _, m := range msgs {
			if m.batch == nil {
				continue
			}
			s := m.batch.Session
			if id == "" {
				id = s.ID
			}
			if s.ID != id || s.UserID != "u-1" {
				t.Errorf("batch session %q user %q, want one session %q of u-1", s.ID, s.UserID, id)
			}
			if m.batch.Events[0].Kind == sdkproto.KindError && !s.Flags.Error {
				t.Errorf("error batch without the error flag")
			}
		}
		if len(events(msgs, sdkproto.KindSession)) == 0 {
			t.Errorf("no session event")
		}
	})

	t.Run("no personal data on the wire", func(t *testing.T) {
		for _, m := range msgs {
			for _, p := range pii {
				if bytes.Contains(m.raw, []byte(p)) {
					t.Errorf("%s carries %q", m.subject, p)
				}
			}
		}
	})
}

// page2 records from the start (session mode), captures an allow-listed
// API's headers and bodies, reports console.error, and goes away: what is
// queued must leave with the page.
var page2 = template.Must(template.New("page2").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Account</title></head>
<body>
<h1>Account</h1>
<div id="list"></div>
<script src="{{.Edge}}/sdk/v1.js"></script>
<script>
Rearview.init({
  endpoint: {{.Edge}}, key: {{.Key}}, flushInterval: 60000,
  traceIdHeader: true, captureConsoleErrors: true,
  tracePropagationTargets: [],
  network: { allowUrls: ['/api/echo'], captureBodies: true },
  replay: { sessionSampleRate: 1, mutationLimit: 5000 },
});
window.step = async function () {
  await fetch('/api/echo', { method: 'POST', headers: { 'Authorization': 'Bearer secret-token-123', 'X-Custom': 'v1', 'Content-Type': 'application/json' }, body: '{"q":1}' });
  await fetch({{.Other}} + '/ping').catch(function () {});
  await new Promise(function (resolve) {
    var x = new XMLHttpRequest();
    x.open('GET', '/api/cart');
    x.onloadend = resolve;
    x.send();
  });
  // The SDK's own loadend listener runs after the page's.
  await new Promise(function (r) { setTimeout(r, 0); });
  console.error('payment widget broke');
  // A huge DOM change at once: the recorder must stop, not freeze the page.
  var list = document.getElementById('list');
  var frag = document.createDocumentFragment();
  for (var i = 0; i < 6000; i++) { var d = document.createElement('div'); frag.appendChild(d); }
  list.appendChild(frag);
  await new Promise(function (r) { setTimeout(r, 50); });
  for (var j = 0; j < 6000; j++) { list.appendChild(document.createElement('span')); }
  return true;
};
</script>
</body></html>`))

// echo is the app of the second test: an allow-listed API that echoes, a
// failing one, and another origin that records what headers reach it.
type echo struct {
	app
	other string
	mu2   sync.Mutex
	seen  map[string]http.Header
}

func (e *echo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu2.Lock()
	e.seen[r.URL.Path] = r.Header.Clone()
	e.mu2.Unlock()
	switch r.URL.Path {
	case "/":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = page2.Execute(w, map[string]string{"Edge": e.edgeURL, "Key": key, "Other": e.other})
	case "/api/echo":
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Resp", "r1")
		w.Header().Set("X-Auth-Token", "resp-secret-456")
		w.Write([]byte(`{"ok":true}`))
	case "/ping":
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Write([]byte("pong"))
	default:
		e.app.ServeHTTP(w, r)
	}
}

func (e *echo) header(path string) http.Header {
	e.mu2.Lock()
	defer e.mu2.Unlock()
	return e.seen[path]
}

func TestBrowserSDKNetworkAndUnload(t *testing.T) {
	js, edgeURL := startEdge(t, browser.Script())
	shop := &echo{app: app{edgeURL: edgeURL}, seen: map[string]http.Header{}}
	other := httptest.NewServer(shop)
	t.Cleanup(other.Close)
	shop.other = other.URL
	as := httptest.NewServer(shop)
	t.Cleanup(as.Close)
	ctx := testenv.Browser(t)

	if err := chromedp.Do(ctx, chromedp.Navigate(as.URL+"/")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`typeof Rearview === 'object' && document.readyState === 'complete'`)); err != nil {
		t.Fatalf("SDK not loaded: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`step()`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatalf("step: %v", err)
	}
	// Leaving the page is the only flush: flushInterval is a minute.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}

	var msgs []published
	testenv.Eventually(t, 20*time.Second, func() error {
		msgs = readStream(t, js)
		var stopped, echoed bool
		for _, e := range events(msgs, sdkproto.KindBreadcrumb) {
			stopped = stopped || strings.HasPrefix(e.Breadcrumb.Message, "recording stopped")
			echoed = echoed || (e.Breadcrumb.HTTP != nil && strings.HasSuffix(e.Breadcrumb.HTTP.URL, "/api/echo"))
		}
		if !stopped || !echoed {
			return fmt.Errorf("breadcrumbs on the stream: recording stopped %v, echo %v", stopped, echoed)
		}
		if len(events(msgs, sdkproto.KindError)) == 0 || len(events(msgs, sdkproto.KindReplay)) == 0 {
			return fmt.Errorf("no console error or replay on the stream yet")
		}
		return nil
	})

	h := shop.header("/api/echo")
	parent := strings.Split(h.Get("traceparent"), "-")
	if len(parent) != 4 || h.Get("X-Trace-ID") != parent[1] {
		t.Fatalf("/api/echo got traceparent %q and X-Trace-ID %q, want the same trace id in both", h.Get("traceparent"), h.Get("X-Trace-ID"))
	}
	if p := shop.header("/ping"); p == nil || p.Get("traceparent") != "" {
		t.Errorf("cross-origin request not in tracePropagationTargets got traceparent %q", p.Get("traceparent"))
	}

	var echoHTTP, xhr *sdkproto.HTTP
	for _, e := range events(msgs, sdkproto.KindBreadcrumb) {
		if b := e.Breadcrumb; b.HTTP != nil && b.Category == "fetch" && strings.HasSuffix(b.HTTP.URL, "/api/echo") {
			echoHTTP = b.HTTP
		}
		if b := e.Breadcrumb; b.HTTP != nil && b.Category == "xhr" {
			xhr = b.HTTP
		}
	}
	t.Run("allow-listed request captured, sensitive headers never", func(t *testing.T) {
		if echoHTTP.Method != "POST" || echoHTTP.Status != 200 || echoHTTP.TraceID != parent[1] {
			t.Errorf("echo breadcrumb %+v", echoHTTP)
		}
		if echoHTTP.RequestHeaders["x-custom"] != "v1" || echoHTTP.RequestBody != `{"q":1}` || echoHTTP.ResponseBody != `{"ok":true}` || echoHTTP.ResponseHeaders["x-resp"] != "r1" {
			t.Errorf("echo headers/bodies not captured: %+v", echoHTTP)
		}
		for _, m := range []map[string]string{echoHTTP.RequestHeaders, echoHTTP.ResponseHeaders} {
			for k := range m {
				if k == "authorization" || k == "x-auth-token" || k == "cookie" || k == "set-cookie" {
					t.Errorf("sensitive header %s captured", k)
				}
			}
		}
	})
	t.Run("xhr", func(t *testing.T) {
		if xhr == nil || xhr.Status != 500 || len(xhr.TraceID) != 32 || xhr.DurationMS <= 0 {
			t.Errorf("xhr breadcrumb %+v, want 500 with trace id and duration", xhr)
		}
		if got := shop.header("/api/cart").Get("traceparent"); xhr != nil && !strings.Contains(got, xhr.TraceID) {
			t.Errorf("xhr traceparent %q does not carry the breadcrumb's trace id %s", got, xhr.TraceID)
		}
	})
	t.Run("console.error", func(t *testing.T) {
		e := events(msgs, sdkproto.KindError)[0].Error
		if e.Mechanism != sdkproto.MechanismConsole || e.Value != "payment widget broke" {
			t.Errorf("console error = %+v", e)
		}
	})
	t.Run("session mode segments", func(t *testing.T) {
		segs := events(msgs, sdkproto.KindReplay)
		for i, s := range segs {
			if s.Replay.FromBuffer || s.Replay.Segment != i {
				t.Errorf("segment %d: number %d from_buffer %v", i, s.Replay.Segment, s.Replay.FromBuffer)
			}
		}
		if !bytes.Contains(segs[0].Replay.Events, []byte(`"type":2`)) {
			t.Errorf("first segment has no full snapshot")
		}
	})
	t.Run("no secrets on the wire", func(t *testing.T) {
		for _, m := range msgs {
			for _, p := range []string{"secret-token-123", "resp-secret-456"} {
				if bytes.Contains(m.raw, []byte(p)) {
					t.Errorf("%s carries %q", m.subject, p)
				}
			}
		}
	})
}
