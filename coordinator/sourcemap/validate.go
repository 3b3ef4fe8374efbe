package sourcemap

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	gosourcemap "github.com/go-sourcemap/sourcemap"
	"github.com/google/uuid"
)

// Summary is what validation learned about a source map.
type Summary struct {
	Sources  int    // number of original sources
	Names    int    // number of entries in "names"
	Segments int    // number of mapping segments
	DebugID  string // lower-case UUID from "debug_id" or "debugId", "" when absent
	File     string // the map's "file" field
}

// maxSections bounds index maps so that a hostile upload cannot make
// validation or the symbolicator walk millions of tiny sections.
const maxSections = 10000

type rawMap struct {
	Version        *int              `json:"version"`
	File           string            `json:"file"`
	SourceRoot     string            `json:"sourceRoot"`
	Sources        []*string         `json:"sources"`
	SourcesContent []*string         `json:"sourcesContent"`
	Names          []json.RawMessage `json:"names"`
	Mappings       *string           `json:"mappings"`
	Sections       []rawSection      `json:"sections"`
	DebugID        string            `json:"debug_id"`
	DebugIDStd     string            `json:"debugId"`
}

type rawSection struct {
	Offset *struct {
		Line   int `json:"line"`
		Column int `json:"column"`
	} `json:"offset"`
	URL string          `json:"url"`
	Map json.RawMessage `json:"map"`
}

// Validate checks that data is a source map the symbolicator can use:
// well-formed JSON, version 3, mappings made of valid base64 VLQ whose
// source and name indices point into "sources" and "names", and a
// well-formed Debug ID when one is present. maxBytes bounds the size (0: no
// bound). The error says what is wrong and where; callers prefix the file
// name.
func Validate(data []byte, maxBytes int64) (Summary, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return Summary{}, errors.New("file is empty")
	}
	if maxBytes > 0 && int64(len(data)) > maxBytes {
		return Summary{}, fmt.Errorf("map is %d bytes, more than the limit of %d", len(data), maxBytes)
	}
	sum, err := validate(data, 0)
	if err != nil {
		return Summary{}, err
	}
	// The symbolicator parses with go-sourcemap: anything it refuses is
	// refused here too, so that an accepted upload always loads.
	if _, err := gosourcemap.Parse("", data); err != nil {
		return Summary{}, fmt.Errorf("source map parser: %w", err)
	}
	return sum, nil
}

func validate(data []byte, depth int) (Summary, error) {
	var m rawMap
	if err := json.Unmarshal(data, &m); err != nil {
		return Summary{}, jsonProblem(data, err)
	}
	if m.Version == nil {
		return Summary{}, errors.New(`missing "version" (want 3)`)
	}
	if *m.Version != 3 {
		return Summary{}, fmt.Errorf(`unsupported "version" %d (want 3)`, *m.Version)
	}
	sum := Summary{File: m.File}
	id := m.DebugID
	if id == "" {
		id = m.DebugIDStd
	}
	if id != "" {
		u, err := uuid.Parse(id)
		if err != nil {
			return Summary{}, fmt.Errorf("debug_id %q is not a UUID", truncate(id, 64))
		}
		sum.DebugID = u.String()
	}
	if m.Sections != nil {
		if depth > 0 {
			return Summary{}, errors.New("nested index map: a section's map must not have sections")
		}
		if m.Mappings != nil {
			return Summary{}, errors.New(`index map has both "sections" and "mappings"`)
		}
		if len(m.Sections) > maxSections {
			return Summary{}, fmt.Errorf("index map has %d sections, more than %d", len(m.Sections), maxSections)
		}
		for i, s := range m.Sections {
			if s.URL != "" {
				return Summary{}, fmt.Errorf("sections[%d]: sections with \"url\" are not supported; embed the map", i)
			}
			if s.Offset == nil || s.Offset.Line < 0 || s.Offset.Column < 0 {
				return Summary{}, fmt.Errorf("sections[%d]: missing or negative \"offset\"", i)
			}
			if len(s.Map) == 0 {
				return Summary{}, fmt.Errorf("sections[%d]: missing \"map\"", i)
			}
			inner, err := validate(s.Map, depth+1)
			if err != nil {
				return Summary{}, fmt.Errorf("sections[%d]: %w", i, err)
			}
			sum.Sources += inner.Sources
			sum.Names += inner.Names
			sum.Segments += inner.Segments
		}
		if sum.Segments == 0 {
			return Summary{}, errors.New("index map has no mappings")
		}
		return sum, nil
	}
	if m.Mappings == nil {
		return Summary{}, errors.New(`missing "mappings"`)
	}
	if m.Sources == nil {
		return Summary{}, errors.New(`missing "sources"`)
	}
	if len(m.Sources) == 0 {
		return Summary{}, errors.New(`"sources" is empty: the map resolves nothing`)
	}
	if len(m.SourcesContent) > len(m.Sources) {
		return Summary{}, fmt.Errorf(`"sourcesContent" has %d entries but "sources" only %d`, len(m.SourcesContent), len(m.Sources))
	}
	for i, n := range m.Names {
		if len(n) == 0 || n[0] != '"' {
			return Summary{}, fmt.Errorf(`names[%d] is not a string`, i)
		}
	}
	sum.Sources = len(m.Sources)
	sum.Names = len(m.Names)
	segs, err := checkMappings(*m.Mappings, len(m.Sources), len(m.Names))
	if err != nil {
		return Summary{}, fmt.Errorf("mappings: %w", err)
	}
	if segs == 0 {
		return Summary{}, errors.New(`"mappings" is empty: the map resolves nothing`)
	}
	sum.Segments = segs
	return sum, nil
}

