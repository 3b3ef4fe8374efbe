package symbolicate_test

import (
	"context"
	"strings"
	"testing"

	"github.com/rearview-dev/rearview/coordinator/sourcemap"
	"github.com/rearview-dev/rearview/coordinator/symbolicate"
	"github.com/rearview-dev/rearview/coordinator/symbolicate/symtest"
	"github.com/rearview-dev/rearview/sdkproto"
)

// TestFreshBuildInChromium builds the TypeScript app with esbuild during the
// test, throws its errors in headless Chromium, uploads the map through the
// real store and checks every symbolicated frame against the TypeScript
// source: the whole path a production error takes, with nothing recorded
// ahead of time.
func TestFreshBuildInChromium(t *testing.T) {
	ctx := context.Background()
	app := symtest.Build(t)
	if _, err := sourcemap.Validate(app.Map, 0); err != nil {
		t.Fatalf("esbuild's map does not validate: %v", err)
	}
	stacks := symtest.Throw(t, app)
	st := newStore(t)
	if _, _, err := st.Put(ctx, "shop", sourcemap.Upload{Release: "fresh", Name: "main.js.map", URL: "~" + symtest.BundlePath, Data: app.Map}); err != nil {
		t.Fatal(err)
	}
	sym := symbolicate.New(st, symbolicate.Options{})
	line := func(file, needle string) int { return symtest.SourceLine(t, file, needle) }
	cases := []struct {
		kind string
		want []want
	}{
		{"list", []want{
			{"components.ts", "ProductList", line("components.ts", "const rows = page.items!.map")},
			{"components.ts", "loadAndRender", line("components.ts", "return ProductList(page)")},
			{"main.ts", "boot", line("main.ts", "window.rearviewFixture = ")},
		}},
		{"cart", []want{
			{"components.ts", "CartSummary", line("components.ts", "page.items!.map((p) =>")},
			{"components.ts", "loadAndRender", line("components.ts", "return CartSummary(page)")},
			{"main.ts", "boot", line("main.ts", "window.rearviewFixture = ")},
		}},
		{"reco", []want{
			{"components.ts", "Recommendations.render", line("components.ts", "const names = this.source.items!.map")},
			{"components.ts", "loadAndRender", line("components.ts", "return new Recommendations(page).render()")},
			{"main.ts", "boot", line("main.ts", "window.rearviewFixture = ")},
		}},
	}
	for _, c := range cases {
		t.Run(c.kind, func(t *testing.T) {
			s := stacks[c.kind]
			if s.Type != "TypeError" || !strings.Contains(s.Value, "reading 'map'") {
				t.Fatalf("threw %s: %s", s.Type, s.Value)
			}
			if len(s.Frames) != len(c.want) {
				t.Fatalf("%d bundle frames, want %d: %+v", len(s.Frames), len(c.want), s.Frames)
			}
			e := &sdkproto.Error{Type: s.Type, Value: s.Value, Release: "fresh", URL: s.PageURL, Stack: s.Frames}
			frames, err := sym.Symbolicate(ctx, "shop", e)
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range c.want {
				f := frames[i]
				if f.Original == nil {
					t.Fatalf("frame %d (%s:%d:%d) unresolved: %s", i, f.URL, f.Line, f.Column, f.UnresolvedReason)
				}
				got := f.Original
				if !strings.HasSuffix(got.Source, "src/"+w.source) || got.Line != w.line || got.Function != w.function {
					t.Errorf("frame %d: got %s:%d %s, want src/%s:%d %s", i, got.Source, got.Line, got.Function, w.source, w.line, w.function)
				}
				if !f.InApp {
					t.Errorf("frame %d not in app", i)
				}
				src := strings.Split(string(readFile(t, "testdata/app/src/"+w.source)), "\n")
				if f.Context == nil || f.Context.Line != src[w.line-1] {
					t.Errorf("frame %d: context %+v, want line %q", i, f.Context, src[w.line-1])
				}
			}
		})
	}
}
