package wasmhost

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/rearview-dev/rearview/sdkproto"
	"github.com/rearview-dev/rearview/wasm"
	"github.com/rearview-dev/rearview/wasm/engine"
)

// selfTestUA is a browser User-Agent, so that bot filtering keeps the
// corpus.
const selfTestUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"

// selfTestPolicies are run over every vector: the default and a strict
// regional override.
var selfTestPolicies = [][]byte{nil, []byte(`{"masking":{"strict":true}}`)}

// runFunc runs one request envelope through a candidate module and
// returns its response envelope.
type runFunc func(ctx context.Context, req []byte) ([]byte, error)

// selfTest runs the golden corpus through a candidate module. The module
// passes when, for every vector and policy, it answers within the
// deadline, its output decodes strictly, none of the planted personal data
// survives, and it agrees with the engine built into this binary: the same
// events kept and dropped for the same reasons, and no event masked less.
//
// Not byte equality: publishing a module is how a fix to masking or noise
// reaches every edge without a redeploy, so a module may mask more than
// the engine this edge was built with, never less.
func selfTest(ctx context.Context, run runFunc) error {
	native := engine.New()
	canaries := wasm.Canaries()
	now := time.Date(2025, 11, 25, 0, 0, 0, 0, time.UTC).UnixMilli()
	for _, v := range wasm.Corpus() {
		for pi, doc := range selfTestPolicies {
			req := engine.AppendRequest(nil, doc, engine.Context{Project: "selftest", Region: "selftest", UA: selfTestUA, Now: now}, v.Batch)
			out, err := run(ctx, req)
			if err != nil {
				return fmt.Errorf("%s (policy %d): %w", v.Name, pi, err)
			}
			got, err := engine.ParseResponse(out)
			if err != nil {
				return fmt.Errorf("%s (policy %d): %w", v.Name, pi, err)
			}
			if _, err := got.ParseReport(); err != nil {
				return fmt.Errorf("%s (policy %d): %w", v.Name, pi, err)
			}
			if len(got.Batch) > 0 {
				if _, rej, err := sdkproto.Decode(got.Batch, sdkproto.DefaultLimits()); err != nil || len(rej) > 0 {
					return fmt.Errorf("%s (policy %d): output does not decode: %v %v", v.Name, pi, err, rej)
				}
			}
			for _, c := range canaries {
				if bytes.Contains(out, []byte(c)) {
					return fmt.Errorf("%s (policy %d): personal data %.4s… survives", v.Name, pi, c)
				}
			}
			// Handle's answer is valid until its next call: compare now.
			if err := agrees(got, native.Handle(req)); err != nil {
				return fmt.Errorf("%s (policy %d): %w", v.Name, pi, err)
			}
		}
	}
	return nil
}

// agrees reports how candidate response got falls short of want, the
// built-in engine's response, or nil when it keeps and drops the same
// events for the same reasons and masks each at least as much.
func agrees(got engine.Response, want []byte) error {
	w, err := engine.ParseResponse(want)
	if err != nil {
		return fmt.Errorf("built-in engine: %w", err)
	}
	gr, err := got.ParseReport()
	if err != nil {
		return err
	}
	wr, err := w.ParseReport()
	if err != nil {
		return fmt.Errorf("built-in engine: %w", err)
	}
	if len(gr.Decisions) != len(wr.Decisions) {
		return fmt.Errorf("decided on %d events, the built-in engine on %d", len(gr.Decisions), len(wr.Decisions))
	}
	for k, wd := range wr.Decisions {
		gd := gr.Decisions[k]
		switch {
		case gd.ID != wd.ID || gd.Kind != wd.Kind:
			return fmt.Errorf("decision %d is for %s %q, the built-in engine's for %s %q", k, gd.Kind, gd.ID, wd.Kind, wd.ID)
		case gd.Kept != wd.Kept || gd.Reason != wd.Reason:
			return fmt.Errorf("event %q: kept=%v reason=%q, the built-in engine kept=%v reason=%q", gd.ID, gd.Kept, gd.Reason, wd.Kept, wd.Reason)
		case gd.Masked < wd.Masked:
			return fmt.Errorf("event %q: masks %d values, fewer than the built-in engine's %d", gd.ID, gd.Masked, wd.Masked)
		}
	}
	return nil
}
