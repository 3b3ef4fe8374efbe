package sourcemap

import (
	"os"
	"strings"
	"testing"
)

func fixture(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/main.js.map")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hostileMaps are broken, truncated and hostile maps with the problem the
// validator must name. Shared with the API test and the fuzz seed corpus.
func hostileMaps(t testing.TB) []struct{ name, data, problem string } {
	valid := string(fixture(t))
	return []struct{ name, data, problem string }{
		{"empty", "", "file is empty"},
		{"not json", "var x = 1;", "invalid JSON at byte 1 (line 1)"},
		{"truncated", valid[:len(valid)/2], "truncated JSON"},
		{"array", `[1,2]`, "must be a JSON object"},
		{"missing version", `{"sources":["a.js"],"mappings":"AAAA"}`, `missing "version"`},
		{"wrong version", `{"version":2,"sources":["a.js"],"mappings":"AAAA"}`, `unsupported "version" 2 (want 3)`},
		{"version as string", `{"version":"3","sources":["a.js"],"mappings":"AAAA"}`, `field "version" must not be string`},
		{"missing mappings", `{"version":3,"sources":["a.js"]}`, `missing "mappings"`},
		{"missing sources", `{"version":3,"mappings":"AAAA"}`, `missing "sources"`},
		{"empty mappings", `{"version":3,"sources":["a.js"],"mappings":""}`, `"mappings" is empty`},
		{"bad vlq character", `{"version":3,"sources":["a.js"],"mappings":"AAAA;AA!A"}`, `mappings: invalid base64 VLQ character '!' at offset 7 (generated line 2)`},
		{"truncated vlq", `{"version":3,"sources":["a.js"],"mappings":"AAAA;AAg"}`, `mappings: truncated VLQ value at offset 8 (generated line 2)`},
		{"vlq overflow", `{"version":3,"sources":["a.js"],"mappings":"gggggggggggggB"}`, `VLQ value wider than 32 bits`},
		{"two fields", `{"version":3,"sources":["a.js"],"mappings":"AA"}`, `has 2 fields; want 1, 4 or 5`},
		{"six fields", `{"version":3,"sources":["a.js"],"names":["x"],"mappings":"AAAAAA"}`, `more than 5 fields`},
		{"source out of range", `{"version":3,"sources":["a.js"],"mappings":"AAAA,ACAA"}`, `source index 1 out of range (1 sources) at offset 5 (generated line 1)`},
		{"name out of range", `{"version":3,"sources":["a.js"],"names":[],"mappings":"AAAAA"}`, `name index 0 out of range (0 names)`},
		{"negative source line", `{"version":3,"sources":["a.js"],"mappings":"AADA"}`, `negative original line or column`},
		{"huge source index", `{"version":3,"sources":["a.js"],"mappings":"A+////DAA"}`, `source index`},
		{"empty segment", `{"version":3,"sources":["a.js"],"mappings":"AAAA,,AAAA"}`, `empty segment at offset 5`},
		{"non-string name", `{"version":3,"sources":["a.js"],"names":[1],"mappings":"AAAAA"}`, `names[0] is not a string`},
		{"sourcesContent longer than sources", `{"version":3,"sources":["a.js"],"sourcesContent":["a","b"],"mappings":"AAAA"}`, `"sourcesContent" has 2 entries`},
		{"bad debug id", `{"version":3,"debug_id":"not-a-uuid","sources":["a.js"],"mappings":"AAAA"}`, `debug_id "not-a-uuid" is not a UUID`},
		{"nested sections", `{"version":3,"sections":[{"offset":{"line":0,"column":0},"map":{"version":3,"sections":[]}}]}`, `sections[0]: nested index map`},
		{"section url", `{"version":3,"sections":[{"offset":{"line":0,"column":0},"url":"x.map"}]}`, `sections[0]: sections with "url" are not supported`},
		{"section broken map", `{"version":3,"sections":[{"offset":{"line":0,"column":0},"map":{"version":3,"sources":["a.js"],"mappings":"A$"}}]}`, `sections[0]: mappings: invalid base64 VLQ character '$'`},
		{"no sources", `{"version":3,"sources":[],"mappings":"A"}`, `"sources" is empty`},
		{"huge mappings", `{"version":3,"sources":["a.js"],"mappings":"` + strings.Repeat("AAAA,", 200000) + `AAAAC"}`, `more than the limit`},
	}
}

func TestValidateRejects(t *testing.T) {
	for _, c := range hostileMaps(t) {
		t.Run(c.name, func(t *testing.T) {
			_, err := Validate([]byte(c.data), 512<<10)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), c.problem) {
				t.Errorf("error %q does not say %q", err, c.problem)
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	cases := []struct {
		name     string
		data     string
		sources  int
		segments int
		debugID  string
	}{
		{"esbuild fixture", string(fixture(t)), 3, -1, ""},
		{"one field segments", `{"version":3,"sources":["a.js"],"mappings":"AAAA,C;A"}`, 1, 3, ""},
		{"debug_id", `{"version":3,"debug_id":"6F1E7BD8-2C4A-5E55-9B1E-3C1F0B8E4A11","sources":["a.js"],"mappings":"AAAA"}`, 1, 1, "6f1e7bd8-2c4a-5e55-9b1e-3c1f0b8e4a11"},
		{"ecma-426 debugId", `{"version":3,"debugId":"6f1e7bd8-2c4a-5e55-9b1e-3c1f0b8e4a11","sources":["a.js"],"mappings":"AAAA"}`, 1, 1, "6f1e7bd8-2c4a-5e55-9b1e-3c1f0b8e4a11"},
		{"null source", `{"version":3,"sources":[null],"mappings":"AAAA"}`, 1, 1, ""},
		{"index map", `{"version":3,"sections":[{"offset":{"line":0,"column":0},"map":{"version":3,"sources":["a.js"],"mappings":"AAAA"}},{"offset":{"line":10,"column":0},"map":{"version":3,"sources":["b.js","c.js"],"mappings":"AAAA,CCAA"}}]}`, 3, 3, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sum, err := Validate([]byte(c.data), 0)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Sources != c.sources || (c.segments >= 0 && sum.Segments != c.segments) || sum.DebugID != c.debugID {
				t.Errorf("got %+v", sum)
			}
		})
	}
}

// FuzzValidate checks that no input crashes validation, and that whatever
// it accepts go-sourcemap can load and look up without panicking.
func FuzzValidate(f *testing.F) {
	f.Add(fixture(f))
	for _, c := range hostileMaps(f) {
		if len(c.data) < 4096 {
			f.Add([]byte(c.data))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := Validate(data, 1<<20); err != nil {
			return
		}
		c := mustParse(t, data)
		for line := 1; line < 4; line++ {
			for col := 0; col < 40; col += 7 {
				c.Source(line, col)
			}
		}
	})
}
