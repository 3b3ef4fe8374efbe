package player_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rearview-dev/rearview/internal/testenv"
)

// apiPost sends body to the API with the admin token and decodes the answer.
func (s *system) apiPost(t *testing.T, path, body string, dst any) {
	t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	s.coordAPI.ServeHTTP(rec, req)
	if rec.Code/100 != 2 {
		t.Fatalf("POST %s: %d %s", path, rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), dst); err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
}

// TestAlertsInBrowser creates a new-issue rule and a vital rule through the
// API, makes the first fire on a real error through the edge, and checks
// that the Alerts page lists both rules as the API has them and the fired
// alert with its message and delivery, without showing a webhook's secret
// path.
func TestAlertsInBrowser(t *testing.T) {
	s := start(t, options{alerts: true})
	var hits atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		hits.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(hook.Close)
	const secret = "T0ALERTS/B0ALERTS/s3cretPath"

	type rule struct {
		ID        string `json:"id"`
		CreatedAt int64  `json:"created_at"`
	}
	var newIssue, lcp rule
	s.apiPost(t, "/api/v1/alerts/rules?project=shop", `{"id":"ar_checkout_new","name":"New checkout errors","kind":"new_issue","webhook":"`+hook.URL+`/services/`+secret+`"}`, &newIssue)
	// Rules list in creation order at millisecond resolution, ties by id;
	// "lcp" sorts before "new", so the second rule must be a tick later.
	for time.Now().UnixMilli() <= newIssue.CreatedAt {
		time.Sleep(time.Millisecond)
	}
	s.apiPost(t, "/api/v1/alerts/rules?project=shop", `{"id":"ar_checkout_lcp","kind":"vital_p75","metric":"LCP","target":"https://shop.example.com/checkout","min_count":50,"cooldown_ms":7200000}`, &lcp)

	// A new-issue rule fires for issues first seen after it exists: the
	// session starts just before the rule and errors just after.
	_, errBatch := sessionBatches("s-alerts", newIssue.CreatedAt-4000)
	s.post(t, errBatch)
	type fired struct {
		RuleID    string `json:"rule_id"`
		Key       string `json:"key"`
		Message   string `json:"message"`
		Delivered bool   `json:"delivered"`
	}
	var hist struct{ History []fired }
	testenv.Eventually(t, 20*time.Second, func() error {
		if err := s.alerts.Evaluate(context.Background()); err != nil {
			return err
		}
		s.apiJSON(t, "/api/v1/alerts/history?project=shop", &hist)
		if len(hist.History) != 1 || !hist.History[0].Delivered {
			return fmt.Errorf("history %+v, want one delivered alert", hist.History)
		}
		return nil
	})
	f := hist.History[0]
	if f.RuleID != newIssue.ID || !strings.Contains(f.Message, "PaymentError") || hits.Load() != 1 {
		t.Fatalf("fired %+v after %d webhook calls; want rule %s on the PaymentError issue, one call", f, hits.Load(), newIssue.ID)
	}

	ctx := testenv.Browser(t)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.url+"/player/alerts"),
		chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.SendKeys(chromedp.CSS(`#token`), admin),
		chromedp.Click(chromedp.CSS(`form.signin button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#alert-history tbody tr`)),
	); err != nil {
		t.Fatalf("sign in and open alerts: %v\n%s", err, pageState(ctx))
	}
	keepShot(ctx, "alerts", nil)
	type page struct {
		Nav     string              `json:"nav"`
		Rules   [][]string          `json:"rules"`
		History [][]string          `json:"history"`
		Links   []string            `json:"links"`
		State   []string            `json:"state"`
		Text    string              `json:"text"`
		Heads   map[string][]string `json:"heads"`
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[page](`(() => {
		const rows = (id) => [...document.querySelectorAll("#" + id + " tbody tr")].map(tr => [...tr.children].map(td => td.textContent.trim()));
		const heads = (id) => [...document.querySelectorAll("#" + id + " thead th")].map(th => th.textContent);
		return {
			nav: document.querySelector("nav a.active")?.textContent ?? "",
			rules: rows("alert-rules"),
			history: rows("alert-history"),
			links: [...document.querySelectorAll("#alert-history tbody a")].map(a => a.getAttribute("href")),
			state: [...document.querySelectorAll("#alert-history [data-delivery]")].map(e => e.dataset.delivery),
			text: document.body.innerText,
			heads: { rules: heads("alert-rules"), history: heads("alert-history") },
		};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if got.Nav != "Alerts" {
		t.Errorf("active nav %q, want Alerts", got.Nav)
	}
	hookHost, _ := url.Parse(hook.URL)
	// Rules come in creation order; cells: rule, kind, target, threshold,
	// window, cooldown, webhook.
	wantRules := [][]string{
		{"New checkout errors" + newIssue.ID, "New issue", "every issue", "once per issue", "—", "—", hookHost.Host + "/…"},
		{lcp.ID, "Vital p75 · LCP", "/checkout", "p75 > 2.50 s, ≥ 50 samples", "1 h", "2 h", "default"},
	}
	if fmt.Sprint(got.Rules) != fmt.Sprint(wantRules) {
		t.Errorf("rules on the page (%q)\n%q\nwant\n%q", got.Heads["rules"], got.Rules, wantRules)
	}
	// History: when, rule, what fired, value, delivery.
	if len(got.History) != 1 {
		t.Fatalf("history rows %q, want one", got.History)
	}
	h := got.History[0]
	issue := strings.Split(f.Key, "@")[0]
	if h[0] != "just now" && !strings.HasSuffix(h[0], "s ago") || h[1] != "New checkout errors" || h[2] != f.Message+issue || h[3] != "—" || h[4] != "Delivered" {
		t.Errorf("history row %q; want a fresh alert of New checkout errors with message %q on %s, delivered", h, f.Message, issue)
	}
	if len(got.Links) != 1 || got.Links[0] != "/player/issues/"+url.PathEscape(issue) || len(got.State) != 1 || got.State[0] != "delivered" {
		t.Errorf("history links %q, delivery %q; want the issue and delivered", got.Links, got.State)
	}
	if strings.Contains(got.Text, secret) || strings.Contains(got.Text, "s3cret") {
		t.Error("the page shows the webhook's secret path")
	}
}
