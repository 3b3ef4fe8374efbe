// Package jsontext is a strict, allocation-free JSON reader that copies what
// it reads to an output buffer. The policy engine walks a batch with it once,
// copying most bytes verbatim and rewriting only the strings it masks, which
// is what keeps the hot path fast under wasm, where Go's allocator and GC
// cost several times what they cost natively.
//
// Syntax errors panic with a *SyntaxError; the caller recovers it at its
// top level (see Catch), which keeps every step of a recursive walk free of
// error plumbing.
package jsontext

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"strconv"
)

// SyntaxError reports malformed JSON at a byte offset.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return "invalid JSON at offset " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// Catch turns a *SyntaxError panic raised while reading into an error. Use
// it as `defer jsontext.Catch(&err)`; other panics propagate.
func Catch(err *error) {
	if r := recover(); r != nil {
		se, ok := r.(*SyntaxError)
		if !ok {
			panic(r)
		}
		*err = se
	}
}

// MaxDepth bounds nesting so that a hostile document cannot exhaust the
// stack of a wasm instance.
const MaxDepth = 512

// Reader reads JSON from In starting at Pos and appends to Out.
//
// Output is lazy: what a walk copies unchanged from In is not copied at
// once but joins a pending span of In, In[ps:pe], copied to Out with one
// copy only when something else must follow it (a masked string, bytes
// the input does not hold there, skipped whitespace, a jump). The output
// written so far is Out followed by the pending span; OutLen, Truncate and
// OutSlice work on that whole. Most of a batch is copied unchanged, and
// under wasm the copy of each token (a call, a branch on its length) cost
// more than finding it.
type Reader struct {
	In    []byte
	Pos   int
	Out   []byte
	ps    int // the pending span of In, output after Out
	pe    int
	depth int
	// KeyEscaped reports whether the last key read by NextKey held
	// escapes: when false Key is the key exactly as it appears in the
	// input, between In[KeyStart-1] and In[KeyEnd] (its quotes).
	KeyEscaped bool
	// KeyStart and KeyEnd bound the raw content of the last key in In.
	// Bounds rather than a slice: storing a pointer into the heap-allocated
	// Reader on every key costs a GC write barrier whenever a collection
	// is running, and under wasm the collector's mark phase stays on until
	// the mutator allocates or yields, so it is on for whole batches.
	KeyStart, KeyEnd int
	// KeyColon reports whether the key's closing quote was directly
	// followed by the colon, so that In[KeyStart-1:KeyEnd+2] is `"key":`.
	KeyColon bool
	keyBuf   []byte
}

// Key returns the last key read by NextKey, unescaped; it aliases In or an
// internal buffer and is valid until the next NextKey.
func (r *Reader) Key() []byte {
	if r.KeyEscaped {
		return r.keyBuf
	}
	return r.In[r.KeyStart:r.KeyEnd]
}

// Mark is a position to return to after looking ahead.
type Mark struct{ pos, depth int }

// Mark returns the current position.
func (r *Reader) Mark() Mark { return Mark{r.Pos, r.depth} }

// Restore returns to a position taken with Mark.
func (r *Reader) Restore(m Mark) { r.Pos, r.depth = m.pos, m.depth }

// Reset points r at a new input, keeping its buffers.
func (r *Reader) Reset(in []byte, out []byte) {
	r.In, r.Pos, r.Out, r.depth = in, 0, out, 0
	r.ps, r.pe = 0, 0
	r.KeyStart, r.KeyEnd, r.KeyEscaped, r.KeyColon = 0, 0, false, false
}

// Fail panics with a syntax error at the current offset.
func (r *Reader) Fail(msg string) {
	panic(&SyntaxError{Offset: r.Pos, Msg: msg})
}

// WS skips whitespace.
func (r *Reader) WS() {
	for r.Pos < len(r.In) {
		switch r.In[r.Pos] {
		case ' ', '\t', '\n', '\r':
			r.Pos++
		default:
			return
		}
	}
}

// ws is WS with the common case, no whitespace, inlined at the caller.
func (r *Reader) ws() {
	if r.Pos < len(r.In) && r.In[r.Pos] <= ' ' {
		r.WS()
	}
}

// Peek skips whitespace and returns the next byte, failing at the end.
// The common case (compact JSON: no whitespace) is inlined at the caller:
// under wasm a call costs far more than the test.
func (r *Reader) Peek() byte {
	if r.Pos < len(r.In) {
		if c := r.In[r.Pos]; c > ' ' {
			return c
		}
	}
	return r.peekSlow()
}

