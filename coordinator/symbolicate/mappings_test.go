package symbolicate

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	gosourcemap "github.com/go-sourcemap/sourcemap"

	"github.com/rearview-dev/rearview/coordinator/sourcemap"
)

// agreeWithGoSourcemap checks one generated position (1-based line,
// 0-based column) of a validated flat map against go-sourcemap, the parser
// the lazy one replaced. They must agree wherever the lazy parser resolves;
// it may refuse only where go-sourcemap departs from the spec: a position
// before the first segment of its line (go-sourcemap borrows the previous
// line's last segment) or in a range a one-field segment marks unmapped.
func agreeWithGoSourcemap(t *testing.T, data []byte, m *Map, line, col int) {
	t.Helper()
	c, err := gosourcemap.Parse("", data)
	if err != nil {
		t.Fatalf("go-sourcemap refuses a validated map: %v", err)
	}
	segs := lineSegments(t, m.flat, line-1)
	if !slices.IsSortedFunc(segs, cmpGenCol) {
		return // go-sourcemap's binary search assumes sorted lines; we sort
	}
	src, _, name, oline, ocol, err := m.lookup(line, col)
	wsrc, wname, woline, wocol, wok := c.Source(line, col)
	switch {
	case err == nil:
		if !wok || src != wsrc || name != wname || oline != woline || ocol != wocol {
			t.Fatalf("%d:%d: got %s:%d:%d %q, go-sourcemap %v %s:%d:%d %q", line, col, src, oline, ocol, name, wok, wsrc, woline, wocol, wname)
		}
	case !errors.Is(err, ErrNoMapping):
		t.Fatalf("%d:%d: %v", line, col, err)
	case wok:
		i := len(segs) - 1
		for i >= 0 && int(segs[i].genCol) > col {
			i--
		}
		if i >= 0 && segs[i].src >= 0 {
			t.Fatalf("%d:%d: not resolved, go-sourcemap says %s:%d:%d", line, col, wsrc, woline, wocol)
		}
	}
}

// lineSegments decodes every segment of generated line n, in map order.
func lineSegments(t *testing.T, fm *flatMap, n int) []segment {
	li, err := fm.line(n)
	if err != nil {
		t.Fatalf("validated map: line %d: %v", n+1, err)
	}
	if li == nil {
		return nil
	}
	var segs []segment
	genCol, st := int64(0), fm.states[n]
	for off := int(fm.lineStarts[n]); off < li.end; {
		s, next, err := decodeSegment(fm.mappings, off, li.end, &genCol, &st)
		if err != nil {
			t.Fatal(err)
		}
		segs = append(segs, s)
		off = next
	}
	return segs
}

func TestLazyParserAgreesWithGoSourcemap(t *testing.T) {
	fixture, err := os.ReadFile("testdata/app/dist/static/js/main.js.map")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		data string
	}{
		{"esbuild fixture", string(fixture)},
		{"several lines and names", `{"version":3,"sources":["a.ts","b.ts"],"names":["x","y"],"mappings":"AAAA,EAACA,GAAG;;ACAA,CAACC;AACD"}`},
		{"sourceRoot", `{"version":3,"sourceRoot":"webpack://app/","sources":["./src/a.ts"],"mappings":"AAAA"}`},
		{"one-field segments", `{"version":3,"sources":["a.ts"],"mappings":"AAAA,E,EAAE;C,CAAA"}`},
		{"escaped mappings and keys", `{"vers\u0069on":3,"sources":["a.ts"],"mappings":"AA\u0041A,CAAC"}`},
		{"long line, duplicate columns", longLine()},
		{"columns out of order", `{"version":3,"sources":["a.ts"],"mappings":"KAAA,DAAC,IAAC,CAAC"}`},
		{"null sourcesContent entry", `{"version":3,"sources":["a.ts","b.ts"],"sourcesContent":[null,"x"],"mappings":"AAAA,CCAA"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := []byte(c.data)
			if _, err := sourcemap.Validate(data, 0); err != nil {
				t.Fatalf("case does not validate: %v", err)
			}
			m, err := ParseMap(data)
			if err != nil {
				t.Fatal(err)
			}
			resolved := 0
			for line := 1; line <= 4; line++ {
				for col := 0; col < 1200; col++ {
					agreeWithGoSourcemap(t, data, m, line, col)
					if _, _, _, _, _, err := m.lookup(line, col); err == nil {
						resolved++
					}
				}
			}
			if resolved == 0 {
				t.Error("nothing resolved")
			}
		})
	}
}

func TestParseMapErrors(t *testing.T) {
	cases := []struct{ name, data, err string }{
		{"truncated", `{"version":3,"sources":["a.ts"],"mappings":"AA`, "unexpected end of JSON input"},
		{"not an object", `[1]`, "invalid character '[' looking for beginning of value"},
		{"trailing garbage", `{"version":3,"sources":["a"],"mappings":"AAAA"} x`, "after top-level value"},
		{"wrong version", `{"version":2,"sources":["a"],"mappings":"AAAA"}`, "unsupported source map version: 2"},
		{"no mappings", `{"version":3,"sources":["a"]}`, "mappings are empty"},
		{"mappings not a string", `{"version":3,"sources":["a"],"mappings":7}`, "mappings: not a string"},
		{"bad sources", `{"version":3,"sources":"a","mappings":"AAAA"}`, "sources:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseMap([]byte(c.data))
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("err %v, want %q", err, c.err)
			}
		})
	}
}

