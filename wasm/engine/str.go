package engine

import (
	"encoding/binary"
	"math/bits"

	"github.com/rearview-dev/rearview/wasm/jsontext"
	"github.com/rearview-dev/rearview/wasm/mask"
)

// How a string value is masked.
type mode int

const (
	mCopy       mode = iota
	mDetect          // run the detectors
	mURL             // mask sensitive query values, then run the detectors
	mStars           // mask every character
	mStarsText       // like mStars, but CSS-looking text is copied
	mDetectText      // like mDetect, but CSS-looking text is copied
)

// str reads a string value and writes it masked by m, counting a masked
// field. A value that is not a string is walked generically.
func (e *Engine) str(m mode) {
	r := &e.r
	var s, end int
	var esc bool
	// A string without escapes is found here, the rest by String: under
	// wasm its call costs about as much as the scan.
	if in, p := r.In, r.Pos; p < len(in) && in[p] == '"' {
		for i := p + 1; i+8 <= len(in); i += 8 {
			if sp := jsontext.Special(binary.LittleEndian.Uint64(in[i:])); sp != 0 {
				if i += bits.TrailingZeros64(sp) >> 3; in[i] == '"' {
					s, end, r.Pos = p+1, i, i+1
					goto read
				}
				break
			}
		}
	}
	if r.Peek() != '"' {
		e.generic()
		return
	}
	s, end, esc = r.String()
read:
	// strRead, inlined by hand: this runs for most strings, and under
	// wasm a call costs more than these lines.
	if repl, changed := e.maskString(r.In[s:end], esc, m); changed {
		e.replace(s, end, repl)
	} else {
		r.Emit(s-1, end+1) // with its quotes
	}
}

// strRead writes the string just read, whose raw content is In[s:end],
// masked by m, counting a masked field. Callers that look at a string
// before masking it read it once and call this, rather than reading it
// twice.
func (e *Engine) strRead(s, end int, esc bool, m mode) {
	if repl, changed := e.maskString(e.r.In[s:end], esc, m); changed {
		e.replace(s, end, repl)
	} else {
		e.r.Emit(s-1, end+1) // with its quotes
	}
}

// replace writes the string whose raw content is In[s:end] with repl as
// its content, counting a masked field.
func (e *Engine) replace(s, end int, repl []byte) {
	r := &e.r
	r.Emit(s-1, s) // the opening quote
	r.WriteBytes(repl)
	r.Emit(end, end+1)
	e.evMasked++
}

// maskString returns the raw string content v (esc: it holds escapes) masked
// by m, and whether that changed it. It does not write v, which may lie in
// the input or in the output: a string that needs no masking (most) is
// left where it is and copied with its neighbours. The result aliases a
// buffer of e, valid until the next call.
func (e *Engine) maskString(v []byte, esc bool, m mode) ([]byte, bool) {
	// The common case first, in as few steps as it takes: a string without
	// escapes to run the detectors on, most often found in the memo. Under
	// wasm every step not taken in line is a jump through the function's
	// dispatch loop.
	if !esc && (m == mDetect || m == mURL) {
		if m == mDetect && !mask.MayMatch(v) {
			return nil, false // what Detect would find first, before the memo
		}
		if len(v) < memoMin {
			// The detectors mask in place: run them on a copy.
			buf := append(e.scratch[:0], v...)
			keep(&e.scratch, buf)
			return buf, e.detect(buf, m) > 0
		}
		found, h := e.memo.find(v, m)
		if found {
			out := e.memo.masked(h)
			return out, out != nil
		}
		return e.detectNew(v, m, h)
	}
	return e.maskOther(v, esc, m)
}