func (r *Reader) peekSlow() byte {
	r.WS()
	if r.Pos >= len(r.In) {
		r.Fail("unexpected end of input")
	}
	return r.In[r.Pos]
}

// End fails unless only whitespace remains.
func (r *Reader) End() {
	r.WS()
	if r.Pos != len(r.In) {
		r.Fail("data after the top-level value")
	}
}

func (r *Reader) expect(c byte) {
	if r.Peek() != c {
		r.Fail("expected " + strconv.QuoteRune(rune(c)))
	}
	r.Pos++
}

// Open consumes c ('{' or '[') and enters a level of nesting.
func (r *Reader) Open(c byte) {
	if r.Pos < len(r.In) && r.In[r.Pos] == c {
		r.Pos++ // compact input: no call
	} else {
		r.expect(c)
	}
	r.depth++
	if r.depth > MaxDepth {
		r.Fail("nesting too deep")
	}
}

// OpenCopy is Open that also writes c: one call where Open and Lit were
// two (under wasm a call costs far more than natively).
func (r *Reader) OpenCopy(c byte) { openNext(r, c) }

// openSlow is OpenCopy for what openNext's common case does not cover.
func openSlow(r *Reader, c byte) {
	if r.Pos < len(r.In) && r.In[r.Pos] == c {
		r.Pos++
	} else {
		r.expect(c)
	}
	r.depth++
	if r.depth > MaxDepth {
		r.Fail("nesting too deep")
	}
	r.Emit(r.Pos-1, r.Pos)
}

// NextKey advances to the next member of the object opened with Open('{'):
// it consumes the separating comma, reads the key (see Key) and consumes
// the colon. It returns false, having consumed '}', at the end. n counts the
// members read so far and must start at 0.
func (r *Reader) NextKey(n *int) bool { return keyNext(r, n, false) }

// NextKeyCopy is NextKey that also writes the member's separator and key,
// compact (`,"key":`, the comma unless it is the first), and at the end the
// closing brace. Under wasm a call costs far more than natively: this
// makes one call per key, and in compact input leaves the comma, key and
// colon in the pending span.
func (r *Reader) NextKeyCopy(n *int) bool { return keyNext(r, n, true) }

// nextKeySlow is NextKey and NextKeyCopy for what keyNext's common case
// does not cover, including what is invalid, read from the start.
func nextKeySlow(r *Reader, n *int, write bool) bool {
	c := r.Peek()
	if c == '}' {
		if write {
			r.Emit(r.Pos, r.Pos+1)
		}
		r.Pos++
		r.depth--
		return false
	}
	if *n > 0 {
		if c != ',' {
			r.Fail("expected ',' or '}'")
		}
		r.Pos++
		c = r.Peek()
	}
	if c != '"' {
		r.Fail("expected a string key")
	}
	*n++
	// A key of up to 16 plain bytes (most keys) is found here rather
	// than by a call to String.
	var s, e int
	var esc bool
	if in, i := r.In, r.Pos+1; i+16 <= len(in) {
		m := special(binary.LittleEndian.Uint64(in[i:]))
		if m == 0 {
			i += 8
			m = special(binary.LittleEndian.Uint64(in[i:]))
		}
		if m != 0 {
			if j := i + bits.TrailingZeros64(m)>>3; in[j] == '"' {
				s, e, r.Pos = r.Pos+1, j, j+1
				goto got
			}
		}
	}
	s, e, esc = r.String()
got:
	r.KeyStart, r.KeyEnd, r.KeyEscaped = s, e, esc
	if esc {
		r.keyBuf = Unescape(r.keyBuf[:0], r.In[s:e])
	}
	colon := r.Pos < len(r.In) && r.In[r.Pos] == ':'
	if colon {
		r.Pos++
	} else {
		r.expect(':')
	}
	r.KeyColon = colon
	if !write {
		return true
	}
	if esc {
		if *n > 1 {
			r.Lit(',')
		}
		r.Flush()
		r.Out = AppendQuoted(r.Out, r.keyBuf)
		r.Lit(':')
		return true
	}
	s-- // the opening quote
	if *n > 1 {
		// A comma was read before the key, so s > 0.
		if r.In[s-1] == ',' {
			s--
		} else {
			r.Lit(',')
		}
	}
	if colon {
		r.Emit(s, e+2)
	} else {
		r.Emit(s, e+1)
		r.Lit(':')
	}
	return true
}

