// Package symtest builds the TypeScript fixture app in
// coordinator/symbolicate/testdata/app with esbuild (minified, external
// source map, sourcesContent), runs it in headless Chromium to throw its
// known errors, and returns the real stacks: the test material for
// symbolication and grouping. It is for tests only.
package symtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/evanw/esbuild/pkg/api"

	"github.com/rearview-dev/rearview/internal/testenv"
	"github.com/rearview-dev/rearview/sdkproto"
)

// Kinds are the errors the app throws on window.rearviewFixture(kind): the
// seed's TypeError "Cannot read properties of undefined (reading 'map')"
// in three components.
var Kinds = []string{"list", "cart", "reco"}

// BundlePath is where the bundle is served; its map names it "~" + BundlePath.
const BundlePath = "/static/js/main.js"

// App is a fresh production build of the fixture.
type App struct {
	Bundle []byte // minified JavaScript ending in a sourceMappingURL comment
	Map    []byte // its source map
}

// Stack is one error as Chromium threw it.
type Stack struct {
	Type, Value string
	PageURL     string
	Frames      []sdkproto.Frame // the app's frames, innermost first
}

func appDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "app")
}

// Build bundles src/main.ts in process with esbuild's Go API.
func Build(tb testing.TB) App {
	tb.Helper()
	dir := appDir()
	// Nothing is written (Write: false); the output path only makes the
	// map's sources relative to the app, as in a real project's dist/.
	out := filepath.Join(dir, "dist"+filepath.FromSlash(BundlePath))
	res := api.Build(api.BuildOptions{
		AbsWorkingDir:     dir,
		EntryPoints:       []string{filepath.Join(dir, "src", "main.ts")},
		Bundle:            true,
		MinifyWhitespace:  true,
		MinifyIdentifiers: true,
		MinifySyntax:      true,
		Sourcemap:         api.SourceMapExternal,
		SourcesContent:    api.SourcesContentInclude,
		Format:            api.FormatIIFE,
		Platform:          api.PlatformBrowser,
		Target:            api.ES2020,
		Outfile:           out,
		Write:             false,
		LogLevel:          api.LogLevelSilent,
	})
	if len(res.Errors) > 0 {
		tb.Fatalf("esbuild: %s", res.Errors[0].Text)
	}
	var app App
	for _, f := range res.OutputFiles {
		switch {
		case strings.HasSuffix(f.Path, ".js.map"):
			app.Map = f.Contents
		case strings.HasSuffix(f.Path, ".js"):
			app.Bundle = f.Contents
		}
	}
	if app.Bundle == nil || app.Map == nil {
		tb.Fatalf("esbuild wrote %d files, want a bundle and its map", len(res.OutputFiles))
	}
	// A production build: the whole program on one line.
	if n := strings.Count(strings.TrimSpace(string(app.Bundle)), "\n"); n > 1 {
		tb.Fatalf("bundle has %d lines; is it minified?", n+1)
	}
	return app
}

var frameRe = regexp.MustCompile(`^\s*at (?:(.+) \()?(.+):(\d+):(\d+)\)?$`)

// Throw serves app from a local HTTP server, loads it in headless Chromium
// (skipped when Chromium is missing, unless REARVIEW_INTEGRATION=require)
// and returns the stack of each of Kinds. Frames outside the bundle are
// left out.
func Throw(tb testing.TB, app App) map[string]Stack {
	tb.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/products", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><title>shop</title><script src="%s"></script>`, BundlePath)
	})
	mux.HandleFunc(BundlePath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write(app.Bundle)
	})
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)

	ctx, cancel := context.WithTimeout(testenv.Browser(tb), 60*time.Second)
	defer cancel()
	page := srv.URL + "/products"
	script := `JSON.stringify(` + jsonString(Kinds) + `.map((k) => {
		try { window.rearviewFixture(k); return null; }
		catch (e) { return {kind: k, type: e.name, value: e.message, stack: e.stack}; }
	}))`
	if err := chromedp.Do(ctx, chromedp.Navigate(page)); err != nil {
		tb.Fatalf("load fixture in chromium: %v", err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](script))
	if err != nil {
		tb.Fatalf("run fixture in chromium: %v", err)
	}
	var thrown []*struct{ Kind, Type, Value, Stack string }
	if err := json.Unmarshal([]byte(raw), &thrown); err != nil {
		tb.Fatalf("decode stacks %q: %v", raw, err)
	}
	out := map[string]Stack{}
	for i, th := range thrown {
		if th == nil {
			tb.Fatalf("window.rearviewFixture(%q) did not throw", Kinds[i])
		}
		s := Stack{Type: th.Type, Value: th.Value, PageURL: page}
		for _, l := range strings.Split(th.Stack, "\n")[1:] {
			m := frameRe.FindStringSubmatch(l)
			if m == nil || !strings.HasPrefix(m[2], srv.URL+BundlePath) {
				continue
			}
			line, _ := strconv.Atoi(m[3])
			col, _ := strconv.Atoi(m[4])
			s.Frames = append(s.Frames, sdkproto.Frame{Function: m[1], URL: m[2], Line: line, Column: col})
		}
		if len(s.Frames) == 0 {
			tb.Fatalf("%s: no bundle frames in %q", th.Kind, th.Stack)
		}
		out[th.Kind] = s
	}
	return out
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// SourceLine returns the 1-based line of the fixture's src/file that
// contains needle, so expectations follow the source, not the tool under
// test.
func SourceLine(tb testing.TB, file, needle string) int {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(appDir(), "src", file))
	if err != nil {
		tb.Fatal(err)
	}
	line := 0
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, needle) {
			if line != 0 {
				tb.Fatalf("%s has more than one line with %q", file, needle)
			}
			line = i + 1
		}
	}
	if line == 0 {
		tb.Fatalf("%s has no line with %q", file, needle)
	}
	return line
}
