package player_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rearview-dev/rearview/internal/testenv"
)

// apiJSON calls the API with the admin token and decodes the answer.
func (s *system) apiJSON(t *testing.T, path string, dst any) {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	rec := httptest.NewRecorder()
	s.coordAPI.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), dst); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// vitalBatch is one page load's LCP samples as the SDK sends them.
func vitalBatch(session, ua, url string, now int64, values []float64) []byte {
	events := make([]any, len(values))
	for i, v := range values {
		events[i] = map[string]any{"id": fmt.Sprintf("%s-%d", session, i), "ts": now - int64(i), "kind": "vital",
			"vital": map[string]any{"name": "LCP", "value": v, "rating": "good", "navigation_type": "navigate", "url": url}}
	}
	b, _ := json.Marshal(map[string]any{
		"v": 1, "sdk": map[string]any{"name": "@rearview/browser", "version": "0.1.0"},
		"session": map[string]any{"id": session, "seq": 0, "started_at": now - 60000},
		"page":    map[string]any{"url": url},
		"device":  map[string]any{"ua": ua, "viewport": map[string]any{"w": 1024, "h": 640}},
		"sent_at": now, "events": events,
	})
	return b
}

// vitalText is the player's metricValue for LCP (format.ts).
func vitalText(v float64) string {
	if v >= 1000 {
		return fmt.Sprintf("%.2f s", v/1000)
	}
	return fmt.Sprintf("%d ms", int64(math.Round(v)))
}

// TestVitalsInBrowser loads LCP samples from a slow mobile checkout and a
// fast desktop home page, and checks that the Vitals page shows the API's
// percentiles and its worst cuts, and that those are the samples' own.
func TestVitalsInBrowser(t *testing.T) {
	s := start(t, options{vitals: true})
	now := time.Now().UnixMilli()
	var slow, fast []float64
	for i := range 30 {
		slow = append(slow, 3000+float64(i)*100) // 3.0 … 5.9 s
		fast = append(fast, 1000+float64(i)*20)  // 1.00 … 1.58 s
	}
	const (
		mobile  = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36"
		desktop = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
	)
	s.post(t, vitalBatch("s-vitals-slow", mobile, "https://shop.example.com/checkout", now, slow))
	s.post(t, vitalBatch("s-vitals-fast", desktop, "https://shop.example.com/home", now, fast))

	type summary struct {
		Count              int64
		P50, P75, P95, P99 float64
	}
	type worst struct {
		OverallP75 float64 `json:"overall_p75"`
		Cuts       []struct {
			Dims  map[string]string `json:"dims"`
			Count int64             `json:"count"`
			P75   float64           `json:"p75"`
			Ratio float64           `json:"ratio"`
		} `json:"cuts"`
	}
	q := fmt.Sprintf("?project=shop&metric=LCP&from=%d&to=%d", now-7*24*3600e3, now+60e3)
	var sm summary
	testenv.Eventually(t, 20*time.Second, func() error {
		s.apiJSON(t, "/api/v1/vitals"+q, &sm)
		if sm.Count != 60 {
			return fmt.Errorf("%d samples aggregated, want 60", sm.Count)
		}
		return nil
	})
	// The sketch is within 1% of a sample next to rank q·(n-1); 3% slack.
	all := slices.Sorted(slices.Values(append(append([]float64{}, slow...), fast...)))
	for _, c := range []struct {
		name string
		q    float64
		got  float64
	}{{"p50", 0.5, sm.P50}, {"p75", 0.75, sm.P75}, {"p95", 0.95, sm.P95}, {"p99", 0.99, sm.P99}} {
		r := c.q * float64(len(all)-1)
		lo, hi := all[int(math.Floor(r))]*0.97, all[int(math.Ceil(r))]*1.03
		if c.got < lo || c.got > hi {
			t.Errorf("API %s = %.1f, want within [%.1f, %.1f]", c.name, c.got, lo, hi)
		}
	}
	var w worst
	s.apiJSON(t, "/api/v1/vitals/worst"+q, &w)
	if len(w.Cuts) == 0 {
		t.Fatalf("API finds no worst cut; the slow mobile checkout should be one: %+v", w)
	}
	found := false
	for _, c := range w.Cuts {
		found = found || c.Dims["route"] == "/checkout" || c.Dims["device"] == "mobile"
	}
	if !found {
		t.Errorf("worst cuts %+v lack the slow mobile checkout", w.Cuts)
	}

	ctx := testenv.Browser(t)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.url+"/player/vitals?metric=LCP&window=7d"),
		chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.SendKeys(chromedp.CSS(`#token`), admin),
		chromedp.Click(chromedp.CSS(`form.signin button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.stats .stat-value`)),
	); err != nil {
		t.Fatalf("sign in and open vitals: %v\n%s", err, pageState(ctx))
	}
	keepShot(ctx, "vitals", nil)
	type page struct {
		Stats map[string]string `json:"stats"`
		Cuts  [][]string        `json:"cuts"`
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[page](`(() => {
		const stats = {};
		for (const s of document.querySelectorAll(".stats .stat")) {
			const l = s.querySelector(".stat-label"), v = s.querySelector(".stat-value");
			if (l && v) stats[l.textContent] = v.textContent;
		}
		const sec = [...document.querySelectorAll("section.card")].find(s => s.querySelector("h2")?.textContent === "Worst cuts");
		const cuts = sec ? [...sec.querySelectorAll("tbody tr")].map(tr => [...tr.children].map(td => td.textContent)) : [];
		return { stats, cuts };
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	for label, v := range map[string]float64{"p50": sm.P50, "p75": sm.P75, "p95": sm.P95, "p99": sm.P99} {
		if got.Stats[label] != vitalText(v) {
			t.Errorf("page shows %s %q, API says %q", label, got.Stats[label], vitalText(v))
		}
	}
	if got.Stats["Samples"] != "60" {
		t.Errorf("page shows %q samples, want 60", got.Stats["Samples"])
	}
	if len(got.Cuts) != len(w.Cuts) {
		t.Fatalf("page shows %d worst cuts %v, API %d", len(got.Cuts), got.Cuts, len(w.Cuts))
	}
	// Cuts that tie keep no stable order across calls (the API ranks them
	// by ratio only), so compare the tables as sets of rows.
	var want [][]string
	for _, c := range w.Cuts {
		var slice []string
		// Go encodes map keys sorted; the page keeps the JSON's order.
		for _, k := range slices.Sorted(maps.Keys(c.Dims)) {
			slice = append(slice, k+"="+c.Dims[k])
		}
		want = append(want, []string{strings.Join(slice, " · "), fmt.Sprint(c.Count), vitalText(c.P75), fmt.Sprintf("%.2f×", c.Ratio)})
	}
	byText := func(a, b []string) int { return strings.Compare(strings.Join(a, "|"), strings.Join(b, "|")) }
	slices.SortFunc(want, byText)
	slices.SortFunc(got.Cuts, byText)
	for i := range want {
		if !slices.Equal(got.Cuts[i], want[i]) {
			t.Errorf("worst cuts on the page %q, API %q", got.Cuts, want)
			break
		}
	}
}