// TestBadMappingsFailTheFrame: a map whose mappings went bad in storage
// fails the frames on and after the bad line with the offset, and only
// those.
func TestBadMappingsFailTheFrame(t *testing.T) {
	m, err := ParseMap([]byte(`{"version":3,"sources":["a.ts"],"mappings":"AAAA;AA!A;AAAA"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.Resolve(1, 1, 0); err != nil {
		t.Errorf("line 1: %v", err)
	}
	for _, line := range []int{2, 3} {
		_, _, err := m.Resolve(line, 1, 0)
		if err == nil || !strings.Contains(err.Error(), `invalid base64 VLQ character '!' at offset 7 (generated line 2)`) {
			t.Errorf("line %d: %v", line, err)
		}
	}
}

// FuzzLazyParser feeds arbitrary bytes to ParseMap and resolves a
// position: nothing may panic, and where upload validation accepts the map
// the answer must match go-sourcemap's.
func FuzzLazyParser(f *testing.F) {
	fixture, err := os.ReadFile("testdata/app/dist/static/js/main.js.map")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(fixture, 1, 166)
	f.Add([]byte(`{"version":3,"sources":["a.ts","b.ts"],"names":["x","y"],"mappings":"AAAA,EAACA,GAAG;;ACAA,CAACC;AACD"}`), 3, 1)
	f.Add([]byte(`{"version":3,"sources":["a.ts"],"mappings":"AAAA,E,EAAE;C,CAAA"}`), 2, 2)
	f.Add([]byte(`{"version":3,"sources":["a.ts"],"mappings":"AAAA,AgBAA"}`), 1, 0)
	f.Add([]byte(`{"version":3,"sections":[{"offset":{"line":0,"column":0},"map":{"version":3,"sources":["a"],"mappings":"AAAA"}}]}`), 1, 0)
	f.Add([]byte(`{"Version":3,"SOURCES":["a\"b"],"mappings":"A\u0041AA","x":[{"y":"]}"}]}`), 1, 0)
	f.Fuzz(func(t *testing.T, data []byte, line, col int) {
		m, err := ParseMap(data)
		if err != nil {
			return
		}
		m.Resolve(line, col, 2)
		if m.flat == nil || line < 1 || col < 0 {
			return
		}
		if _, err := sourcemap.Validate(data, 1<<20); err != nil {
			return
		}
		agreeWithGoSourcemap(t, data, m, line, col)
	})
}

// longLine is a one-line map of many blocks with runs of segments at the
// same column, some straddling block boundaries, and one-field segments.
func longLine() string {
	var m strings.Builder
	for i := 0; i < 300; i++ {
		if i > 0 {
			m.WriteByte(',')
		}
		switch {
		case i%7 == 3:
			m.WriteString("A") // same column as the previous segment, unmapped
		case i%5 == 0:
			m.WriteString("AACC") // same column, next original column
		default:
			m.WriteString("GAAC")
		}
	}
	return `{"version":3,"sources":["a.ts"],"mappings":"` + m.String() + `"}`
}

func TestColumnsOutOfOrder(t *testing.T) {
	// Generated columns 5, 4, 8, 9 mapping to original columns 0..3.
	m, err := ParseMap([]byte(`{"version":3,"sources":["a.ts"],"mappings":"KAAA,DAAC,IAAC,CAAC"}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ col, want int }{{3, -1}, {4, 1}, {5, 0}, {7, 0}, {8, 2}, {100, 3}} {
		s, ok, err := m.flat.lookup(1, c.col)
		if err != nil {
			t.Fatal(err)
		}
		got := -1
		if ok {
			got = int(s.col)
		}
		if got != c.want {
			t.Errorf("column %d: original column %d, want %d", c.col, got, c.want)
		}
	}
}

// BenchmarkLookupDistinct is a warm map asked for positions it has not
// seen: a binary search over the line's checkpoints and the decoding of at
// most one block.
func BenchmarkLookupDistinct(b *testing.B) {
	var m strings.Builder
	const segs = 400000
	for i := 0; i < segs; i++ {
		if i > 0 {
			m.WriteByte(',')
		}
		m.WriteString("GAAC")
	}
	pm, err := ParseMap([]byte(`{"version":3,"sources":["a.ts"],"mappings":"` + m.String() + `"}`))
	if err != nil {
		b.Fatal(err)
	}
	// Segment k starts at generated column 3(k+1) and maps to column k+1.
	if _, ok, err := pm.flat.lookup(1, 3); !ok || err != nil {
		b.Fatal(ok, err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i = 1 + (i+7919)%(segs-1)
		if s, ok, _ := pm.flat.lookup(1, 3*i+1); !ok || int(s.col) != i {
			b.Fatalf("column %d: %+v %v", 3*i+1, s, ok)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}
