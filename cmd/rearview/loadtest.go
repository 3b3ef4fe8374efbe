package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/rearview-dev/rearview/internal/loadgen"
)

// LoadtestCmd drives edges with numbered events and, with --verify, counts
// every accepted event in the coordinator's API.
type LoadtestCmd struct {
	Edge        []string      `help:"Edge base URL; repeat (or comma-separate) for several: batches go round-robin, a retry goes to the next edge." default:"http://127.0.0.1:7070" env:"REARVIEW_LOADTEST_EDGES"`
	Key         []string      `help:"Project ingest key; repeat (or comma-separate) for several projects, each sent its share of --rate at once (an edge admits a project's own rate, 1,000 events/s by default)." default:"rvk_demo" env:"REARVIEW_KEY"`
	Rate        float64       `help:"Events per second sent, over all the keys." default:"200"`
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
	Project       string        `help:"Project id for --verify; default: the project of --key (one key only)." env:"REARVIEW_PROJECT"`
	JSON          bool          `name:"json" help:"Print the verification report as JSON."`
	APIFlags
}

// Run sends the load and prints what happened; it fails when an accepted
// event is lost, or (with --verify) when any count is off.
func (c *LoadtestCmd) Run(g *Globals) error {
	log := g.Logger()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(c.Key) == 0 {
		return errors.New("load test: no --key")
	}
	if len(c.Key) > 1 && c.Project != "" {
		return errors.New("load test: --project names the project of one --key; with several, each key's own is verified")
	}
	gens := make([]*loadgen.Generator, len(c.Key))
	for i, key := range c.Key {
		count := c.Count
		if count > 0 {
			count = c.Count / len(c.Key)
			if i < c.Count%len(c.Key) {
				count++
			}
		}
		gen, err := loadgen.New(loadgen.Config{
			Edges: c.Edge, Key: key, Rate: c.Rate / float64(len(c.Key)), Duration: c.Duration, Count: count,
			BatchSize: c.Batch, Concurrency: c.Concurrency, Issues: c.Issues, Sessions: c.Sessions, Users: c.Users,
			VitalEvery: c.VitalEvery, ReplayEvery: c.ReplayEvery, RetryFor: c.RetryFor, RunID: runID(c.RunID, i, len(c.Key)), Logger: log,
		})
		if err != nil {
			return err
		}
		cfg := gen.Config()
		fmt.Fprintf(os.Stderr, "load test %s: %d events at %.0f/s in batches of %d to %d edge(s)\n", gen.RunID(), cfg.Count, cfg.Rate, cfg.BatchSize, len(cfg.Edges))
		gens[i] = gen
	}
	var wg sync.WaitGroup
	errs := make([]error, len(gens))
	if !c.Verify {
		res := make([]*loadgen.Result, len(gens))
		for i, gen := range gens {
			wg.Go(func() { res[i], errs[i] = gen.Run(ctx) })
		}
		wg.Wait()
		for i, r := range res {
			if errs[i] != nil {
				return errs[i]
			}
			printResult(r)
			if r.Failed > 0 {
				errs[i] = fmt.Errorf("load test %s: %d events never accepted", r.RunID, r.Failed)
			}
		}
		return errors.Join(errs...)
	}
	reps := make([]*loadgen.Report, len(gens))
	for i, gen := range gens {
		wg.Go(func() {
			results := make(chan *loadgen.Result, 1)
			go func() {
				res, err := gen.Run(ctx)
				if err != nil {
					log.Error("load test", "err", err)
				}
				results <- res
			}()
			reps[i], errs[i] = loadgen.Verify(ctx, loadgen.VerifyConfig{
				API: c.URL, Token: c.token(), Project: c.Project, Key: c.Key[i], Timeout: c.VerifyTimeout, Logger: log,
			}, gen, results)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if c.JSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		var v any = reps[0]
		if len(reps) > 1 {
			v = reps
		}
		if err := enc.Encode(v); err != nil {
			return err
		}
	} else {
		for _, rep := range reps {
			rep.WriteTable(os.Stdout)
		}
		if len(reps) > 1 {
			writeTotals(os.Stdout, reps)
		}
	}
	for i, rep := range reps {
		errs[i] = rep.Err()
	}
	return errors.Join(errs...)
}

// runID gives each key's generator its own prefix: the given one with the
// key's number when there are several, else random (empty).
func runID(base string, i, n int) string {
	if base == "" || n == 1 {
		return base
	}
	return fmt.Sprintf("%s-%d", base, i)
}

// writeTotals sums several projects' reports: rates add up, and the
// latency shown is the worst project's.
func writeTotals(w io.Writer, reps []*loadgen.Report) {
	var accepted, stored, lost, dup int
	var acceptedPS, storedPS float64
	var p50, p99 time.Duration
	for _, r := range reps {
		accepted += r.Accepted
		stored += r.Stored
		lost += r.Lost
		dup += r.Duplicated
		acceptedPS += r.AcceptedPerSec
		storedPS += r.StoredPerSec
		p50, p99 = max(p50, r.P50), max(p99, r.P99)
	}
	fmt.Fprintf(w, "all %d projects\n", len(reps))
	row := func(name string, v any) { fmt.Fprintf(w, "  %-28s %v\n", name, v) }
	row("accepted (202)", accepted)
	row("stored (of accepted)", stored)
	row("lost / duplicated", fmt.Sprintf("%d / %d", lost, dup))
	row("accepted/s, stored/s", fmt.Sprintf("%.1f, %.1f", acceptedPS, storedPS))
	row("p50 / p99 (worst project)", fmt.Sprintf("%v / %v", p50, p99))
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
