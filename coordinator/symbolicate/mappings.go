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
	lines  map[int][]segment
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
	fm = &flatMap{lines: map[int][]segment{}}
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

// source returns the original text of source i, "" when absent.
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
	var s string
	if raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// lookup finds the segment covering a generated position (1-based line,
// 0-based column): the last segment of that line starting at or before
// column. Positions before a line's first segment, or in a range a
// one-field segment marks unmapped, are not covered.
func (fm *flatMap) lookup(line, column int) (segment, bool, error) {
	segs, err := fm.line(line - 1)
	if err != nil || len(segs) == 0 {
		return segment{}, false, err
	}
	i, found := slices.BinarySearchFunc(segs, column, func(s segment, c int) int {
		return int(s.genCol) - c
	})
	if !found {
		if i == 0 {
			return segment{}, false, nil
		}
		i--
	} else {
		// Several segments may share a column: go-sourcemap takes the first.
		for i > 0 && int(segs[i-1].genCol) == column {
			i--
		}
	}
	s := segs[i]
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

// line returns the decoded, column-sorted segments of 0-based generated
// line n, decoding (without keeping) the lines before it once so that the
// relative fields are known.
func (fm *flatMap) line(n int) ([]segment, error) {
	if n < 0 || n >= len(fm.lineStarts) {
		return nil, nil
	}
	fm.mu.Lock()
	defer fm.mu.Unlock()
	if segs, ok := fm.lines[n]; ok {
		return segs, nil
	}
	for len(fm.states) <= n {
		k := len(fm.states) - 1
		st, _, err := fm.decodeLine(k, fm.states[k], false)
		if err != nil {
			return nil, err
		}
		fm.states = append(fm.states, st)
	}
	_, segs, err := fm.decodeLine(n, fm.states[n], true)
	if err != nil {
		return nil, err
	}
	if !slices.IsSortedFunc(segs, cmpGenCol) {
		slices.SortStableFunc(segs, cmpGenCol)
	}
	fm.lines[n] = segs
	return segs, nil
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
// state at the end of the line and, when keep is set, its segments. It
// accepts exactly what sourcemap.Validate accepts: segments of 1, 4 or 5
// base64 VLQ fields of at most 32 bits, with non-negative accumulated
// values.
func (fm *flatMap) decodeLine(n int, st vlqState, keep bool) (vlqState, []segment, error) {
	start := int(fm.lineStarts[n])
	b := fm.mappings[start:]
	if n+1 < len(fm.lineStarts) {
		b = fm.mappings[start : fm.lineStarts[n+1]-1]
	}
	var segs []segment
	if keep {
		segs = make([]segment, 0, bytes.Count(b, []byte{','})+1)
	}
	bad := func(at int, what string) (vlqState, []segment, error) {
		return st, nil, fmt.Errorf("mappings: %s at offset %d (generated line %d)", what, start+at, n+1)
	}
	var genCol int64
	for i := 0; i < len(b); {
		segStart := i
		var vals [5]int64
		fields := 0
		for i < len(b) && b[i] != ',' {
			if fields == 5 {
				return bad(segStart, "segment with more than 5 fields")
			}
			var v int64
			for shift := uint(0); ; shift += 5 {
				if i >= len(b) {
					return bad(i, "truncated VLQ value")
				}
				if shift > 30 {
					return bad(segStart, "VLQ value wider than 32 bits")
				}
				d := vlqDigit[b[i]]
				if d < 0 {
					return bad(i, fmt.Sprintf("invalid base64 VLQ character %q", b[i]))
				}
				i++
				v |= int64(d&31) << shift
				if d&32 == 0 {
					break
				}
			}
			if v&1 != 0 {
				v = -(v >> 1)
			} else {
				v >>= 1
			}
			vals[fields] = v
			fields++
		}
		if i < len(b) {
			i++ // ','
			if i == len(b) {
				return bad(i, "empty segment")
			}
		}
		genCol += vals[0]
		s := segment{src: -1, name: -1}
		switch fields {
		case 0:
			return bad(segStart, "empty segment")
		case 1:
		case 4, 5:
			st.src += vals[1]
			st.line += vals[2]
			st.col += vals[3]
			if st.src < 0 || st.src > math.MaxInt32 || st.line < 0 || st.line >= math.MaxInt32 || st.col < 0 || st.col > math.MaxInt32 {
				return bad(segStart, "original position out of range")
			}
			s.src, s.line, s.col = int32(st.src), int32(st.line), int32(st.col)
			if fields == 5 {
				st.name += vals[4]
				if st.name < 0 || st.name > math.MaxInt32 {
					return bad(segStart, "name index out of range")
				}
				s.name = int32(st.name)
			}
		default:
			return bad(segStart, fmt.Sprintf("segment with %d fields", fields))
		}
		if genCol < 0 || genCol > math.MaxInt32 {
			return bad(segStart, "generated column out of range")
		}
		if keep {
			s.genCol = int32(genCol)
			segs = append(segs, s)
		}
	}
	return st, segs, nil
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
