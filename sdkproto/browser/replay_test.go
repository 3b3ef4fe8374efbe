package browser_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rearview-dev/rearview/internal/testenv"
	"github.com/rearview-dev/rearview/sdkproto"
	"github.com/rearview-dev/rearview/sdkproto/browser"
)

// sentEvent is an event as the SDK sent it, read from the ingest log; the
// replay's rrweb events stay raw.
type sentEvent struct {
	Kind   string `json:"kind"`
	Replay *struct {
		Events []json.RawMessage `json:"events"`
	} `json:"replay"`
	Breadcrumb *sdkproto.Breadcrumb `json:"breadcrumb"`
}

// sent decodes every body in the log, leniently: a body the edge would
// reject still counts as sent.
func sent(t *testing.T, l *ingestLog) []sentEvent {
	t.Helper()
	var out []sentEvent
	for _, b := range l.all() {
		var batch struct {
			Events []sentEvent `json:"events"`
		}
		if err := json.Unmarshal(b, &batch); err != nil {
			t.Fatalf("ingested body is not JSON: %v", err)
		}
		out = append(out, batch.Events...)
	}
	return out
}

// replayBytes joins the rrweb events of every replay event sent.
func replayBytes(evs []sentEvent) []byte {
	var b bytes.Buffer
	for _, e := range evs {
		if e.Replay != nil {
			for _, r := range e.Replay.Events {
				b.Write(r)
				b.WriteByte('\n')
			}
		}
	}
	return b.Bytes()
}

// snapNode is a node of an rrweb full snapshot; type 2 is an element.
type snapNode struct {
	Type       int        `json:"type"`
	ChildNodes []snapNode `json:"childNodes"`
}

func (n *snapNode) elements() int {
	c := 0
	if n.Type == 2 {
		c = 1
	}
	for i := range n.ChildNodes {
		c += n.ChildNodes[i].elements()
	}
	return c
}

// fullSnapshots returns the element count of every full snapshot sent.
func fullSnapshots(t *testing.T, evs []sentEvent) []int {
	t.Helper()
	var out []int
	for _, e := range evs {
		if e.Replay == nil {
			continue
		}
		for _, raw := range e.Replay.Events {
			var r struct {
				Type int `json:"type"`
				Data struct {
					Node snapNode `json:"node"`
				} `json:"data"`
			}
			if err := json.Unmarshal(raw, &r); err != nil {
				t.Fatal(err)
			}
			if r.Type == 2 {
				out = append(out, r.Data.Node.elements())
			}
		}
	}
	return out
}

// servePage serves tmpl at / with the edge's DSN and data merged in.
func servePage(t *testing.T, edgeURL string, tmpl *template.Template, data map[string]any) string {
	t.Helper()
	d := map[string]any{"Edge": edgeURL, "DSN": strings.Replace(edgeURL, "http://", "http://"+key+"@", 1) + "/shop"}
	for k, v := range data {
		d[k] = v
	}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := tmpl.Execute(w, d); err != nil {
			t.Errorf("page: %v", err)
		}
	}))
	t.Cleanup(s.Close)
	return s.URL
}