// NextElem advances to the next element of the array opened with
// Open('['), consuming the separating comma. It returns false, having
// consumed ']', at the end.
func (r *Reader) NextElem(n *int) bool {
	c := r.Peek()
	if c == ']' {
		r.Pos++
		r.depth--
		return false
	}
	if *n > 0 {
		if c != ',' {
			r.Fail("expected ',' or ']'")
		}
		r.Pos++
		r.WS()
	}
	*n++
	return true
}

// NextElemCopy is NextElem that also writes the separating comma, and at
// the end the closing bracket.
func (r *Reader) NextElemCopy(n *int) bool { return elemNext(r, n) }

// elemSlow is NextElemCopy for what elemNext's common case does not cover.
func elemSlow(r *Reader, n *int) bool {
	c := r.Peek()
	if c == ']' {
		r.Emit(r.Pos, r.Pos+1)
		r.Pos++
		r.depth--
		return false
	}
	if *n > 0 {
		if c != ',' {
			r.Fail("expected ',' or ']'")
		}
		r.Emit(r.Pos, r.Pos+1)
		r.Pos++
		r.ws()
	}
	*n++
	return true
}

// String reads a string at Pos and returns the bounds of its raw content in
// In (without quotes) and whether it holds escapes.
func (r *Reader) String() (start, end int, escaped bool) { return stringNext(r) }

// stringSlow is String for what stringNext's common case does not cover.
func stringSlow(r *Reader) (start, end int, escaped bool) {
	if r.Pos >= len(r.In) || r.In[r.Pos] != '"' {
		if r.Peek() != '"' {
			r.Fail("expected a string")
		}
	}
	in := r.In
	i := r.Pos + 1
	start = i
	for {
		// The common case: plain bytes up to the closing quote, eight at
		// a time, the first byte that needs attention found without a
		// loop (under wasm every iteration and every call costs a jump
		// through the function's dispatch loop).
		for i+8 <= len(in) {
			if m := special(binary.LittleEndian.Uint64(in[i:])); m != 0 {
				// The lowest flagged byte is exact (borrows only run
				// upwards from it).
				i += bits.TrailingZeros64(m) >> 3
				goto special
			}
			i += 8
		}
		for i < len(in) && safe[in[i]] {
			i++
		}
		if i >= len(in) {
			r.Pos = i
			r.Fail("unterminated string")
		}
	special:
		switch c := in[i]; {
		case c == '"':
			r.Pos = i + 1
			return start, i, escaped
		case c == '\\':
			escaped = true
			if i+1 >= len(in) {
				r.Pos = i
				r.Fail("unterminated escape")
			}
			switch in[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(in) || !isHex(in[i+2]) || !isHex(in[i+3]) || !isHex(in[i+4]) || !isHex(in[i+5]) {
					r.Pos = i
					r.Fail("invalid \\u escape")
				}
				i += 6
			default:
				r.Pos = i
				r.Fail("invalid escape")
			}
		default: // a control character
			r.Pos = i
			r.Fail("control character in string")
		}
	}
}

// Special flags the high bit of the bytes of v, eight bytes of a string's
// content read little-endian, that end or escape the string or are
// control characters; the lowest flagged byte is exact (borrows only run
// upwards from it). Callers that find a plain string themselves, to save
// a call to String under wasm, use it.
func Special(v uint64) uint64 { return special(v) }

func special(v uint64) uint64 {
	q := v ^ ('"' * lo8)
	b := v ^ ('\\' * lo8)
	return ((q-lo8)&^q | (b-lo8)&^b | (v-0x20*lo8)&^v) & hi8
}

// safe marks bytes that need no attention inside a string.
var safe = func() (t [256]bool) {
	for i := 0x20; i < 256; i++ {
		t[i] = true
	}
	t['"'], t['\\'] = false, false
	return t
}()

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// Skip reads and validates one value without copying it.
func (r *Reader) Skip() {
	switch c := r.Peek(); c {
	case '"':
		r.String()
	case '{':
		r.Open('{')
		n := 0
		for r.NextKey(&n) {
			r.Skip()
		}
	case '[':
		r.Open('[')
		n := 0
		for r.NextElem(&n) {
			r.Skip()
		}
	case 't':
		r.literal("true")
	case 'f':
		r.literal("false")
	case 'n':
		r.literal("null")
	default:
		r.Number()
	}
}

// Copy reads one value and writes its bytes unchanged.
func (r *Reader) Copy() { copyNext(r) }

