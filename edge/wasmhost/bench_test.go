package wasmhost

import (
	"context"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/edge"
	"github.com/rearview-dev/rearview/wasm"
	"github.com/rearview-dev/rearview/wasm/testbatch"
)

// BenchmarkApply measures one batch through the stage, wasm and native,
// for a 50-event error batch and a ~500 KB replay segment with a full
// snapshot, under the full default policy. Report events/s and MB/s.
func BenchmarkApply(b *testing.B) {
	batches := []struct {
		name   string
		data   []byte
		events int
	}{
		{"errors50", testbatch.Errors(50), 50},
		{"replay500k", testbatch.Replay(500 << 10), 1},
	}
	for _, mode := range []string{"wasm", "wasm-hard-deadline", "native"} {
		st := newStage(b, Config{Native: mode == "native", HardDeadline: mode == "wasm-hard-deadline", Instances: 1})
		for _, bt := range batches {
			in := edge.StageInput{Project: "p", Region: "eu", UserAgent: selfTestUA, Now: time.Now(), Batch: bt.data}
			b.Run(mode+"/"+bt.name, func(b *testing.B) {
				b.SetBytes(int64(len(bt.data)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := st.Apply(context.Background(), in); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(bt.events*b.N)/b.Elapsed().Seconds(), "events/s")
			})
		}
		if mode == "wasm" {
			s := st.Stats()
			for _, m := range s.MemoryBytes {
				b.Logf("instance memory after the run: %.1f MiB", float64(m)/(1<<20))
			}
		}
	}
}

// BenchmarkPool measures throughput of the instance pool under parallel
// load on the 50-event error batch.
func BenchmarkPool(b *testing.B) {
	data := testbatch.Errors(50)
	st := newStage(b, Config{})
	in := edge.StageInput{Project: "p", Region: "eu", UserAgent: selfTestUA, Now: time.Now(), Batch: data}
	b.SetBytes(int64(len(data)))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := st.Apply(context.Background(), in); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(50*b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkStartup measures compiling the module (cold, no cache) and
// instantiating it.
func BenchmarkStartup(b *testing.B) {
	ctx := context.Background()
	bin := wasm.Module()
	b.Run("compile", func(b *testing.B) {
		for b.Loop() {
			rt, err := runtimeWith(ctx, nil, 64<<20, false)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := rt.CompileModule(ctx, bin); err != nil {
				b.Fatal(err)
			}
			rt.Close(ctx)
		}
	})
	b.Run("instantiate", func(b *testing.B) {
		rt, err := runtimeWith(ctx, nil, 64<<20, false)
		if err != nil {
			b.Fatal(err)
		}
		defer rt.Close(ctx)
		c, err := rt.CompileModule(ctx, bin)
		if err != nil {
			b.Fatal(err)
		}
		m := newModule(rt, c, "x", 1, false, nil)
		for b.Loop() {
			in, err := m.instantiate(ctx)
			if err != nil {
				b.Fatal(err)
			}
			in.mod.Close(ctx)
		}
	})
	b.Logf("module size: %d bytes", len(bin))
}
