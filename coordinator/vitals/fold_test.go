package vitals_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/coordinator/store"
	"github.com/rearview-dev/rearview/coordinator/store/storetest"
	"github.com/rearview-dev/rearview/coordinator/vitals"
)

// Folders on several coordinators run at once while samples keep arriving:
// each sample is folded exactly once.
func TestConcurrentFoldsCountOnce(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.DSN(t)
	now := time.Now()
	var vs []*vitals.Vitals
	for range 3 {
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		v, err := vitals.New(db, vitals.Options{FoldBatch: 7, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { v.Close() })
		vs = append(vs, v)
	}
	const samples = 400
	stop := make(chan struct{})
	var folders sync.WaitGroup
	for _, v := range vs {
		folders.Add(1)
		go func() {
			defer folders.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := v.Fold(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	w := vs[0]
	for i := range samples {
		tx, err := w.DB().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		s := vitals.Sample{Project: "shop", Metric: "LCP", TS: now.UnixMilli(), Dims: vitals.Dims{Route: "/", Device: "desktop", Country: "DE", Browser: "Chrome"}, Value: float64(1000 + i)}
		if err := w.Record(ctx, tx, s); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	folders.Wait()
	if _, err := w.Fold(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := w.DB().QueryRowContext(ctx, `SELECT (SELECT count(*) FROM vital_samples) +
	(SELECT coalesce(sum(good + ni + poor), 0) FROM vital_sketches WHERE res = 60000)`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != samples {
		t.Fatalf("%d samples counted, want %d", n, samples)
	}
}
