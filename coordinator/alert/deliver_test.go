package alert_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/coordinator/alert"
	"github.com/rearview-dev/rearview/coordinator/store/storetest"
)

// flakyWebhook answers the n-th request (from 1) with status(n) and keeps
// the payloads it accepted.
type flakyWebhook struct {
	status func(n int) int

	mu       sync.Mutex
	requests int
	ids      []int64 // alert ids of every request, accepted or not
	accepted []alert.Payload
	srv      *httptest.Server
}

func newFlakyWebhook(t *testing.T, status func(n int) int) *flakyWebhook {
	w := &flakyWebhook{status: status}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var p alert.Payload
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil || p.Alert == nil {
			t.Errorf("webhook body: %v %+v", err, p)
			return
		}
		w.mu.Lock()
		w.requests++
		w.ids = append(w.ids, p.Alert.ID)
		st := w.status(w.requests)
		if st/100 == 2 {
			w.accepted = append(w.accepted, p)
		}
		w.mu.Unlock()
		rw.WriteHeader(st)
	}))
	t.Cleanup(w.srv.Close)
	return w
}

func (w *flakyWebhook) counts() (requests int, ids []int64, accepted []alert.Payload) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.requests, append([]int64(nil), w.ids...), append([]alert.Payload(nil), w.accepted...)
}

// testClock is a settable clock for alert.Options.Now.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db := storetest.Open(t)
	return db
}

