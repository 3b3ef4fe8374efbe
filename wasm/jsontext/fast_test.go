package jsontext

import (
	"math/rand/v2"
	"testing"
)

// TestKeyNext checks keyNext against keyNextGo, which it is natively and
// which the assembly of the wasm build must match, on every prefix shape
// the common case looks at: separators, quotes, keys of every length
// around the 8- and 16-byte words, escapes, control bytes, missing colons,
// closing braces, input ending early, and a pending span that does or does
// not reach the key. Syntax errors must be the same too.
func TestKeyNext(t *testing.T) {
	pieces := []string{",", "\"", ":", "a", "key", "0123456789abcdef", "\\", "\\n", "\x01", " ", "}", "é", "\"x\"", "ab\"", "\":", "\",", "\"\":"}
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 200000; iter++ {
		b := join(rng, pieces, 12)
		if rng.IntN(2) == 0 {
			b = append(b, ":1}           "[:rng.IntN(15)]...)
		}
		pos := 0
		if len(b) > 0 && rng.IntN(3) == 0 {
			pos = rng.IntN(len(b))
		}
		n0 := rng.IntN(3)
		write := rng.IntN(2) == 0
		pe := pos
		if rng.IntN(4) == 0 {
			pe = 0
		}
		b = padded(rng, b, `":`)
		mk := func() (*Reader, int) {
			r := &Reader{In: b, Pos: pos, ps: 0, pe: pe, depth: 3, KeyStart: -1, KeyEnd: -1, KeyEscaped: true}
			return r, n0
		}
		r1, n1 := mk()
		r2, n2 := mk()
		ok1, err1 := catch(func() bool { return keyNext(r1, &n1, write) })
		ok2, err2 := catch(func() bool { return keyNextGo(r2, &n2, write) })
		if ok1 != ok2 || err1 != err2 || r1.depth != r2.depth || n1 != n2 || r1.Pos != r2.Pos || r1.pe != r2.pe || r1.ps != r2.ps ||
			r1.KeyStart != r2.KeyStart || r1.KeyEnd != r2.KeyEnd || r1.KeyEscaped != r2.KeyEscaped || r1.KeyColon != r2.KeyColon {
			t.Fatalf("input %q pos %d n %d write %v pe %d:\nkeyNext   %v %q n=%d %+v\nkeyNextGo %v %q n=%d %+v",
				b, pos, n0, write, pe, ok1, err1, n1, *r1, ok2, err2, n2, *r2)
		}
	}
}

// TestStringCopyNext checks stringNext and copyNext against stringNextGo
// and copyNextGo, which they are natively and which the assembly of the
// wasm build must match: strings with and without escapes, control bytes
// and closing quotes around the eight-byte words and the input's end,
// integers, fractions, exponents, negative numbers, literals, whitespace,
// invalid values, and a pending span that does or does not reach them.
func TestStringCopyNext(t *testing.T) {
	pieces := []string{"\"", "\"abc\"", "\"0123456789abcdef\"", "\\", "\\\"", "\\u00e9", "\x01", "a", "é", " ", "1", "12345", "0", "-", ".", "5e3", "E", "true", "null", ",", "}", "]"}
	rng := rand.New(rand.NewPCG(7, 8))
	type state struct {
		Pos, ps, pe int
		Out         string
	}
	for iter := 0; iter < 200000; iter++ {
		b := join(rng, pieces, 8)
		pos := 0
		if len(b) > 0 && rng.IntN(4) == 0 {
			pos = rng.IntN(len(b))
		}
		pe := pos
		if rng.IntN(4) == 0 {
			pe = 0
		}
		b = padded(rng, b, `"9`)
		mk := func() *Reader {
			return &Reader{In: b, Pos: pos, ps: 0, pe: pe, Out: make([]byte, 0, 4)}
		}
		st := func(r *Reader) state { return state{r.Pos, r.ps, r.pe, string(r.Out)} }

		r1, r2 := mk(), mk()
		type str struct {
			s, e int
			esc  bool
		}
		str1, err1 := catch(func() str { s, e, esc := stringNext(r1); return str{s, e, esc} })
		str2, err2 := catch(func() str { s, e, esc := stringNextGo(r2); return str{s, e, esc} })
		s1, e1, x1 := str1.s, str1.e, str1.esc
		s2, e2, x2 := str2.s, str2.e, str2.esc
		if s1 != s2 || e1 != e2 || x1 != x2 || err1 != err2 || st(r1) != st(r2) {
			t.Fatalf("String of %q at %d:\nstringNext   %d %d %v %q %+v\nstringNextGo %d %d %v %q %+v",
				b, pos, s1, e1, x1, err1, st(r1), s2, e2, x2, err2, st(r2))
		}

		r1, r2 = mk(), mk()
		_, err1 = catch(func() bool { copyNext(r1); return true })
		_, err2 = catch(func() bool { copyNextGo(r2); return true })
		if err1 != err2 || st(r1) != st(r2) {
			t.Fatalf("Copy of %q at %d pe %d:\ncopyNext   %q %+v\ncopyNextGo %q %+v", b, pos, pe, err1, st(r1), err2, st(r2))
		}
	}
}

