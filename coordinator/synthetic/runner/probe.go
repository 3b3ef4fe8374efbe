package runner

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/rearview-dev/rearview/coordinator/synthetic"
)

// Probe runs cfg's checks every cfg.Schedule until ctx ends, as a
// coordinator's scheduled probes, and hands each round's results to save
// (which stores them; a failed probe then fires synthetic alert rules).
// Run it where the synthetic lease is held: one coordinator probes at a
// time. The first round starts at once.
func (r *Runner) Probe(ctx context.Context, cfg *Config, save func(context.Context, []synthetic.Result) error) {
	log := r.Logger
	if log == nil {
		log = slog.Default()
	}
	every := time.Duration(cfg.Schedule)
	for round := 0; ; round++ {
		probe := *r
		probe.Source = synthetic.SourceProbe
		probe.RunID = fmt.Sprintf("probe-%d", time.Now().UnixMilli())
		results, err := probe.Run(ctx, cfg)
		if ctx.Err() != nil {
			return // a round cut short by losing the lease is not recorded
		}
		if err != nil {
			log.Error("synthetic probe", "err", err)
		}
		failed := 0
		for _, res := range results {
			if !res.Passed {
				failed++
			}
		}
		if len(results) > 0 {
			if err := save(ctx, results); err != nil {
				log.Error("synthetic probe: save results", "err", err)
			}
		}
		log.Info("synthetic probe round", "round", round, "checks", len(results), "failed", failed)
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}
