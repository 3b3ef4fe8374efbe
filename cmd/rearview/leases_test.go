package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/coordinator/blob"
	"github.com/rearview-dev/rearview/coordinator/lease"
	"github.com/rearview-dev/rearview/coordinator/store"
	"github.com/rearview-dev/rearview/coordinator/store/storetest"
	"github.com/rearview-dev/rearview/coordinator/vitals"
	"github.com/rearview-dev/rearview/internal/testenv"
)

// foldLog counts the samples a coordinator's vitals folder reports folding.
type foldLog struct{ samples *atomic.Int64 }

func (h foldLog) Enabled(context.Context, slog.Level) bool { return true }
func (h foldLog) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h foldLog) WithGroup(string) slog.Handler            { return h }
func (h foldLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "folded vitals" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "samples" {
				h.samples.Add(a.Value.Int64())
			}
			return true
		})
	}
	return nil
}

// leaseNode is one coordinator wired as `rearview coordinator` wires it:
// its own NATS connection and database handle, the run-once loops under
// leases.
type leaseNode struct {
	name   string
	ro     *runOnce
	rum    *rum
	api    *httptest.Server
	folded atomic.Int64
}

func startLeaseNode(t *testing.T, name, natsURL, dsn string, blobs blob.Store) *leaseNode {
	t.Helper()
	ctx := context.Background()
	n := &leaseNode{name: name, rum: &rum{}}
	log := slog.New(foldLog{&n.folded})
	nc, js, err := connectNATS(natsURL, "coordinator-"+name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	n.ro, err = newRunOnce(ctx, js, lease.Options{Holder: name, TTL: 2 * time.Second}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.ro.close)
	coord, err := newCoordinator(ctx, js, db, blobs, "rva_lease_test", log, ServeFlags{}, n.ro, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&MapFlags{SourcemapRetention: 2160 * time.Hour}).openSourcemaps(db, blobs, "rva_lease_test", n.ro, log); err != nil {
		t.Fatal(err)
	}
	mountLive, err := startServing(ctx, nc, coord, ServeFlags{}, n.ro, log)
	if err != nil {
		t.Fatal(err)
	}
	mountRUM := n.rum.register(ctx, coord, RUMFlags{}, n.ro, log)
	if n.rum.err != nil {
		t.Fatal(n.rum.err)
	}
	t.Cleanup(n.rum.close)
	n.api = httptest.NewServer(coord.Handler(mountLive, mountRUM))
	t.Cleanup(n.api.Close)
	return n
}

// readyLeases returns the leases /readyz reports.
func (n *leaseNode) readyLeases(t *testing.T) []string {
	t.Helper()
	req, _ := http.NewRequest("GET", n.api.URL+"/readyz", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string   `json:"status"`
		Leases []string `json:"leases"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 || body.Status != "ready" {
		t.Fatalf("readyz: %d %+v %v", resp.StatusCode, body, err)
	}
	return body.Leases
}

var allLeases = []string{leaseAlerts, leaseReplayPack, leaseRetention, leaseSourcemapRetention, leaseVitals}

// holders waits until every lease is held by exactly one of nodes and
// returns who holds which.
func holders(t *testing.T, nodes ...*leaseNode) map[string]*leaseNode {
	t.Helper()
	var out map[string]*leaseNode
	testenv.Eventually(t, 15*time.Second, func() error {
		out = map[string]*leaseNode{}
		for _, n := range nodes {
			for _, l := range n.ro.held() {
				if o := out[l]; o != nil {
					return fmt.Errorf("%s held by %s and %s", l, o.name, n.name)
				}
				out[l] = n
			}
		}
		if len(out) != len(allLeases) {
			return fmt.Errorf("%d of %d leases held", len(out), len(allLeases))
		}
		return nil
	})
	return out
}

// record appends count vital samples to the outbox through the vital hook's
// path, as consuming a vital event does on any coordinator.
func record(t *testing.T, n *leaseNode, count int) {
	t.Helper()
	ctx := context.Background()
	db := n.rum.vitals.DB()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	for i := range count {
		s := vitals.Sample{Project: "p", Metric: vitals.LCP, TS: now + int64(i), Dims: vitals.Dims{Route: "/", Device: "desktop", Country: "DE", Browser: "Chrome"}, Value: 1000 + float64(i)}
		if err := n.rum.vitals.Record(ctx, tx, s); err != nil {
			tx.Rollback()
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// folded waits until the outbox is empty and returns how many samples the
// minute sketches hold.
func folded(t *testing.T, n *leaseNode) int {
	t.Helper()
	db := n.rum.vitals.DB()
	var inSketches int
	testenv.Eventually(t, 20*time.Second, func() error {
		var pending int
		if err := db.QueryRow(`SELECT count(*) FROM vital_samples`).Scan(&pending); err != nil {
			return err
		}
		if pending > 0 {
			return fmt.Errorf("%d samples not folded", pending)
		}
		return db.QueryRow(`SELECT coalesce(sum(good + ni + poor), 0) FROM vital_sketches WHERE res = ?`, vitals.Minute).Scan(&inSketches)
	})
	return inSketches
}

// TestRunOnceWorkRunsOnOneCoordinator runs two coordinators on one NATS
// server and one database (SQLite, or Postgres with
// REARVIEW_TEST_DATABASE=postgres): every run-once loop runs on one of them, the
// vitals folder of the other folds nothing, and when the holder stops the
// other takes all the work over.
func TestRunOnceWorkRunsOnOneCoordinator(t *testing.T) {
	ns := testenv.NATS(t)
	dir := t.TempDir()
	blobs, err := blob.NewDir(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	dsn := storetest.DSN(t)
	a := startLeaseNode(t, "a", ns.ClientURL(), dsn, blobs)
	b := startLeaseNode(t, "b", ns.ClientURL(), dsn, blobs)

	held := holders(t, a, b)
	for _, n := range []*leaseNode{a, b} {
		if got, want := n.readyLeases(t), n.ro.held(); !slices.Equal(got, want) {
			t.Fatalf("%s: /readyz reports %v, holds %v", n.name, got, want)
		}
	}
	folder := held[leaseVitals]
	other := map[*leaseNode]*leaseNode{a: b, b: a}[folder]
	// Samples enter the outbox on both coordinators (every one runs the
	// hooks); only the fold lease's holder folds them.
	record(t, a, 6)
	record(t, b, 4)
	if got := folded(t, a); got != 10 {
		t.Fatalf("%d samples in sketches, want 10", got)
	}
	if f, o := folder.folded.Load(), other.folded.Load(); f != 10 || o != 0 {
		t.Fatalf("%s (fold lease) folded %d, %s folded %d; want 10 and 0", folder.name, f, other.name, o)
	}

	// A graceful stop releases every lease; the other coordinator takes
	// them all and folds from then on.
	folder.ro.close()
	if len(folder.ro.held()) != 0 {
		t.Fatalf("%s still holds %v after stopping", folder.name, folder.ro.held())
	}
	for l, n := range holders(t, other) {
		if n != other {
			t.Fatalf("%s held by %s", l, n.name)
		}
	}
	record(t, folder, 7)
	if got := folded(t, other); got != 17 {
		t.Fatalf("%d samples in sketches, want 17", got)
	}
	if f, o := folder.folded.Load(), other.folded.Load(); f != 10 || o != 7 {
		t.Fatalf("%s folded %d, %s folded %d; want 10 and 7", folder.name, f, other.name, o)
	}
}
