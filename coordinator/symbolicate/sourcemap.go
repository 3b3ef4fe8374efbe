package symbolicate

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	gosourcemap "github.com/go-sourcemap/sourcemap"
)

// Map is a parsed source map ready for lookups. It is safe for concurrent
// use.
type Map struct {
	// flat serves regular maps; index maps ("sections", rare in the wild)
	// go through go-sourcemap's consumer.
	flat  *flatMap
	index *gosourcemap.Consumer
	size  int64

	mu sync.Mutex
	// byIndex holds a flat map's sources by index (noSource when it has
	// no content), sources an index map's by name.
	// byIndex entries are read without the lock once set.
	byIndex []atomic.Pointer[sourceText]
	sources map[string]*sourceText
	nfuncs  int // function names cached in all sourceTexts
	nctx    int // Contexts cached in all sourceTexts
	// resolved holds Resolve's answers, found through resolvedAt by the
	// packed position: a small table of integers stays in cache where one
	// of whole answers would miss on every lookup of a new position.
	resolvedAt map[uint64]int32
	resolved   []resolved
	// seen is set when the cache has reached its bound, after which it
	// never changes: a bit for every key in resolvedAt (and others that
	// share it), so that a new position is told apart with one load from
	// 32 KiB and no lock instead of a locked probe of a table that no
	// longer fits in cache.
	seen atomic.Pointer[seenFilter]
}

type seenFilter [1 << 12]uint64

// seenBit is the word and bit of seen for a packed position.
func seenBit(key uint64) (word int, bit uint64) {
	h := (key * 0x9E3779B97F4A7C15) >> (64 - 18)
	return int(h >> 6), 1 << (h & 63)
}

// noSource marks a flat map's source without sourcesContent.
var noSource = &sourceText{}

// packPos packs a Resolve request into a cache key; ok is false for one
// out of the packed ranges (never seen in practice), which is not cached.
func packPos(line, column, contextLines int) (key uint64, ok bool) {
	if line < 0 || line >= 1<<28 || column < 0 || column >= 1<<28 || contextLines < -128 || contextLines > 127 {
		return 0, false
	}
	return uint64(line)<<36 | uint64(column)<<8 | uint64(uint8(int8(contextLines))), true
}

// resolved is a cached Resolve result; the Context is shared read-only.
type resolved struct {
	pos Position
	ctx *Context
	err error
}

// maxFuncCache bounds the per-map caches of resolved positions and of
// enclosing-function names.
const maxFuncCache = 1 << 14

// sourceText is one original source with its line starts.
type sourceText struct {
	text   string
	starts []int   // byte offset of each line
	braces []int32 // byte offset of every '{' and '}', ascending
	// cr: the text has a '\r'. Without one, a line's end need not be
	// read to drop it: context lines then cost no read of the text.
	cr bool
	// funcs caches function names by the opening brace of the innermost
	// block: every position in a block has the same name, so the header
	// matching runs once per block, not once per position. Guarded by
	// Map.mu.
	funcs map[int32]string
	// contexts caches Contexts by line and size for lines short enough
	// that the column does not matter (see clip): the positions of a
	// crash site, and many of one minified line, share an original line.
	// Guarded by Map.mu; shared read-only, like the resolved cache's.
	contexts map[contextKey]*Context
}

type contextKey struct{ line, n int }

