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

// benchUAs are browser User-Agents, one per batch in BenchmarkApplyUAs:
// each batch's User-Agent differs from the last, so the engine's memo of
// the last one never answers and the bot list is matched every time.
var benchUAs = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/153.0.0.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; SM-S918B Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.135 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/494.0.0.55.73;]",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Safari/605.1.15",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0",
}

// BenchmarkApplyUAs is BenchmarkApply's wasm/errors50 with a new
// User-Agent every batch: the worst case of the bot check.
func BenchmarkApplyUAs(b *testing.B) {
	data := testbatch.Errors(50)
	st := newStage(b, Config{Instances: 1})
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		in := edge.StageInput{Project: "p", Region: "eu", UserAgent: benchUAs[i%len(benchUAs)], Now: time.Now(), Batch: data}
		i++
		if _, err := st.Apply(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(50*b.N)/b.Elapsed().Seconds(), "events/s")
}
