package demo

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/go-sourcemap/sourcemap"

	"github.com/rearview-dev/rearview/internal/testenv"
)

// recorder runs before any page script and keeps what the page's bugs
// produce, independent of the SDK.
const recorder = `
window.__demo = {errors: [], longtasks: []};
addEventListener('error', function (e) {
  window.__demo.errors.push({message: String(e.message), stack: e.error && e.error.stack ? String(e.error.stack) : ''});
}, true);
try {
  new PerformanceObserver(function (list) {
    list.getEntries().forEach(function (e) { window.__demo.longtasks.push(e.duration); });
  }).observe({type: 'longtask', buffered: true});
} catch (e) {}
`

type pageError struct {
	Message string `json:"message"`
	Stack   string `json:"stack"`
}

// fakeEdge serves the browser SDK when it has been built and records
// every request body the SDK sends (gunzipped).
type fakeEdge struct {
	sdk      []byte
	mu       sync.Mutex
	bodies   [][]byte
	requests []string // "METHOD path", for failure messages
}

func (e *fakeEdge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.requests = append(e.requests, r.Method+" "+r.URL.Path)
	e.mu.Unlock()
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Access-Control-Allow-Headers", "*")
	w.Header().Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	switch {
	case r.Method == "OPTIONS":
		w.WriteHeader(http.StatusNoContent)
	case r.Method == "GET" && r.URL.Path == "/sdk/v1.js" && e.sdk != nil:
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = w.Write(e.sdk)
	case r.Method == "POST":
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		// Batches are gzip whatever the headers say (sendBeacon cannot set
		// Content-Encoding), so sniff the magic bytes.
		if bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err == nil {
				b, err = io.ReadAll(zr)
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		}
		e.mu.Lock()
		e.bodies = append(e.bodies, b)
		e.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	default:
		http.NotFound(w, r)
	}
}

func (e *fakeEdge) received() []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	return bytes.Join(e.bodies, []byte("\n"))
}

// TestBrowser drives the shop in headless Chromium: the checkout throws the
// TypeError from three components (their original TypeScript lines found
// through the maps in maps/), the extension script throws with only
// chrome-extension:// frames, the hero image arrives late and the
// recommendations button makes a long task. When the browser SDK has been
// built, the page loads it from the (fake) edge and the test also checks
// what it sends: the checkout error with the backend's trace id, and none of
// the typed personal data.
func TestBrowser(t *testing.T) {
	ctx := testenv.Browser(t)
	edge := &fakeEdge{}
	if b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "sdkproto", "browser", "dist", "rearview.min.js")); err == nil {
		edge.sdk = b
	} else {
		t.Log("browser SDK not built; checking the page's own errors only")
	}
	edgeSrv := httptest.NewServer(edge)
	defer edgeSrv.Close()
	spans := &syncBuffer{}
	shopSrv := httptest.NewServer(Handler(Options{
		EdgeURL: edgeSrv.URL, Key: "rvk_test", Release: "test", Spans: spans,
		HeroDelay: 300 * time.Millisecond,
	}))
	defer shopSrv.Close()

	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var errs []pageError
	pageErrors := func() (err error) {
		errs, err = chromedp.Run(ctx, chromedp.Evaluate[[]pageError](`window.__demo.errors`))
		return err
	}
	err := chromedp.Do(ctx,
		func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
			_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: recorder})
			return chromedp.Void{}, err
		},
		chromedp.Navigate(shopSrv.URL+"/checkout"),
		chromedp.WaitVisible(`body[data-ready="true"]`),
		chromedp.SendKeys(`#email`, SampleEmail),
		chromedp.SendKeys(`#card`, SampleCard),
		chromedp.SendKeys(`#address`, SampleAddress),
		chromedp.Click(`#place-order`),
		chromedp.WaitVisible(`#checkout-status`),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "three checkout errors and the extension error", pageErrors, func() error {
		if n := countMessage(errs, CheckoutError); n != 3 {
			return fmt.Errorf("%d checkout errors in %+v", n, errs)
		}
		if extensionError(errs) == nil {
			return fmt.Errorf("no extension error in %+v", errs)
		}
		return nil
	})

	t.Run("checkout error maps to three components", func(t *testing.T) {
		got := map[string]bool{}
		for _, e := range errs {
			if strings.Contains(e.Message, CheckoutError) {
				src, line := symbolicateTop(t, e.Stack)
				want := sourceLine(t, src, "cart.items.map(")
				if line != want {
					t.Errorf("%s: top frame at line %d, want %d (cart.items.map)", src, line, want)
				}
				got[src] = true
			}
		}
		for _, src := range []string{"src/components/cart-list.ts", "src/components/order-summary.ts", "src/components/mini-cart.ts"} {
			if !got[src] {
				t.Errorf("no checkout error from %s; got %v", src, got)
			}
		}
	})

	t.Run("extension error has only extension frames", func(t *testing.T) {
		e := extensionError(errs)
		frames := 0
		for _, l := range strings.Split(e.Stack, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(l), "at ") {
				continue
			}
			frames++
			if !strings.Contains(l, ExtensionScriptURL) {
				t.Errorf("frame %q is not the extension's", l)
			}
		}
		if frames == 0 {
			t.Errorf("no frames in %q", e.Stack)
		}
	})

	t.Run("backend failed the checkout", func(t *testing.T) {
		var server *span
		for _, s := range readSpans(t, spans.Bytes()) {
			if s.Name == "POST /api/checkout" {
				server = &s
			}
		}
		if server == nil || server.Status.Code != "Error" {
			t.Fatalf("no failed checkout span: %s", spans.Bytes())
		}
		if edge.sdk == nil {
			return
		}
		// With the SDK, the request carried the browser's trace, and the
		// error it reported names it.
		testenv.Eventually(t, 20*time.Second, func() error {
			got := edge.received()
			if !bytes.Contains(got, []byte("reading 'map'")) {
				edge.mu.Lock()
				defer edge.mu.Unlock()
				return fmt.Errorf("the edge has no checkout error yet; requests %v; bodies:\n%.2000s", edge.requests, got)
			}
			if !bytes.Contains(got, []byte(server.SpanContext.TraceID)) {
				return fmt.Errorf("the edge never saw trace %s of the failed checkout", server.SpanContext.TraceID)
			}
			return nil
		})
		for _, pii := range []string{SampleEmail, SampleCard, SampleAddress} {
			if bytes.Contains(edge.received(), []byte(pii)) {
				t.Errorf("the SDK sent typed %q unmasked", pii)
			}
		}
	})

	t.Run("slow hero and long task", func(t *testing.T) {
		err := chromedp.Do(ctx,
			chromedp.Navigate(shopSrv.URL+"/"),
			chromedp.WaitVisible(`body[data-ready="true"]`),
			chromedp.Click(`#recommend`),
			chromedp.WaitVisible(`#recommended li`),
		)
		if err != nil {
			t.Fatal(err)
		}
		heroWidth, err := chromedp.Run(ctx, chromedp.Poll[int](`document.getElementById('hero').complete && document.getElementById('hero').naturalWidth`))
		if err != nil {
			t.Fatal(err)
		}
		if heroWidth != 1200 {
			t.Errorf("hero width %d", heroWidth)
		}
		var longtasks []float64
		waitFor(ctx, t, "a long task", func() (err error) {
			longtasks, err = chromedp.Run(ctx, chromedp.Evaluate[[]float64](`window.__demo.longtasks`))
			return err
		}, func() error {
			if len(longtasks) == 0 {
				return errors.New("no long task observed")
			}
			return nil
		})
	})
}