// maskOther is maskString for the other modes, and for strings with
// escapes.
func (e *Engine) maskOther(v []byte, esc bool, m mode) ([]byte, bool) {
	switch m {
	case mCopy:
		return nil, false
	case mStarsText, mDetectText:
		if looksLikeCSS(v) {
			return nil, false
		}
		if m == mDetectText {
			return e.maskString(v, esc, mDetect)
		}
		fallthrough
	case mStars:
		buf, changed := mask.AppendStars(e.scratch[:0], v)
		keep(&e.scratch, buf)
		return buf, changed
	}
	buf := jsontext.Unescape(e.scratch[:0], v)
	keep(&e.scratch, buf)
	if e.detect(buf, m) == 0 {
		return nil, false
	}
	out := jsontext.AppendEscaped(e.spare[:0], buf)
	keep(&e.spare, out)
	return out, true
}

// detectNew runs the detectors on a string without escapes that the memo
// does not hold (its hash h) and remembers what they made of it.
func (e *Engine) detectNew(v []byte, m mode, h uint64) ([]byte, bool) {
	// The detectors mask in place: run them on a copy.
	buf := append(e.scratch[:0], v...)
	keep(&e.scratch, buf)
	changed := e.detect(buf, m) > 0
	if changed {
		e.memo.add(v, m, h, buf)
	} else {
		e.memo.add(v, m, h, nil)
	}
	return buf, changed
}

// keep stores buf, appended to *dst[:0], in *dst only when it moved:
// storing a slice in the Engine costs a write barrier whenever a garbage
// collection is running, and under wasm one runs until the module next
// allocates, for whole batches (see jsontext.Reader.write).
func keep(dst *[]byte, buf []byte) {
	if cap(buf) != cap(*dst) {
		*dst = buf
	}
}

func (e *Engine) detect(b []byte, m mode) int {
	if m == mURL {
		n, buf := mask.URL(b, e.p.Detectors, e.p.Masking.QueryAll, e.queryParam, e.urlBuf)
		keep(&e.urlBuf, buf)
		return n
	}
	return mask.Detect(b, e.p.Detectors)
}

func (e *Engine) queryParam(name []byte) bool {
	for _, q := range e.p.Masking.QueryParams {
		if string(name) == q {
			return true
		}
	}
	return false
}

// splice replaces Out[a:b] with repl; Out must hold all the output (see
// jsontext.Reader.Flush).
func (e *Engine) splice(a, b int, repl []byte) {
	out := e.r.Out
	if len(repl) <= b-a {
		copy(out[a:], repl)
		n := copy(out[a+len(repl):], out[b:])
		e.r.Out = out[:a+len(repl)+n]
		return
	}
	tail := len(out) - b
	grow := len(repl) - (b - a)
	for range grow {
		out = append(out, 0)
	}
	copy(out[a+len(repl):], out[b:b+tail])
	copy(out[a:], repl)
	e.r.Out = out
}

// looksLikeCSS reports whether text is probably a stylesheet, which must
// never be masked even when we do not know it sits in a <style>.
func looksLikeCSS(b []byte) bool {
	open, close, colon := false, false, false
	for _, c := range b {
		switch c {
		case '{':
			open = true
		case '}':
			close = true
		case ':':
			colon = true
		}
	}
	return open && close && colon
}

// longKey is a key of nine to sixteen bytes, as two overlapping words:
// Go compares a constant of more than eight bytes by calling the runtime's
// memequal, two calls under wasm, where this compares two words inline.
type longKey struct {
	n    int
	a, b uint64
}

func newLongKey(s string) longKey {
	if len(s) < 9 || len(s) > 16 {
		panic("longKey: " + s)
	}
	return longKey{len(s), binary.LittleEndian.Uint64([]byte(s)), binary.LittleEndian.Uint64([]byte(s[len(s)-8:]))}
}

// eq reports whether a key of n bytes whose words (see keyWords) are a
// and b is the key.
func (l *longKey) eq(n int, a, b uint64) bool { return n == l.n && a == l.a && b == l.b }

// keyWords returns the first and the last eight bytes of k, which has at
// least eight, as words.
func keyWords(k []byte) (uint64, uint64) {
	return binary.LittleEndian.Uint64(k), binary.LittleEndian.Uint64(k[len(k)-8:])
}
