package engine

import (
	"testing"

	"github.com/rearview-dev/rearview/wasm/testbatch"
)

// BenchmarkHandle measures the engine alone, natively: one request
// envelope in, one response envelope out.
func BenchmarkHandle(b *testing.B) {
	for _, bt := range []struct {
		name string
		data []byte
	}{{"errors50", testbatch.Errors(50)}, {"replay500k", testbatch.Replay(500 << 10)}} {
		b.Run(bt.name, func(b *testing.B) {
			e := New()
			req := AppendRequest(nil, nil, Context{Region: "eu", UA: "Mozilla/5.0 Chrome/156"}, bt.data)
			b.SetBytes(int64(len(bt.data)))
			b.ReportAllocs()
			for b.Loop() {
				e.Handle(req)
			}
		})
	}
}