// waitFor runs read until check passes.
func waitFor(ctx context.Context, t *testing.T, what string, read func() error, check func() error) {
	t.Helper()
	testenv.Eventually(t, 15*time.Second, func() error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := read(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return check()
	})
}

func countMessage(errs []pageError, msg string) int {
	n := 0
	for _, e := range errs {
		if strings.Contains(e.Message, msg) {
			n++
		}
	}
	return n
}

func extensionError(errs []pageError) *pageError {
	for i, e := range errs {
		if strings.Contains(e.Stack, ExtensionScriptURL) {
			return &errs[i]
		}
	}
	return nil
}

var frameRE = regexp.MustCompile(`(https?://[^\s()]+/assets/([^/\s()]+\.js)):(\d+):(\d+)`)

// symbolicateTop resolves the top frame of a V8 stack with the committed
// source map and returns the original source and line.
func symbolicateTop(t *testing.T, stack string) (string, int) {
	t.Helper()
	m := frameRE.FindStringSubmatch(stack)
	if m == nil {
		t.Fatalf("no bundle frame in %q", stack)
	}
	b, err := os.ReadFile(filepath.Join("maps", path.Base(m[2])+".map"))
	if err != nil {
		t.Fatalf("map for %s: %v", m[2], err)
	}
	c, err := sourcemap.Parse("", b)
	if err != nil {
		t.Fatal(err)
	}
	line, _ := strconv.Atoi(m[3])
	col, _ := strconv.Atoi(m[4])
	src, _, oline, _, ok := c.Source(line, col-1) // V8 columns are 1-based
	if !ok {
		t.Fatalf("%s:%d:%d does not map", m[2], line, col)
	}
	return src, oline
}

// sourceLine returns the 1-based line of web/<src> containing needle.
func sourceLine(t *testing.T, src, needle string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("web", src))
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, needle) {
			return i + 1
		}
	}
	t.Fatalf("%s has no %q", src, needle)
	return 0
}
