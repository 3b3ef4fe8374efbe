package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// EdgeCmd runs one regional edge as its own process.
type EdgeCmd struct {
	NATSURL       string `name:"nats-url" help:"NATS server (or leaf node) URL." default:"nats://127.0.0.1:4222" env:"REARVIEW_NATS_URL"`
	Listen        string `help:"Ingest address." default:"127.0.0.1:7070" env:"REARVIEW_EDGE_LISTEN"`
	Region        string `help:"This edge's region (subject token, e.g. eu, us)." required:"" env:"REARVIEW_REGION"`
	CountryHeader string `help:"Trusted header carrying the client's country (e.g. CF-IPCountry)." env:"REARVIEW_COUNTRY_HEADER"`
	PolicyFlags   `embed:""`
}

// Run serves until SIGINT/SIGTERM, then finishes in-flight requests.
func (c *EdgeCmd) Run(g *Globals) error {
	log := g.Logger()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	nc, js, err := connectNATS(c.NATSURL, "rearview-edge-"+c.Region)
	if err != nil {
		return err
	}
	defer nc.Close()
	ed, err := newEdge(ctx, js, c.Region, c.CountryHeader, &c.PolicyFlags, log)
	if err != nil {
		return err
	}
	srv, err := listen("edge", c.Listen, ed.Handler())
	if err != nil {
		return err
	}
	runCtx, stopRun := context.WithCancel(context.Background())
	go ed.Run(runCtx)
	srv.serve(log)
	fmt.Printf("edge %s listening on %s\n", c.Region, srv.URL())
	<-ctx.Done()
	srv.shutdown(15 * time.Second)
	stopRun()
	return nc.Drain()
}
