package player_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"image"
	_ "image/png" // FullScreenshot at quality 100 is a PNG
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/rearview-dev/rearview/coordinator"
	"github.com/rearview-dev/rearview/coordinator/alert"
	"github.com/rearview-dev/rearview/coordinator/blob"
	"github.com/rearview-dev/rearview/coordinator/issues"
	"github.com/rearview-dev/rearview/coordinator/live"
	"github.com/rearview-dev/rearview/coordinator/store/storetest"
	"github.com/rearview-dev/rearview/coordinator/synthetic"
	"github.com/rearview-dev/rearview/coordinator/vitals"
	"github.com/rearview-dev/rearview/edge"
	"github.com/rearview-dev/rearview/internal/testenv"
	"github.com/rearview-dev/rearview/player"
	"github.com/rearview-dev/rearview/sdkproto/browser"
)

func get(t *testing.T, h http.Handler, method, path string, hdr map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

// builtAsset returns the hashed JS or CSS name index.html references.
func builtAsset(t *testing.T, ext string) string {
	t.Helper()
	b, err := os.ReadFile("dist/index.html")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`/player/assets/app-[A-Z0-9]+\.` + ext).Find(b)
	if m == nil {
		t.Fatalf("index.html references no app .%s", ext)
	}
	return string(m)
}

func TestHandler(t *testing.T) {
	h := player.Handler()
	js, css := builtAsset(t, "js"), builtAsset(t, "css")
	tests := []struct {
		name, method, path string
		hdr                map[string]string
		status             int
		ctype, cache       string
		encoding           string
		bodyHas            string
	}{
		{name: "bare prefix redirects", method: "GET", path: "/player", status: 301},
		{name: "root is the app", method: "GET", path: "/player/", status: 200, ctype: "text/html; charset=utf-8", cache: "no-cache", bodyHas: `<div id="app">`},
		{name: "client route falls back to index", method: "GET", path: "/player/replay/s-1", status: 200, ctype: "text/html; charset=utf-8", cache: "no-cache", bodyHas: js},
		{name: "nested client route", method: "GET", path: "/player/issues/abc?status=resolved", status: 200, ctype: "text/html; charset=utf-8"},
		{name: "script", method: "GET", path: js, status: 200, ctype: "text/javascript; charset=utf-8", cache: "public, max-age=31536000, immutable"},
		{name: "script gzipped", method: "GET", path: js, hdr: map[string]string{"Accept-Encoding": "br, gzip"}, status: 200, ctype: "text/javascript; charset=utf-8", encoding: "gzip"},
		{name: "gzip refused", method: "GET", path: js, hdr: map[string]string{"Accept-Encoding": "gzip;q=0"}, status: 200, encoding: ""},
		{name: "stylesheet", method: "GET", path: css, status: 200, ctype: "text/css; charset=utf-8", cache: "public, max-age=31536000, immutable", bodyHas: "replayer-wrapper"},
		{name: "stale asset is 404", method: "GET", path: "/player/assets/app-OLD.js", status: 404},
		{name: "missing file with extension is 404", method: "GET", path: "/player/favicon.ico", status: 404},
		{name: "traversal stays inside", method: "GET", path: "/player/../player.go", status: 404},
		{name: "head", method: "HEAD", path: "/player/sessions", status: 200, ctype: "text/html; charset=utf-8"},
		{name: "post refused", method: "POST", path: "/player/", status: 405},
		{name: "outside prefix", method: "GET", path: "/api/v1/projects", status: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := get(t, h, tc.method, tc.path, tc.hdr)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.ctype != "" && resp.Header.Get("Content-Type") != tc.ctype {
				t.Errorf("content type %q, want %q", resp.Header.Get("Content-Type"), tc.ctype)
			}
			if tc.cache != "" && resp.Header.Get("Cache-Control") != tc.cache {
				t.Errorf("cache %q, want %q", resp.Header.Get("Cache-Control"), tc.cache)
			}
			if tc.status == 200 && resp.Header.Get("Content-Encoding") != tc.encoding {
				t.Errorf("encoding %q, want %q", resp.Header.Get("Content-Encoding"), tc.encoding)
			}
			if tc.status == 200 && resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no nosniff")
			}
			if tc.ctype == "text/html; charset=utf-8" && !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
				t.Errorf("html without CSP: %q", resp.Header.Get("Content-Security-Policy"))
			}
			body, _ := io.ReadAll(resp.Body)
			if tc.encoding == "gzip" {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatalf("gzip body: %v", err)
				}
				body, _ = io.ReadAll(zr)
				if !bytes.Contains(body, []byte("rrweb")) && len(body) < 10000 {
					t.Errorf("decompressed script too small: %d", len(body))
				}
			}
			if tc.bodyHas != "" && !bytes.Contains(body, []byte(tc.bodyHas)) {
				t.Errorf("body lacks %q", tc.bodyHas)
			}
		})
	}
	t.Run("etag revalidates", func(t *testing.T) {
		first := get(t, h, "GET", "/player/", nil)
		etag := first.Header.Get("ETag")
		if etag == "" {
			t.Fatal("no ETag")
		}
		if again := get(t, h, "GET", "/player/live", map[string]string{"If-None-Match": etag}); again.StatusCode != http.StatusNotModified {
			t.Fatalf("revalidation %d, want 304", again.StatusCode)
		}
	})
}

