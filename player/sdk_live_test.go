package player_test

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rearview-dev/rearview/internal/testenv"
)

// shopPage is a shop on its own origin that loads the real SDK bundle from
// the edge and records every session (session mode, not the error buffer).
var shopPage = template.Must(template.New("shop").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Shop</title>
<style>body{font:16px sans-serif;margin:24px} h1{color:#5b5bd6}</style></head>
<body>
<h1 id="title">Checkout</h1>
<p id="welcome">Welcome back, live shopper</p>
<label>E-mail <input id="email" type="email" name="email"></label>
<button id="pay" class="btn primary">Pay now</button>
<p id="status"></p>
<script src="{{.Edge}}/sdk/v1.js"></script>
<script>
Rearview.init({
  endpoint: {{.Edge}}, key: {{.Key}}, release: 'r-live', flushInterval: 200,
  replay: { sessionSampleRate: 1, onErrorSampleRate: 0 },
});
document.getElementById('pay').addEventListener('click', function () {
  document.getElementById('status').textContent = 'Processing payment';
});
</script>
</body></html>`))

// TestLiveSDKInBrowser watches, from the player's Live page in one tab, a
// session that the real SDK records in another tab of the same browser:
// the session is listed, opening it renders the recorded DOM at once, what
// the shop tab does next streams in, and what was typed is masked.
func TestLiveSDKInBrowser(t *testing.T) {
	s := start(t, options{live: true, sdk: true})
	// The SDK drops a batch the edge refuses (4xx), and the first one holds
	// the full snapshot: wait until the edge knows the project's key.
	testenv.Eventually(t, 10*time.Second, func() error {
		req, _ := http.NewRequest("POST", s.edge+"/v1/ingest", strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Rearview-Key", s.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			return fmt.Errorf("edge does not know the key yet: %d", resp.StatusCode)
		}
		return nil
	})
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = shopPage.Execute(w, map[string]string{"Edge": s.edge, "Key": s.key})
	}))
	t.Cleanup(shop.Close)

	shopTab := testenv.Browser(t)
	shopTab, cancel := context.WithTimeout(shopTab, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(shopTab, chromedp.Navigate(shop.URL+"/")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(shopTab, chromedp.Poll[bool](`typeof Rearview === 'object' && document.readyState === 'complete'`)); err != nil {
		t.Fatalf("SDK not loaded: %v", err)
	}
	flush := func() {
		t.Helper()
		if _, err := chromedp.Run(shopTab, chromedp.Evaluate[bool](`Rearview.flush().then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
			t.Fatalf("flush: %v", err)
		}
	}
	flush()
	id, err := chromedp.Run(shopTab, chromedp.Evaluate[string](`JSON.parse(sessionStorage.getItem("rearview.session")).id`))
	if err != nil || id == "" {
		t.Fatalf("session id %q: %v", id, err)
	}

	// The viewer: a second tab of the same browser.
	viewer, cancelViewer := chromedp.NewContext(shopTab)
	defer cancelViewer()
	if err := chromedp.Do(viewer,
		chromedp.Navigate(s.url+"/player/live"),
		chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.SendKeys(chromedp.CSS(`#token`), admin),
		chromedp.Click(chromedp.CSS(`form.signin button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.live-state[data-state="open"]`)),
	); err != nil {
		t.Fatalf("sign in and open live: %v\n%s", err, pageState(viewer))
	}

	// The shopper types and clicks while the viewer watches the list.
	if err := chromedp.Do(shopTab,
		chromedp.SendKeys(chromedp.CSS("#email"), typed),
		chromedp.Click(chromedp.CSS("#pay")),
	); err != nil {
		t.Fatal(err)
	}
	flush()
	row := `tr[data-href="/player/live/` + id + `"]`
	if err := chromedp.Do(viewer, chromedp.WaitVisible(chromedp.CSS(row))); err != nil {
		t.Fatalf("live list never showed the SDK's session %s: %v\n%s", id, err, pageState(viewer))
	}
	if err := chromedp.Do(viewer,
		clickLive(row+" a"),
		chromedp.WaitVisible(chromedp.CSS(`.stage[data-ready="true"]`)),
	); err != nil {
		t.Fatalf("open live session: %v\n%s", err, pageState(viewer))
	}

	type frameState struct {
		Input string `json:"input"`
		Text  string `json:"text"`
		HTML  string `json:"html"`
	}
	read := func() frameState {
		st, err := chromedp.Run(viewer, chromedp.Evaluate[frameState](`(() => {
			const f = document.querySelector(".stage-frame iframe");
			const d = f && f.contentDocument;
			const i = d && d.getElementById("email");
			return { input: i ? i.value : "", text: d && d.body ? d.body.textContent : "", html: d ? d.documentElement.outerHTML : "" };
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	var st frameState
	masked := strings.Repeat("*", len(typed))
	testenv.Eventually(t, 15*time.Second, func() error {
		st = read()
		if !strings.Contains(st.Text, "Welcome back, live shopper") || !strings.Contains(st.Text, "Processing payment") {
			return fmt.Errorf("live replay shows %q", st.Text)
		}
		if st.Input != masked {
			return fmt.Errorf("input shows %q, want the mask %q", st.Input, masked)
		}
		return nil
	})
	if strings.Contains(st.HTML, typed) || strings.Contains(st.Text, typed) {
		t.Error("live replay shows the typed text")
	}

	// A change the shop tab makes now streams into the viewer's replay.
	if _, err := chromedp.Run(shopTab, chromedp.Evaluate[bool](`(() => {
		const p = document.createElement("p");
		p.id = "coupon";
		p.textContent = "Coupon LIVE10 applied";
		document.body.appendChild(p);
		return true;
	})()`)); err != nil {
		t.Fatal(err)
	}
	flush()
	testenv.Eventually(t, 15*time.Second, func() error {
		if st = read(); !strings.Contains(st.Text, "Coupon LIVE10 applied") {
			return fmt.Errorf("the shop tab's new DOM is not in the live replay: %q", st.Text)
		}
		return nil
	})
	keepShot(viewer, "live-sdk", nil)
	if bytes.Contains([]byte(st.HTML), []byte(typed)) {
		t.Error("live replay shows the typed text after streaming")
	}
}

// TestLiveOpenedBeforeSnapshot opens a live session that the hub knows only
// from a batch without replay (the SDK's session start can come first): the
// viewer must start the replay from the first full snapshot streamed to it.
func TestLiveOpenedBeforeSnapshot(t *testing.T) {
	s := start(t, options{live: true})
	const id = "s-live-early"
	now := time.Now().UnixMilli()
	startBatch := fmt.Sprintf(`{"v":1,"sdk":{"name":"@rearview/browser","version":"0.1.0"},
		"session":{"id":%q,"seq":0,"started_at":%d},"page":{"url":"https://shop.example.com/checkout"},
		"device":{"ua":"Mozilla/5.0","viewport":{"w":1024,"h":640}},"sent_at":%d,
		"events":[{"id":"ss-0","ts":%d,"kind":"session","session":{"state":"start","url":"https://shop.example.com/checkout"}}]}`, id, now-1000, now, now-1000)
	s.post(t, []byte(startBatch))
	ctx := testenv.Browser(t)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	row := `tr[data-href="/player/live/` + id + `"]`
	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.url+"/player/live"),
		chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.SendKeys(chromedp.CSS(`#token`), admin),
		chromedp.Click(chromedp.CSS(`form.signin button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(row)),
		clickLive(row+" a"),
		chromedp.WaitVisible(chromedp.CSS(`.live-state[data-state="open"]`)),
	); err != nil {
		t.Fatalf("open the session before its replay: %v\n%s", err, pageState(ctx))
	}
	ready, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector('.stage[data-ready="true"]')`))
	if err != nil {
		t.Fatal(err)
	}
	if ready {
		t.Fatal("stage ready before any snapshot was sent")
	}
	replay, _ := sessionBatches(id, now-1000)
	s.post(t, replay)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`.stage[data-ready="true"]`))); err != nil {
		t.Fatalf("the streamed full snapshot never started the replay: %v\n%s", err, pageState(ctx))
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const f = document.querySelector(".stage-frame iframe"); return f && f.contentDocument && f.contentDocument.body ? f.contentDocument.body.textContent : ""; })()`))
		if err != nil {
			return err
		}
		if !strings.Contains(got, "Welcome back, shopper") {
			return fmt.Errorf("live replay shows %q", got)
		}
		return nil
	})
}

// clickLive clicks the element sel in the live list. The list re-renders
// as events arrive, so a row found one moment can be gone the next and
// chromedp's click, which finds the node and then clicks it, fails on the
// stale node: this finds and clicks in one step in the page.
func clickLive(sel string) chromedp.Action[chromedp.Void] {
	js := `(() => { const a = document.querySelector(` + strconv.Quote(sel) + `); if (a) a.click(); return !!a; })()`
	eval := chromedp.Evaluate[bool](js)
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		ok, err := eval(ctx, t)
		if err == nil && !ok {
			err = fmt.Errorf("no %s to click", sel)
		}
		return chromedp.Void{}, err
	}
}