// hugePage loads the SDK in <head> and then builds 100 000 elements while
// the page loads (Huge), or grows past the limit later (grow): rrweb would
// serialise all of them at load or at the next checkout.
var hugePage = template.Must(template.New("huge").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Huge</title>
<script src="{{.Edge}}/sdk/v1.js"></script>
<script>Rearview.init({ dsn: {{.DSN}}, flushInterval: 300, replay: {{.Replay}} });</script>
</head><body>
<button id="boom">Break</button>
<div id="rows"></div>
<script>
window.clicked = 0;
document.getElementById('boom').addEventListener('click', function () {
  window.clicked++;
  throw new Error('boom after huge dom');
});
// 12 batches of 5000 elements: each under mutationLimit, 60 000 in all.
window.grow = async function () {
  for (var b = 0; b < 12; b++) {
    var f = document.createDocumentFragment();
    for (var i = 0; i < 5000; i++) f.appendChild(document.createElement('i'));
    document.getElementById('rows').appendChild(f);
    await new Promise(function (r) { setTimeout(r, 0); });
  }
  return true;
};
{{if .Huge}}
var h = [];
for (var i = 0; i < 25000; i++) h.push('<div><span>r</span><b>x</b><i>y</i></div>');
document.getElementById('rows').innerHTML = h.join('');
{{end}}
</script>
</body></html>`))

// TestBrowserHugeDOM: on a page with more elements than replay.maxNodes
// (default 50 000) no full snapshot is taken, neither at load nor at a
// checkout; the session says why in a breadcrumb, and errors and vitals
// keep working.
func TestBrowserHugeDOM(t *testing.T) {
	cases := []struct {
		name   string
		replay string
		huge   bool
		// why is the breadcrumb's message prefix; event says it is also sent
		// on its own (session mode), not only with the error.
		why   string
		event bool
	}{
		{"huge at load, session mode", "{ sessionSampleRate: 1 }", true, "replay skipped", true},
		{"huge at load, buffer mode", "{ sessionSampleRate: 0, onErrorSampleRate: 1 }", true, "replay skipped", false},
		{"grows past the limit before a checkout", "{ sessionSampleRate: 1, checkoutEveryMs: 2000 }", false, "recording stopped", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			js, edgeURL, ingested := startEdgeLog(t, browser.Script())
			url := servePage(t, edgeURL, hugePage, map[string]any{"Replay": template.JS(tc.replay), "Huge": tc.huge})
			ctx := testenv.Browser(t)
			if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
				t.Fatal(err)
			}
			if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`typeof Rearview === 'object' && document.readyState === 'complete'`)); err != nil {
				t.Fatalf("page not loaded: %v", err)
			}
			if !tc.huge {
				if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`grow()`, chromedp.EvalAwaitPromise)); err != nil {
					t.Fatalf("grow: %v", err)
				}
				testenv.Eventually(t, 20*time.Second, func() error {
					for _, e := range events(readStream(t, js), sdkproto.KindBreadcrumb) {
						if strings.HasPrefix(e.Breadcrumb.Message, tc.why) {
							return nil
						}
					}
					return fmt.Errorf("no %q breadcrumb on the stream", tc.why)
				})
			}
			// The page still answers: the handler runs and its error is reported.
			if err := chromedp.Do(ctx, chromedp.Click("#boom")); err != nil {
				t.Fatal(err)
			}
			if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.clicked === 1`)); err != nil {
				t.Fatalf("click handler did not run: %v", err)
			}
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`Rearview.flush().then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
				t.Fatalf("flush: %v", err)
			}
			var msgs []published
			var boom *sdkproto.Error
			testenv.Eventually(t, 20*time.Second, func() error {
				msgs = readStream(t, js)
				for _, e := range events(msgs, sdkproto.KindError) {
					if e.Error.Value == "boom after huge dom" {
						boom = e.Error
					}
				}
				if boom == nil {
					return fmt.Errorf("the error thrown after load is not on the stream")
				}
				names := map[string]bool{}
				for _, v := range events(msgs, sdkproto.KindVital) {
					names[v.Vital.Name] = true
				}
				// A paint metric and TTFB: which paint metric web-vitals
				// has reported by the flush depends on the machine's load.
				if !names["TTFB"] || !names["FCP"] && !names["LCP"] {
					return fmt.Errorf("vitals on the stream: %v, want TTFB and FCP or LCP", names)
				}
				return nil
			})

			reason := func(b sdkproto.Breadcrumb) bool {
				return b.Category == "replay" && strings.HasPrefix(b.Message, tc.why) && b.Data["reason"] == "max_nodes" && b.Data["limit"] == "50000"
			}
			if !slices.ContainsFunc(boom.Breadcrumbs, reason) {
				t.Errorf("the error's breadcrumbs do not say %q (max_nodes): %+v", tc.why, boom.Breadcrumbs)
			}
			var alone bool
			for _, e := range events(msgs, sdkproto.KindBreadcrumb) {
				alone = alone || reason(*e.Breadcrumb)
			}
			if alone != tc.event {
				t.Errorf("%q breadcrumb sent on its own: %v, want %v", tc.why, alone, tc.event)
			}

			evs := sent(t, ingested)
			snaps := fullSnapshots(t, evs)
			if tc.huge && len(replayBytes(evs)) > 0 {
				t.Errorf("replay sent from a page huge at load (full snapshots of %v elements)", snaps)
			}
			if !tc.huge && len(snaps) == 0 {
				t.Errorf("no full snapshot of the page while it was small")
			}
			for _, n := range snaps {
				if n > 50000 {
					t.Errorf("full snapshot of %d elements sent, over maxNodes", n)
				}
			}
		})
	}
}

// maskPage has text under each masking marker, a blocked element and an
// input, each a distinct canary of a distinct length, so that each
// same-length placeholder can be told apart.
var maskPage = template.Must(template.New("mask").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Mask</title></head><body>
<h1 id="plain">canary-plain</h1>
<p id="sentry" data-sentry-mask>canary-sentry1</p>
<p id="lr" data-lr-hide>canary-lr-hide-1</p>
<p id="rrmask" class="rr-mask">canary-rr-mask-123</p>
<div id="blocked" data-rv-block>canary-rv-block-abcdef</div>
<input id="typed" name="typed">
<button id="done">Done</button>
<script src="{{.Edge}}/sdk/v1.js"></script>
<script>Rearview.init({ dsn: {{.DSN}}, flushInterval: 300, replay: { sessionSampleRate: 1, strict: {{.Strict}} } });</script>
</body></html>`))

