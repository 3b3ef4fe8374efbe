package engine

import (
	"math/rand/v2"
	"testing"
)

// TestMemoClean checks memoClean against memoCleanGo, which it is natively
// and which the assembly of the wasm build must match: strings of every
// length around the word size, remembered or not, in the same or another
// mode, differing from a remembered one in a single byte (in a full word
// or in the tail), and after the memo was reset.
func TestMemoClean(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var mm memo
	mm.reset()
	var seen [][]byte
	check := func(b []byte, m mode) {
		t.Helper()
		c1, h1 := memoClean(&mm, b, m)
		c2, h2 := memoCleanGo(&mm, b, m)
		if c1 != c2 || h1 != h2 {
			t.Fatalf("%q mode %d: memoClean %v %x, memoCleanGo %v %x", b, m, c1, h1, c2, h2)
		}
	}
	hits := 0
	for iter := 0; iter < 100000; iter++ {
		var b []byte
		switch k := rng.IntN(4); {
		case k == 0 && len(seen) > 0:
			b = append([]byte(nil), seen[rng.IntN(len(seen))]...)
			if len(b) > 0 && rng.IntN(2) == 0 {
				b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
			}
		default:
			b = make([]byte, rng.IntN(40))
			for i := range b {
				b[i] = "ab:/.0\x00\xff"[rng.IntN(8)]
			}
		}
		// A slice inside a larger buffer, as strings of a batch are: the
		// assembly reads the words around it.
		buf := make([]byte, 16+len(b)+16)
		for i := range buf {
			buf[i] = byte(rng.Uint32())
		}
		v := buf[16 : 16+len(b)]
		copy(v, b)
		m := mode(rng.IntN(3) + 1)
		check(v, m)
		if c, h := memoCleanGo(&mm, v, m); c {
			hits++
		} else if rng.IntN(2) == 0 {
			mm.add(v, m, h, nil)
			seen = append(seen, append([]byte(nil), v...))
			check(v, m)
		}
		if rng.IntN(20000) == 0 {
			mm.reset()
		}
	}
	if hits == 0 {
		t.Fatal("no string was found in the memo: the test checks only misses")
	}
}
