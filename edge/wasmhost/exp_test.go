package wasmhost

import (
	"context"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/wasm/engine"
	"github.com/rearview-dev/rearview/wasm/testbatch"
)

func TestExp(t *testing.T) {
	ctx := context.Background()
	w := newStage(t, Config{Instances: 1})
	n := newStage(t, Config{Native: true, Instances: 1})
	for _, bt := range []struct {
		name string
		b    []byte
	}{{"errors", testbatch.Errors(50)}, {"replay", testbatch.Replay(500 << 10)}} {
		for _, p := range []string{``, `{"masking":{"detectors":[]}}`, `{"masking":{"detectors":[],"selectors":[]}}`, `{"masking":{"strict":true}}`} {
			req := engine.AppendRequest(nil, []byte(p), engine.Context{UA: selfTestUA}, bt.b)
			for _, s := range []*Stage{w, n} {
				s.Raw(ctx, req)
				st := time.Now()
				k := 0
				for time.Since(st) < 300*time.Millisecond {
					s.Raw(ctx, req)
					k++
				}
				d := time.Since(st) / time.Duration(k)
				t.Logf("%s %-45s native=%v %v  %.1f MB/s", bt.name, p, s.cfg.Native, d, float64(len(bt.b))/d.Seconds()/1e6)
			}
		}
	}
}
