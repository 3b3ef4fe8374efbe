package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// CoordinatorCmd runs the coordinator as its own process.
type CoordinatorCmd struct {
	NATSURL       string `name:"nats-url" help:"NATS server URL." default:"nats://127.0.0.1:4222" env:"REARVIEW_NATS_URL"`
	Listen        string `help:"API and player address." default:"127.0.0.1:7080" env:"REARVIEW_API_LISTEN"`
	DataDir       string `help:"Where SQLite (and filesystem blobs) live." default:".rearview" env:"REARVIEW_DATA_DIR" type:"path"`
	AdminToken    string `help:"Admin API token; default: generated once and kept in the data dir (give every coordinator of one deployment the same)." env:"REARVIEW_ADMIN_TOKEN"`
	Replicas      int    `name:"stream-replicas" help:"Copies a NATS cluster keeps of the stream and buckets (3 survives losing a node; at most the cluster size)." default:"1" env:"REARVIEW_STREAM_REPLICAS"`
	DatabaseFlags `embed:""`
	S3Flags       `embed:""`
	ServeFlags    `embed:""`
	MapFlags      `embed:""`
	RUMFlags      `embed:""`
	LeaseFlags    `embed:""`
}

// Run consumes and serves until SIGINT/SIGTERM, then drains.
func (c *CoordinatorCmd) Run(g *Globals) error {
	log := g.Logger()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	nc, js, err := connectNATS(c.NATSURL, "rearview-coordinator")
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
	ro, err := newRunOnce(ctx, js, c.LeaseFlags.options(c.Replicas), log)
	if err != nil {
		return err
	}
	defer ro.close()
	coord, err := newCoordinator(ctx, js, db, blobs, admin, log, c.ServeFlags, ro, c.Replicas)
	if err != nil {
		return err
	}
	maps, err := c.openSourcemaps(db, blobs, admin, ro, log)
	if err != nil {
		return err
	}
	liveMount, err := startServing(ctx, nc, coord, c.ServeFlags, ro, log)
	if err != nil {
		return err
	}
	var rum rum
	defer rum.close()
	srv, err := listen("api", c.Listen, withPlayer(coord.Handler(withIssues(coord, newSymbolicator(maps, log), log), maps.Mount, liveMount, rum.register(ctx, coord, c.RUMFlags, ro, log))))
	if err == nil {
		err = rum.err
	}
	if err != nil {
		return err
	}
	consumeCtx, stopConsume := context.WithCancel(context.Background())
	consumed := make(chan error, 1)
	go func() { consumed <- coord.Run(consumeCtx) }()
	srv.serve(log)
	fmt.Printf("coordinator listening on %s\n", srv.URL())
	<-ctx.Done()
	stopConsume()
	if err := <-consumed; err != nil {
		log.Error("consumer", "err", err)
	}
	// Released leases move their work to another coordinator at once.
	ro.close()
	srv.shutdown(5 * time.Second)
	return nc.Drain()
}
