package symbolicate_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rearview-dev/rearview/coordinator/blob"
	"github.com/rearview-dev/rearview/coordinator/sourcemap"
	"github.com/rearview-dev/rearview/coordinator/store/storetest"
	"github.com/rearview-dev/rearview/coordinator/symbolicate"
	"github.com/rearview-dev/rearview/sdkproto"
)

const (
	bundleURL = "https://shop.example.com/static/js/main.js?v=3"
	pageURL   = "https://shop.example.com/products"
	debugID   = "6f1e7bd8-2c4a-5e55-9b1e-3c1f0b8e4a11"
)

func newStore(t testing.TB) *sourcemap.Store {
	s, _ := newStoreBlobs(t)
	return s
}

func newStoreBlobs(t testing.TB) (*sourcemap.Store, blob.Store) {
	t.Helper()
	dir := t.TempDir()
	db := storetest.Open(t)
	blobs, err := blob.NewDir(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sourcemap.New(sourcemap.Config{DB: db, Blobs: blobs})
	if err != nil {
		t.Fatal(err)
	}
	return s, blobs
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fixtureMap(t testing.TB) []byte {
	return readFile(t, "testdata/app/dist/static/js/main.js.map")
}

var frameRe = regexp.MustCompile(`^at (?:(.+) \()?(.+):(\d+):(\d+)\)?$`)

// stacks returns the real V8 stacks recorded by testdata/app/stacks.js.
func stacks(t testing.TB) map[string][]sdkproto.Frame {
	t.Helper()
	var raw map[string]struct{ Frames []string }
	if err := json.Unmarshal(readFile(t, "testdata/app/stacks.json"), &raw); err != nil {
		t.Fatal(err)
	}
	out := map[string][]sdkproto.Frame{}
	for k, v := range raw {
		for _, l := range v.Frames {
			m := frameRe.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("unparsable frame %q", l)
			}
			line, _ := strconv.Atoi(m[3])
			col, _ := strconv.Atoi(m[4])
			out[k] = append(out[k], sdkproto.Frame{Function: m[1], URL: m[2], Line: line, Column: col})
		}
	}
	return out
}

// sourceLine returns the 1-based line of the fixture source containing
// needle, so expectations follow the source, not the tool under test.
func sourceLine(t testing.TB, file, needle string) int {
	t.Helper()
	for i, l := range strings.Split(string(readFile(t, "testdata/app/src/"+file)), "\n") {
		if strings.Contains(l, needle) {
			return i + 1
		}
	}
	t.Fatalf("%s has no line with %q", file, needle)
	return 0
}

type want struct {
	source, function string
	line             int
}

func TestSymbolicateFixtureStacks(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	if _, _, err := st.Put(ctx, "shop", sourcemap.Upload{Release: "abc123", Name: "main.js.map", URL: "~/static/js/main.js", Data: fixtureMap(t)}); err != nil {
		t.Fatal(err)
	}
	sym := symbolicate.New(st, symbolicate.Options{})
	all := stacks(t)
	cases := []struct {
		stack string
		want  []want
	}{
		{"list", []want{
			{"components.ts", "ProductList", sourceLine(t, "components.ts", "const rows = page.items!.map")},
			{"components.ts", "loadAndRender", sourceLine(t, "components.ts", "return ProductList(page)")},
			{"main.ts", "", sourceLine(t, "main.ts", "window.rearviewFixture = ")},
		}},
		{"cart", []want{
			{"components.ts", "CartSummary", sourceLine(t, "components.ts", "page.items!.map((p) =>")},
			{"components.ts", "loadAndRender", sourceLine(t, "components.ts", "return CartSummary(page)")},
		}},
		{"reco", []want{
			{"components.ts", "Recommendations.render", sourceLine(t, "components.ts", "const names = this.source.items!.map")},
			{"components.ts", "loadAndRender", sourceLine(t, "components.ts", "return new Recommendations(page).render()")},
		}},
	}
	for _, c := range cases {
		t.Run(c.stack, func(t *testing.T) {
			e := &sdkproto.Error{Type: "TypeError", Release: "abc123", URL: pageURL, Stack: all[c.stack]}
			frames, err := sym.Symbolicate(ctx, "shop", e)
			if err != nil {
				t.Fatal(err)
			}
			if len(frames) != len(e.Stack) {
				t.Fatalf("got %d frames for %d", len(frames), len(e.Stack))
			}
			for i, w := range c.want {
				f := frames[i]
				if f.Original == nil {
					t.Fatalf("frame %d unresolved: %s", i, f.UnresolvedReason)
				}
				if !strings.HasSuffix(f.Original.Source, "src/"+w.source) || f.Original.Line != w.line {
					t.Errorf("frame %d: got %s:%d, want %s:%d", i, f.Original.Source, f.Original.Line, w.source, w.line)
				}
				if w.function != "" && f.Original.Function != w.function {
					t.Errorf("frame %d: function %q, want %q", i, f.Original.Function, w.function)
				}
				if !f.InApp {
					t.Errorf("frame %d not in app", i)
				}
				if f.Context == nil || !strings.Contains(f.Context.Line, "") || len(f.Context.Pre) == 0 {
					t.Errorf("frame %d: context %+v", i, f.Context)
				}
				if f.URL != e.Stack[i].URL || f.Line != e.Stack[i].Line || f.Column != e.Stack[i].Column {
					t.Errorf("frame %d lost its minified position: %+v", i, f.Frame)
				}
			}
			// The frame's context line is the source line itself.
			src := strings.Split(string(readFile(t, "testdata/app/src/"+c.want[0].source)), "\n")
			if got := frames[0].Context.Line; got != src[c.want[0].line-1] {
				t.Errorf("context line %q, want %q", got, src[c.want[0].line-1])
			}
			if n := len(frames[0].Context.Pre); n != min(5, c.want[0].line-1) {
				t.Errorf("%d pre-context lines", n)
			}
		})
	}
}

func TestResolutionPaths(t *testing.T) {
	ctx := context.Background()
	data := fixtureMap(t)
	listFrame := func(t *testing.T) sdkproto.Frame { return stacks(t)["list"][0] }
	wantLine := sourceLine(t, "components.ts", "const rows = page.items!.map")
	// An earlier release's upload of the bundle with its map elsewhere
	// (sourceMappingURL=../maps/main.js.map); its own map is another one,
	// so resolving with it would not give ProductList.
	other := []byte(`{"version":3,"sources":["other.ts"],"sourcesContent":["function other() {\n  return 1;\n}\n"],"names":[],"mappings":"AAAA"}`)
	earlier := sourcemap.Upload{Release: "r0", Name: "main.js.map", URL: "~/static/js/main.js", MapURL: "~/static/maps/main.js.map", Data: other}
	cases := []struct {
		name       string
		before     []sourcemap.Upload // stored first
		upload     *sourcemap.Upload
		corrupt    []byte // overwrite the stored blob with this
		deleteBlob bool
		event      func(f sdkproto.Frame) *sdkproto.Error
		reason     string // "" means resolved
	}{
		{
			name:   "debug id wins over a wrong release",
			upload: &sourcemap.Upload{Release: "old", Name: "main.js.map", URL: "~/elsewhere.js", DebugID: debugID, Data: data},
			event: func(f sdkproto.Frame) *sdkproto.Error {
				return &sdkproto.Error{Release: "new", Stack: []sdkproto.Frame{f}, DebugIDs: map[string]string{f.URL: debugID}}
			},
		},
		{
			name:   "release and absolute URL",
			upload: &sourcemap.Upload{Release: "r1", Name: "main.js.map", URL: bundleURL, Data: data},
			event: func(f sdkproto.Frame) *sdkproto.Error {
				return &sdkproto.Error{Release: "r1", Stack: []sdkproto.Frame{f}}
			},
		},
		{
			name:   "release and URL without query",
			upload: &sourcemap.Upload{Release: "r1", Name: "main.js.map", URL: "https://shop.example.com/static/js/main.js", Data: data},
			event: func(f sdkproto.Frame) *sdkproto.Error {
				return &sdkproto.Error{Release: "r1", Stack: []sdkproto.Frame{f}}
			},
		},
		{
			name:   "release dist and tilde path",
			upload: &sourcemap.Upload{Release: "r1", Dist: "web", Name: "main.js.map", URL: "~/static/js/main.js", Data: data},
			event: func(f sdkproto.Frame) *sdkproto.Error {
				return &sdkproto.Error{Release: "r1", Dist: "web", Stack: []sdkproto.Frame{f}}
			},
		},
		{
			name:   "sourceMappingURL of the bundle",
			upload: &sourcemap.Upload{Release: "r1", Name: "main.js.map", MapURL: "~/static/js/main.js.map", Data: data},
			event: func(f sdkproto.Frame) *sdkproto.Error {
				return &sdkproto.Error{Release: "r1", Stack: []sdkproto.Frame{f}}
			},
		},
		{
			name:   "sourceMappingURL in another folder, uploaded with the bundle",
			upload: &sourcemap.Upload{Release: "r1", Name: "main.js.map", URL: "~/static/js/main.js", MapURL: "~/static/maps/main.js.map", Data: data},
			event: func(f sdkproto.Frame) *sdkproto.Error {
				return &sdkproto.Error{Release: "r1", Stack: []sdkproto.Frame{f}}
			},
		},
		{
			name:   "map uploaded alone at the location the bundle's sourceMappingURL was recorded with",
			before: []sourcemap.Upload{earlier},
			upload: &sourcemap.Upload{Release: "r1", Name: "main.js.map", MapURL: "~/static/maps/main.js.map", Data: data},
			event: func(f sdkproto.Frame) *sdkproto.Error {
				return &sdkproto.Error{Release: "r1", Stack: []sdkproto.Frame{f}}
			},
		},
		{
			name:   "recorded sourceMappingURL location without a map for the release",
			before: []sourcemap.Upload{earlier},
			upload: &sourcemap.Upload{Release: "r1", Name: "main.js.map", MapURL: "~/static/elsewhere/main.js.map", Data: data},
			event: func(f sdkproto.Frame) *sdkproto.Error {
				return &sdkproto.Error{Release: "r1", Stack: []sdkproto.Frame{f}}
			},
			reason: "no source map for release r1 and URL ~/static/js/main.js",
		},
		{
			name:   "upload without release is the fallback",
			upload: &sourcemap.Upload{Name: "main.js.map", URL: "~/static/js/main.js", Data: data},
			event: func(f sdkproto.Frame) *sdkproto.Error {
				return &sdkproto.Error{Release: "r9", Stack: []sdkproto.Frame{f}}
			},
		},
		{
			name:   "wrong dist does not match",
			upload: &sourcemap.Upload{Release: "r1", Dist: "ios", Name: "main.js.map", URL: "~/static/js/main.js", Data: data},
			event: func(f sdkproto.Frame) *sdkproto.Error {
				return &sdkproto.Error{Release: "r1", Dist: "web", Stack: []sdkproto.Frame{f}}
			},
			reason: "no source map for release r1 dist web and URL ~/static/js/main.js",
		},
		{
			name:   "missing map",
			upload: nil,
			event: func(f sdkproto.Frame) *sdkproto.Error {
				return &sdkproto.Error{Release: "r1", Stack: []sdkproto.Frame{f}}
			},
			reason: "no source map for release r1 and URL ~/static/js/main.js",
		},
		{
			name:   "no release and no debug id",
			event:  func(f sdkproto.Frame) *sdkproto.Error { return &sdkproto.Error{Stack: []sdkproto.Frame{f}} },
			reason: "no source map: the event has no release and the bundle no debug id",
		},
		{
			name:    "broken map in storage",
			upload:  &sourcemap.Upload{Release: "r1", Name: "main.js.map", URL: "~/static/js/main.js", Data: data},
			corrupt: data[:100], // truncated
			event: func(f sdkproto.Frame) *sdkproto.Error {
				return &sdkproto.Error{Release: "r1", Stack: []sdkproto.Frame{f}}
			},
			reason: "invalid source map main.js.map: parse source map: unexpected end of JSON input",
		},
		{
			// Bypasses upload validation: the source index is out of
			// range; the frame must say so and the process live on.
			name:    "hostile map in storage",
			upload:  &sourcemap.Upload{Release: "r1", Name: "main.js.map", URL: "~/static/js/main.js", Data: data},
			corrupt: []byte(`{"version":3,"sources":["a.js"],"mappings":"AAAA,AgBAA"}`),
			event: func(f sdkproto.Frame) *sdkproto.Error {
				return &sdkproto.Error{Release: "r1", Stack: []sdkproto.Frame{f}}
			},
			reason: "corrupt source map: source index 16 out of range (1 sources)",
		},
		{
			name:       "map blob missing from storage",
			upload:     &sourcemap.Upload{Release: "r1", Name: "main.js.map", URL: "~/static/js/main.js", Data: data},
			deleteBlob: true,
			event: func(f sdkproto.Frame) *sdkproto.Error {
				return &sdkproto.Error{Release: "r1", Stack: []sdkproto.Frame{f}}
			},
			reason: "source map main.js.map could not be read",
		},
		{
			name:   "position beyond the map",
			upload: &sourcemap.Upload{Release: "r1", Name: "main.js.map", URL: "~/static/js/main.js", Data: data},
			event: func(f sdkproto.Frame) *sdkproto.Error {
				f.Line = 0
				return &sdkproto.Error{Release: "r1", Stack: []sdkproto.Frame{f}}
			},
			reason: "frame has no line number",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, blobs := newStoreBlobs(t)
			for _, u := range c.before {
				if _, _, err := st.Put(ctx, "shop", u); err != nil {
					t.Fatal(err)
				}
			}
			if c.upload != nil {
				m, _, err := st.Put(ctx, "shop", *c.upload)
				if err != nil {
					t.Fatal(err)
				}
				key := "sourcemaps/shop/" + m.SHA256 + ".map"
				if c.corrupt != nil {
					if err := blobs.Put(ctx, key, strings.NewReader(string(c.corrupt)), int64(len(c.corrupt))); err != nil {
						t.Fatal(err)
					}
				}
				if c.deleteBlob {
					if err := blobs.Delete(ctx, key); err != nil {
						t.Fatal(err)
					}
				}
			}
			sym := symbolicate.New(st, symbolicate.Options{})
			e := c.event(listFrame(t))
			frames, err := sym.Symbolicate(ctx, "shop", e)
			if err != nil {
				t.Fatal(err)
			}
			f := frames[0]
			if f.URL != e.Stack[0].URL || f.Column != e.Stack[0].Column || f.Line != e.Stack[0].Line {
				t.Errorf("minified position changed: %+v", f.Frame)
			}
			if c.reason == "" {
				if f.Original == nil {
					t.Fatalf("unresolved: %s", f.UnresolvedReason)
				}
				if f.Original.Line != wantLine || f.Original.Function != "ProductList" {
					t.Errorf("got %+v", f.Original)
				}
				return
			}
			if f.Original != nil {
				t.Fatalf("resolved to %+v, want reason %q", f.Original, c.reason)
			}
			if f.UnresolvedReason != c.reason {
				t.Errorf("reason %q, want %q", f.UnresolvedReason, c.reason)
			}
		})
	}
}