// TestOpenElemNext checks openNext and elemNext against openNextGo and
// elemNextGo, which they are natively and which the assembly of the wasm
// build must match: brackets, braces, commas, whitespace, the end of the
// input, the first element or a later one, the nesting limit, and a
// pending span that does or does not reach them.
func TestOpenElemNext(t *testing.T) {
	pieces := []string{"[", "]", "{", "}", ",", " ", "\n", "1", "\"", "a"}
	rng := rand.New(rand.NewPCG(13, 14))
	type state struct {
		Pos, ps, pe, depth int
		Out                string
	}
	for iter := 0; iter < 200000; iter++ {
		b := join(rng, pieces, 5)
		pos := 0
		if len(b) > 0 && rng.IntN(4) == 0 {
			pos = rng.IntN(len(b) + 1)
		}
		pe := pos
		if rng.IntN(4) == 0 {
			pe = 0
		}
		depth := []int{0, 3, MaxDepth - 1, MaxDepth}[rng.IntN(4)]
		n0 := rng.IntN(3)
		b = padded(rng, b, `,1`)
		mk := func() *Reader {
			return &Reader{In: b, Pos: pos, ps: 0, pe: pe, depth: depth, Out: make([]byte, 0, 4)}
		}
		st := func(r *Reader) state { return state{r.Pos, r.ps, r.pe, r.depth, string(r.Out)} }

		c := "[{x"[rng.IntN(3)]
		r1, r2 := mk(), mk()
		_, err1 := catch(func() bool { openNext(r1, c); return true })
		_, err2 := catch(func() bool { openNextGo(r2, c); return true })
		if err1 != err2 || st(r1) != st(r2) {
			t.Fatalf("OpenCopy(%q) of %q at %d pe %d depth %d:\nopenNext   %q %+v\nopenNextGo %q %+v", c, b, pos, pe, depth, err1, st(r1), err2, st(r2))
		}

		r1, r2 = mk(), mk()
		n1, n2 := n0, n0
		ok1, err1 := catch(func() bool { return elemNext(r1, &n1) })
		ok2, err2 := catch(func() bool { return elemNextGo(r2, &n2) })
		if ok1 != ok2 || n1 != n2 || err1 != err2 || st(r1) != st(r2) {
			t.Fatalf("NextElemCopy of %q at %d n %d pe %d:\nelemNext   %v n=%d %q %+v\nelemNextGo %v n=%d %q %+v", b, pos, n0, pe, ok1, n1, err1, st(r1), ok2, n2, err2, st(r2))
		}
	}
}

// TestIntNext checks intNext against intNextGo, which it is natively and
// which the assembly of the wasm build must match: integers of every
// length up to past 19 digits, zero, negative, fractions, exponents,
// whitespace, the end of the input and what is not a number.
func TestIntNext(t *testing.T) {
	pieces := []string{"1", "9", "0", "12345678", "-", ".", "5", "e", "E", "+", " ", "x", "\"", ","}
	rng := rand.New(rand.NewPCG(17, 18))
	for iter := 0; iter < 200000; iter++ {
		b := join(rng, pieces, 6)
		b = padded(rng, b, `9`)
		mk := func() *Reader { return &Reader{In: b} }
		r1, r2 := mk(), mk()
		v1, err1 := catch(func() int64 { return intNext(r1) })
		v2, err2 := catch(func() int64 { return intNextGo(r2) })
		if v1 != v2 || err1 != err2 || r1.Pos != r2.Pos {
			t.Fatalf("Int of %q: intNext %d %q pos %d, intNextGo %d %q pos %d", b, v1, err1, r1.Pos, v2, err2, r2.Pos)
		}
	}
}

// catch runs f, turning the syntax error it may panic with into its
// message, so that a step and its twin can be compared on invalid input too.
func catch[T any](f func() T) (v T, msg string) {
	defer func() {
		if p := recover(); p != nil {
			msg = p.(*SyntaxError).Error()
		}
	}()
	return f(), ""
}

// join returns one to n of pieces, picked at random, one after another.
func join(rng *rand.Rand, pieces []string, n int) []byte {
	var b []byte
	for k := rng.IntN(n); k >= 0; k-- {
		b = append(b, pieces[rng.IntN(len(pieces))]...)
	}
	return b
}

// padded returns b, cut short at times, in a buffer where tail repeats
// after it: the assembly reads memory in words, and a step that read past
// the end of its input would find there what it looks for rather than
// zeros, and so differ from its Go twin.
func padded(rng *rand.Rand, b []byte, tail string) []byte {
	if len(b) > 0 && rng.IntN(4) == 0 {
		b = b[:rng.IntN(len(b)+1)]
	}
	buf := make([]byte, len(b), len(b)+40)
	copy(buf, b)
	for k := 0; len(buf) < cap(buf); k++ {
		buf = append(buf, tail[k%len(tail)])
	}
	return buf[:len(b)]
}
