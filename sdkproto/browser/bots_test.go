package browser_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/rearview-dev/rearview/edge"
	"github.com/rearview-dev/rearview/edge/wasmhost"
	"github.com/rearview-dev/rearview/internal/testenv"
	"github.com/rearview-dev/rearview/sdkproto"
	"github.com/rearview-dev/rearview/sdkproto/browser"
)

// TestBrowserBotSignals runs the SDK in real Chromium through an edge
// running filter.wasm with the default policy, with a browser's User-Agent
// in the request. Driven as automation (navigator.webdriver), its batches
// are dropped with reason webdriver; the same browser driven as tests
// drive a person's (testenv.Browser) is kept.
func TestBrowserBotSignals(t *testing.T) {
	const ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	cache := t.TempDir() // one compilation of the module for both
	for _, automation := range []bool{true, false} {
		t.Run(map[bool]string{true: "webdriver", false: "person"}[automation], func(t *testing.T) {
			js, edgeURL := startFilteringEdge(t, cache)
			as := httptest.NewServer(&app{edgeURL: edgeURL})
			t.Cleanup(as.Close)
			opts := []chromedp.ExecAllocatorOption{chromedp.UserAgent(ua)}
			if automation {
				opts = append(opts, chromedp.Flag("disable-blink-features", false)) // navigator.webdriver as automation sets it
			}
			ctx := testenv.Browser(t, opts...)
			if err := chromedp.Do(ctx, chromedp.Navigate(as.URL+"/")); err != nil {
				t.Fatal(err)
			}
			if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`typeof Rearview === 'object' && document.readyState === 'complete'`)); err != nil {
				t.Fatalf("SDK not loaded: %v", err)
			}
			wd, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`navigator.webdriver === true`))
			if err != nil || wd != automation {
				t.Fatalf("navigator.webdriver = %v (%v), want %v", wd, err, automation)
			}
			if err := chromedp.Do(ctx, chromedp.Click("#boom")); err != nil {
				t.Fatal(err)
			}
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`Rearview.flush().then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
				t.Fatalf("flush: %v", err)
			}
			testenv.Eventually(t, 20*time.Second, func() error {
				msgs := readStream(t, js)
				dropped := map[string]int{}
				for _, m := range msgs {
					if strings.HasSuffix(m.subject, ".outcome") {
						var o sdkproto.Outcome
						if err := json.Unmarshal(m.raw, &o); err != nil {
							t.Fatal(err)
						}
						for r, n := range o.Dropped {
							dropped[r] += n
						}
					}
				}
				errs := len(events(msgs, sdkproto.KindError))
				switch {
				case automation && (errs > 0 || dropped["webdriver"] == 0):
					return fmt.Errorf("%d errors kept, dropped %v: want none kept, dropped as webdriver", errs, dropped)
				case !automation && (errs == 0 || dropped["webdriver"] > 0):
					return fmt.Errorf("%d errors kept, dropped %v: want the error kept", errs, dropped)
				}
				return nil
			})
		})
	}
}

// startFilteringEdge runs an edge whose stage is filter.wasm with the
// default policy, serving the SDK.
func startFilteringEdge(t *testing.T, cache string) (jetstream.JetStream, string) {
	t.Helper()
	_, js := testenv.JetStream(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
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
	st, err := wasmhost.New(ctx, wasmhost.Config{Instances: 1, CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	srv, err := edge.New(edge.Config{Region: "eu", JetStream: js, SDKScript: browser.Script(), Stage: st})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Run(ctx)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	testenv.Eventually(t, 10*time.Second, func() error {
		if !srv.Ready() {
			return fmt.Errorf("edge not ready")
		}
		return nil
	})
	return js, hs.URL
}

var _ http.Handler = (*app)(nil)
