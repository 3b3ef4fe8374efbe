package browser_test

import (
	"fmt"
	"html/template"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rearview-dev/rearview/internal/testenv"
	"github.com/rearview-dev/rearview/sdkproto"
	"github.com/rearview-dev/rearview/sdkproto/browser"
)

// vitalsPage shifts its content once after it painted and has a button
// whose click handler blocks for 150 ms: CLS and INP, which web-vitals
// reports only when the page is hidden or goes away.
var vitalsPage = template.Must(template.New("vitals").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Vitals</title>
<style>body{font:24px sans-serif;margin:0} #slot{height:0}</style></head><body>
<div id="slot"></div>
<p id="content">Content that a late banner pushes down.</p>
<button id="slow">Slow</button>
<script src="{{.Edge}}/sdk/v1.js"></script>
<script>
Rearview.init({ dsn: {{.DSN}}, flushInterval: 60000 });
window.shifted = false;
// The Event Timing entry of an interaction exists only after the next
// paint: the test leaves once the page has seen it, as web-vitals has.
window.interacted = false;
new PerformanceObserver(function (l) {
  l.getEntries().forEach(function (e) { if (e.interactionId) window.interacted = true; });
}).observe({ type: 'event', durationThreshold: 16 });
requestAnimationFrame(function () {
  setTimeout(function () {
    document.getElementById('slot').style.height = '200px';
    requestAnimationFrame(function () { setTimeout(function () { window.shifted = true; }, 0); });
  }, 100);
});
document.getElementById('slow').addEventListener('click', function () {
  var end = performance.now() + 150;
  while (performance.now() < end) {}
  window.slowDone = true;
});
</script>
</body></html>`))

// TestBrowserVitalsOnLeave checks CLS and INP from a real layout shift and a
// real slow click, sent when the page goes away, in both builds.
func TestBrowserVitalsOnLeave(t *testing.T) {
	core, err := os.ReadFile("dist/rearview.core.min.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		script []byte
	}{
		{"full", browser.Script()},
		{"core", core},
	} {
		t.Run(tc.name, func(t *testing.T) {
			js, edgeURL := startEdge(t, tc.script)
			url := servePage(t, edgeURL, vitalsPage, nil)
			ctx := testenv.Browser(t)
			if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
				t.Fatal(err)
			}
			// The shift comes before the click: a shift within 500 ms of an
			// input does not count.
			if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`typeof Rearview === 'object' && window.shifted`)); err != nil {
				t.Fatalf("no layout shift: %v", err)
			}
			if err := chromedp.Do(ctx, chromedp.Click("#slow")); err != nil {
				t.Fatal(err)
			}
			if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.slowDone === true && window.interacted`)); err != nil {
				t.Fatalf("click handler did not run: %v", err)
			}
			// web-vitals handles event entries in an idle callback; leaving
			// before it ran can lose the interaction. Headless Chromium is
			// sometimes never idle, hence the timeouts.
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`new Promise(r => requestIdleCallback(() => requestIdleCallback(() => r(true), { timeout: 500 }), { timeout: 500 }))`, chromedp.EvalAwaitPromise)); err != nil {
				t.Fatal(err)
			}
			// Leaving the page (pagehide) is the only flush: flushInterval is a minute.
			if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
				t.Fatal(err)
			}
			vitals := map[string]*sdkproto.Vital{}
			testenv.Eventually(t, 20*time.Second, func() error {
				for _, e := range events(readStream(t, js), sdkproto.KindVital) {
					vitals[e.Vital.Name] = e.Vital
				}
				if vitals["CLS"] == nil || vitals["INP"] == nil {
					return fmt.Errorf("vitals on the stream: %v, want CLS and INP", vitals)
				}
				return nil
			})
			if cls := vitals["CLS"]; cls.Value <= 0 || cls.Attribution["largest_shift_value"] == "" {
				t.Errorf("CLS = %+v, want a value > 0 with its largest shift", cls)
			}
			// The handler's busy loop alone lasts 150 ms: a lower bound by
			// construction. The element and phases are not checked: read at
			// pagehide, the entries' targets are sometimes already null.
			if inp := vitals["INP"]; inp.Value < 100 || inp.Attribution["interaction_type"] != "pointer" {
				t.Errorf("INP = %+v, want at least the click handler's 150 ms", inp)
			}
		})
	}
}
