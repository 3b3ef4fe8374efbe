package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/rearview-dev/rearview/coordinator/synthetic"
	"github.com/rearview-dev/rearview/sdkproto"
)

// User agents of journeys: Chrome's own without "Headless" (which the edge
// drops as a bot) plus the synthetic token, which the edge marks.
const (
	desktopUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 " + sdkproto.SyntheticUAToken
	mobileUA  = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 " + sdkproto.SyntheticUAToken
)

// markSynthetic runs before any script of every document the journey
// opens: the SDK reads it and flags its batches synthetic.
const markSynthetic = `window.__REARVIEW_SYNTHETIC__ = true;`

// sessionOf reads the SDK's session id from where the SDK keeps it.
const sessionOf = `(() => { try { return JSON.parse(sessionStorage.getItem('rearview.session') || '{}').id || ''; } catch (e) { return ''; } })()`

// flushSDK waits until the SDK handed everything queued to the edge.
const flushSDK = `(window.Rearview && Rearview.flush) ? Rearview.flush().then(() => true, () => true) : true`

// journey runs j in a fresh headless Chromium and fills res.
func (r *Runner) journey(ctx context.Context, base string, j Journey, res *synthetic.Result) {
	dir, err := os.MkdirTemp("", "rearview-journey")
	if err != nil {
		res.Error = err.Error()
		return
	}
	defer os.RemoveAll(dir)
	ua := desktopUA
	if j.Profile == synthetic.Mobile {
		ua = mobileUA
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(r.Chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(dir),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserAgent(ua),
		chromedp.WindowSize(1280, 800),
		// A journey is marked synthetic and so is let through; without
		// this the SDK would see navigator.webdriver and the edge drop the
		// session as automation before it is marked.
		chromedp.Flag("disable-blink-features", "AutomationControlled"),
	}
	actx, cancelA := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelA()
	tctx, cancelT := chromedp.NewContext(actx)
	defer cancelT()

	var mu sync.Mutex
	var pageErrors []string
	if err := chromedp.Listen(tctx, func(ev any) {
		if e, ok := ev.(*runtime.EventExceptionThrown); ok && e.ExceptionDetails != nil && !fromExtension(e.ExceptionDetails) {
			msg := e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil && e.ExceptionDetails.Exception.Description != "" {
				msg = strings.SplitN(e.ExceptionDetails.Exception.Description, "\n", 2)[0]
			}
			mu.Lock()
			pageErrors = append(pageErrors, msg)
			mu.Unlock()
		}
	}); err != nil {
		res.Error = fmt.Sprintf("start chromium %s: %v", r.Chromium, err)
		return
	}
	setup := func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: markSynthetic}); err != nil {
			return chromedp.Void{}, err
		}
		// Through the protocol too, so navigator.userAgentData no longer
		// names HeadlessChrome (the --user-agent flag leaves its brands).
		if _, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua}); err != nil {
			return chromedp.Void{}, err
		}
		if j.Profile == synthetic.Mobile {
			_, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: 412, Height: 823, DeviceScaleFactor: 2.625, Mobile: true})
			return chromedp.Void{}, err
		}
		return chromedp.Void{}, nil
	}
	if err := chromedp.Do(tctx, setup); err != nil {
		res.Error = fmt.Sprintf("start chromium %s: %v", r.Chromium, err)
		return
	}
	start := time.Now()
	failed := false
	for i, s := range j.Steps {
		st := synthetic.Step{Name: s.Name()}
		t0 := time.Now()
		sctx, cancel := context.WithTimeout(tctx, time.Duration(j.Timeout))
		err := r.step(sctx, base, s)
		cancel()
		st.DurationMS = float64(time.Since(t0).Microseconds()) / 1000
		mu.Lock()
		thrown := slicesClone(pageErrors)
		mu.Unlock()
		switch {
		case err != nil:
			if errors.Is(err, context.DeadlineExceeded) {
				err = fmt.Errorf("timed out after %s", time.Duration(j.Timeout))
			}
			st.Error = err.Error()
		case len(thrown) > 0 && !j.AllowPageErrors:
			st.Error = "the page threw " + thrown[0]
		default:
			st.Passed = true
		}
		res.Steps = append(res.Steps, st)
		if !st.Passed {
			res.Error = fmt.Sprintf("step %d (%s): %s", i+1, st.Name, st.Error)
			if len(thrown) > 0 && !strings.Contains(res.Error, thrown[0]) {
				res.Error += "; the page threw " + thrown[0]
			}
			failed = true
			break
		}
	}
	res.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	res.Passed = !failed
	// Whatever happened, the SDK sends what it has (the error, the replay)
	// before the browser goes, and the result names its session.
	fctx, cancel := context.WithTimeout(tctx, 10*time.Second)
	defer cancel()
	_, _ = chromedp.Run(fctx, chromedp.Evaluate[bool](flushSDK, chromedp.EvalAwaitPromise))
	if id, err := chromedp.Run(fctx, chromedp.Evaluate[string](sessionOf)); err == nil {
		res.SessionID = id
	}
	// Leaving the page reports the last vitals on pagehide.
	_ = chromedp.Do(fctx, chromedp.Navigate("about:blank"))
}

func (r *Runner) step(ctx context.Context, base string, s Step) error {
	switch {
	case s.Goto != "":
		u, err := absURL(base, s.Goto)
		if err != nil {
			return err
		}
		return chromedp.Do(ctx, chromedp.Navigate(u))
	case s.Click != "":
		return chromedp.Do(ctx, chromedp.Click(s.Click))
	case s.Type != nil:
		return chromedp.Do(ctx, chromedp.SendKeys(s.Type.Selector, s.Type.Text))
	case s.WaitFor != "":
		return chromedp.Do(ctx, chromedp.WaitVisible(s.WaitFor))
	case s.AssertText != nil:
		// The text may still be on its way: wait for it until the step's
		// timeout. The error never quotes what the page showed instead:
		// that may be personal data, and results bypass the edge's masking.
		var seen bool
		for {
			txt, err := chromedp.Run(ctx, chromedp.Text(s.AssertText.Selector))
			if err != nil {
				if seen {
					return fmt.Errorf("%s does not contain %q", s.AssertText.Selector, s.AssertText.Contains)
				}
				return err
			}
			if strings.Contains(txt, s.AssertText.Contains) {
				return nil
			}
			seen = true
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s does not contain %q (its text has %d characters)", s.AssertText.Selector, s.AssertText.Contains, len([]rune(strings.TrimSpace(txt))))
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return errors.New("empty step")
}

// fromExtension reports whether an exception came from a browser
// extension's script: noise the edge drops, not the page's failure.
func fromExtension(d *runtime.ExceptionDetails) bool {
	urls := []string{d.URL}
	if d.StackTrace != nil {
		for _, f := range d.StackTrace.CallFrames {
			urls = append(urls, f.URL)
		}
	}
	for _, u := range urls {
		for _, p := range []string{"chrome-extension://", "moz-extension://", "safari-web-extension://", "safari-extension://"} {
			if strings.HasPrefix(u, p) {
				return true
			}
		}
	}
	return false
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }
