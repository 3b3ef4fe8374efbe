package jsontext

import (
	"testing"

	"github.com/rearview-dev/rearview/wasm/testbatch"
)

// BenchmarkCopy measures validating and copying a 500 KB replay batch:
// the floor under what the engine's walk can cost.
func BenchmarkCopy(b *testing.B) {
	data := testbatch.Replay(500 << 10)
	var r Reader
	out := make([]byte, 0, len(data))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		r.Reset(data, out[:0])
		r.Copy()
	}
}
