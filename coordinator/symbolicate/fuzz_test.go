package symbolicate

import (
	"os"
	"testing"

	"github.com/rearview-dev/rearview/coordinator/sourcemap"
)

// FuzzResolve feeds validated maps and arbitrary positions through the
// whole resolution path, function-name scan and context included: nothing
// may panic.
func FuzzResolve(f *testing.F) {
	fixture, err := os.ReadFile("testdata/app/dist/static/js/main.js.map")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(fixture, 1, 167)
	f.Add([]byte(`{"version":3,"sources":["a.ts"],"sourcesContent":["class A {\n  m() { return x; }\n}"],"names":["m"],"mappings":"AAAA;AACEA"}`), 2, 3)
	f.Add([]byte(`{"version":3,"sources":["a.ts"],"sourcesContent":["{{{}}}=>(){"],"mappings":"AAAA,MAAE"}`), 1, 9)
	f.Fuzz(func(t *testing.T, data []byte, line, col int) {
		if _, err := sourcemap.Validate(data, 1<<20); err != nil {
			return
		}
		m, err := ParseMap(data)
		if err != nil {
			t.Fatalf("validated map does not parse: %v", err)
		}
		pos, ctx, err := m.Resolve(line, col, 5)
		if err != nil {
			return
		}
		if pos.Line < 1 || pos.Column < 1 {
			t.Errorf("position %+v is not 1-based", pos)
		}
		if ctx != nil && (len(ctx.Pre) > 5 || len(ctx.Post) > 5 || len(ctx.Line) > maxContextLine) {
			t.Errorf("context too large: %d/%d/%d", len(ctx.Pre), len(ctx.Post), len(ctx.Line))
		}
	})
}
