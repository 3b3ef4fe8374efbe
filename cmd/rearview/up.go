package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/rearview-dev/rearview/coordinator"
	"github.com/rearview-dev/rearview/coordinator/lease"
	"github.com/rearview-dev/rearview/coordinator/sourcemap"
	"github.com/rearview-dev/rearview/coordinator/store"
	"github.com/rearview-dev/rearview/e2e/demo"
	"github.com/rearview-dev/rearview/player"
	"github.com/rearview-dev/rearview/sdkproto"
)

// UpCmd runs everything in one process on embedded defaults.
type UpCmd struct {
	DataDir       string `help:"Where NATS, SQLite and blobs keep their data." default:".rearview" env:"REARVIEW_DATA_DIR" type:"path"`
	NATSListen    string `name:"nats-listen" help:"Address of the embedded NATS server, so separate edges can join (port 0: any free port)." default:"127.0.0.1:4222" env:"REARVIEW_NATS_LISTEN"`
	EdgeListen    string `help:"Address of the ingest edge." default:"127.0.0.1:7070" env:"REARVIEW_EDGE_LISTEN"`
	APIListen     string `name:"api-listen" help:"Address of the API, player and demo page." default:"127.0.0.1:7080" env:"REARVIEW_API_LISTEN"`
	Region        string `help:"Region of the embedded edge." default:"local" env:"REARVIEW_REGION"`
	AdminToken    string `help:"Admin API token; default: generated once and kept in the data dir." env:"REARVIEW_ADMIN_TOKEN"`
	CountryHeader string `help:"Trusted header carrying the client's country (e.g. CF-IPCountry)." env:"REARVIEW_COUNTRY_HEADER"`
	DemoKey       string `help:"Ingest key of the demo project created on first start." default:"rvk_demo" env:"REARVIEW_DEMO_KEY"`
	DatabaseFlags `embed:""`
	S3Flags       `embed:""`
	PolicyFlags   `embed:""`
	ServeFlags    `embed:""`
	MapFlags      `embed:""`
	RUMFlags      `embed:""`
}

