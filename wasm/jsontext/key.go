package jsontext

import (
	"encoding/binary"
	"math/bits"
)

// keyNextGo is NextKey (write false) and NextKeyCopy (write true): it takes
// the common case itself, with as few tests as it takes (in compact input
// the comma unless first, a plain key of up to 16 bytes, its quote and the
// colon; or the closing brace), and leaves anything else, including what
// is invalid, to nextKeySlow, from the start. When writing it also leaves
// it what does not directly follow the pending span.
//
// keyNext is this function natively. Under wasm it is written in assembly
// (key_wasm.s), its common case as one structured block: Go compiled to
// wasm takes every branch through its function's dispatch loop and pays
// dearly for every call, and this was the largest single cost of the
// walk. This version is the reference the assembly is tested against
// (TestKeyNext, which `go tool task wasm:test-wasip1` runs under wazero).
func keyNextGo(r *Reader, n *int, write bool) bool {
	in, p := r.In, r.Pos
	if p+19 > len(in) || write && r.pe != p {
		return nextKeySlow(r, n, write)
	}
	c := in[p]
	if c == '}' {
		r.Pos++
		r.depth--
		if write {
			r.pe = r.Pos
		}
		return false
	}
	if c == ',' && *n > 0 {
		p++
		c = in[p]
	}
	if c != '"' || *n > 0 && p == r.Pos {
		return nextKeySlow(r, n, write)
	}
	i := p + 1
	m := special(binary.LittleEndian.Uint64(in[i:]))
	if m == 0 {
		i += 8
		m = special(binary.LittleEndian.Uint64(in[i:]))
	}
	if m == 0 {
		return nextKeySlow(r, n, write)
	}
	j := i + bits.TrailingZeros64(m)>>3
	if in[j] != '"' || in[j+1] != ':' {
		return nextKeySlow(r, n, write)
	}
	*n++
	r.KeyStart, r.KeyEnd, r.KeyEscaped, r.KeyColon = p+1, j, false, true
	if write {
		r.pe = j + 2
	}
	r.Pos = j + 2
	return true
}
