package wasmhost

import (
	"context"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/wasm"
	"github.com/rearview-dev/rearview/wasm/engine"
	"github.com/rearview-dev/rearview/wasm/testbatch"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

func TestProbe(t *testing.T) {
	ctx := context.Background()
	for _, cod := range []bool{false, true} {
		rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(cod))
		wasi_snapshot_preview1.MustInstantiate(ctx, rt)
		c, err := rt.CompileModule(ctx, wasm.Module())
		if err != nil {
			t.Fatal(err)
		}
		m := newModule(rt, c, "x", 1)
		in, err := m.instantiate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1, 10, 50} {
			req := engine.AppendRequest(nil, nil, engine.Context{UA: selfTestUA}, testbatch.Errors(n))
			in.call(ctx, req)
			st := time.Now()
			for range 5 {
				if _, err := in.call(ctx, req); err != nil {
					t.Fatal(err)
				}
			}
			t.Logf("cod=%v n=%d: %v per call, mem %d", cod, n, time.Since(st)/5, in.mem.Size())
		}
		rt.Close(ctx)
	}
}