// ParseMap parses a source map. Callers should validate untrusted maps
// with sourcemap.Validate first; a map that slipped past validation fails
// the frames it cannot serve, never the process.
//
// Parsing is lazy: the mappings of a generated line are decoded when a
// frame first asks for that line, and an original source is unquoted when a
// frame first resolves into it. ParseMap itself only splits the JSON and
// indexes the line boundaries of the mappings.
func ParseMap(data []byte) (*Map, error) {
	m := &Map{sources: map[string]*sourceText{}, resolvedAt: map[uint64]int32{}}
	fm, index, err := parseFlat(data)
	switch {
	case index:
		if m.index, err = parseIndex(data); err != nil {
			return nil, fmt.Errorf("parse source map: %w", err)
		}
	case err != nil:
		return nil, fmt.Errorf("parse source map: %w", err)
	default:
		m.flat = fm
		m.byIndex = make([]atomic.Pointer[sourceText], len(fm.sources))
	}
	segs := int64(bytes.Count(data, []byte{','}) + bytes.Count(data, []byte{';'}))
	if m.flat != nil {
		// The raw document stays referenced; sources are unquoted into
		// copies as frames reach them; every line asked for costs a
		// checkpoint per blockSegs segments (28 bytes).
		m.size = int64(len(data)) + m.flat.contentBytes() + 28*segs/blockSegs + 512
	} else {
		// go-sourcemap holds sourcesContent and names (about the raw size)
		// plus 24 bytes per mapping segment.
		m.size = int64(len(data)) + 24*segs + 512
	}
	return m, nil
}

// parseIndex parses an index map with go-sourcemap, which dereferences a
// section without "map": a map that slipped past validation must fail,
// not take the coordinator down.
func parseIndex(data []byte) (c *gosourcemap.Consumer, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("corrupt index map: %v", r)
		}
	}()
	return gosourcemap.Parse("", data)
}

// Size is the approximate memory the parsed map holds, in bytes.
func (m *Map) Size() int64 { return m.size }

// ErrNoMapping says the map has no mapping for a generated position.
var ErrNoMapping = fmt.Errorf("position not covered by the source map")

// Resolve maps a generated position (1-based line and column, as browsers
// report them) to its original position, with up to contextLines lines of
// source either side when the map carries sourcesContent. The Context may
// be shared with other callers and must not be modified.
func (m *Map) Resolve(line, column, contextLines int) (Position, *Context, error) {
	// The same crash site repeats across events: remember answers.
	k, cacheable := packPos(line, column, contextLines)
	if !cacheable {
		return m.resolve(line, column, contextLines)
	}
	if f := m.seen.Load(); f != nil {
		// The cache is full and read-only: no lock.
		if w, bit := seenBit(k); f[w]&bit != 0 {
			if i, ok := m.resolvedAt[k]; ok {
				r := m.resolved[i]
				return r.pos, r.ctx, r.err
			}
		}
		return m.resolve(line, column, contextLines)
	}
	m.mu.Lock()
	i, ok := m.resolvedAt[k]
	var r resolved
	if ok {
		r = m.resolved[i]
	}
	m.mu.Unlock()
	if ok {
		return r.pos, r.ctx, r.err
	}
	pos, ctx, err := m.resolve(line, column, contextLines)
	m.mu.Lock()
	if _, ok := m.resolvedAt[k]; !ok && len(m.resolved) < maxFuncCache {
		m.resolvedAt[k] = int32(len(m.resolved))
		m.resolved = append(m.resolved, resolved{pos, ctx, err})
		if len(m.resolved) == maxFuncCache {
			f := new(seenFilter)
			for k := range m.resolvedAt {
				w, bit := seenBit(k)
				f[w] |= bit
			}
			m.seen.Store(f)
		}
	}
	m.mu.Unlock()
	return pos, ctx, err
}

// lookup returns the original source name, its index in the flat map (-1
// for index maps), the segment's name and the 1-based line and 0-based
// column.
func (m *Map) lookup(line, column int) (src string, srcIndex int, name string, oline, ocol int, err error) {
	l, err := m.locate(line, column)
	return l.src, l.srcIndex, m.name(l), l.line, l.col, err
}

// location is a lookup's answer with the segment's name left undecoded:
// most frames are named by their enclosing function instead.
type location struct {
	src                 string
	srcIndex, nameIndex int    // -1 for index maps
	indexName           string // the name, for index maps
	line, col           int    // 1-based line, 0-based column
}