// copySlow is Copy for what copyNext's common case does not cover.
func copySlow(r *Reader) {
	r.ws()
	in, s := r.In, r.Pos
	// Strings and numbers, most of what is copied, without Skip's call,
	// and in their common forms (a string without escapes, an integer)
	// without String's or Number's: under wasm the call costs about as
	// much as the scan. Anything else is read again from s by them.
	var c byte
	if s < len(in) {
		c = in[s]
	}
	switch {
	case c == '"':
		for i := s + 1; i+8 <= len(in); i += 8 {
			if m := special(binary.LittleEndian.Uint64(in[i:])); m != 0 {
				if i += bits.TrailingZeros64(m) >> 3; in[i] == '"' {
					r.Pos = i + 1
					r.Emit(s, i+1)
					return
				}
				break
			}
		}
		r.String()
	case c-'1' <= 8:
		i := s + 1
		for i < len(in) && in[i]-'0' <= 9 {
			i++
		}
		if i < len(in) && (in[i] == '.' || in[i]|0x20 == 'e') {
			r.Number()
		} else {
			r.Pos = i
		}
	case c == '-' || c == '0':
		r.Number()
	default:
		r.Skip()
	}
	r.Emit(s, r.Pos)
}

// Emit writes In[s:e]. When it follows the pending span it only extends
// it (compact input copied unchanged: most calls); otherwise the span is
// copied to Out and In[s:e] starts the next one.
func (r *Reader) Emit(s, e int) {
	if s != r.pe {
		r.restart(s)
	}
	r.pe = e
}

// restart copies the pending span to Out and starts an empty one at s.
func (r *Reader) restart(s int) {
	if r.pe > r.ps {
		r.write(r.In[r.ps:r.pe])
	}
	r.ps, r.pe = s, s
}

// Lit writes the byte c. When the input holds c right after the pending
// span, as it does for a bracket or comma of compact input, the span
// grows over it: the output is the same bytes either way.
func (r *Reader) Lit(c byte) {
	if r.pe < len(r.In) && r.In[r.pe] == c {
		r.pe++
		return
	}
	r.lit(c)
}

func (r *Reader) lit(c byte) {
	r.Flush()
	n := len(r.Out)
	if n == cap(r.Out) {
		r.grow(1)
	}
	r.Out = r.Out[:n+1]
	r.Out[n] = c
}

// Flush copies the pending span to Out, so that Out holds all the output;
// bytes appended to Out directly must be preceded by a Flush.
func (r *Reader) Flush() { r.restart(r.pe) }

// WriteBytes writes b, which need not come from In.
func (r *Reader) WriteBytes(b []byte) {
	r.Flush()
	r.write(b)
}

// OutLen returns the length of the output so far.
func (r *Reader) OutLen() int { return len(r.Out) + r.pe - r.ps }

// Truncate cuts the output so far to its first n bytes.
func (r *Reader) Truncate(n int) {
	if n >= len(r.Out) {
		r.pe = r.ps + n - len(r.Out)
		return
	}
	r.Out = r.Out[:n]
	r.ps = r.pe
}

// OutSlice returns bytes a to b of the output so far, valid until the
// output changes. It aliases In when they are still pending.
func (r *Reader) OutSlice(a, b int) []byte {
	if n := len(r.Out); a >= n {
		return r.In[r.ps+a-n : r.ps+b-n]
	} else if b > n {
		r.Flush()
	}
	return r.Out[a:b]
}

// write appends b to Out. Out = append(Out, b...) stores Out's pointer
// back on every call, which costs a GC write barrier while a collection
// runs, and under wasm one stays running until the mutator allocates or
// yields: for whole batches. Reslicing within capacity stores only the
// length.
func (r *Reader) write(b []byte) {
	n := len(r.Out)
	if len(b) > cap(r.Out)-n {
		r.grow(len(b))
	}
	r.Out = r.Out[:n+len(b)]
	copy(r.Out[n:], b)
}

func (r *Reader) grow(n int) { r.Out = slices.Grow(r.Out, n) }

func (r *Reader) literal(lit string) {
	if len(r.In)-r.Pos < len(lit) || string(r.In[r.Pos:r.Pos+len(lit)]) != lit {
		r.Fail("invalid literal")
	}
	r.Pos += len(lit)
}

// Bool reads true or false.
func (r *Reader) Bool() bool {
	switch r.Peek() {
	case 't':
		r.literal("true")
		return true
	case 'f':
		r.literal("false")
		return false
	}
	r.Fail("expected a boolean")
	return false
}

// Null consumes null if it is next and reports whether it was.
func (r *Reader) Null() bool {
	if r.Peek() == 'n' {
		r.literal("null")
		return true
	}
	return false
}

