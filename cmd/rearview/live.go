package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/rearview-dev/rearview/coordinator"
	"github.com/rearview-dev/rearview/coordinator/live"
)

// ServeFlags configure what the coordinator serves and keeps.
type ServeFlags struct {
	TraceURL        string        `name:"trace-url" help:"Link template from a trace id to your tracing UI, e.g. https://jaeger.example.com/trace/{trace_id}." env:"REARVIEW_TRACE_URL"`
	ReplayRetention time.Duration `help:"How long replays are kept unless a project sets its own." default:"720h" env:"REARVIEW_REPLAY_RETENTION"`
	EventRetention  time.Duration `help:"How long events and sessions are kept unless a project sets their own." default:"2160h" env:"REARVIEW_EVENT_RETENTION"`
	ReplayPackAfter time.Duration `help:"How long a session's replay goes without a new segment (or since it ended) before its segments are packed into one object." default:"5m" env:"REARVIEW_REPLAY_PACK_AFTER"`
	SecureCookies   bool          `help:"Mark the player's session cookie Secure (serve the player over HTTPS)." env:"REARVIEW_SECURE_COOKIES"`
	AllowOrigin     []string      `name:"allow-origin" help:"Extra browser origins allowed to open the live tail." env:"REARVIEW_ALLOW_ORIGINS"`
	EdgeURL         string        `name:"edge-url" help:"Public URL of an edge, for the Sentry DSNs the API and the player show (rearview up: its own edge)." env:"REARVIEW_EDGE_URL"`
	Workers         int           `help:"Transactions the coordinator runs at once, each on its own fetched messages (0: 1 on SQLite, 4 on Postgres)." default:"0" env:"REARVIEW_WORKERS"`
}

func (f ServeFlags) apply(c *coordinator.Config) {
	c.TraceURLTemplate = f.TraceURL
	c.ReplayRetention = f.ReplayRetention
	c.EventRetention = f.EventRetention
	c.ReplayPackAfter = f.ReplayPackAfter
	c.SecureCookies = f.SecureCookies
	c.EdgeURL = f.EdgeURL
	c.Workers = f.Workers
}

// startServing starts the live tail hub, and the retention janitor and
// replay packing each under its lease; the returned mount adds the live route to the API.
func startServing(ctx context.Context, nc *nats.Conn, coord *coordinator.Coordinator, f ServeFlags, ro *runOnce, log *slog.Logger) (func(*http.ServeMux), error) {
	hub, err := live.New(live.Config{Conn: nc, History: coord.ReplaySince, AllowedOrigins: f.AllowOrigin, Logger: log})
	if err != nil {
		return nil, err
	}
	go hub.Run(ctx)
	ro.start(leaseRetention, func(ctx context.Context) { coord.RunRetention(ctx, time.Hour) })
	ro.start(leaseReplayPack, func(ctx context.Context) { coord.RunPacking(ctx, 10*time.Second) })
	return hub.Mount, nil
}