func (m *Map) locate(line, column int) (location, error) {
	if m.flat == nil {
		src, name, oline, ocol, ok := m.index.Source(line, column)
		if !ok {
			return location{}, ErrNoMapping
		}
		return location{src: src, srcIndex: -1, nameIndex: -1, indexName: name, line: oline, col: ocol}, nil
	}
	s, ok, err := m.flat.lookup(line, column)
	if err != nil {
		return location{}, fmt.Errorf("corrupt source map: %w", err)
	}
	if !ok {
		return location{}, ErrNoMapping
	}
	return location{src: m.flat.sources[s.src], srcIndex: int(s.src), nameIndex: int(s.name), line: int(s.line) + 1, col: int(s.col)}, nil
}

func (m *Map) name(l location) string {
	if m.flat == nil {
		return l.indexName
	}
	return m.flat.name(l.nameIndex)
}

func (m *Map) resolve(line, column, contextLines int) (pos Position, ctx *Context, err error) {
	if line <= 0 {
		return Position{}, nil, fmt.Errorf("no line number")
	}
	defer func() {
		// go-sourcemap (index maps) indexes slices with values from the
		// map; a map that slipped past validation must cost one frame, not
		// the process.
		if r := recover(); r != nil {
			err = fmt.Errorf("corrupt source map: %v", r)
		}
	}()
	l, err := m.locate(line, max(column-1, 0))
	if err != nil {
		return Position{}, nil, err
	}
	pos = Position{Source: l.src, Line: l.line, Column: l.col + 1}
	st := m.source(l.src, l.srcIndex)
	if st != nil {
		pos.Function = m.function(st, l.line, l.col)
		ctx = m.context(st, l.line, l.col, contextLines)
	}
	if pos.Function == "" {
		pos.Function = m.name(l)
	}
	return pos, ctx, nil
}

func (m *Map) source(src string, index int) *sourceText {
	flat := index >= 0 && index < len(m.byIndex)
	if flat {
		if st := m.byIndex[index].Load(); st != nil {
			if st == noSource {
				return nil
			}
			return st
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if flat {
		if st := m.byIndex[index].Load(); st != nil {
			if st == noSource {
				return nil
			}
			return st
		}
	} else if st, ok := m.sources[src]; ok {
		return st
	}
	var text string
	if m.flat != nil {
		text = m.flat.content(index)
	} else {
		text = m.index.SourceContent(src)
	}
	var st *sourceText
	if text != "" {
		st = newSourceText(text)
	}
	switch {
	case !flat:
		m.sources[src] = st
	case st == nil:
		m.byIndex[index].Store(noSource)
	default:
		m.byIndex[index].Store(st)
	}
	return st
}

func (m *Map) function(st *sourceText, line, col int) string {
	brace := st.innermostBrace(st.offset(line, col))
	if brace < 0 {
		return ""
	}
	m.mu.Lock()
	name, ok := st.funcs[int32(brace)]
	m.mu.Unlock()
	if ok {
		return name
	}
	name = functionAt(st.text, brace)
	m.mu.Lock()
	if m.nfuncs < maxFuncCache {
		if st.funcs == nil {
			st.funcs = map[int32]string{}
		}
		if _, ok := st.funcs[int32(brace)]; !ok {
			st.funcs[int32(brace)] = name
			m.nfuncs++
		}
	}
	m.mu.Unlock()
	return name
}

// context is st.context, cached when the column cannot change it.
func (m *Map) context(st *sourceText, line, col, n int) *Context {
	if cur, ok := st.line(line); !ok || n < 0 || len(cur) > maxContextLine {
		return st.context(line, col, n)
	}
	k := contextKey{line, n}
	m.mu.Lock()
	c, ok := st.contexts[k]
	m.mu.Unlock()
	if ok {
		return c
	}
	c = st.context(line, col, n)
	m.mu.Lock()
	if m.nctx < maxFuncCache {
		if st.contexts == nil {
			st.contexts = map[contextKey]*Context{}
		}
		if _, ok := st.contexts[k]; !ok {
			st.contexts[k] = c
			m.nctx++
		}
	}
	m.mu.Unlock()
	return c
}

// newSourceText indexes the line starts and braces of an original source
// in one pass; sources are bounded by the map's size limit, so offsets fit
// in 32 bits.
func newSourceText(s string) *sourceText {
	st := &sourceText{text: s, starts: make([]int, 1, strings.Count(s, "\n")+1)}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\n':
			st.starts = append(st.starts, i+1)
		case '{', '}':
			st.braces = append(st.braces, int32(i))
		case '\r':
			st.cr = true
		}
	}
	return st
}

