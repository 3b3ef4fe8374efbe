package wasmhost

import (
	"bytes"
	"context"
	"errors"
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

// selfTest runs the golden corpus through a candidate module. The module
// passes when, for every vector and policy, it answers within the
// deadline, its output decodes strictly, it keeps and drops the same
// events as the engine built into this binary, and none of the planted
// personal data survives.
func selfTest(ctx context.Context, m *module, timeout time.Duration) error {
	native := engine.New()
	canaries := wasm.Canaries()
	now := time.Date(2025, 11, 25, 0, 0, 0, 0, time.UTC).UnixMilli()
	for _, v := range wasm.Corpus() {
		for pi, doc := range selfTestPolicies {
			req := engine.AppendRequest(nil, doc, engine.Context{Project: "selftest", Region: "selftest", UA: selfTestUA, Now: now}, v.Batch)
			out, err := m.raw(ctx, req, timeout)
			if err != nil {
				return fmt.Errorf("%s (policy %d): %w", v.Name, pi, err)
			}
			got, err := engine.ParseResponse(out)
			if err != nil {
				return fmt.Errorf("%s (policy %d): %w", v.Name, pi, err)
			}
			rep, err := got.ParseReport()
			if err != nil {
				return fmt.Errorf("%s (policy %d): %w", v.Name, pi, err)
			}
			if len(got.Batch) > 0 {
				if _, rej, err := sdkproto.Decode(got.Batch, sdkproto.DefaultLimits()); err != nil || len(rej) > 0 {
					return fmt.Errorf("%s (policy %d): output does not decode: %v %v", v.Name, pi, err, rej)
				}
			}
			want, err := engine.ParseResponse(native.Handle(req))
			if err != nil {
				return fmt.Errorf("%s (policy %d): built-in engine: %w", v.Name, pi, err)
			}
			wantRep, err := want.ParseReport()
			if err != nil {
				return err
			}
			if err := sameDecisions(rep, wantRep); err != nil {
				return fmt.Errorf("%s (policy %d): %w", v.Name, pi, err)
			}
			for _, c := range canaries {
				if bytes.Contains(out, []byte(c)) {
					return fmt.Errorf("%s (policy %d): personal data %.4s… survives", v.Name, pi, c)
				}
			}
		}
	}
	return nil
}

func sameDecisions(got, want engine.Report) error {
	if len(got.Decisions) != len(want.Decisions) {
		return fmt.Errorf("%d decisions, want %d", len(got.Decisions), len(want.Decisions))
	}
	for i, d := range got.Decisions {
		w := want.Decisions[i]
		if d.ID != w.ID || d.Kept != w.Kept {
			return fmt.Errorf("event %q: kept=%v, want %q kept=%v", d.ID, d.Kept, w.ID, w.Kept)
		}
	}
	if got.Kept != want.Kept {
		return errors.New("kept count differs from the decisions")
	}
	return nil
}
