// Command rearview is Rearview's single binary: `rearview up` runs the whole
// system on one machine with embedded defaults; `rearview edge` and
// `rearview coordinator` run the parts as separate processes; the other
// subcommands are tools for users and CI.
package main

import (
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"

	"github.com/alecthomas/kong"
)

// Globals are flags every command accepts.
type Globals struct {
	LogLevel  slog.Level `help:"Log level: debug, info, warn, error." default:"info" env:"REARVIEW_LOG_LEVEL"`
	LogFormat string     `help:"Log format: text or json." enum:"text,json" default:"text" env:"REARVIEW_LOG_FORMAT"`
	// CPUProfile is for finding where a server's time goes under load
	// (go tool pprof); a server writes it when it stops gracefully.
	CPUProfile string `name:"cpu-profile" help:"Write a CPU profile of the command's run to this file (go tool pprof)." type:"path"`
}

// Logger returns the process logger. Logs never carry request bodies or
// client IPs: what is logged is metadata only.
func (g *Globals) Logger() *slog.Logger {
	opts := &slog.HandlerOptions{Level: g.LogLevel}
	if g.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// CLI is the command tree.
type CLI struct {
	Globals

	Up          UpCmd          `cmd:"" help:"Start the whole system on one machine: embedded NATS, edge, coordinator, player and a demo page."`
	Edge        EdgeCmd        `cmd:"" help:"Run a regional edge: ingest, policy, publish to NATS."`
	Coordinator CoordinatorCmd `cmd:"" help:"Run the coordinator: consume NATS, store, serve the API and player."`
	Projects    ProjectsCmd    `cmd:"" help:"Manage projects."`
	Filter      FilterCmd      `cmd:"" help:"Test policies with the edge policy engine; publish modules and policies."`
	Sourcemaps  SourcemapsCmd  `cmd:"" help:"Inject Debug IDs, upload source maps for a release, resolve positions."`
	Issues      IssuesCmd      `cmd:"" help:"List and triage issues; set grouping rules."`
	Alerts      AlertsCmd      `cmd:"" help:"Manage alert rules and show alert history."`
	Loadtest    LoadtestCmd    `cmd:"" help:"Send numbered events to edges at a fixed rate; with --verify, count every accepted one in the API."`
}

func main() {
	var cli CLI
	ctx := kong.Parse(&cli,
		kong.Name("rearview"),
		kong.Description("Self-hosted frontend error tracking, session replay and real-user monitoring."),
		kong.UsageOnError(),
	)
	if err := run(ctx, &cli.Globals); err != nil {
		fmt.Fprintln(os.Stderr, "rearview:", err)
		os.Exit(1)
	}
}

// run runs the chosen command, under the CPU profiler when asked.
func run(ctx *kong.Context, g *Globals) error {
	if g.CPUProfile == "" {
		return ctx.Run(g)
	}
	f, err := os.Create(g.CPUProfile)
	if err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("cpu profile: %w", err)
	}
	err = ctx.Run(g)
	pprof.StopCPUProfile()
	if cerr := f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("cpu profile: %w", cerr)
	}
	return err
}