// innermostBrace returns the offset of the innermost '{' not closed before
// offset, within maxScanBack bytes, or -1. It walks the brace index
// backwards, so the code between costs nothing and nested blocks cost one
// step per brace.
func (st *sourceText) innermostBrace(offset int) int {
	stop := max(0, offset-maxScanBack)
	i, _ := slices.BinarySearch(st.braces, int32(min(offset, len(st.text))))
	depth := 0
	for i--; i >= 0 && int(st.braces[i]) >= stop; i-- {
		b := int(st.braces[i])
		if st.text[b] == '}' {
			depth++
		} else if depth == 0 {
			return b
		} else {
			depth--
		}
	}
	return -1
}

// line returns 1-based line n without its line terminator, "" when out of
// range.
func (st *sourceText) line(n int) (string, bool) {
	if n < 1 || n > len(st.starts) {
		return "", false
	}
	start := st.starts[n-1]
	end := len(st.text)
	if n < len(st.starts) {
		end = st.starts[n] - 1
	}
	if !st.cr {
		return st.text[start:end], true
	}
	return strings.TrimSuffix(st.text[start:end], "\r"), true
}

func (st *sourceText) offset(line, col int) int {
	if line < 1 || line > len(st.starts) {
		return len(st.text)
	}
	return min(st.starts[line-1]+col, len(st.text))
}

// maxContextLine bounds one context line: a minified vendor file would
// otherwise put megabytes into every event.
const maxContextLine = 240

func (st *sourceText) context(line, col, n int) *Context {
	cur, ok := st.line(line)
	if !ok || n < 0 {
		return nil
	}
	// One allocation for the Context and both sides' lines when they are
	// the default five or fewer each, one backing array for both sides
	// otherwise: never one per line.
	pre, post := line-max(1, line-n), max(0, min(n, len(st.starts)-line))
	var c *Context
	var lines []string
	if pre+post <= len(contextBuf{}.lines) {
		b := &contextBuf{}
		c, lines = &b.c, b.lines[:0:pre+post]
	} else {
		c, lines = &Context{}, make([]string, 0, pre+post)
	}
	c.Line = clip(cur, col)
	if pre+post > 0 {
		if pre > 0 {
			c.Pre = lines[:0:pre]
		}
		if post > 0 {
			c.Post = lines[pre:pre]
		}
	}
	for i := max(1, line-n); i < line; i++ {
		l, _ := st.line(i)
		c.Pre = append(c.Pre, clip(l, 0))
	}
	for i := line + 1; i <= line+n; i++ {
		l, ok := st.line(i)
		if !ok {
			break
		}
		c.Post = append(c.Post, clip(l, 0))
	}
	return c
}

// contextBuf is a Context with room for its lines.
type contextBuf struct {
	c     Context
	lines [10]string
}

// clip shortens s to a window of maxContextLine bytes around col, on rune
// boundaries.
func clip(s string, col int) string {
	if len(s) <= maxContextLine {
		return s
	}
	start := max(0, min(col-maxContextLine/2, len(s)-maxContextLine))
	end := start + maxContextLine
	for start > 0 && !utf8.RuneStart(s[start]) {
		start--
	}
	for end < len(s) && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[start:end]
}

// How far back enclosingFunction looks for a function header.
const (
	maxScanBack  = 64 << 10
	headerWindow = 400
)

