package symbolicate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"path"
	"slices"
	"sync"
	"sync/atomic"
)

// flatMap is a regular (non-index) source map parsed for cold-start speed:
// a symbolicated stack touches a handful of generated lines, so the
// top-level JSON is only split into its fields, sourcesContent and names are
// unquoted per entry when a frame needs them, and the VLQ "mappings" are
// decoded line by line on demand. go-sourcemap decodes the whole document
// and every segment up front, which is most of a cold 4 MB map's cost.
type flatMap struct {
	sources  []string // resolved against sourceRoot as go-sourcemap does
	contents [][]byte // raw JSON values of sourcesContent, unquoted on use
	names    [][]byte // raw JSON values of names
	mappings []byte   // the raw mappings string
	// lineStarts[i] is the offset in mappings of generated line i+1.
	lineStarts []int32

	mu sync.Mutex
	// states[i] is the decoder state at the start of generated line i+1;
	// it grows as lines are decoded in order.
	states []vlqState
	lines  map[int]*lineIndex
	// last is the line most recently asked for, read without the lock: a
	// minified bundle is one generated line, asked for by every frame.
	last atomic.Pointer[lineIndex]
}

// vlqState is what the relative VLQ fields accumulate across lines.
type vlqState struct{ src, line, col, name int64 }

// segment is one decoded mapping. src is -1 for a one-field segment (an
// unmapped generated range), name -1 when the segment has no name.
type segment struct {
	genCol, src, line, col, name int32
}

var errTruncated = errors.New("unexpected end of JSON input")

// parseFlat splits a source map's top-level JSON object into the fields the
// symbolicator reads. index reports an index map ("sections"), which the
// caller hands to go-sourcemap instead.
func parseFlat(data []byte) (fm *flatMap, index bool, err error) {
	fm = &flatMap{lines: map[int]*lineIndex{}}
	var (
		version, sourceRoot, sources, contents, names, mappings []byte
	)
	err = objectFields(data, func(key, val []byte) error {
		switch {
		case keyIs(key, "version"):
			version = val
		case keyIs(key, "sourceRoot"):
			sourceRoot = val
		case keyIs(key, "sources"):
			sources = val
		case keyIs(key, "sourcesContent"):
			contents = val
		case keyIs(key, "names"):
			names = val
		case keyIs(key, "mappings"):
			mappings = val
		case keyIs(key, "sections"):
			if !bytes.Equal(val, []byte("null")) {
				index = true
			}
		}
		return nil
	})
	if err != nil || index {
		return nil, index, err
	}
	if version != nil {
		var v int
		if err := json.Unmarshal(version, &v); err != nil {
			return nil, false, fmt.Errorf("version: %w", err)
		}
		if v != 3 && v != 0 {
			return nil, false, fmt.Errorf("unsupported source map version: %d", v)
		}
	}
	var root string
	if sourceRoot != nil {
		if err := json.Unmarshal(sourceRoot, &root); err != nil {
			return nil, false, fmt.Errorf("sourceRoot: %w", err)
		}
	}
	if sources != nil {
		if err := json.Unmarshal(sources, &fm.sources); err != nil {
			return nil, false, fmt.Errorf("sources: %w", err)
		}
	}
	if err := resolveSources(fm.sources, root); err != nil {
		return nil, false, err
	}
	if fm.contents, err = arrayElements(contents); err != nil {
		return nil, false, fmt.Errorf("sourcesContent: %w", err)
	}
	if fm.names, err = arrayElements(names); err != nil {
		return nil, false, fmt.Errorf("names: %w", err)
	}
	if mappings == nil || bytes.Equal(mappings, []byte("null")) || bytes.Equal(mappings, []byte(`""`)) {
		return nil, false, errors.New("mappings are empty")
	}
	if mappings[0] != '"' {
		return nil, false, errors.New("mappings: not a string")
	}
	if bytes.IndexByte(mappings, '\\') >= 0 {
		var s string
		if err := json.Unmarshal(mappings, &s); err != nil {
			return nil, false, fmt.Errorf("mappings: %w", err)
		}
		fm.mappings = []byte(s)
	} else {
		fm.mappings = mappings[1 : len(mappings)-1]
	}
	if len(fm.mappings) > math.MaxInt32 {
		return nil, false, errors.New("mappings longer than 2 GiB")
	}
	fm.lineStarts = make([]int32, 1, bytes.Count(fm.mappings, []byte{';'})+1)
	for off := 0; ; {
		i := bytes.IndexByte(fm.mappings[off:], ';')
		if i < 0 {
			break
		}
		off += i + 1
		fm.lineStarts = append(fm.lineStarts, int32(off))
	}
	fm.states = []vlqState{{}}
	return fm, false, nil
}

