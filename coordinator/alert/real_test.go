package alert_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/rearview-dev/rearview/coordinator/alert"
	"github.com/rearview-dev/rearview/coordinator/issues"
	"github.com/rearview-dev/rearview/internal/testenv"
	"github.com/rearview-dev/rearview/sdkproto"
)

// evaluateFor evaluates once a minute for n minutes.
func (r *rig) evaluateFor(t *testing.T, n int) {
	t.Helper()
	for range n {
		r.advance(time.Minute)
		if err := r.a.Evaluate(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// issueState waits until the issues table has an issue for the project
// whose regressed_at satisfies want, and returns its id and regressed_at.
func (r *rig) issueState(t *testing.T, what string, want func(sql.NullInt64) bool) (string, sql.NullInt64) {
	t.Helper()
	var id string
	var regressed sql.NullInt64
	testenv.Eventually(t, 20*time.Second, func() error {
		err := r.db.QueryRow(`SELECT id, regressed_at FROM issues WHERE project = ?`, r.project).Scan(&id, &regressed)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if !want(regressed) {
			return fmt.Errorf("%s: regressed_at %v", what, regressed)
		}
		return nil
	})
	return id, regressed
}

// TestIssueRulesRealIssues runs new-issue and regression rules on what the
// issues package writes to its table, through real NATS: SQLIssues reads
// first_seen and regressed_at.
func TestIssueRulesRealIssues(t *testing.T) {
	r := newRigWith(t, rigOptions{realIssues: true})
	ctx := context.Background()
	for _, rule := range []alert.Rule{{ID: "new", Project: r.project, Kind: alert.NewIssue}, {ID: "regr", Project: r.project, Kind: alert.Regression}} {
		if _, err := r.a.PutRule(ctx, rule); err != nil {
			t.Fatal(err)
		}
	}
	keys := func() []string {
		var out []string
		for _, p := range r.hook.payloads() {
			out = append(out, p.Alert.RuleID+":"+p.Alert.Key)
		}
		return out
	}
	const page = "https://shop.test/checkout"
	// Counted errors tell when the alert hook, the last one, is done.
	sent := 0
	publish := func(release string, n int) {
		t.Helper()
		r.advance(time.Second)
		evs := make([]errEvent, n)
		for i := range evs {
			evs[i] = errEvent{url: page, ts: r.clock().UnixMilli(), release: release}
		}
		r.publish(t, evs)
		sent += n
		r.waitErrors(t, sent)
	}

	r.advance(time.Minute) // the rule predates the issue
	publish("r1", 1)
	id, _ := r.issueState(t, "first error", func(x sql.NullInt64) bool { return !x.Valid })
	r.evaluateFor(t, 3)
	publish("r1", 3) // more of the same issue: not new
	r.evaluateFor(t, 3)
	if got := keys(); len(got) != 1 || got[0] != "new:"+id {
		t.Fatalf("after the first error: notifications %v, want [new:%s]", got, id)
	}

	if err := r.iss.SetStatus(ctx, r.project, id, issues.StatusChange{Status: issues.StatusResolved, Release: "r1"}); err != nil {
		t.Fatal(err)
	}
	r.advance(time.Minute)
	publish("r1", 1) // the release the fix is in: no regression
	r.evaluateFor(t, 2)
	if got := keys(); len(got) != 1 {
		t.Fatalf("an event of the resolved release notified: %v", got)
	}

	publish("r2", 1)
	_, regressed := r.issueState(t, "newer release", func(x sql.NullInt64) bool { return x.Valid })
	publish("r2", 2) // still regressed, not again
	r.evaluateFor(t, 5)
	want := fmt.Sprintf("regr:%s@%d", id, regressed.Int64)
	if got := keys(); len(got) != 2 || got[0] != "new:"+id || got[1] != want {
		t.Fatalf("notifications %v, want [new:%s %s]", got, id, want)
	}
}

// TestVitalRuleRealVitals feeds LCP samples through NATS to the real vitals
// aggregation (part folded into sketches, part still in its outbox) and
// checks that only the page whose p75 is over the threshold fires, once.
func TestVitalRuleRealVitals(t *testing.T) {
	r := newRigWith(t, rigOptions{vitals: true})
	ctx := context.Background()
	if _, err := r.a.PutRule(ctx, alert.Rule{ID: "lcp", Project: r.project, Kind: alert.VitalP75, Metric: "LCP", Threshold: 4000, WindowMS: 3_600_000}); err != nil {
		t.Fatal(err)
	}
	// Values i·step for i = 1..n: the exact p75 is 0.75·n·step.
	pages := []struct {
		url  string
		n    int
		step float64
	}{
		{"https://shop.test/checkout?step=2", 200, 30}, // p75 4.5 s: fires
		{"https://shop.test/", 300, 12},                // p75 2.7 s: over "good", under 4 s
		{"https://shop.test/orders/123", 40, 200},      // p75 6 s but 40 < 50 samples
	}
	now := r.clock().UnixMilli()
	total := 0
	for half := range 2 {
		for pi, p := range pages {
			b := sdkproto.Batch{V: 1, SDK: sdkproto.SDK{Name: "t", Version: "1"}, Session: sdkproto.Session{ID: fmt.Sprintf("vs-%d-%d", half, pi), StartedAt: now - 1000},
				Page: sdkproto.Page{URL: p.url}, Device: sdkproto.Device{UA: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0.0.0 Safari/537.36"}, SentAt: now}
			for i := 1 + half; i <= p.n; i += 2 {
				b.Events = append(b.Events, sdkproto.Event{ID: fmt.Sprintf("v-%d-%d", pi, i), TS: now - int64(i)*1000, Kind: sdkproto.KindVital,
					Vital: &sdkproto.Vital{Name: "LCP", Value: float64(i) * p.step, URL: p.url}})
			}
			total += len(b.Events)
			data, _ := json.Marshal(&b)
			m := nats.NewMsg(sdkproto.Subject("eu", r.project, sdkproto.KindVital))
			m.Data = data
			m.Header.Set(sdkproto.HeaderReceivedAt, strconv.FormatInt(now, 10))
			m.Header.Set(sdkproto.HeaderMsgID, fmt.Sprintf("vm-%d-%d", half, pi))
			if _, err := r.js.PublishMsg(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		testenv.Eventually(t, 20*time.Second, func() error {
			var outbox, folded int
			r.db.QueryRow(`SELECT count(*) FROM vital_samples`).Scan(&outbox)
			r.db.QueryRow(`SELECT coalesce(sum(good + ni + poor), 0) FROM vital_sketches WHERE res = 60000`).Scan(&folded)
			if outbox+folded < total {
				return fmt.Errorf("%d of %d samples stored", outbox+folded, total)
			}
			return nil
		})
		if half == 0 {
			if _, err := r.vit.Fold(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}

	r.advance(time.Second)
	r.evaluateFor(t, 5)
	got := r.hook.payloads()
	if len(got) != 1 || got[0].Alert.Key != "/checkout" {
		t.Fatalf("notifications %+v, want one for /checkout", got)
	}
	// DDSketch's relative accuracy is 1%.
	if v := got[0].Alert.Value; math.Abs(v-4500)/4500 > 0.01 {
		t.Errorf("p75 %.1f, want 4500 ± 1%%", v)
	}
	h, err := r.a.History(ctx, r.project, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 1 || !h[0].Delivered || h[0].Attempts != 1 {
		t.Errorf("history %+v", h)
	}
}
