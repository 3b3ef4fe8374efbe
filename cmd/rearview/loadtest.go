package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"

	"github.com/rearview-dev/rearview/internal/loadgen"
)

// LoadtestCmd drives edges with numbered events and, with --verify, counts
// every accepted event in the coordinator's API.
type LoadtestCmd struct {
	Edge        []string      `help:"Edge base URL; repeat (or comma-separate) for several: batches go round-robin, a retry goes to the next edge." default:"http://127.0.0.1:7070" env:"REARVIEW_LOADTEST_EDGES"`
	Key         string        `help:"Project ingest key." default:"rvk_demo" env:"REARVIEW_KEY"`
	Rate        float64       `help:"Events per second sent." default:"200"`
	Duration    time.Duration `help:"How long to send (ignored with --count)." default:"30s"`
	Count       int           `help:"Events to send; 0 means rate × duration."`
	Batch       int           `help:"Events per batch (1-500)." default:"20"`
	Concurrency int           `help:"Requests in flight at most." default:"8"`
	Issues      int           `help:"Distinct error kinds (each one issue)." default:"5"`
	Sessions    int           `help:"Distinct sessions the batches belong to." default:"20"`
	Users       int           `help:"Distinct users of those sessions." default:"10"`
	VitalEvery  int           `name:"vital-every" help:"Make every n-th event a web vital (LCP); 0: none." default:"0"`
	ReplayEvery int           `name:"replay-every" help:"Make every n-th event a replay segment; 0: none." default:"0"`
	RetryFor    time.Duration `name:"retry-for" help:"How long after the last batch went out a batch not answered 202 is still retried." default:"60s"`
	RunID       string        `name:"run-id" help:"Prefix of every id sent; default: random."`

	Verify        bool          `help:"Wait until every accepted event is stored and check every count through the API (--url, --token)."`
	VerifyTimeout time.Duration `name:"verify-timeout" help:"How long after the run to wait for accepted events to be stored." default:"2m"`
	Project       string        `help:"Project id for --verify; default: the project of --key." env:"REARVIEW_PROJECT"`
	JSON          bool          `name:"json" help:"Print the verification report as JSON."`
	APIFlags
}

// Run sends the load and prints what happened; it fails when an accepted
// event is lost, or (with --verify) when any count is off.
func (c *LoadtestCmd) Run(g *Globals) error {
	log := g.Logger()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	gen, err := loadgen.New(loadgen.Config{
		Edges: c.Edge, Key: c.Key, Rate: c.Rate, Duration: c.Duration, Count: c.Count,
		BatchSize: c.Batch, Concurrency: c.Concurrency, Issues: c.Issues, Sessions: c.Sessions, Users: c.Users,
		VitalEvery: c.VitalEvery, ReplayEvery: c.ReplayEvery, RetryFor: c.RetryFor, RunID: c.RunID, Logger: log,
	})
	if err != nil {
		return err
	}
	cfg := gen.Config()
	fmt.Fprintf(os.Stderr, "load test %s: %d events at %.0f/s in batches of %d to %d edge(s)\n", gen.RunID(), cfg.Count, cfg.Rate, cfg.BatchSize, len(cfg.Edges))
	if !c.Verify {
		res, err := gen.Run(ctx)
		if err != nil {
			return err
		}
		printResult(res)
		if res.Failed > 0 {
			return fmt.Errorf("load test %s: %d events never accepted", res.RunID, res.Failed)
		}
		return nil
	}
	results := make(chan *loadgen.Result, 1)
	go func() {
		res, err := gen.Run(ctx)
		if err != nil {
			log.Error("load test", "err", err)
		}
		results <- res
	}()
	rep, err := loadgen.Verify(ctx, loadgen.VerifyConfig{
		API: c.URL, Token: c.token(), Project: c.Project, Key: c.Key, Timeout: c.VerifyTimeout, Logger: log,
	}, gen, results)
	if err != nil {
		return err
	}
	if c.JSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		rep.WriteTable(os.Stdout)
	}
	return rep.Err()
}

func printResult(res *loadgen.Result) {
	fmt.Printf("load test %s\n", res.RunID)
	row := func(name string, v any) { fmt.Printf("  %-28s %v\n", name, v) }
	row("sent", res.Sent)
	row("accepted (202)", res.Accepted)
	row("retried (events / requests)", fmt.Sprintf("%d / %d", res.Retried, res.Retries))
	row("never accepted", res.Failed)
	row("accepted/s", fmt.Sprintf("%.1f", res.AcceptedPerSecond()))
	codes := make([]string, 0, len(res.Answers))
	for k := range res.Answers {
		codes = append(codes, k)
	}
	sort.Strings(codes)
	for _, k := range codes {
		row("answers "+k, res.Answers[k])
	}
}
