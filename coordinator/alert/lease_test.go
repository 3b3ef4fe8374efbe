package alert_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/rearview-dev/rearview/coordinator/alert"
	"github.com/rearview-dev/rearview/coordinator/lease"
	"github.com/rearview-dev/rearview/coordinator/store/storetest"
	"github.com/rearview-dev/rearview/coordinator/vitals"
	"github.com/rearview-dev/rearview/internal/testenv"
)

// holdAlerts runs the alerts lease under holder and returns its work's
// context once held, and a func that stops the Run.
func holdAlerts(t *testing.T, js jetstream.JetStream, holder string) (context.Context, func()) {
	t.Helper()
	m, err := lease.New(context.Background(), js, lease.Options{Holder: holder, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	got, done := make(chan context.Context, 1), make(chan struct{})
	go func() {
		defer close(done)
		m.Run(ctx, "alerts", func(ctx context.Context) { got <- ctx; <-ctx.Done() })
	}()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	select {
	case c := <-got:
		return c, stop
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not acquire the alerts lease", holder)
		return nil, nil
	}
}

// TestSupersededEvaluatorRecordsNothing: an evaluator that runs on after
// its lease moved (a paused process, not yet cancelled) must not record
// alerts beside the new holder, or one spike would notify twice.
func TestSupersededEvaluatorRecordsNothing(t *testing.T) {
	_, js := testenv.JetStream(t)
	db := storetest.Open(t)
	fv := fakeVitals{rows: []vitals.Row{{Key: "/checkout", Count: 200, P75: 4200}}}
	a, err := alert.New(db, alert.Options{Interval: -1, Vitals: fv, Issues: &fakeIssues{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	history := func() int {
		t.Helper()
		fs, err := a.History(ctx, "shop", 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(fs)
	}

	ctxA, stopA := holdAlerts(t, js, "a")
	stale := context.WithoutCancel(ctxA)
	stopA() // a releases; b takes over
	ctxB, _ := holdAlerts(t, js, "b")

	if _, err := a.PutRule(ctx, alert.Rule{ID: "lcp", Project: "shop", Kind: alert.VitalP75, Metric: "LCP"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Evaluate(ctxB); err != nil || history() != 1 {
		t.Fatalf("b's evaluation: %v, %d alerts; want 1", err, history())
	}
	if _, err := a.PutRule(ctx, alert.Rule{ID: "lcp-too", Project: "shop", Kind: alert.VitalP75, Metric: "LCP"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Evaluate(stale); !errors.Is(err, lease.ErrSuperseded) || history() != 1 {
		t.Fatalf("a's evaluation after b's: %v, %d alerts; want ErrSuperseded and still 1", err, history())
	}
	if err := a.Evaluate(ctxB); err != nil || history() != 2 {
		t.Fatalf("b's second evaluation: %v, %d alerts; want 2", err, history())
	}
}