func TestInApp(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	if _, _, err := st.Put(ctx, "shop", sourcemap.Upload{Release: "r1", Name: "main.js.map", URL: "https://cdn.shop-assets.net/static/js/main.js", Data: fixtureMap(t)}); err != nil {
		t.Fatal(err)
	}
	sym := symbolicate.New(st, symbolicate.Options{})
	f := stacks(t)["list"][0]
	cases := []struct {
		url  string
		want bool
	}{
		{"https://shop.example.com/app.js", true},               // same origin, no map
		{"https://cdn.shop-assets.net/static/js/main.js", true}, // other origin but the project's map resolved it
		{"https://cdn.thirdparty.com/widget.js", false},         // third-party origin
		{"https://shop.example.com/node_modules/react/index.js", false},
		{"chrome-extension://abcdef/content.js", false},
		{"moz-extension://abcdef/content.js", false},
		{"<anonymous>", false},
		{"", false},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			fr := f
			fr.URL = c.url
			frames, err := sym.Symbolicate(ctx, "shop", &sdkproto.Error{Release: "r1", URL: pageURL, Stack: []sdkproto.Frame{fr}})
			if err != nil {
				t.Fatal(err)
			}
			if frames[0].InApp != c.want {
				t.Errorf("in_app = %v, want %v (reason %q)", frames[0].InApp, c.want, frames[0].UnresolvedReason)
			}
		})
	}
}