// resolveSources makes source names absolute against sourceRoot exactly as
// go-sourcemap does (with no map URL), so both parsers name sources alike.
func resolveSources(sources []string, sourceRoot string) error {
	var root *url.URL
	if sourceRoot != "" {
		u, err := url.Parse(sourceRoot)
		if err != nil {
			return fmt.Errorf("sourceRoot: %w", err)
		}
		if u.IsAbs() {
			root = u
		}
	}
	for i, src := range sources {
		if path.IsAbs(src) {
			continue
		}
		if u, err := url.Parse(src); err == nil && u.IsAbs() {
			continue
		}
		switch {
		case root != nil:
			u := *root
			u.Path = path.Join(u.Path, src)
			sources[i] = u.String()
		case sourceRoot != "":
			sources[i] = path.Join(sourceRoot, src)
		}
	}
	return nil
}

func keyIs(raw []byte, name string) bool {
	// encoding/json matches field names case-insensitively; so does
	// go-sourcemap and therefore upload validation.
	return len(raw) == len(name) && bytes.EqualFold(raw, []byte(name))
}

// contentBytes is the raw size of sourcesContent.
func (fm *flatMap) contentBytes() int64 {
	var n int64
	for _, c := range fm.contents {
		n += int64(len(c))
	}
	return n
}

// content returns the original text of source i, "" when absent.
func (fm *flatMap) content(i int) string {
	if i < 0 || i >= len(fm.contents) {
		return ""
	}
	var s string
	if json.Unmarshal(fm.contents[i], &s) != nil {
		return ""
	}
	return s
}

