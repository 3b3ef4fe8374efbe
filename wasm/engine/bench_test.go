package engine

import (
	"testing"

	"github.com/rearview-dev/rearview/wasm/testbatch"
)

// BenchmarkHandle measures the engine alone: one request envelope in, one
// response envelope out. Run it under wasm too: GOOS=wasip1 GOARCH=wasm
// go test -c, then run the test binary under any WASI runtime.
func BenchmarkHandle(b *testing.B) {
	for _, bt := range []struct {
		name string
		data []byte
	}{{"errors50", testbatch.Errors(50)}, {"replay500k", testbatch.Replay(500 << 10)}} {
		for _, p := range []struct{ name, doc string }{
			{"default", ``},
			{"no-detectors", `{"masking":{"detectors":[]}}`},
			{"walk-only", `{"masking":{"detectors":[],"selectors":[],"inputs":false},"noise":{"messages":[]}}`},
		} {
			b.Run(bt.name+"/"+p.name, func(b *testing.B) {
				e := New()
				req := AppendRequest(nil, []byte(p.doc), Context{Region: "eu", UA: "Mozilla/5.0 Chrome/156"}, bt.data)
				b.SetBytes(int64(len(bt.data)))
				b.ReportAllocs()
				for b.Loop() {
					e.Handle(req)
				}
			})
		}
	}
}
