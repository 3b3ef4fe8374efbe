// Command demoshop serves the Rearview demo shop on its own, so end-to-end
// tests can run it as a separate process:
//
//	demoshop --addr 127.0.0.1:0 --edge http://127.0.0.1:7070 --key rvk_demo \
//	  --release $(git rev-parse HEAD) --spans spans.jsonl \
//	  --region-edge eu=http://127.0.0.1:7071 --region-edge us=http://127.0.0.1:7072
//
// With --sentry-dsn the pages use @sentry/browser instead, sending to that DSN.
//
// It prints "demoshop listening on http://HOST:PORT" once it accepts
// connections and stops on SIGINT/SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/rearview-dev/rearview/e2e/demo"
	sentrybrowser "github.com/rearview-dev/rearview/e2e/sentry/browser"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demoshop:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		addr      = flag.String("addr", "127.0.0.1:8090", "listen address (port 0: any free port)")
		edge      = flag.String("edge", "", "base URL of the Rearview edge the page loads the SDK from and sends to")
		key       = flag.String("key", "rvk_demo", "project ingest key")
		release   = flag.String("release", "dev", "release passed to Rearview.init (match the uploaded source maps)")
		env       = flag.String("environment", "demo", "environment passed to Rearview.init")
		spans     = flag.String("spans", "", "file to append the backend's OpenTelemetry spans to (JSON lines)")
		heroDelay = flag.Duration("hero-delay", 1500*time.Millisecond, "delay of the hero image (LCP)")
		sentryDSN = flag.String("sentry-dsn", "", "instrument the pages with @sentry/browser sending to this DSN instead of Rearview's SDK")
		sentryTxt = flag.Bool("sentry-record-text", false, "with --sentry-dsn: replayIntegration({maskAllText: false}), so the edge's masking is what keeps personal data out")
	)
	regions := map[string]string{}
	flag.Func("region-edge", "REGION=URL: pages opened with ?region=REGION use this edge (repeatable)", func(v string) error {
		name, u, ok := strings.Cut(v, "=")
		if !ok || name == "" || u == "" {
			return errors.New("want REGION=URL")
		}
		regions[name] = u
		return nil
	})
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	opts := demo.Options{
		EdgeURL: *edge, RegionEdges: regions, Key: *key, Release: *release, Environment: *env,
		HeroDelay: *heroDelay, Logger: log,
	}
	if *sentryDSN != "" {
		opts.Sentry = &demo.Sentry{DSN: *sentryDSN, Script: sentrybrowser.Script, MaskAllText: !*sentryTxt}
	}
	if *heroDelay == 0 {
		opts.HeroDelay = -1
	}
	if *spans != "" {
		f, err := os.OpenFile(*spans, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			return fmt.Errorf("spans file: %w", err)
		}
		defer f.Close()
		opts.Spans = f
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: demo.Handler(opts), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	fmt.Printf("demoshop listening on http://%s\n", l.Addr())

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