var (
	ident = `[A-Za-z_$][\w$]*`
	// name = (async) (params) => {   /  name: (x) => {
	arrowRe = regexp.MustCompile(`(?:^|[^\w$.])(` + ident + `)\s*(?::\s*[^=;{}]+?)?\s*[:=]\s*(?:async\s+)?(?:\([^()]*\)|` + ident + `)\s*(?::\s*[^=;{}]+?)?\s*=>\s*$`)
	// function name(params) {  /  name(params) {  (methods); optional TS return type.
	callRe = regexp.MustCompile(`(?:(function)\s*\*?\s*(` + ident + `)?|(` + ident + `))\s*(?:<[^<>]*>)?\s*\([^()]*(?:\([^()]*\)[^()]*)*\)\s*(?::\s*[^;{}()]+?)?\s*$`)
	// name = function (…) {  /  name: function (…) {
	assignedFuncRe = regexp.MustCompile(`(` + ident + `)\s*[:=]\s*(?:async\s+)?function\b[^=]*$`)
	classRe        = regexp.MustCompile(`\bclass\s+(` + ident + `)(?:\s*<[^{}]*>)?(?:\s+extends\s+[\w$.]+(?:<[^{}]*>)?)?(?:\s+implements\s+[^{}]+)?\s*$`)
	notFunc        = map[string]bool{"if": true, "for": true, "while": true, "switch": true, "catch": true, "with": true, "return": true, "typeof": true, "await": true, "yield": true, "do": true, "else": true, "try": true, "finally": true, "new": true}
)

// enclosingFunction finds the name of the named function around offset in
// original source text by scanning back to the opening braces that enclose
// it. Anonymous callbacks are skipped so that a frame inside items.map(…)
// reports the component that called map; a method is reported as
// Class.method. It returns "" when it finds nothing recognisable.
func enclosingFunction(src string, offset int) string {
	brace := newSourceText(src).innermostBrace(offset)
	if brace < 0 {
		return ""
	}
	return functionAt(src, brace)
}

// functionAt is enclosingFunction for the positions whose innermost
// enclosing block opens at src[brace]. It depends on brace alone (the scan
// is bounded from there), which is what lets Map cache it per block.
func functionAt(src string, brace int) string {
	depth := 0
	stop := max(0, brace-maxScanBack)
	method := ""
	for i := brace; i >= stop; i-- {
		switch src[i] {
		case '}':
			depth++
		case '{':
			if depth > 0 {
				depth--
				continue
			}
			header := strings.TrimRight(src[max(0, i-headerWindow):i], " \t\r\n")
			if method != "" {
				if m := classRe.FindStringSubmatch(header); m != nil {
					return m[1] + "." + method
				}
				continue
			}
			name, isMethod, isFunc := functionHeader(header)
			if !isFunc || name == "" {
				continue
			}
			if !isMethod {
				return name
			}
			method = name
		}
	}
	return method
}

// functionHeader reports whether the text before a '{' opens a function,
// its name when it has one, and whether it is a method shorthand.
func functionHeader(h string) (name string, isMethod, isFunc bool) {
	if strings.HasSuffix(h, "=>") {
		if m := arrowRe.FindStringSubmatch(h); m != nil {
			return m[1], false, true
		}
		return "", false, true
	}
	if !strings.HasSuffix(h, ")") && !strings.Contains(h[max(0, len(h)-120):], ")") {
		return "", false, false
	}
	m := callRe.FindStringSubmatch(h)
	if m == nil {
		return "", false, false
	}
	if m[1] == "function" {
		if m[2] != "" {
			return m[2], false, true
		}
		before := h[:len(h)-len(m[0])+strings.Index(m[0], "function")+len("function")]
		if a := assignedFuncRe.FindStringSubmatch(before); a != nil {
			return a[1], false, true
		}
		return "", false, true
	}
	if notFunc[m[3]] {
		return "", false, false
	}
	// "x = foo(…) {" cannot be a method; "foo(…) {" at statement start is.
	before := strings.TrimRight(h[:len(h)-len(m[0])], " \t\r\n")
	if strings.HasSuffix(before, "=") || strings.HasSuffix(before, ".") {
		return "", false, false
	}
	return m[3], true, true
}