const admin = "rva_player_test_admin"

type system struct {
	url      string // player + API on one origin
	edge     string
	key      string
	coordAPI http.Handler
	alerts   *alert.Alerts // with options.alerts; evaluated by the test
}

// options choose the parts a test needs beyond the core.
type options struct {
	minio  bool // store replays in a real MinIO (else a directory)
	live   bool // mount the live tail hub
	vitals bool // aggregate vitals and mount their API
	sdk    bool // the edge serves the real SDK bundle at /sdk/v1.js
	alerts bool // count errors for alert rules and mount their API
	// synthetic mounts the synthetic results' API
	synthetic bool
}

// start runs NATS, a coordinator, an edge, and one HTTP server with the
// player and the API on the same origin.
func start(t *testing.T, o options) *system {
	t.Helper()
	nc, js := testenv.JetStream(t)
	ctx := context.Background()
	db := storetest.Open(t)
	var blobs blob.Store
	var err error
	if o.minio {
		m := testenv.StartMinIO(t)
		blobs, err = blob.NewS3(ctx, blob.S3Config{Endpoint: m.Endpoint, Bucket: "player-test", AccessKey: m.AccessKey, SecretKey: m.SecretKey})
	} else {
		blobs, err = blob.NewDir(t.TempDir())
	}
	if err != nil {
		t.Fatal(err)
	}
	c, err := coordinator.New(ctx, coordinator.Config{JetStream: js, DB: db, Blobs: blobs, AdminToken: admin, FetchBatch: 16})
	if err != nil {
		t.Fatal(err)
	}
	// Group errors into issues, unsymbolicated (no source maps here).
	grouping := issues.Register(c, nil, issues.Options{})
	mounts := []func(*http.ServeMux){grouping.Mount}
	var alerts *alert.Alerts
	if o.alerts {
		// After the issues hook, so an error's issue is known when it is
		// counted; no background loop: the test evaluates when it wants.
		alerts, err = alert.Register(c, alert.Options{Interval: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { alerts.Close() })
		mounts = append(mounts, alerts.Mount)
	}
	if o.vitals {
		v, err := vitals.Register(c, vitals.Options{FoldInterval: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { v.Close() })
		mounts = append(mounts, v.Mount)
	}
	if o.synthetic {
		mounts = append(mounts, synthetic.NewAPI(synthetic.NewStore(db), nil).Mount)
	}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { c.Run(cctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	p, _, err := c.CreateProject(ctx, "Shop", "")
	if err != nil {
		t.Fatal(err)
	}
	ecfg := edge.Config{Region: "eu", JetStream: js}
	if o.sdk {
		ecfg.SDKScript = browser.Script()
	}
	ed, err := edge.New(ecfg)
	if err != nil {
		t.Fatal(err)
	}
	ectx, ecancel := context.WithCancel(ctx)
	t.Cleanup(ecancel)
	go ed.Run(ectx)
	es := httptest.NewServer(ed.Handler())
	t.Cleanup(es.Close)
	testenv.Eventually(t, 10*time.Second, func() error {
		if !ed.Ready() {
			return fmt.Errorf("edge not ready")
		}
		return nil
	})

	if o.live {
		hub, err := live.New(live.Config{Conn: nc, ListInterval: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		hctx, hcancel := context.WithCancel(ctx)
		t.Cleanup(hcancel)
		go hub.Run(hctx)
		mounts = append(mounts, hub.Mount)
	}
	s := &system{edge: es.URL, key: p.IngestKey, coordAPI: c.Handler(mounts...), alerts: alerts}
	mux := http.NewServeMux()
	mux.Handle(player.Prefix, player.Handler())
	mux.Handle("/", s.coordAPI)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

// The masked value the SDK records for a typed e-mail address: same length,
// placeholder characters. The typed text never leaves the browser.
const (
	typed       = "alice@example.com"
	placeholder = "*****************"
	session     = "s-player-e2e"
)

// batches returns a replay batch and an error batch of one session, as the
// SDK would send them, with the session started at start.
func batches(start int64) (replay, errBatch []byte) {
	return sessionBatches(session, start)
}

// sessionBatches is batches for another session id.
func sessionBatches(session string, start int64) (replay, errBatch []byte) {
	node := func(id int, tag string, attrs map[string]any, children ...any) map[string]any {
		if attrs == nil {
			attrs = map[string]any{}
		}
		if children == nil {
			children = []any{}
		}
		return map[string]any{"type": 2, "tagName": tag, "attributes": attrs, "childNodes": children, "id": id}
	}
	text := func(id int, s string) map[string]any { return map[string]any{"type": 3, "textContent": s, "id": id} }
	doc := map[string]any{"type": 0, "id": 1, "childNodes": []any{
		node(2, "html", nil,
			node(3, "head", nil, node(4, "style", nil, text(5, "body{font:16px sans-serif;margin:24px;background:#fff;color:#222} h1{color:#5b5bd6} .modal{border:2px solid #d93f4c;padding:12px}"))),
			node(6, "body", nil,
				node(7, "h1", nil, text(8, "Checkout")),
				node(9, "p", nil, text(10, "Welcome back, shopper")),
				node(11, "label", nil, text(12, "E-mail ")),
				node(13, "input", map[string]any{"type": "email", "value": placeholder}),
				node(14, "button", map[string]any{"id": "pay"}, text(15, "Pay now")),
			),
		),
	}}
	rr := []any{
		map[string]any{"type": 4, "timestamp": start + 100, "data": map[string]any{"href": "https://shop.example.com/checkout", "width": 1024, "height": 640}},
		map[string]any{"type": 2, "timestamp": start + 110, "data": map[string]any{"node": doc, "initialOffset": map[string]any{"left": 0, "top": 0}}},
		map[string]any{"type": 3, "timestamp": start + 3000, "data": map[string]any{"source": 5, "text": placeholder, "isChecked": false, "id": 13}},
		map[string]any{"type": 3, "timestamp": start + 3500, "data": map[string]any{"source": 2, "type": 2, "id": 14, "x": 40, "y": 200}},
		map[string]any{"type": 3, "timestamp": start + 4000, "data": map[string]any{"source": 0, "texts": []any{}, "attributes": []any{}, "removes": []any{},
			"adds": []any{ // rrweb adds each node on its own, parents first
				map[string]any{"parentId": 6, "nextId": nil, "node": node(16, "div", map[string]any{"id": "error-modal", "class": "modal"})},
				map[string]any{"parentId": 16, "nextId": nil, "node": text(17, "Payment failed")},
			}}},
		map[string]any{"type": 3, "timestamp": start + 8000, "data": map[string]any{"source": 1, "positions": []any{map[string]any{"x": 50, "y": 60, "id": 6, "timeOffset": 0}}}},
	}
	env := func(seq int, events []any) []byte {
		b, _ := json.Marshal(map[string]any{
			"v": 1, "sdk": map[string]any{"name": "@rearview/browser", "version": "0.1.0"},
			"session": map[string]any{"id": session, "seq": seq, "started_at": start, "user_id": "u-7", "flags": map[string]any{"error": true}},
			"page":    map[string]any{"url": "https://shop.example.com/checkout"},
			"device":  map[string]any{"ua": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36", "viewport": map[string]any{"w": 1024, "h": 640}},
			"sent_at": start + 9000, "events": events,
		})
		return b
	}
	replay = env(1, []any{map[string]any{"id": "rp-0", "ts": start + 100, "kind": "replay", "replay": map[string]any{"segment": 0, "end_ts": start + 8000, "events": rr}}})
	errBatch = env(2, []any{map[string]any{"id": "er-0", "ts": start + 4500, "kind": "error", "error": map[string]any{
		"type": "PaymentError", "value": "Payment failed: card declined", "mechanism": "onerror", "handled": false,
		"stack":       []any{map[string]any{"url": "https://shop.example.com/static/app.js", "function": "pay", "line": 1, "column": 200}},
		"breadcrumbs": []any{map[string]any{"ts": start + 4200, "category": "fetch", "http": map[string]any{"method": "POST", "url": "https://shop.example.com/api/pay", "status": 502}}},
	}}})
	return replay, errBatch
}

// post sends a batch to the edge and fails unless it is accepted. A
// starting edge answers 503 until it has loaded project keys and
// policies, so those answers are retried for a while, as the SDK would.
func (s *system) post(t *testing.T, body []byte) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest("POST", s.edge+"/v1/ingest", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Rearview-Key", s.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusAccepted:
			return
		case resp.StatusCode == http.StatusServiceUnavailable && time.Now().Before(deadline):
			time.Sleep(50 * time.Millisecond)
		default:
			t.Fatalf("ingest: %d %s", resp.StatusCode, b)
		}
	}
}

// apiStatus calls the API with the admin token and returns the status.
func (s *system) apiStatus(path string) int {
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	rec := httptest.NewRecorder()
	s.coordAPI.ServeHTTP(rec, req)
	return rec.Code
}

func TestReplayInBrowser(t *testing.T) {
	s := start(t, options{minio: true})
	startTS := time.Now().Add(-2 * time.Minute).UnixMilli()
	replay, errBatch := batches(startTS)
	// The edge may not have seen the project key yet; retry the first post.
	s.post(t, replay)
	s.post(t, errBatch)
	testenv.Eventually(t, 20*time.Second, func() error {
		if st := s.apiStatus("/api/v1/sessions/" + session + "/segments/0?project=shop"); st != 200 {
			return fmt.Errorf("segment: %d", st)
		}
		return nil
	})

	ctx := testenv.Browser(t)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	errTS := startTS + 4500
	replayURL := fmt.Sprintf("%s/player/replay/%s?t=%d", s.url, session, errTS)
	// Unauthenticated: the app sends us to sign in, then back to the replay.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(replayURL),
		chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.SendKeys(chromedp.CSS(`#token`), admin),
		chromedp.Click(chromedp.CSS(`form.signin button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.stage[data-ready="true"]`)),
	); err != nil {
		t.Fatalf("sign in and open replay: %v\n%s", err, pageState(ctx))
	}
	cookieVisible, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.cookie.includes("rv_session")`))
	if err != nil {
		t.Fatal(err)
	}
	if cookieVisible {
		t.Error("session cookie is readable from script; want HttpOnly")
	}

	type frameState struct {
		Value     string `json:"value"`
		AttrValue string `json:"attr"`
		Text      string `json:"text"`
		HTML      string `json:"html"`
		Modal     bool   `json:"modal"`
	}
	read := func() frameState {
		st, err := chromedp.Run(ctx, chromedp.Evaluate[frameState](`(() => {
			const f = document.querySelector(".stage-frame iframe");
			const d = f && f.contentDocument;
			const i = d && d.querySelector("input");
			return {
				value: i ? i.value : "", attr: i ? (i.getAttribute("value") || "") : "",
				text: d && d.body ? d.body.textContent : "", html: d ? d.documentElement.outerHTML : "",
				modal: !!(d && d.getElementById("error-modal")),
			};
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	check := func(when string, st frameState) {
		t.Helper()
		if st.Value != placeholder {
			t.Errorf("%s: input shows %q, want the placeholder %q", when, st.Value, placeholder)
		}
		for _, s := range []string{st.Value, st.AttrValue, st.Text, st.HTML} {
			if strings.Contains(s, typed) {
				t.Errorf("%s: replay shows the typed text", when)
			}
		}
		if !strings.Contains(st.Text, "Welcome back, shopper") {
			t.Errorf("%s: recorded text missing from replay: %q", when, st.Text)
		}
	}
	// Opened 2 s before the error: the modal appeared 0.5 s before it.
	var st frameState
	testenv.Eventually(t, 10*time.Second, func() error {
		if st = read(); st.Text == "" {
			return fmt.Errorf("replayed document is empty")
		}
		return nil
	})
	check("at ?t=", st)
	if st.Modal {
		t.Error("at ?t= (lead-in before the error) the error modal is already shown")
	}

	// The timeline carries the error, the click, the navigation and the
	// failed request from the error's breadcrumbs.
	kinds, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".track .marker")].map(m => m.dataset.kind)`))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"error", "click", "navigation", "request"} {
		if !strings.Contains(strings.Join(kinds, ","), want) {
			t.Errorf("timeline markers %v lack %s", kinds, want)
		}
	}

	// Keyboard: Space plays, → skips 5 s ahead (past the modal), Space pauses.
	if err := chromedp.Do(ctx, chromedp.KeyEvent(" "), chromedp.Sleep(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	label, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`.controls .play`), "aria-label"))
	if err != nil {
		t.Fatal(err)
	}
	if label.Value != "Pause" {
		t.Errorf("after Space the play button says %q, want Pause", label.Value)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.ArrowRight), chromedp.KeyEvent(" ")); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		if st = read(); !st.Modal {
			return fmt.Errorf("error modal not shown after seeking past it")
		}
		return nil
	})
	check("after seek", st)
	if !strings.Contains(st.Text, "Payment failed") {
		t.Errorf("mutation text missing: %q", st.Text)
	}

	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(t.TempDir(), "replay.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}
	keepShot(ctx, "replay", shot)
	assertNotBlank(t, shot)

	t.Run("sessions", func(t *testing.T) {
		if err := chromedp.Do(ctx,
			chromedp.Navigate(s.url+"/player/sessions?q=has:error"),
			chromedp.WaitVisible(chromedp.CSS(`tr[data-href="/player/replay/`+session+`"]`)),
		); err != nil {
			t.Fatalf("sessions page: %v", err)
		}
		rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("table.data tbody tr").length`))
		if err != nil {
			t.Fatal(err)
		}
		if rows != 1 {
			t.Errorf("%d rows for has:error, want 1", rows)
		}
		keepShot(ctx, "sessions", nil)
	})
	t.Run("issues", func(t *testing.T) {
		if err := chromedp.Do(ctx,
			chromedp.Navigate(s.url+"/player/issues"),
			chromedp.WaitVisible(chromedp.CSS(`table.data tbody tr .issue-title`)),
		); err != nil {
			t.Fatalf("issues page: %v\n%s", err, pageState(ctx))
		}
		title, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`table.data tbody tr .issue-title`)))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(title, "Payment") {
			t.Errorf("issue row %q", title)
		}
		// The issue page shows the stack and links to the replay at the
		// error's moment.
		if err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`table.data tbody tr .issue-title`)),
			chromedp.WaitVisible(chromedp.CSS(`.stack .frame`)),
		); err != nil {
			t.Fatalf("issue page: %v\n%s", err, pageState(ctx))
		}
		keepShot(ctx, "issue", nil)
		fn, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`.stack .frame .fn`)))
		if err != nil || fn != "pay" {
			t.Errorf("first frame %q (%v), want pay", fn, err)
		}
		watch, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`a.button.primary`), "href"))
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("/player/replay/%s?t=%d", session, errTS); watch.Value != want {
			t.Errorf("watch replay links to %q, want %q", watch.Value, want)
		}
		if err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`a.button.primary`)),
			chromedp.WaitVisible(chromedp.CSS(`.stage[data-ready="true"]`)),
		); err != nil {
			t.Fatalf("watch replay: %v\n%s", err, pageState(ctx))
		}
		if st := read(); st.Modal || !strings.Contains(st.Text, "Welcome back") {
			t.Errorf("replay from the issue opened at the wrong moment: modal %v, text %q", st.Modal, st.Text)
		}
	})
}

