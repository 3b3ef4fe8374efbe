package loadgen_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/coordinator"
	"github.com/rearview-dev/rearview/coordinator/blob"
	"github.com/rearview-dev/rearview/coordinator/issues"
	"github.com/rearview-dev/rearview/coordinator/store"
	"github.com/rearview-dev/rearview/coordinator/vitals"
	"github.com/rearview-dev/rearview/edge"
	"github.com/rearview-dev/rearview/internal/loadgen"
	"github.com/rearview-dev/rearview/internal/testenv"
)

const admin = "rva_loadgen_test"

// system is NATS, a coordinator with issues and vitals, and two edges, all
// in this process.
type system struct {
	api, key string
	edges    []string
	coord    *coordinator.Coordinator
}

func start(t *testing.T, wrap func(http.Handler) http.Handler) *system {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	_, js := testenv.JetStream(t)
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "rearview.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	blobs, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c, err := coordinator.New(ctx, coordinator.Config{JetStream: js, DB: db, Blobs: blobs, AdminToken: admin, FetchBatch: 64})
	if err != nil {
		t.Fatal(err)
	}
	is := issues.Register(c, nil, issues.Options{})
	v, err := vitals.Register(c, vitals.Options{FoldInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; v.Close() })
	as := httptest.NewServer(c.Handler(is.Mount, v.Mount))
	t.Cleanup(as.Close)
	p, _, err := c.CreateProject(ctx, "Load", "")
	if err != nil {
		t.Fatal(err)
	}
	s := &system{api: as.URL, key: p.IngestKey, coord: c}
	for _, region := range []string{"eu", "us"} {
		ed, err := edge.New(edge.Config{Region: region, JetStream: js, EventsPerSecond: 100000})
		if err != nil {
			t.Fatal(err)
		}
		go ed.Run(ctx)
		var h http.Handler = ed.Handler()
		if wrap != nil {
			h = wrap(h)
		}
		es := httptest.NewServer(h)
		t.Cleanup(es.Close)
		s.edges = append(s.edges, es.URL)
		testenv.Eventually(t, 10*time.Second, func() error {
			if !ed.Ready() {
				return fmt.Errorf("edge %s not ready", region)
			}
			return nil
		})
	}
	return s
}

// loseAnswers makes every third ingest request fail after the edge stored
// its batch: the client sees a 503 (or, for every sixth, a broken
// connection) for a batch JetStream holds, retries it, and it must still
// be counted once.
func loseAnswers(h http.Handler) http.Handler {
	var n atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/ingest" {
			h.ServeHTTP(w, r)
			return
		}
		i := n.Add(1)
		if i%3 != 0 {
			h.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if i%6 == 0 {
			panic(http.ErrAbortHandler) // the connection drops, no answer
		}
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
}

func TestRunAndVerify(t *testing.T) {
	cases := []struct {
		name    string
		wrap    func(http.Handler) http.Handler
		retried bool
	}{
		{name: "clean"},
		{name: "answers lost after the edge stored the batch", wrap: loseAnswers, retried: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t, tc.wrap)
			g, err := loadgen.New(loadgen.Config{
				Edges: s.edges, Key: s.key, Rate: 400, Count: 600, BatchSize: 10, Concurrency: 4,
				Issues: 4, Sessions: 6, Users: 4, VitalEvery: 7, ReplayEvery: 11, RetryFor: 30 * time.Second,
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			results := runAsync(t, ctx, g)
			rep, err := loadgen.Verify(ctx, loadgen.VerifyConfig{API: s.api, Token: admin, Key: s.key, Timeout: 30 * time.Second, Poll: 100 * time.Millisecond}, g, results)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			rep.WriteTable(&buf)
			t.Log("\n" + buf.String())
			if err := rep.Err(); err != nil {
				t.Fatal(err)
			}
			if rep.Sent != 600 || rep.Accepted != 600 || rep.Stored != 600 || rep.Lost != 0 || rep.Duplicated != 0 {
				t.Errorf("sent %d, accepted %d, stored %d, lost %d, duplicated %d; want 600, 600, 600, 0, 0", rep.Sent, rep.Accepted, rep.Stored, rep.Lost, rep.Duplicated)
			}
			if tc.retried != (rep.Retried > 0) {
				t.Errorf("%d events retried; want retries: %v", rep.Retried, tc.retried)
			}
			// 600 events: every 11th a replay (54), every 7th of the
			// rest a vital, the others errors over 4 kinds.
			if rep.Segments.Want != 54 || rep.SegmentBlobs.Got != 54 {
				t.Errorf("segments %+v, blobs %+v; want 54", rep.Segments, rep.SegmentBlobs)
			}
			var errs int64
			for _, ic := range rep.Issues {
				errs += ic.Events.Got
			}
			if rep.Vitals.Got == 0 || errs+rep.Vitals.Got+rep.Segments.Got != 600 {
				t.Errorf("%d errors, %d vitals and %d segments counted; want 600 in all", errs, rep.Vitals.Got, rep.Segments.Got)
			}
			if len(rep.Issues) != 4 {
				t.Errorf("%d issue kinds; want 4", len(rep.Issues))
			}
		})
	}
}