// jsonProblem turns a decoding error into a message with a position.
func jsonProblem(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "unexpected end of JSON input"):
		return fmt.Errorf("truncated JSON: input ends after %d bytes", len(data))
	case errors.As(err, &syn):
		line := 1 + bytes.Count(data[:min(int(syn.Offset), len(data))], []byte{'\n'})
		return fmt.Errorf("invalid JSON at byte %d (line %d): %v", syn.Offset, line, syn)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return fmt.Errorf("a source map must be a JSON object, not %s", typ.Value)
		}
		return fmt.Errorf("field %q must not be %s", field, typ.Value)
	}
	return fmt.Errorf("invalid JSON: %w", err)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

var base64Value = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = int8(i)
	}
	return t
}()

// checkMappings walks the VLQ mappings string as the spec defines it and
// reports the first problem with its offset and generated line. It returns
// the number of segments.
func checkMappings(s string, sources, names int) (int, error) {
	var (
		segments             int
		line                 = 1
		genCol               int64
		src, srcLine, srcCol int64
		name                 int64
		fields               int
		segStart             int
	)
	endSegment := func(at int) error {
		switch fields {
		case 0:
			return nil
		case 1, 4, 5:
		default:
			return fmt.Errorf("segment at offset %d (generated line %d) has %d fields; want 1, 4 or 5", segStart, line, fields)
		}
		if genCol < 0 {
			return fmt.Errorf("negative generated column at offset %d (generated line %d)", segStart, line)
		}
		if fields >= 4 {
			if src < 0 || src >= int64(sources) {
				return fmt.Errorf("source index %d out of range (%d sources) at offset %d (generated line %d)", src, sources, segStart, line)
			}
			if srcLine < 0 || srcCol < 0 {
				return fmt.Errorf("negative original line or column at offset %d (generated line %d)", segStart, line)
			}
		}
		if fields == 5 && (name < 0 || name >= int64(names)) {
			return fmt.Errorf("name index %d out of range (%d names) at offset %d (generated line %d)", name, names, segStart, line)
		}
		segments++
		fields = 0
		return nil
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case ',', ';':
			if fields == 0 && c == ',' {
				return 0, fmt.Errorf("empty segment at offset %d (generated line %d)", i, line)
			}
			if err := endSegment(i); err != nil {
				return 0, err
			}
			if c == ';' {
				line++
				genCol = 0
			}
			i++
			continue
		}
		if fields == 0 {
			segStart = i
		}
		// One VLQ value.
		var v int64
		shift := uint(0)
		for {
			if i >= len(s) {
				return 0, fmt.Errorf("truncated VLQ value at offset %d (generated line %d)", i, line)
			}
			d := base64Value[s[i]]
			if d < 0 {
				return 0, fmt.Errorf("invalid base64 VLQ character %q at offset %d (generated line %d)", s[i], i, line)
			}
			i++
			v |= int64(d&31) << shift
			if d&32 == 0 {
				break
			}
			shift += 5
			if shift > 30 {
				return 0, fmt.Errorf("VLQ value wider than 32 bits at offset %d (generated line %d)", segStart, line)
			}
		}
		if v&1 != 0 {
			v = -(v >> 1)
		} else {
			v >>= 1
		}
		switch fields {
		case 0:
			genCol += v
		case 1:
			src += v
		case 2:
			srcLine += v
		case 3:
			srcCol += v
		case 4:
			name += v
		default:
			return 0, fmt.Errorf("segment at offset %d (generated line %d) has more than 5 fields", segStart, line)
		}
		fields++
	}
	if err := endSegment(len(s)); err != nil {
		return 0, err
	}
	return segments, nil
}

func parseUUID(s string) (string, error) {
	u, err := uuid.Parse(s)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}
