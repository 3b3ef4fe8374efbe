package coordinator_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/coordinator/blob"
	"github.com/rearview-dev/rearview/internal/testenv"
	"github.com/rearview-dev/rearview/sdkproto"
)

// outage is a blob store whose writes fail while down is set, as MinIO's
// do while it is stopped.
type outage struct {
	blob.Store
	down  atomic.Bool
	fails atomic.Int64
}

func (o *outage) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if o.down.Load() {
		o.fails.Add(1)
		return errors.New("connection refused")
	}
	return o.Store.Put(ctx, key, r, size)
}

// TestReplayNotAckedWhileBlobWriteFails holds the coordinator to its
// contract for replays: a segment whose blob write failed is neither
// indexed nor acknowledged; once the store is back the redelivered
// segment is stored, readable and counted once.
func TestReplayNotAckedWhileBlobWriteFails(t *testing.T) {
	dir, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	o := &outage{Store: dir}
	s := start(t, o)
	o.down.Store(true)
	if st := s.post(t, vectorWithSession(t, "replay-batch.json", "s-out")); st != 202 {
		t.Fatalf("post: %d", st)
	}
	testenv.Eventually(t, 20*time.Second, func() error {
		if n := o.fails.Load(); n < 2 {
			return fmt.Errorf("%d failed writes, want the segment tried again after a failure", n)
		}
		return nil
	})
	c, err := s.js.Consumer(context.Background(), sdkproto.StreamName, "coordinator")
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.NumAckPending == 0 && info.NumPending == 0 {
		t.Fatal("the replay message was acknowledged although its blob was never written")
	}
	if n := s.count(t, `SELECT count(*) FROM replay_segments WHERE session_id = 's-out'`); n != 0 {
		t.Fatalf("%d segments indexed without a blob", n)
	}
	o.down.Store(false)
	waitConsumed(t, s)
	if n := s.count(t, `SELECT count(*) FROM replay_segments WHERE session_id = 's-out'`); n != 1 {
		t.Fatalf("%d segments indexed after the outage, want 1", n)
	}
	if n := s.count(t, `SELECT segments FROM sessions WHERE id = 's-out'`); n != 1 {
		t.Fatalf("session counts %d segments, want 1", n)
	}
	var viaAPI []map[string]any
	if st := s.get(t, s.token, "/api/v1/sessions/s-out/segments/0", &viaAPI); st != 200 || len(viaAPI) == 0 {
		t.Fatalf("segment via API: %d, %d events", st, len(viaAPI))
	}
}