// TestVerifyCatchesLoss checks the verifier is not blind: events deleted
// behind the coordinator's back, and an issue count bumped, are reported.
func TestVerifyCatchesLoss(t *testing.T) {
	s := start(t, nil)
	g, err := loadgen.New(loadgen.Config{Edges: s.edges, Key: s.key, Rate: 500, Count: 200, BatchSize: 10, Issues: 3})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := g.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db := s.coord.DB()
	testenv.Eventually(t, 30*time.Second, func() error {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM events WHERE id LIKE ?`, g.RunID()+"-%").Scan(&n); err != nil {
			return err
		}
		if n != 200 {
			return fmt.Errorf("%d of 200 events stored", n)
		}
		return nil
	})
	lost := []string{g.RunID() + "-5", g.RunID() + "-17"}
	for _, id := range lost {
		if _, err := db.Exec(`DELETE FROM events WHERE id = ?`, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`UPDATE issues SET count = count + 1 WHERE value = ?`, loadgen.IssueValue(g.RunID(), 2)); err != nil {
		t.Fatal(err)
	}
	results := make(chan *loadgen.Result, 1)
	results <- res
	rep, err := loadgen.Verify(ctx, loadgen.VerifyConfig{API: s.api, Token: admin, Key: s.key, Timeout: time.Second, Poll: 100 * time.Millisecond}, g, results)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Lost != 2 || strings.Join(rep.LostIDs, ",") != strings.Join(lost, ",") {
		t.Errorf("lost %d %v; want %v", rep.Lost, rep.LostIDs, lost)
	}
	// The sessions still count the deleted events: two more counted
	// than stored, which the verifier reports as doubled.
	if rep.Duplicated != 2 {
		t.Errorf("duplicated %d; want 2", rep.Duplicated)
	}
	if err := rep.Err(); err == nil || !strings.Contains(err.Error(), "issue c") || !strings.Contains(err.Error(), "2 accepted events lost") {
		t.Errorf("Err() = %v; want the losses and issue c's count named", err)
	}
}

// TestFinishEndsTheRun checks that Finish stops a long run early and that
// what was sent before is still accepted and verified.
func TestFinishEndsTheRun(t *testing.T) {
	s := start(t, nil)
	g, err := loadgen.New(loadgen.Config{Edges: s.edges, Key: s.key, Rate: 200, Duration: time.Hour, BatchSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	results := runAsync(t, ctx, g)
	testenv.Eventually(t, 30*time.Second, func() error {
		if n := len(g.Snapshot().Sent); n < 100 {
			return fmt.Errorf("%d events sent", n)
		}
		return nil
	})
	g.Finish()
	rep, err := loadgen.Verify(ctx, loadgen.VerifyConfig{API: s.api, Token: admin, Key: s.key, Timeout: 30 * time.Second}, g, results)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	if rep.Sent < 100 || rep.Sent > 2000 || rep.Stored != rep.Sent {
		t.Errorf("sent %d, stored %d; want the run ended soon after 100 events, all stored", rep.Sent, rep.Stored)
	}
}

// runAsync runs g and delivers its result when the run ends.
func runAsync(t *testing.T, ctx context.Context, g *loadgen.Generator) <-chan *loadgen.Result {
	results := make(chan *loadgen.Result, 1)
	go func() {
		res, err := g.Run(ctx)
		if err != nil {
			t.Error(err)
		}
		results <- res
	}()
	return results
}
