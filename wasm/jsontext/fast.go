package jsontext

// The common cases of the Reader's most frequent steps, each falling back
// to the general code for anything else. Natively these are the functions
// the Reader calls (fast_other.go); under wasm the Reader calls the same
// steps written in assembly (fast_wasm.s), each one structured block: Go
// compiled to wasm takes every branch and every loop iteration through its
// function's dispatch loop and pays dearly for every call, and these steps
// were the largest costs of the walk. The Go versions are the reference
// the assembly is tested against (fast_test.go, which `go tool task
// wasm:test-wasip1` runs under wazero).

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

// stringNextGo is String: it takes a string without escapes whose closing
// quote lies before the input's last eight bytes, and leaves anything else
// to stringSlow.
func stringNextGo(r *Reader) (start, end int, escaped bool) {
	in, p := r.In, r.Pos
	if p < len(in) && in[p] == '"' {
		for i := p + 1; i+8 <= len(in); i += 8 {
			if m := special(binary.LittleEndian.Uint64(in[i:])); m != 0 {
				if i += bits.TrailingZeros64(m) >> 3; in[i] == '"' {
					r.Pos = i + 1
					return p + 1, i, false
				}
				break
			}
		}
	}
	return stringSlow(r)
}

// copyNextGo is Copy: it takes, directly after the pending span, a string
// as stringNextGo does or a positive integer, and leaves anything else to
// copySlow.
func copyNextGo(r *Reader) {
	in, p := r.In, r.Pos
	if p < len(in) && r.pe == p {
		switch c := in[p]; {
		case c == '"':
			for i := p + 1; i+8 <= len(in); i += 8 {
				if m := special(binary.LittleEndian.Uint64(in[i:])); m != 0 {
					if i += bits.TrailingZeros64(m) >> 3; in[i] == '"' {
						r.Pos, r.pe = i+1, i+1
						return
					}
					break
				}
			}
		case c-'1' <= 8:
			i := p + 1
			for i < len(in) && in[i]-'0' <= 9 {
				i++
			}
			if i == len(in) || in[i] != '.' && in[i]|0x20 != 'e' {
				r.Pos, r.pe = i, i
				return
			}
		}
	}
	copySlow(r)
}

// openNextGo is OpenCopy: it takes c directly after the pending span,
// short of the nesting limit, and leaves anything else to openSlow.
func openNextGo(r *Reader, c byte) {
	if p := r.Pos; p < len(r.In) && r.In[p] == c && r.pe == p && r.depth < MaxDepth {
		r.depth++
		r.Pos, r.pe = p+1, p+1
		return
	}
	openSlow(r, c)
}

// elemNextGo is NextElemCopy: directly after the pending span, it takes
// the closing bracket, the first element's first byte, or a comma and the
// next element's first byte, and leaves anything else to elemSlow.
func elemNextGo(r *Reader, n *int) bool {
	in, p := r.In, r.Pos
	if p < len(in) && r.pe == p {
		c := in[p]
		switch {
		case c == ']':
			r.Pos, r.pe = p+1, p+1
			r.depth--
			return false
		case *n == 0:
			if c > ' ' {
				*n = 1
				return true
			}
		case c == ',' && p+1 < len(in) && in[p+1] > ' ':
			r.Pos, r.pe = p+1, p+1
			*n++
			return true
		}
	}
	return elemSlow(r, n)
}

// intNextGo is Int: it takes a positive integer of up to 18 digits (so
// that it fits without a test per digit), and leaves anything else to
// intSlow.
func intNextGo(r *Reader) int64 {
	in, i := r.In, r.Pos
	if i < len(in) && in[i]-'1' <= 8 {
		j := i + 1
		for j < len(in) && in[j]-'0' <= 9 {
			j++
		}
		if j-i <= 18 && (j == len(in) || in[j] != '.' && in[j]|0x20 != 'e') {
			r.Pos = j
			var v int64
			for _, c := range in[i:j] {
				v = v*10 + int64(c-'0')
			}
			return v
		}
	}
	return intSlow(r)
}
