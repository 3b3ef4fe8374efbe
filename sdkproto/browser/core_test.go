package browser_test

import (
	"fmt"
	"net/http/httptest"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rearview-dev/rearview/internal/testenv"
	"github.com/rearview-dev/rearview/sdkproto"
)

// TestBrowserCoreBundle runs the errors + vitals build (no recorder) on the
// same shop page: it must define the same global API, report errors with
// their breadcrumbs and attributed vitals, and send no replay.
func TestBrowserCoreBundle(t *testing.T) {
	core, err := os.ReadFile("dist/rearview.core.min.js")
	if err != nil {
		t.Fatal(err)
	}
	js, edgeURL := startEdge(t, core)
	shop := &app{edgeURL: edgeURL}
	as := httptest.NewServer(shop)
	t.Cleanup(as.Close)
	ctx := testenv.Browser(t)

	if err := chromedp.Do(ctx, chromedp.Navigate(as.URL+"/")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`typeof Rearview === 'object' && document.readyState === 'complete'`)); err != nil {
		t.Fatalf("SDK not loaded: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.lcpCandidate === 'hero'`)); err != nil {
		t.Fatalf("hero image never became the LCP candidate: %v", err)
	}
	api, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`["init","setUser","setTag","captureException","captureMessage","flagSession","flush","close"].filter(k => typeof Rearview[k] !== "function").concat(typeof Rearview.SDK_VERSION === "string" ? [] : ["SDK_VERSION"])`))
	if err != nil {
		t.Fatal(err)
	}
	if len(api) > 0 {
		t.Errorf("global Rearview lacks %v", api)
	}
	if err := chromedp.Do(ctx, chromedp.Click("#checkout")); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		shop.mu.Lock()
		defer shop.mu.Unlock()
		if len(shop.parents) == 0 {
			return fmt.Errorf("/api/cart not called yet")
		}
		return nil
	})
	if err := chromedp.Do(ctx, chromedp.Click("#boom")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`Rearview.flush().then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatalf("flush: %v", err)
	}

	var msgs []published
	testenv.Eventually(t, 20*time.Second, func() error {
		msgs = readStream(t, js)
		if n := len(events(msgs, sdkproto.KindError)); n < 2 {
			return fmt.Errorf("%d errors on the stream, want 2", n)
		}
		for _, v := range events(msgs, sdkproto.KindVital) {
			if v.Vital.Name == "LCP" {
				return nil
			}
		}
		return fmt.Errorf("no LCP on the stream")
	})
	if n := len(events(msgs, sdkproto.KindReplay)); n != 0 {
		t.Errorf("%d replay segments from the build without a recorder", n)
	}
	var mechanisms []string
	for _, e := range events(msgs, sdkproto.KindError) {
		mechanisms = append(mechanisms, string(e.Error.Mechanism))
		if e.Error.Mechanism == "unhandledrejection" && (e.Error.TraceID == "" || len(e.Error.Breadcrumbs) == 0) {
			t.Errorf("rejection after the failed fetch: trace %q, %d breadcrumbs", e.Error.TraceID, len(e.Error.Breadcrumbs))
		}
	}
	slices.Sort(mechanisms)
	if fmt.Sprint(mechanisms) != "[onerror unhandledrejection]" {
		t.Errorf("error mechanisms %v, want onerror and unhandledrejection", mechanisms)
	}
	for _, e := range events(msgs, sdkproto.KindVital) {
		if e.Vital.Name == "LCP" && e.Vital.Attribution["element"] != "img#hero" {
			t.Errorf("LCP attributed to %q, want img#hero", e.Vital.Attribution["element"])
		}
	}
}