func TestOriginalInNodeModulesIsNotInApp(t *testing.T) {
	// A bundle's own map can point into node_modules: vendor code inside a
	// first-party bundle is not the app.
	m := []byte(`{"version":3,"sources":["webpack://app/./node_modules/lodash/map.js"],"sourcesContent":["function map(a, f) {\n  return a.map(f);\n}\n"],"names":[],"mappings":"AAAA;AACA"}`)
	ctx := context.Background()
	st := newStore(t)
	if _, _, err := st.Put(ctx, "shop", sourcemap.Upload{Release: "r1", Name: "vendor.js.map", URL: "~/vendor.js", Data: m}); err != nil {
		t.Fatal(err)
	}
	frames, _ := symbolicate.New(st, symbolicate.Options{}).Symbolicate(ctx, "shop", &sdkproto.Error{Release: "r1", URL: pageURL, Stack: []sdkproto.Frame{{URL: "https://shop.example.com/vendor.js", Line: 2, Column: 1}}})
	if frames[0].Original == nil || frames[0].Original.Function != "map" || frames[0].Original.Line != 2 {
		t.Fatalf("got %+v (%s)", frames[0].Original, frames[0].UnresolvedReason)
	}
	if frames[0].InApp {
		t.Error("node_modules source is in app")
	}
}
