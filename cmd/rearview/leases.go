package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/rearview-dev/rearview/coordinator/lease"
)

// LeaseFlags configure the leases that keep run-once work (retention,
// vitals folding, alerts) on one coordinator at a time.
type LeaseFlags struct {
	LeaseTTL time.Duration `name:"lease-ttl" help:"How long run-once work (retention, vitals folding, alerts) waits before moving from a coordinator that died; the lease bucket keeps the TTL it was created with." default:"10s" env:"REARVIEW_LEASE_TTL"`
}

// options are the lease options; the bucket has as many replicas as the
// stream (--stream-replicas).
func (f LeaseFlags) options(replicas int) lease.Options {
	return lease.Options{TTL: f.LeaseTTL, Replicas: replicas}
}

// Lease names: one per loop, so that each moves on its own and several
// coordinators may share the work out between them.
const (
	leaseRetention          = "retention"
	leaseSourcemapRetention = "sourcemap-retention"
	leaseVitals             = "vitals-fold"
	leaseAlerts             = "alerts"
	leaseSynthetic          = "synthetic"
	leaseReplayPack         = "replay-pack"
)

// upHolder is the lease holder id of `rearview up`: stable across restarts
// of one data dir, so a restart after a crash takes its leases back at once.
// Only that process uses its embedded NATS server, so no live process
// shares the id.
func upHolder(dataDir string) string {
	host, _ := os.Hostname()
	if abs, err := filepath.Abs(dataDir); err == nil {
		dataDir = abs
	}
	return "up:" + host + ":" + dataDir
}

// runOnce runs the coordinator loops that must run in one place at a time,
// each under its lease; per-event hooks are not among them, every
// coordinator runs those.
type runOnce struct {
	m      *lease.Manager
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	log    *slog.Logger
}

func newRunOnce(ctx context.Context, js jetstream.JetStream, opts lease.Options, log *slog.Logger) (*runOnce, error) {
	opts.Logger = log
	m, err := lease.New(ctx, js, opts)
	if err != nil {
		return nil, fmt.Errorf("leases: %w", err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	log.Info("run-once work under leases", "holder", m.Holder(), "ttl", m.TTL())
	return &runOnce{m: m, ctx: rctx, cancel: cancel, log: log}, nil
}

// start runs work whenever this process holds the lease name, until close.
func (r *runOnce) start(name string, work func(ctx context.Context)) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if err := r.m.Run(r.ctx, name, work); err != nil {
			r.log.Error("run-once work", "lease", name, "err", err)
		}
	}()
}

// held reports the leases held now (for /readyz).
func (r *runOnce) held() []string { return r.m.Held() }

// close stops every loop and releases its lease, so that another
// coordinator takes over at once; call it after the consumer stopped and
// before NATS is drained.
func (r *runOnce) close() {
	r.cancel()
	r.wg.Wait()
}