func (fm *flatMap) name(i int) string {
	if i < 0 || i >= len(fm.names) {
		return ""
	}
	raw := fm.names[i]
	if plainString(raw) {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	if raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// plainString reports whether raw is a JSON string of printable ASCII
// without escapes, whose value is its bytes between the quotes: how names
// almost always look, and far cheaper than json.Unmarshal per frame.
func plainString(raw []byte) bool {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return false
	}
	for _, c := range raw[1 : len(raw)-1] {
		if c < 0x20 || c >= 0x7f || c == '\\' || c == '"' {
			return false
		}
	}
	return true
}

// blockSegs is how many segments of a generated line share one
// checkpoint. A minified bundle is one line of hundreds of thousands of
// segments; keeping a checkpoint per block instead of every decoded
// segment costs an 8th of the memory, and a lookup decodes at most one
// block (tens of bytes of VLQ) after a binary search. Decoding is most of a
// warm lookup: 8 rather than 16 halves it for 3.5 bytes per segment.
const blockSegs = 8

// coarseStep is how many checkpoints one entry of lineIndex.coarse spans:
// the fine search then reads two or three cache lines of cols.
const coarseStep = 16

// lineIndex is one decoded generated line.
type lineIndex struct {
	n      int          // the 0-based generated line
	end    int          // offset in mappings just past the line
	blocks []block      // a checkpoint every blockSegs segments
	cols   []blockStart // where blocks[k]'s first segment is
	coarse []int32      // cols[k*coarseStep].col: searched first, it stays in cache
	sorted []segment    // every segment, sorted, for a line whose columns go backwards
}

// blockStart is the generated column and the offset in mappings of a
// block's first segment. They are kept apart from the block in a dense
// array, so that the binary search of a long line reads few cache lines;
// and the offset is found with the column, so the load of the mappings
// there does not wait for the load of the block.
type blockStart struct{ col, off int32 }

// block is the decoder state just before segment k*blockSegs of a line.
type block struct {
	prev int32 // the generated column before it
	st   [4]int32
}

// lookup finds the segment covering a generated position (1-based line,
// 0-based column): the last segment of that line starting at or before
// column (the first of several at exactly column). Positions before a
// line's first segment, or in a range a one-field segment marks unmapped,
// are not covered.
func (fm *flatMap) lookup(line, column int) (segment, bool, error) {
	li, err := fm.line(line - 1)
	if err != nil || li == nil {
		return segment{}, false, err
	}
	s, ok, err := li.find(fm.mappings, column)
	if err != nil || !ok {
		return segment{}, false, err
	}
	if s.src < 0 {
		return segment{}, false, nil
	}
	if int(s.src) >= len(fm.sources) {
		return segment{}, false, fmt.Errorf("source index %d out of range (%d sources)", s.src, len(fm.sources))
	}
	if s.name >= 0 && int(s.name) >= len(fm.names) {
		return segment{}, false, fmt.Errorf("name index %d out of range (%d names)", s.name, len(fm.names))
	}
	return s, true, nil
}

func (li *lineIndex) find(mappings []byte, column int) (segment, bool, error) {
	if li.sorted != nil {
		segs := li.sorted
		i, found := slices.BinarySearchFunc(segs, column, func(s segment, c int) int { return int(s.genCol) - c })
		if !found {
			if i == 0 {
				return segment{}, false, nil
			}
			i--
		}
		return segs[i], true, nil
	}
	if len(li.blocks) == 0 {
		return segment{}, false, nil
	}
	// The last block starting strictly before column: a run of segments at
	// exactly column may begin in it.
	// The coarse index narrows the search to coarseStep columns, a few
	// cache lines, instead of a miss per step across the whole line.
	lo, hi := 0, len(li.coarse)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if int(li.coarse[mid]) < column {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	lo, hi = max(lo-1, 0)*coarseStep, min(lo*coarseStep+1, len(li.cols))
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if int(li.cols[mid].col) < column {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	i := max(lo-1, 0)
	start := int(li.cols[i].off)
	b := &li.blocks[i]
	src, line, col, name := int64(b.st[0]), int64(b.st[1]), int64(b.st[2]), int64(b.st[3])
	genCol := int64(b.prev)
	var cand segment
	found := false
	// decodeLine decoded and checked every segment of the line before
	// the line was indexed, and mappings never change: decodeSegment's
	// checks cannot fail here, and skipping them is most of the cost of
	// walking a block. Accumulated values stay within int32, as checked.
	p := mappings[:li.end]
	for off := start; off < len(p); off++ { // off++ skips the ','
		var v [5]int64
		n := 0
		for ; off < len(p) && p[off] != ','; n++ {
			d := vlqDigit[p[off]]
			off++
			x := int64(d & 31)
			for shift := uint(5); d&32 != 0; shift += 5 {
				d = vlqDigit[p[off]]
				off++
				x |= int64(d&31) << shift
			}
			if x&1 != 0 {
				x = -(x >> 1)
			} else {
				x >>= 1
			}
			v[n] = x
		}
		genCol += v[0]
		s := segment{genCol: int32(genCol), src: -1, name: -1}
		if n >= 4 {
			src, line, col = src+v[1], line+v[2], col+v[3]
			s.src, s.line, s.col = int32(src), int32(line), int32(col)
			if n == 5 {
				name += v[4]
				s.name = int32(name)
			}
		}
		if int(s.genCol) > column || found && int(s.genCol) == column && int(cand.genCol) == column {
			break
		}
		cand, found = s, true
	}
	return cand, found, nil
}

// line returns generated line n (0-based) decoded into checkpoints,
// decoding the lines before it once so that the relative fields are known.
// It is nil past the last line.
func (fm *flatMap) line(n int) (*lineIndex, error) {
	if n < 0 || n >= len(fm.lineStarts) {
		return nil, nil
	}
	if li := fm.last.Load(); li != nil && li.n == n {
		return li, nil
	}
	fm.mu.Lock()
	defer fm.mu.Unlock()
	if li, ok := fm.lines[n]; ok {
		fm.last.Store(li)
		return li, nil
	}
	for len(fm.states) <= n {
		k := len(fm.states) - 1
		st, _, err := fm.decodeLine(k, fm.states[k], false)
		if err != nil {
			return nil, err
		}
		fm.states = append(fm.states, st)
	}
	_, li, err := fm.decodeLine(n, fm.states[n], true)
	if err != nil {
		return nil, err
	}
	fm.lines[n] = li
	fm.last.Store(li)
	return li, nil
}

func cmpGenCol(a, b segment) int { return int(a.genCol) - int(b.genCol) }

// vlqDigit maps base64 characters to their value, -1 for anything else.
var vlqDigit = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = int8(i)
	}
	return t
}()

// decodeLine decodes 0-based generated line n from state st, returning the
// state at the end of the line and, when index is set, the line's
// checkpoints.
func (fm *flatMap) decodeLine(n int, st vlqState, index bool) (vlqState, *lineIndex, error) {
	start, end := int(fm.lineStarts[n]), len(fm.mappings)
	if n+1 < len(fm.lineStarts) {
		end = int(fm.lineStarts[n+1]) - 1
	}
	var li *lineIndex
	if index {
		li = &lineIndex{n: n, end: end}
		n := (bytes.Count(fm.mappings[start:end], []byte{','})+1)/blockSegs + 1
		li.blocks, li.cols = make([]block, 0, n), make([]blockStart, 0, n)
	}
	begin := st
	var genCol int64
	last := int32(-1)
	sorted := true
	for off, k := start, 0; off < end; k++ {
		prev, before := genCol, st
		s, next, err := decodeSegment(fm.mappings, off, end, &genCol, &st)
		if err != nil {
			return st, nil, fmt.Errorf("mappings: %w (generated line %d)", err, n+1)
		}
		if index {
			if k%blockSegs == 0 {
				li.blocks = append(li.blocks, block{prev: int32(prev),
					st: [4]int32{int32(before.src), int32(before.line), int32(before.col), int32(before.name)}})
				li.cols = append(li.cols, blockStart{col: s.genCol, off: int32(off)})
			}
			sorted = sorted && s.genCol >= last
			last = s.genCol
		}
		off = next
	}
	if index {
		for k := 0; k < len(li.cols); k += coarseStep {
			li.coarse = append(li.coarse, li.cols[k].col)
		}
	}
	if index && !sorted {
		// Out-of-order columns defeat the checkpoints: keep every segment,
		// sorted. No known bundler writes such lines.
		li.blocks, li.cols, li.coarse = nil, nil, nil
		genCol, st = 0, begin
		for off := start; off < end; {
			s, next, err := decodeSegment(fm.mappings, off, end, &genCol, &st)
			if err != nil {
				return st, nil, err
			}
			li.sorted = append(li.sorted, s)
			off = next
		}
		slices.SortStableFunc(li.sorted, cmpGenCol)
	}
	return st, li, nil
}

// decodeSegment decodes the segment at mappings[off:], which ends at the
// next ',' or at end, accumulating its relative fields into genCol and st.
// It accepts exactly what sourcemap.Validate accepts: 1, 4 or 5 base64 VLQ
// fields of at most 32 bits with non-negative accumulated values. next is
// the offset of the following segment.
func decodeSegment(b []byte, off, end int, genCol *int64, st *vlqState) (s segment, next int, err error) {
	var vals [5]int64
	fields := 0
	b = b[:end]
	i := off
	for i < len(b) && b[i] != ',' {
		if fields == 5 {
			return s, 0, fmt.Errorf("segment with more than 5 fields at offset %d", off)
		}
		d := vlqDigit[b[i]]
		if d < 0 {
			return s, 0, fmt.Errorf("invalid base64 VLQ character %q at offset %d", b[i], i)
		}
		i++
		v := int64(d & 31)
		// Most values fit one digit; longer ones continue here.
		for shift := uint(5); d&32 != 0; shift += 5 {
			if i >= len(b) {
				return s, 0, fmt.Errorf("truncated VLQ value at offset %d", i)
			}
			if shift > 30 {
				return s, 0, fmt.Errorf("VLQ value wider than 32 bits at offset %d", off)
			}
			if d = vlqDigit[b[i]]; d < 0 {
				return s, 0, fmt.Errorf("invalid base64 VLQ character %q at offset %d", b[i], i)
			}
			i++
			v |= int64(d&31) << shift
		}
		if v&1 != 0 {
			v = -(v >> 1)
		} else {
			v >>= 1
		}
		vals[fields] = v
		fields++
	}
	next = i
	if i < end {
		next++ // ','; validation accepts one before the end of a line
	}
	*genCol += vals[0]
	s = segment{src: -1, name: -1}
	switch fields {
	case 0:
		return s, 0, fmt.Errorf("empty segment at offset %d", off)
	case 1:
	case 4, 5:
		st.src += vals[1]
		st.line += vals[2]
		st.col += vals[3]
		if st.src < 0 || st.src > math.MaxInt32 || st.line < 0 || st.line >= math.MaxInt32 || st.col < 0 || st.col > math.MaxInt32 {
			return s, 0, fmt.Errorf("original position out of range at offset %d", off)
		}
		s.src, s.line, s.col = int32(st.src), int32(st.line), int32(st.col)
		if fields == 5 {
			st.name += vals[4]
			if st.name < 0 || st.name > math.MaxInt32 {
				return s, 0, fmt.Errorf("name index out of range at offset %d", off)
			}
			s.name = int32(st.name)
		}
	default:
		return s, 0, fmt.Errorf("segment with %d fields at offset %d", fields, off)
	}
	if *genCol < 0 || *genCol > math.MaxInt32 {
		return s, 0, fmt.Errorf("generated column out of range at offset %d", off)
	}
	s.genCol = int32(*genCol)
	return s, next, nil
}

// objectFields calls fn with the raw key (without quotes, unescaped) and
// raw value of each member of the top-level JSON object in data. Values are
// delimited, not validated: callers decode the few they need with
// encoding/json, which validates those.
func objectFields(data []byte, fn func(key, val []byte) error) error {
	i := skipSpace(data, 0)
	if i >= len(data) {
		return errTruncated
	}
	if data[i] != '{' {
		return fmt.Errorf("invalid character %q looking for beginning of value", data[i])
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return trailing(data, i+1)
	}
	for {
		if i >= len(data) {
			return errTruncated
		}
		if data[i] != '"' {
			return fmt.Errorf("invalid character %q looking for beginning of object key string", data[i])
		}
		end, err := skipString(data, i)
		if err != nil {
			return err
		}
		key := data[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			var s string
			if err := json.Unmarshal(data[i:end], &s); err != nil {
				return err
			}
			key = []byte(s)
		}
		i = skipSpace(data, end)
		if i >= len(data) {
			return errTruncated
		}
		if data[i] != ':' {
			return fmt.Errorf("invalid character %q after object key", data[i])
		}
		i = skipSpace(data, i+1)
		end, err = skipValue(data, i)
		if err != nil {
			return err
		}
		if err := fn(key, data[i:end]); err != nil {
			return err
		}
		i = skipSpace(data, end)
		if i >= len(data) {
			return errTruncated
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return trailing(data, i+1)
		default:
			return fmt.Errorf("invalid character %q after object key:value pair", data[i])
		}
	}
}

func trailing(data []byte, i int) error {
	if i = skipSpace(data, i); i < len(data) {
		return fmt.Errorf("invalid character %q after top-level value", data[i])
	}
	return nil
}

// arrayElements splits a raw JSON array into its raw elements; null and an
// absent value give none.
func arrayElements(raw []byte) ([][]byte, error) {
	if raw == nil || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if raw[0] != '[' {
		return nil, errors.New("not an array")
	}
	var out [][]byte
	i := skipSpace(raw, 1)
	if i < len(raw) && raw[i] == ']' {
		return nil, nil
	}
	for {
		end, err := skipValue(raw, i)
		if err != nil {
			return nil, err
		}
		out = append(out, raw[i:end])
		i = skipSpace(raw, end)
		if i >= len(raw) {
			return nil, errTruncated
		}
		switch raw[i] {
		case ',':
			i = skipSpace(raw, i+1)
		case ']':
			return out, nil
		default:
			return nil, fmt.Errorf("invalid character %q after array element", raw[i])
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// skipString returns the offset just past the JSON string starting at b[i].
func skipString(b []byte, i int) (int, error) {
	for j := i + 1; ; {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, errTruncated
		}
		q := j + k
		escapes := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			escapes++
		}
		if escapes%2 == 0 {
			return q + 1, nil
		}
		j = q + 1
	}
}

// skipValue returns the offset just past the JSON value starting at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errTruncated
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); {
			switch b[j] {
			case '"':
				end, err := skipString(b, j)
				if err != nil {
					return 0, err
				}
				j = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
			j++
		}
		return 0, errTruncated
	case ',', '}', ']', ':':
		return 0, fmt.Errorf("invalid character %q looking for beginning of value", b[i])
	}
	j := i
	for j < len(b) {
		switch b[j] {
		case ',', '}', ']', ' ', '\n', '\r', '\t':
			return j, nil
		}
		j++
	}
	return j, nil
}