func TestLiveInBrowser(t *testing.T) {
	s := start(t, options{live: true})
	ctx := testenv.Browser(t)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.url+"/player/live"),
		chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.SendKeys(chromedp.CSS(`#token`), admin),
		chromedp.Click(chromedp.CSS(`form.signin button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.live-state[data-state="open"]`)),
	); err != nil {
		t.Fatalf("sign in and open live: %v\n%s", err, pageState(ctx))
	}
	// A tab of the shop starts sending while the viewer watches the list.
	const tab = "s-live-tab"
	replay, _ := sessionBatches(tab, time.Now().Add(-10*time.Second).UnixMilli())
	s.post(t, replay)
	row := `tr[data-href="/player/live/` + tab + `"]`
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(row))); err != nil {
		t.Fatalf("live list never showed the session: %v\n%s", err, pageState(ctx))
	}
	if err := chromedp.Do(ctx,
		clickLive(row+" a"),
		chromedp.WaitVisible(chromedp.CSS(`.stage[data-ready="true"]`)),
	); err != nil {
		t.Fatalf("open live session: %v\n%s", err, pageState(ctx))
	}
	text := func() string {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const f = document.querySelector(".stage-frame iframe"); return f && f.contentDocument && f.contentDocument.body ? f.contentDocument.body.textContent : ""; })()`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		if got := text(); !strings.Contains(got, "Payment failed") || !strings.Contains(got, "Welcome back") {
			return fmt.Errorf("live replay shows %q", got)
		}
		return nil
	})
	if strings.Contains(text(), typed) {
		t.Error("live replay shows the typed text")
	}
	// What the tab does next streams in after the snapshot.
	now := time.Now().UnixMilli()
	next, _ := json.Marshal(map[string]any{
		"v": 1, "sdk": map[string]any{"name": "@rearview/browser", "version": "0.1.0"},
		"session": map[string]any{"id": tab, "seq": 3, "started_at": now - 10000},
		"page":    map[string]any{"url": "https://shop.example.com/checkout"},
		"device":  map[string]any{"ua": "Mozilla/5.0", "viewport": map[string]any{"w": 1024, "h": 640}},
		"sent_at": now, "events": []any{map[string]any{"id": "rp-live-1", "ts": now, "kind": "replay", "replay": map[string]any{"segment": 1, "end_ts": now, "events": []any{
			map[string]any{"type": 3, "timestamp": now, "data": map[string]any{"source": 0, "texts": []any{}, "attributes": []any{}, "removes": []any{}, "adds": []any{
				map[string]any{"parentId": 6, "nextId": nil, "node": map[string]any{"type": 2, "tagName": "p", "attributes": map[string]any{"id": "coupon"}, "childNodes": []any{}, "id": 30}},
				map[string]any{"parentId": 30, "nextId": nil, "node": map[string]any{"type": 3, "textContent": "Coupon applied", "id": 31}},
			}}},
		}}}},
	})
	s.post(t, next)
	keepShot(ctx, "live", nil)
	testenv.Eventually(t, 15*time.Second, func() error {
		if got := text(); !strings.Contains(got, "Coupon applied") {
			return fmt.Errorf("streamed mutation not shown: %q", got)
		}
		return nil
	})
}

// keepShot saves a screenshot (taken now when shot is nil) under
// $REARVIEW_SCREENSHOTS, for looking at the pages by eye.
func keepShot(ctx context.Context, name string, shot []byte) {
	dir := os.Getenv("REARVIEW_SCREENSHOTS")
	if dir == "" {
		return
	}
	if shot == nil {
		var err error
		if shot, err = chromedp.Run(ctx, chromedp.FullScreenshot(100)); err != nil {
			return
		}
	}
	os.WriteFile(filepath.Join(dir, "player-"+name+".png"), shot, 0o644)
}

// pageState describes where the browser is, for failure messages.
func pageState(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	st, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText.slice(0, 2000)`))
	if err != nil {
		return "page state: " + err.Error()
	}
	return st
}

// assertNotBlank fails when a screenshot is one flat colour (a blank page or
// an iframe that rendered nothing).
func assertNotBlank(t *testing.T, shot []byte) {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	colors := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 4 {
		for x := b.Min.X; x < b.Max.X; x += 4 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colors[(r>>11)<<10|(g>>11)<<5|bl>>11] = true
		}
	}
	if len(colors) < 8 {
		t.Fatalf("screenshot looks blank: %d colours", len(colors))
	}
}

// BenchmarkHandler measures serving the app shell for a client route and the
// gzipped bundle, the two requests every page load makes.
func BenchmarkHandler(b *testing.B) {
	h := player.Handler()
	idx, err := os.ReadFile("dist/index.html")
	if err != nil {
		b.Fatal(err)
	}
	js := string(regexp.MustCompile(`/player/assets/app-[A-Z0-9]+\.js`).Find(idx))
	for _, bc := range []struct{ name, path string }{{"route", "/player/replay/s-1"}, {"bundle-gzip", js}} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", bc.path, nil)
			req.Header.Set("Accept-Encoding", "gzip")
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}