// Run starts NATS, coordinator and edge, prints URLs and waits for a signal;
// then it drains: the edge stops accepting and finishes in-flight requests,
// the coordinator finishes and acknowledges what it fetched, NATS flushes.
func (c *UpCmd) Run(g *Globals) error {
	log := g.Logger()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	host, port, err := net.SplitHostPort(c.NATSListen)
	if err != nil {
		return fmt.Errorf("--nats-listen: %w", err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return fmt.Errorf("--nats-listen: %w", err)
	}
	if p == 0 {
		p = -1
	}
	ns, err := server.NewServer(&server.Options{
		ServerName: "rearview",
		Host:       host,
		Port:       p,
		JetStream:  true,
		StoreDir:   filepath.Join(c.DataDir, "nats"),
		MaxPayload: 8 << 20,
		NoSigs:     true,
		NoLog:      true,
	})
	if err != nil {
		return fmt.Errorf("embedded nats: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		return errors.New("embedded nats did not start")
	}
	defer func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	}()

	nc, js, err := connectNATS("", "rearview-up", nats.InProcessServer(ns))
	if err != nil {
		return err
	}
	defer nc.Close()

	db, blobs, err := coordinatorParts(ctx, c.DataDir, c.DatabaseFlags, &c.S3Flags)
	if err != nil {
		return err
	}
	defer db.Close()
	admin, err := adminToken(c.DataDir, c.AdminToken)
	if err != nil {
		return err
	}
	// One coordinator on its own NATS: it acquires every lease at once,
	// after a crash too (its holder id outlives the process).
	ro, err := newRunOnce(ctx, js, lease.Options{Holder: upHolder(c.DataDir)}, log)
	if err != nil {
		return err
	}
	defer ro.close()
	// The edge's address is known before the coordinator starts, so the
	// API can show each project's Sentry DSN; it serves once it is built.
	edgeSrv, err := listen("edge", c.EdgeListen, nil)
	if err != nil {
		return err
	}
	if c.ServeFlags.EdgeURL == "" {
		c.ServeFlags.EdgeURL = edgeSrv.URL()
	}
	coord, err := newCoordinator(ctx, js, db, blobs, admin, log, c.ServeFlags, ro, 1)
	if err != nil {
		return err
	}
	demoProject, demoToken, err := ensureDemo(ctx, coord, c.DemoKey)
	if err != nil {
		return err
	}
	if c.WasmCacheDir == "" {
		c.WasmCacheDir = filepath.Join(c.DataDir, "wasm-cache")
	}
	ed, err := newEdge(ctx, js, c.Region, c.CountryHeader, &c.PolicyFlags, log)
	if err != nil {
		return err
	}
	edgeSrv.srv.Handler = ed.Handler()
	maps, err := c.openSourcemaps(db, blobs, admin, ro, log)
	if err != nil {
		return err
	}
	if err := uploadDemoMaps(ctx, maps, demoProject); err != nil {
		return err
	}
	liveMount, err := startServing(ctx, nc, coord, c.ServeFlags, ro, log)
	if err != nil {
		return err
	}
	var rum rum
	defer rum.close()
	apiSrv, err := listen("api", c.APIListen, apiHandler(coord, edgeSrv.URL(), c.DemoKey, withIssues(coord, newSymbolicator(maps, log), log), maps.Mount, liveMount, rum.register(ctx, coord, c.RUMFlags, ro, log)))
	if err == nil {
		err = rum.err
	}
	if err != nil {
		return err
	}

	consumeCtx, stopConsume := context.WithCancel(context.Background())
	consumed := make(chan error, 1)
	go func() { consumed <- coord.Run(consumeCtx) }()
	edgeCtx, stopEdge := context.WithCancel(context.Background())
	go ed.Run(edgeCtx)
	edgeSrv.serve(log)
	apiSrv.serve(log)

	fmt.Printf(`Rearview is up.
  Demo page     %s/
  Player & API  %s/
  Ingest edge   %s/v1/ingest  (region %s)
  NATS          %s
  Data          %s
  Admin token   %s  (also in %s)
  Demo project  demo, ingest key %s%s
  Sentry DSN    %s  (demo project, for @sentry/browser)
Press Ctrl-C to stop.
`, apiSrv.URL(), apiSrv.URL(), edgeSrv.URL(), c.Region, ns.ClientURL(), c.DataDir, admin, filepath.Join(c.DataDir, "admin-token"), c.DemoKey, demoToken, sdkproto.SentryDSN(edgeSrv.URL(), c.DemoKey, demoProject))

	<-ctx.Done()
	log.Info("shutting down: draining")
	edgeSrv.shutdown(15 * time.Second)
	stopEdge()
	stopConsume()
	if err := <-consumed; err != nil {
		log.Error("consumer", "err", err)
	}
	ro.close()
	apiSrv.shutdown(5 * time.Second)
	if err := nc.Drain(); err != nil {
		log.Warn("drain nats", "err", err)
	}
	log.Info("stopped")
	return nil
}

// ensureDemo creates the demo project on first start and returns a line
// with its API token (shown only then).
func ensureDemo(ctx context.Context, coord *coordinator.Coordinator, key string) (project, tokenLine string, err error) {
	ps, err := store.Projects(ctx, coord.DB())
	if err != nil {
		return "", "", err
	}
	for _, p := range ps {
		if p.IngestKey == key {
			return p.ID, "", nil
		}
	}
	p, tok, err := coord.CreateProject(ctx, "demo", key)
	if err != nil {
		return "", "", err
	}
	return p.ID, ", API token " + tok, nil
}

// uploadDemoMaps stores the demo bundle's source maps for release "demo",
// as the CI step would for a user's app; maps already there are skipped by
// content.
func uploadDemoMaps(ctx context.Context, maps sourceMaps, project string) error {
	ms, err := demo.SourceMaps()
	if err != nil {
		return err
	}
	for _, m := range ms {
		if _, _, err := maps.Put(ctx, project, sourcemap.Upload{Release: "demo", Name: m.Bundle + ".map", URL: "~/demo/" + m.Bundle, Data: m.Data}); err != nil {
			return fmt.Errorf("upload demo source map %s: %w", m.Bundle, err)
		}
	}
	return nil
}

// apiHandler serves the coordinator API and the pages of `rearview up`.
func apiHandler(coord *coordinator.Coordinator, edgeURL, demoKey string, mount ...func(*http.ServeMux)) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", coord.Handler(mount...))
	mux.Handle(player.Prefix, player.Handler())
	mux.Handle("GET /{$}", landingPage(edgeURL, demoKey))
	mux.Handle("/demo/", http.StripPrefix("/demo", demo.Handler(demo.Options{EdgeURL: edgeURL, Key: demoKey, Release: "demo"})))
	return mux
}
