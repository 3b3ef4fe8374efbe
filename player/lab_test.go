package player_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rearview-dev/rearview/coordinator/synthetic"
	"github.com/rearview-dev/rearview/internal/testenv"
)

// releaseVitals is one page load's samples of metric, tagged with release
// as the SDK tags them.
func releaseVitals(session, ua, url, release, metric string, now int64, values []float64) []byte {
	events := make([]any, len(values))
	for i, v := range values {
		events[i] = map[string]any{"id": fmt.Sprintf("%s-%s-%d", session, metric, i), "ts": now - int64(i), "kind": "vital",
			"vital": map[string]any{"name": metric, "value": v, "url": url, "attribution": map[string]string{"release": release}}}
	}
	b, _ := json.Marshal(map[string]any{
		"v": 1, "sdk": map[string]any{"name": "@rearview/browser", "version": "0.1.0"},
		"session": map[string]any{"id": session, "seq": 0, "started_at": now - 60000},
		"page":    map[string]any{"url": url},
		"device":  map[string]any{"ua": ua, "viewport": map[string]any{"w": 400, "h": 800}},
		"sent_at": now, "events": events,
	})
	return b
}

// TestLabVsFieldInBrowser: the vitals page shows each route's lab median
// (the newest release's Lighthouse runs) beside its field p75 per device,
// and the releases page compares two releases in the lab and the field.
func TestLabVsFieldInBrowser(t *testing.T) {
	s := start(t, options{vitals: true, synthetic: true})
	now := time.Now().UnixMilli()
	const (
		mobile  = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36"
		desktop = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
	)
	field := func(release string, base float64) []float64 {
		var v []float64
		for i := range 20 {
			v = append(v, base+float64(i)*50)
		}
		return v
	}
	s.post(t, releaseVitals("s-r1-m", mobile, "https://shop.example.com/", "r1", "LCP", now-3600e3, field("r1", 2000)))
	s.post(t, releaseVitals("s-r2-m", mobile, "https://shop.example.com/", "r2", "LCP", now, field("r2", 2600)))
	s.post(t, releaseVitals("s-r2-d", desktop, "https://shop.example.com/checkout", "r2", "LCP", now, field("r2", 900)))
	lab := func(id, release, profile, url string, ts int64, lcp, cls float64) synthetic.Result {
		return synthetic.Result{ID: id, RunID: "ci-" + release, Source: synthetic.SourceCI, Release: release, Profile: profile, Check: url,
			Kind: synthetic.KindLighthouse, URL: url, TS: ts, Passed: true, DurationMS: 15000,
			Metrics: map[string]float64{synthetic.LCP: lcp, synthetic.CLS: cls, synthetic.TBT: 40, synthetic.Score: 0.97}}
	}
	up, _ := json.Marshal(synthetic.Upload{Results: []synthetic.Result{
		lab("a", "r1", "mobile", "https://shop.example.com/", now-7200e3, 1440, 0),
		lab("b", "r1", "desktop", "https://shop.example.com/checkout", now-7200e3, 700, 0),
		lab("c", "r2", "mobile", "https://shop.example.com/", now-60e3, 1520, 0.13),
		lab("d", "r2", "desktop", "https://shop.example.com/checkout", now-60e3, 720, 0),
	}})
	req := httptest.NewRequest("POST", "/api/v1/synthetic/runs?project=shop", bytes.NewReader(up))
	req.Header.Set("Authorization", "Bearer "+admin)
	rec := httptest.NewRecorder()
	s.coordAPI.ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated {
		t.Fatalf("upload: %d %s", rec.Code, rec.Body)
	}
	q := fmt.Sprintf("?project=shop&metric=LCP&from=%d&to=%d&by=route&device=mobile", now-7*24*3600e3, now+60e3)
	var bd struct {
		Rows []struct {
			Key   string  `json:"key"`
			Count int64   `json:"count"`
			P75   float64 `json:"p75"`
		} `json:"rows"`
	}
	testenv.Eventually(t, 20*time.Second, func() error {
		s.apiJSON(t, "/api/v1/vitals/breakdown"+q, &bd)
		if len(bd.Rows) != 1 || bd.Rows[0].Count != 40 {
			return fmt.Errorf("mobile field rows %+v", bd.Rows)
		}
		return nil
	})
	fieldHome := vitalText(bd.Rows[0].P75)

	ctx := testenv.Browser(t)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.url+"/player/vitals?metric=LCP&window=7d"),
		chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.SendKeys(chromedp.CSS(`#token`), admin),
		chromedp.Click(chromedp.CSS(`form.signin button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#lab-vs-field tbody tr`)),
	); err != nil {
		t.Fatalf("sign in and open vitals: %v\n%s", err, pageState(ctx))
	}
	rows := func(sel string) [][]string {
		t.Helper()
		got, err := chromedp.Run(ctx, chromedp.Evaluate[[][]string](`[...document.querySelectorAll(`+"`"+sel+"`"+`)].map(tr => [...tr.children].map(td => td.textContent))`))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	got := rows(`#lab-vs-field tbody tr`)
	// The phone's home page: 40 field samples (both releases) beside r2's
	// lab median; the desktop checkout: r2's field samples beside its lab.
	wantHome := []string{"/", "mobile", fieldHome, "40", "1.52 s", fmt.Sprintf("%.2f×", 1520/bd.Rows[0].P75)}
	if len(got) != 2 || strings.Join(got[0], "|") != strings.Join(wantHome, "|") ||
		got[1][0] != "/checkout" || got[1][1] != "desktop" || got[1][3] != "20" || got[1][4] != "720 ms" {
		t.Errorf("lab vs field rows %q, want %q first and the desktop checkout", got, wantHome)
	}
	keepShot(ctx, "lab-vs-field", nil)

	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.url+"/player/releases"),
		chromedp.WaitVisible(chromedp.CSS(`#lab-compare tbody tr`)),
	); err != nil {
		t.Fatalf("open releases: %v\n%s", err, pageState(ctx))
	}
	labRows := rows(`#lab-compare tbody tr`)
	var cls []string
	for _, r := range labRows {
		if r[0] == "/" && r[2] == "CLS" {
			cls = r
		}
	}
	if cls == nil || cls[3] != "0.000" || cls[4] != "0.130" {
		t.Errorf("lab CLS row %q in %q", cls, labRows)
	}
	fieldRows := rows(`#field-compare tbody tr`)
	if len(fieldRows) == 0 || fieldRows[0][0] != "LCP" || !strings.HasSuffix(fieldRows[0][1], "(20)") || !strings.HasSuffix(fieldRows[0][2], "(40)") || !strings.HasPrefix(fieldRows[0][3], "+") {
		t.Errorf("field rows %q: LCP of r1 (20 samples) and r2 (40), worse", fieldRows)
	}
	keepShot(ctx, "releases", nil)
}
