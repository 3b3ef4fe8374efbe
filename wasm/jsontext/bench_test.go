package jsontext

import (
	"testing"

	"github.com/rearview-dev/rearview/wasm/testbatch"
)

// BenchmarkCopy measures validating and copying a 500 KB replay batch and
// a 50-event error batch: the floor under what the engine's walk can cost.
func BenchmarkCopy(b *testing.B) {
	for _, bt := range []struct {
		name string
		data []byte
	}{{"replay500k", testbatch.Replay(500 << 10)}, {"errors50", testbatch.Errors(50)}} {
		b.Run(bt.name, func(b *testing.B) {
			var r Reader
			out := make([]byte, 0, len(bt.data))
			b.SetBytes(int64(len(bt.data)))
			for b.Loop() {
				r.Reset(bt.data, out[:0])
				r.Copy()
			}
		})
	}
}
