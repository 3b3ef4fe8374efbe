package engine

import (
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
	if r.Peek() != '"' {
		e.generic()
		return
	}
	s, end, esc := r.String()
	// strRead, inlined by hand: this runs for most strings, and under
	// wasm a call costs more than these lines.
	o := len(r.Out) + 1
	r.WriteToken(r.In[s-1 : end+1]) // with its quotes
	if e.rewrite(o, o+end-s, esc, m) {
		e.evMasked++
	}
}

// strRead writes the string just read, whose raw content is In[s:end],
// masked by m, counting a masked field. Callers that look at a string
// before masking it read it once and call this, rather than reading it
// twice.
func (e *Engine) strRead(s, end int, esc bool, m mode) {
	r := &e.r
	o := len(r.Out) + 1
	r.WriteToken(r.In[s-1 : end+1]) // with its quotes
	if e.rewrite(o, o+end-s, esc, m) {
		e.evMasked++
	}
}

// rewrite masks, in place in the output, the raw string content at
// Out[a:b] (esc: it holds escapes) and reports whether it changed. The
// content may shrink: what follows it in Out moves.
func (e *Engine) rewrite(a, b int, esc bool, m mode) bool {
	r := &e.r
	switch m {
	case mCopy:
		return false
	case mStarsText, mDetectText:
		if looksLikeCSS(r.Out[a:b]) {
			return false
		}
		if m == mDetectText {
			m = mDetect
			break
		}
		fallthrough
	case mStars:
		var changed bool
		e.scratch, changed = mask.AppendStars(e.scratch[:0], r.Out[a:b])
		if changed {
			e.splice(a, b, e.scratch)
		}
		return changed
	}
	if !esc {
		v := r.Out[a:b]
		if m == mDetect && !mask.MayMatch(v) {
			return false // what Detect would find first, before the memo
		}
		if len(v) < memoMin {
			return e.detect(v, m) > 0
		}
		clean, h := e.memo.clean(v, m)
		if clean {
			return false
		}
		if e.detect(v, m) > 0 {
			return true
		}
		e.memo.add(v, m, h)
		return false
	}
	e.scratch = jsontext.Unescape(e.scratch[:0], r.Out[a:b])
	if e.detect(e.scratch, m) == 0 {
		return false
	}
	e.spare = jsontext.AppendEscaped(e.spare[:0], e.scratch)
	e.splice(a, b, e.spare)
	return true
}

func (e *Engine) detect(b []byte, m mode) int {
	n := 0
	if m == mURL {
		n = mask.Query(b, e.p.Masking.QueryAll, e.queryParam)
	}
	return n + mask.Detect(b, e.p.Detectors)
}

func (e *Engine) queryParam(name []byte) bool {
	for _, q := range e.p.Masking.QueryParams {
		if string(name) == q {
			return true
		}
	}
	return false
}

// splice replaces Out[a:b] with repl.
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
