package lease_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/rearview-dev/rearview/coordinator/lease"
	"github.com/rearview-dev/rearview/coordinator/store/storetest"
	"github.com/rearview-dev/rearview/internal/testenv"
)

// fenced runs Fence in a transaction of its own and commits it.
func fenced(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := lease.Fence(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}

// holdingCtx runs the lease name on bucket under holder and returns its
// work's context once it holds it.
func holdingCtx(t *testing.T, ns *server.Server, bucket, holder, name string) (context.Context, *runner) {
	t.Helper()
	nc, js := conn(t, ns)
	m, err := lease.New(context.Background(), js, lease.Options{Bucket: bucket, Holder: holder, TTL: time.Minute, RenewInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &runner{m: m, nc: nc, cancel: cancel, done: make(chan struct{})}
	got := make(chan context.Context, 1)
	go func() {
		defer close(r.done)
		m.Run(ctx, name, func(ctx context.Context) {
			got <- ctx
			<-ctx.Done()
		})
	}()
	t.Cleanup(r.stop)
	select {
	case c := <-got:
		return c, r
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not acquire %s", holder, name)
		return nil, nil
	}
}

func TestFenceRefusesAnEarlierHolding(t *testing.T) {
	ns := testenv.NATS(t)
	db := storetest.Open(t)
	_, js := conn(t, ns)

	ctxA, runA := holdingCtx(t, ns, lease.DefaultBucket, "a", "job")
	if err := fenced(ctxA, db); err != nil {
		t.Fatalf("first holding: %v", err)
	}
	// a loses the lease (its key overwritten, then freed) and b acquires
	// it; a's work, as if its process were paused before the cancel
	// reached it, still has its context.
	kv, err := js.KeyValue(context.Background(), lease.DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(context.Background(), "job", []byte("intruder")); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		if ctxA.Err() == nil {
			return errors.New("a still holds")
		}
		return nil
	})
	// a's process is gone; its paused work is what stale stands for.
	runA.stop()
	if err := kv.Delete(context.Background(), "job"); err != nil {
		t.Fatal(err)
	}
	ctxB, _ := holdingCtx(t, ns, lease.DefaultBucket, "b", "job")
	stale := context.WithoutCancel(ctxA)

	// A bucket created later (as after deleting the bucket to change its
	// TTL) starts its revisions again, yet its holdings come after.
	ctxC, _ := holdingCtx(t, ns, "rv_leases_new", "c", "job")

	for _, tc := range []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"later holding", ctxB, nil},
		{"same holding again", ctxB, nil},
		{"earlier holding", stale, lease.ErrSuperseded},
		{"outside lease work", context.Background(), nil},
		{"later bucket", ctxC, nil},
		{"earlier bucket", ctxB, lease.ErrSuperseded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := fenced(tc.ctx, db); !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("Fence = %v, want %v", err, tc.want)
			}
		})
	}
}