// TestBrowserMasking checks masking with the real rrweb in Chromium, on the
// bytes that reach the edge: no canary leaves the page, masked text and
// typed input are same-length placeholders, and what is not masked is
// there (else a test that finds no canary proves nothing).
func TestBrowserMasking(t *testing.T) {
	const typed = "canary-typed-abcdefg"
	stars := func(s string) string { return strings.Repeat("*", len(s)) }
	text := func(s string) string { return `"textContent":"` + s + `"` }
	masked := []string{"canary-sentry1", "canary-lr-hide-1", "canary-rr-mask-123"}
	cases := []struct {
		name   string
		strict bool
		// masked text, each replaced by its placeholder, besides the markers'
		mask []string
		// present in the replay as is
		present []string
	}{
		{"markers", false, nil, []string{text("canary-plain")}},
		{"strict", true, []string{"canary-plain"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, edgeURL, ingested := startEdgeLog(t, browser.Script())
			url := servePage(t, edgeURL, maskPage, map[string]any{"Strict": tc.strict})
			ctx := testenv.Browser(t)
			if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
				t.Fatal(err)
			}
			if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`typeof Rearview === 'object' && document.readyState === 'complete'`)); err != nil {
				t.Fatalf("page not loaded: %v", err)
			}
			if err := chromedp.Do(ctx, chromedp.SendKeys("#typed", typed)); err != nil {
				t.Fatal(err)
			}
			// Leaving the input fires change, which the recorder samples.
			if err := chromedp.Do(ctx, chromedp.Click("#done")); err != nil {
				t.Fatal(err)
			}
			typedPlaceholder := `"text":"` + stars(typed) + `"`
			var replay []byte
			testenv.Eventually(t, 20*time.Second, func() error {
				if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`Rearview.flush().then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
					return err
				}
				replay = replayBytes(sent(t, ingested))
				if !bytes.Contains(replay, []byte(`"type":2`)) || !bytes.Contains(replay, []byte(typedPlaceholder)) {
					return fmt.Errorf("no full snapshot and typed input in %d replay bytes sent", len(replay))
				}
				return nil
			})

			all := bytes.Join(ingested.all(), []byte("\n"))
			absent := append([]string{typed, "canary-rv-block-abcdef"}, masked...)
			absent = append(absent, tc.mask...)
			for _, c := range absent {
				if bytes.Contains(all, []byte(c)) {
					t.Errorf("%q reached the edge", c)
				}
			}
			// A blocked element keeps only its size: an empty box.
			want := []string{typedPlaceholder, `"id":"plain"`, `"attributes":{"rr_width":`}
			for _, m := range append(masked, tc.mask...) {
				want = append(want, text(stars(m)))
			}
			want = append(want, tc.present...)
			for _, w := range want {
				if !bytes.Contains(replay, []byte(w)) {
					t.Errorf("replay sent lacks %s", w)
				}
			}
		})
	}
}

// segmentPage changes its DOM and clicks every 200 ms for .Seconds while
// the SDK flushes its queue every 300 ms (a breadcrumb per click).
var segmentPage = template.Must(template.New("segments").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Segments</title></head><body>
<p id="count">0</p><button id="tick">Tick</button>
<script src="{{.Edge}}/sdk/v1.js"></script>
<script>
Rearview.init({ dsn: {{.DSN}}, flushInterval: 300, replay: { sessionSampleRate: 1 } });
window.scripted = new Promise(function (done) {
  var n = 0, start = Date.now();
  var timer = setInterval(function () {
    document.getElementById('count').textContent = String(++n);
    document.getElementById('tick').click();
    if (Date.now() - start >= {{.Seconds}} * 1000) { clearInterval(timer); done(Date.now() - start); }
  }, 200);
});
</script>
</body></html>`))

// TestBrowserSegments counts the replay segments of a scripted session
// recorded by the real rrweb in Chromium: one per 5 s of recording (the
// last cut when the page goes away), however often the queue is flushed.
// Flushes used to cut a segment each: this session sent one every 300 ms.
func TestBrowserSegments(t *testing.T) {
	const seconds = 12
	_, edgeURL, ingested := startEdgeLog(t, browser.Script())
	url := servePage(t, edgeURL, segmentPage, map[string]any{"Seconds": seconds})
	ctx := testenv.Browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	ms, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`window.scripted`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	// Leaving the page cuts the open segment and sends it by beacon.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	type seg struct {
		n          int
		first, end int64
	}
	var segs []seg
	var clicks int
	testenv.Eventually(t, 20*time.Second, func() error {
		segs, clicks = nil, 0
		for _, b := range ingested.all() {
			var batch struct {
				Events []struct {
					Kind   string `json:"kind"`
					Replay *struct {
						Segment int   `json:"segment"`
						EndTS   int64 `json:"end_ts"`
						Events  []struct {
							Timestamp int64 `json:"timestamp"`
						} `json:"events"`
					} `json:"replay"`
				} `json:"events"`
			}
			if err := json.Unmarshal(b, &batch); err != nil {
				return err
			}
			for _, e := range batch.Events {
				switch {
				case e.Replay != nil:
					segs = append(segs, seg{e.Replay.Segment, e.Replay.Events[0].Timestamp, e.Replay.EndTS})
				case e.Kind == "breadcrumb":
					clicks++
				}
			}
		}
		// The last tick's mutation may be recorded a moment before the
		// page's own clock says the script ended.
		if len(segs) == 0 || segs[len(segs)-1].end-segs[0].first < ms-1000 {
			return fmt.Errorf("%d segments sent (%v), not yet the whole %d ms", len(segs), segs, ms)
		}
		return nil
	})
	slices.SortFunc(segs, func(a, b seg) int { return a.n - b.n })
	for i, s := range segs {
		if s.n != i {
			t.Fatalf("segment numbers %v, want 0…%d in order", segs, len(segs)-1)
		}
		// 5 s, and what a late timer lets in; never half an interval more.
		if s.end-s.first > 7500 {
			t.Errorf("segment %d spans %d ms, far more than 5 s", i, s.end-s.first)
		}
	}
	// One segment per 5 s begun; a timer the loaded machine runs late may
	// fold a little more into a segment, so one fewer is fine too.
	want := int((ms + 4999) / 5000)
	if len(segs) > want || len(segs) < want-1 {
		t.Errorf("%d segments for %d ms of recording (flushed %d times by breadcrumbs), want %d", len(segs), ms, clicks, want)
	}
	t.Logf("%d segments for %d ms of recording, %d click breadcrumbs", len(segs), ms, clicks)
}
