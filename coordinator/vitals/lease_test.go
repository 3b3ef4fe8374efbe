package vitals_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/rearview-dev/rearview/coordinator/lease"
	"github.com/rearview-dev/rearview/coordinator/store/storetest"
	"github.com/rearview-dev/rearview/coordinator/vitals"
	"github.com/rearview-dev/rearview/internal/testenv"
)

// holdFold runs the fold lease under holder until the test ends and
// returns its work's context once held, and a func that stops the Run.
func holdFold(t *testing.T, js jetstream.JetStream, holder string) (context.Context, func()) {
	t.Helper()
	m, err := lease.New(context.Background(), js, lease.Options{Holder: holder, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	got, done := make(chan context.Context, 1), make(chan struct{})
	go func() {
		defer close(done)
		m.Run(ctx, "vitals-fold", func(ctx context.Context) { got <- ctx; <-ctx.Done() })
	}()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	select {
	case c := <-got:
		return c, stop
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not acquire the fold lease", holder)
		return nil, nil
	}
}

// TestFoldOfSupersededHolderFoldsNothing: a folder that runs on after its
// lease moved (a paused process, not yet cancelled) must not fold what the
// new holder folds, or samples would count twice.
func TestFoldOfSupersededHolderFoldsNothing(t *testing.T) {
	ns := testenv.NATS(t)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.Open(t)
	v, err := vitals.New(db, vitals.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	record := func(n int) {
		t.Helper()
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if err := v.Record(context.Background(), tx, vitals.Sample{Project: "p", Metric: vitals.LCP, TS: 1_764_028_800_000 + int64(i), Dims: vitals.Dims{Route: "/"}, Value: 900}); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}

	ctxA, stopA := holdFold(t, js, "a")
	stale := context.WithoutCancel(ctxA)
	stopA() // a releases; b takes over
	ctxB, _ := holdFold(t, js, "b")

	record(5)
	if n, err := v.Fold(ctxB); err != nil || n != 5 {
		t.Fatalf("b's fold: %d, %v; want 5", n, err)
	}
	record(3)
	if n, err := v.Fold(stale); !errors.Is(err, lease.ErrSuperseded) || n != 0 {
		t.Fatalf("a's fold after b's: %d, %v; want 0 and ErrSuperseded", n, err)
	}
	var pending int
	if err := db.QueryRow(`SELECT count(*) FROM vital_samples`).Scan(&pending); err != nil || pending != 3 {
		t.Fatalf("outbox after the refused fold: %d (%v), want 3", pending, err)
	}
	if n, err := v.Fold(ctxB); err != nil || n != 3 {
		t.Fatalf("b's second fold: %d, %v; want 3", n, err)
	}
}