func TestWebhookRetry(t *testing.T) {
	t0 := time.UnixMilli(1_764_028_800_000)
	tests := []struct {
		name   string
		status func(n int) int
		// evalAt are the evaluation times, as offsets from the firing.
		evalAt        []time.Duration
		wantRequests  int
		wantDelivered bool
		wantAttempts  int
		wantError     string // substring of the history's error
		wantNext      time.Duration
	}{
		{
			name: "fails once, delivered on the first retry after the backoff",
			status: func(n int) int {
				if n == 1 {
					return http.StatusInternalServerError
				}
				return http.StatusOK
			},
			// 30 s: backoff (1 min) not over yet; 1 min: retry; later: nothing left.
			evalAt:        []time.Duration{0, 30 * time.Second, time.Minute, 2 * time.Minute, 10 * time.Minute},
			wantRequests:  2,
			wantDelivered: true,
			wantAttempts:  2,
		},
		{
			name:   "down for good: backoff doubles, gives up after MaxAttempts",
			status: func(int) int { return http.StatusServiceUnavailable },
			// Attempts at 0, 1 min and 1+2 min; 2 min is too early for the third.
			evalAt:       []time.Duration{0, time.Minute, 2 * time.Minute, 3 * time.Minute, 10 * time.Minute, time.Hour},
			wantRequests: 3,
			wantAttempts: 3,
			wantError:    "gave up after 3 attempts: webhook: status 503",
		},
		{
			name:         "still failing, retry pending",
			status:       func(int) int { return http.StatusBadGateway },
			evalAt:       []time.Duration{0, time.Minute},
			wantRequests: 2,
			wantAttempts: 2,
			wantError:    "attempt 2 of 3: webhook: status 502",
			wantNext:     time.Minute + 2*time.Minute,
		},
		{
			name:          "delivered at once",
			status:        func(int) int { return http.StatusNoContent },
			evalAt:        []time.Duration{0, time.Minute, time.Hour},
			wantRequests:  1,
			wantDelivered: true,
			wantAttempts:  1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db := openDB(t)
			hook := newFlakyWebhook(t, tc.status)
			clock := &testClock{now: t0}
			fired := t0.Add(time.Second)
			fi := &fakeIssues{fresh: []alert.Issue{{ID: "i1", Title: "TypeError: x is undefined", At: fired.UnixMilli()}}}
			a, err := alert.New(db, alert.Options{Webhook: hook.srv.URL, Issues: fi, Now: clock.Now, MaxAttempts: 3, RetryBackoff: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.PutRule(ctx, alert.Rule{ID: "new", Project: "shop", Kind: alert.NewIssue}); err != nil {
				t.Fatal(err)
			}
			for _, d := range tc.evalAt {
				clock.set(fired.Add(d))
				// A failed webhook is recorded, not an evaluation error.
				if err := a.Evaluate(ctx); err != nil {
					t.Fatalf("evaluate at +%s: %v", d, err)
				}
			}
			requests, ids, accepted := hook.counts()
			if requests != tc.wantRequests {
				t.Errorf("webhook got %d requests, want %d", requests, tc.wantRequests)
			}
			if tc.wantDelivered && len(accepted) != 1 {
				t.Errorf("webhook accepted %d notifications, want 1", len(accepted))
			}
			h, err := a.History(ctx, "shop", 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			// Retries resend the one history entry; they never add one.
			if len(h) != 1 {
				t.Fatalf("history has %d entries, want 1: %+v", len(h), h)
			}
			f := h[0]
			for _, id := range ids {
				if id != f.ID {
					t.Errorf("payload alert id %d, want the history id %d", id, f.ID)
				}
			}
			if f.Delivered != tc.wantDelivered || f.Attempts != tc.wantAttempts {
				t.Errorf("history delivered=%v attempts=%d, want %v and %d (error %q)", f.Delivered, f.Attempts, tc.wantDelivered, tc.wantAttempts, f.Error)
			}
			if tc.wantError == "" && f.Error != "" || !strings.Contains(f.Error, tc.wantError) {
				t.Errorf("history error %q, want %q", f.Error, tc.wantError)
			}
			var wantNext int64
			if tc.wantNext != 0 {
				wantNext = fired.Add(tc.wantNext).UnixMilli()
			}
			if f.NextAttemptAt != wantNext {
				t.Errorf("next attempt at %d, want %d", f.NextAttemptAt, wantNext)
			}
		})
	}
}

// TestWebhookRetryDeadReceiver checks that a receiver which is down is
// called once per evaluation, however many notifications wait for it, and
// that they all go out once it is back.
func TestWebhookRetryDeadReceiver(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	var down sync.Mutex
	isDown := true
	hook := newFlakyWebhook(t, func(int) int {
		down.Lock()
		defer down.Unlock()
		if isDown {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	t0 := time.UnixMilli(1_764_028_800_000)
	clock := &testClock{now: t0}
	fi := &fakeIssues{}
	for i := range 3 {
		fi.fresh = append(fi.fresh, alert.Issue{ID: fmt.Sprintf("i%d", i), Title: "boom", At: t0.UnixMilli() + 1})
	}
	a, err := alert.New(db, alert.Options{Webhook: hook.srv.URL, Issues: fi, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.PutRule(ctx, alert.Rule{ID: "new", Project: "shop", Kind: alert.NewIssue}); err != nil {
		t.Fatal(err)
	}
	clock.set(t0.Add(time.Second))
	if err := a.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := hook.counts(); n != 1 {
		t.Fatalf("down receiver got %d requests in one evaluation, want 1", n)
	}
	down.Lock()
	isDown = false
	down.Unlock()
	clock.set(t0.Add(2 * time.Minute))
	if err := a.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _, acc := hook.counts(); n != 4 || len(acc) != 3 {
		t.Fatalf("after recovery: %d requests, %d accepted; want 4 and 3", n, len(acc))
	}
}

func TestPutRuleRefusesProjectChange(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	a, err := alert.New(db, alert.Options{Issues: &fakeIssues{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.PutRule(ctx, alert.Rule{ID: "spike", Project: "shop", Name: "original", Kind: alert.ErrorRate}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		rule    alert.Rule
		wantErr bool
	}{
		{"same project updates", alert.Rule{ID: "spike", Project: "shop", Name: "renamed", Kind: alert.ErrorRate}, false},
		{"other project is refused", alert.Rule{ID: "spike", Project: "blog", Name: "stolen", Kind: alert.NewIssue}, true},
		{"new id in other project is created", alert.Rule{ID: "blog-new", Project: "blog", Kind: alert.NewIssue}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := a.PutRule(ctx, tc.rule)
			if tc.wantErr != (err != nil) {
				t.Fatalf("PutRule: %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr && (!errors.Is(err, alert.ErrOtherProject) || !strings.Contains(err.Error(), "shop")) {
				t.Errorf("error %q: want ErrOtherProject naming the owner", err)
			}
		})
	}
	rules, err := a.Rules(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 1 || rules[0].Name != "renamed" || rules[0].Kind != alert.ErrorRate {
		t.Errorf("shop's rule changed by the refused put: %+v", rules)
	}

	// A config file that would move the rule is refused as a whole.
	cfg := filepath.Join(t.TempDir(), "alerts.yaml")
	os.WriteFile(cfg, []byte(`rules:
  - {id: blog-lcp, project: blog, kind: vital_p75, metric: LCP}
  - {id: spike, project: blog, kind: error_rate}
`), 0o600)
	n, err := a.LoadRules(ctx, cfg)
	if !errors.Is(err, alert.ErrOtherProject) || !strings.Contains(err.Error(), cfg) {
		t.Fatalf("LoadRules: %d %v, want ErrOtherProject naming the file", n, err)
	}
	blog, err := a.Rules(ctx, "blog")
	if err != nil {
		t.Fatal(err)
	}
	if len(blog) != 1 || blog[0].ID != "blog-new" {
		t.Errorf("a refused config file saved rules: %+v", blog)
	}
}