// Number reads a JSON number and returns its bytes.
func (r *Reader) Number() []byte {
	r.ws()
	in, i := r.In, r.Pos
	s := i
	if i < len(in) && in[i] == '-' {
		i++
	}
	switch {
	case i < len(in) && in[i] == '0':
		i++
	case i < len(in) && in[i] >= '1' && in[i] <= '9':
		for i < len(in) && in[i] >= '0' && in[i] <= '9' {
			i++
		}
	default:
		r.Pos = i
		r.Fail("invalid value")
	}
	if i < len(in) && in[i] == '.' {
		i++
		d := i
		for i < len(in) && in[i] >= '0' && in[i] <= '9' {
			i++
		}
		if i == d {
			r.Pos = i
			r.Fail("invalid number")
		}
	}
	if i < len(in) && (in[i] == 'e' || in[i] == 'E') {
		i++
		if i < len(in) && (in[i] == '+' || in[i] == '-') {
			i++
		}
		d := i
		for i < len(in) && in[i] >= '0' && in[i] <= '9' {
			i++
		}
		if i == d {
			r.Pos = i
			r.Fail("invalid number")
		}
	}
	r.Pos = i
	return in[s:i]
}

// Int reads a number and returns it as an integer, 0 if it has a fraction
// or does not fit.
func (r *Reader) Int() int64 { return intNext(r) }

// intSlow is Int for what intNext's common case does not cover.
func intSlow(r *Reader) int64 {
	r.ws()
	// A positive integer, the common case, without Number's call.
	if in, i := r.In, r.Pos; i < len(in) && in[i]-'1' <= 8 {
		j := i + 1
		for j < len(in) && in[j]-'0' <= 9 {
			j++
		}
		if j == len(in) || in[j] != '.' && in[j]|0x20 != 'e' {
			r.Pos = j
			var v int64
			for _, c := range in[i:j] {
				if v > (1<<62)/10 {
					return 0
				}
				v = v*10 + int64(c-'0')
			}
			return v
		}
	}
	b := r.Number()
	var v int64
	neg := false
	for i, c := range b {
		switch {
		case c == '-' && i == 0:
			neg = true
		case c >= '0' && c <= '9':
			if v > (1<<62)/10 {
				return 0
			}
			v = v*10 + int64(c-'0')
		default:
			return 0
		}
	}
	if neg {
		return -v
	}
	return v
}

// Unescape appends the decoded content of a valid raw JSON string to dst.
// Invalid surrogates decode to U+FFFD like encoding/json.
func Unescape(dst, raw []byte) []byte {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			dst = append(dst, c)
			continue
		}
		i++
		switch raw[i] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(raw[i+1:])
			i += 4
			if r >= 0xD800 && r < 0xDC00 {
				if i+6 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
					r2 := hex4(raw[i+3:])
					if r2 >= 0xDC00 && r2 < 0xE000 {
						r = (r-0xD800)<<10 | (r2 - 0xDC00) + 0x10000
						i += 6
						dst = appendRune(dst, r)
						continue
					}
				}
				r = 0xFFFD
			} else if r >= 0xDC00 && r < 0xE000 {
				r = 0xFFFD
			}
			dst = appendRune(dst, r)
		default: // " \ /
			dst = append(dst, raw[i])
		}
	}
	return dst
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		default:
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}

func appendRune(dst []byte, r rune) []byte {
	switch {
	case r < 0x80:
		return append(dst, byte(r))
	case r < 0x800:
		return append(dst, 0xC0|byte(r>>6), 0x80|byte(r)&0x3F)
	case r < 0x10000:
		return append(dst, 0xE0|byte(r>>12), 0x80|byte(r>>6)&0x3F, 0x80|byte(r)&0x3F)
	}
	return append(dst, 0xF0|byte(r>>18), 0x80|byte(r>>12)&0x3F, 0x80|byte(r>>6)&0x3F, 0x80|byte(r)&0x3F)
}

// AppendQuoted appends s as a JSON string, escaping what JSON requires.
func AppendQuoted(dst, s []byte) []byte {
	dst = append(dst, '"')
	dst = AppendEscaped(dst, s)
	return append(dst, '"')
}

// AppendEscaped appends s escaped as the content of a JSON string.
func AppendEscaped(dst, s []byte) []byte {
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

const hexDigits = "0123456789abcdef"

const (
	lo8 = 0x0101010101010101
	hi8 = 0x8080808080808080
)
