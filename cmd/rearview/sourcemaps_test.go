package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rearview-dev/rearview/coordinator/auth"
	"github.com/rearview-dev/rearview/coordinator/blob"
	"github.com/rearview-dev/rearview/coordinator/sourcemap"
	"github.com/rearview-dev/rearview/coordinator/store"
	"github.com/rearview-dev/rearview/coordinator/store/storetest"
	"github.com/rearview-dev/rearview/coordinator/symbolicate"
	"github.com/rearview-dev/rearview/sdkproto"
)

const fixtureDist = "../../coordinator/symbolicate/testdata/app/dist"

// TestSourcemapsCLIProcess is not a test: it is the rearview CLI, run in a
// child process by cli() so that exit codes are real.
func TestSourcemapsCLIProcess(t *testing.T) {
	if os.Getenv("REARVIEW_CLI_PROCESS") != "1" {
		t.Skip("helper process")
	}
	var args []string
	if err := json.Unmarshal([]byte(os.Getenv("REARVIEW_CLI_ARGS")), &args); err != nil {
		t.Fatal(err)
	}
	os.Args = append([]string{"rearview"}, args...)
	main()
	os.Exit(0)
}

type cliResult struct {
	code           int
	stdout, stderr string
}

func cli(t *testing.T, args ...string) cliResult {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSourcemapsCLIProcess$")
	enc, _ := json.Marshal(args)
	cmd.Env = append(os.Environ(), "REARVIEW_CLI_PROCESS=1", "REARVIEW_CLI_ARGS="+string(enc))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return cliResult{code, out.String(), errb.String()}
}

// copyDir copies the fixture build into a fresh directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var debugIDLine = regexp.MustCompile(`//# debugId=([0-9a-f-]{36})`)

func TestSourcemapsInjectDeterministic(t *testing.T) {
	a, b := copyDir(t, fixtureDist), copyDir(t, fixtureDist)
	for _, d := range []string{a, b} {
		if r := cli(t, "sourcemaps", "inject", d); r.code != 0 {
			t.Fatalf("inject: %d %s", r.code, r.stderr)
		}
	}
	js := "static/js/main.js"
	bundle := read(t, filepath.Join(a, js))
	if bundle != read(t, filepath.Join(b, js)) || read(t, filepath.Join(a, js+".map")) != read(t, filepath.Join(b, js+".map")) {
		t.Fatal("inject is not deterministic")
	}
	m := debugIDLine.FindStringSubmatch(bundle)
	if m == nil {
		t.Fatalf("no debugId comment in bundle:\n%s", bundle)
	}
	var mp struct {
		DebugID  string `json:"debug_id"`
		DebugID2 string `json:"debugId"`
	}
	if err := json.Unmarshal([]byte(read(t, filepath.Join(a, js+".map"))), &mp); err != nil {
		t.Fatal(err)
	}
	if mp.DebugID != m[1] || mp.DebugID2 != m[1] {
		t.Errorf("map debug ids %q/%q, bundle %q", mp.DebugID, mp.DebugID2, m[1])
	}
	code, _, _ := strings.Cut(read(t, filepath.Join(fixtureDist, js)), "//# sourceMappingURL=")
	if !strings.HasPrefix(bundle, code) || !strings.HasSuffix(bundle, "//# sourceMappingURL=main.js.map\n") {
		t.Error("inject changed the code (mappings would shift)")
	}
	// Idempotent.
	before := read(t, filepath.Join(a, js+".map"))
	if r := cli(t, "sourcemaps", "inject", a); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if read(t, filepath.Join(a, js)) != bundle || read(t, filepath.Join(a, js+".map")) != before {
		t.Error("second inject changed files")
	}
	// The appended snippet registers the id where the browser SDK looks.
	if node, err := exec.LookPath("node"); err == nil {
		script := `const vm=require("vm");globalThis.window=globalThis;vm.runInThisContext(require("fs").readFileSync(process.argv[1],"utf8"),{filename:"https://x.example/static/js/main.js"});console.log(JSON.stringify(Object.values(globalThis._rvDebugIds||{})))`
		out, err := exec.Command(node, "-e", script, filepath.Join(a, js)).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != `["`+m[1]+`"]` {
			t.Errorf("runtime registration: %s %v", out, err)
		}
	}
}

// coordinatorAPI serves the real source-map routes with the coordinator's
// token rules; it returns the store, the URL and a project token.
func coordinatorAPI(t *testing.T) (*sourcemap.Store, string, string) {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t)
	blobs, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	maps, err := sourcemap.New(sourcemap.Config{DB: db, Blobs: blobs})
	if err != nil {
		t.Fatal(err)
	}
	_, tok, err := store.CreateProject(ctx, db, "shop", "")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	maps.Mount(mux)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := store.ProjectByToken(r.Context(), db, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		if err != nil {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r.WithContext(auth.With(r.Context(), auth.Principal{Project: p.ID})))
	}))
	t.Cleanup(srv.Close)
	return maps, srv.URL, tok
}

func TestSourcemapsUploadAndStrip(t *testing.T) {
	maps, url, tok := coordinatorAPI(t)
	dir := copyDir(t, fixtureDist)
	if r := cli(t, "sourcemaps", "inject", dir); r.code != 0 {
		t.Fatal(r.stderr)
	}
	mapBytes := read(t, filepath.Join(dir, "static/js/main.js.map"))
	keep := copyDir(t, dir) // the same build, for a second upload

	r := cli(t, "sourcemaps", "upload", "--release", "abc123", "--url-prefix", "~/", "--strip", "--url", url, "--token", tok, dir)
	if r.code != 0 {
		t.Fatalf("upload exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "[1/1] uploaded static/js/main.js.map") || !strings.Contains(r.stderr, "1 uploaded, 0 already there") {
		t.Errorf("progress output:\n%s", r.stderr)
	}
	// Stripped: no map file, no sourceMappingURL, the debug id stays.
	if _, err := os.Stat(filepath.Join(dir, "static/js/main.js.map")); !os.IsNotExist(err) {
		t.Error("map file still in the build")
	}
	bundle := read(t, filepath.Join(dir, "static/js/main.js"))
	if strings.Contains(bundle, "sourceMappingURL") || !debugIDLine.MatchString(bundle) {
		t.Errorf("stripped bundle:\n%s", bundle)
	}

	ctx := context.Background()
	list, err := maps.List(ctx, "shop", sourcemap.Filter{Release: "abc123"})
	if err != nil || len(list) != 1 {
		t.Fatalf("stored %d maps, %v", len(list), err)
	}
	sum := sha256.Sum256([]byte(mapBytes))
	got := list[0]
	if got.URL != "~/static/js/main.js" || got.MapURL != "~/static/js/main.js.map" || got.SHA256 != hex.EncodeToString(sum[:]) || got.DebugID == "" {
		t.Errorf("stored %+v", got)
	}

	// The uploaded map symbolicates a real stack by Debug ID.
	frame := sdkproto.Frame{URL: "https://cdn.example/v9/main.js", Line: 1, Column: 167}
	frames, _ := symbolicate.New(maps, symbolicate.Options{}).Symbolicate(ctx, "shop", &sdkproto.Error{Release: "other", Stack: []sdkproto.Frame{frame}, DebugIDs: map[string]string{frame.URL: got.DebugID}})
	if frames[0].Original == nil || frames[0].Original.Function != "ProductList" {
		t.Errorf("symbolicated %+v: %s", frames[0].Original, frames[0].UnresolvedReason)
	}

	// The same build again: nothing uploaded.
	r = cli(t, "sourcemaps", "upload", "--release", "abc123", "--url", url, "--token", tok, keep)
	if r.code != 0 || !strings.Contains(r.stderr, "0 uploaded, 1 already there") {
		t.Errorf("second upload exit %d:\n%s", r.code, r.stderr)
	}
}

func TestSourcemapsUploadFailures(t *testing.T) {
	maps, url, tok := coordinatorAPI(t)
	cases := []struct {
		name   string
		broken string // content written to static/js/main.js.map
		url    string
		token  string
		stderr string
	}{
		{"bad vlq", `{"version":3,"sources":["a.ts"],"mappings":"AAAA;A!AA"}`, url, tok, "invalid source map: static/js/main.js.map: mappings: invalid base64 VLQ character '!' at offset 6 (generated line 2)"},
		{"wrong version", `{"version":2,"sources":["a.ts"],"mappings":"AAAA"}`, url, tok, `static/js/main.js.map: unsupported "version" 2 (want 3)`},
		{"truncated", `{"version":3,"sources":["a.ts"],"mapp`, url, tok, "static/js/main.js.map: truncated JSON"},
		{"bad token", "", url, "rvt_nope", "401"},
		{"coordinator down", "", "http://127.0.0.1:1", tok, "connection refused"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyDir(t, fixtureDist)
			if c.broken != "" {
				if err := os.WriteFile(filepath.Join(dir, "static/js/main.js.map"), []byte(c.broken), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			r := cli(t, "sourcemaps", "upload", "--release", "r1", "--strip", "--url", c.url, "--token", c.token, dir)
			if r.code == 0 {
				t.Fatalf("exit 0 on failure:\n%s", r.stderr)
			}
			if !strings.Contains(r.stderr, c.stderr) {
				t.Errorf("stderr does not say %q:\n%s", c.stderr, r.stderr)
			}
			if _, err := os.Stat(filepath.Join(dir, "static/js/main.js.map")); err != nil {
				t.Error("failed upload stripped the build")
			}
		})
	}
	if list, _ := maps.List(context.Background(), "shop", sourcemap.Filter{}); len(list) != 0 {
		t.Errorf("%d maps stored by failed uploads", len(list))
	}
}

func TestSourcemapsResolve(t *testing.T) {
	r := cli(t, "sourcemaps", "resolve", filepath.Join(fixtureDist, "static/js/main.js"), "1:167", "1:316")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var out []Resolved
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	want := []struct {
		fn   string
		line int
	}{{"ProductList", 8}, {"Recommendations.render", 24}}
	if len(out) != len(want) {
		t.Fatalf("%d results", len(out))
	}
	for i, w := range want {
		o := out[i].Original
		if o == nil || !strings.HasSuffix(o.Source, "src/components.ts") || o.Line != w.line || o.Function != w.fn {
			t.Errorf("position %d: %+v %s", i, o, out[i].Error)
		}
	}
	if r := cli(t, "sourcemaps", "resolve", filepath.Join(fixtureDist, "static/js/main.js"), "1:x"); r.code == 0 {
		t.Error("bad position accepted")
	}
}

// writeFiles creates files (slash paths) under a fresh directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const cssMap = `{"version":3,"sources":["../../src/main.scss"],"sourcesContent":["a {\n  color: red;\n}\n"],"names":[],"mappings":"AAAA,EACE"}`

// TestSourcemapsUploadLayouts uploads builds whose maps are not next to
// their bundles, and stylesheets, and checks what the coordinator records
// and what --strip leaves.
func TestSourcemapsUploadLayouts(t *testing.T) {
	js := read(t, filepath.Join(fixtureDist, "static/js/main.js"))
	jsElsewhere := strings.Replace(js, "//# sourceMappingURL=main.js.map", "//# sourceMappingURL=../maps/main.js.map", 1)
	jsMap := read(t, filepath.Join(fixtureDist, "static/js/main.js.map"))
	const css = "a{color:red}\n/*# sourceMappingURL=main.css.map */\n"
	type stored struct{ url, mapURL string }
	cases := []struct {
		name     string
		files    map[string]string
		sub      string // upload DIR/sub
		prefix   string
		want     []stored
		stripped map[string]string
		gone     []string
	}{
		{
			name:   "map in another folder",
			files:  map[string]string{"static/js/main.js": jsElsewhere, "static/maps/main.js.map": jsMap},
			prefix: "~/",
			want:   []stored{{"~/static/js/main.js", "~/static/maps/main.js.map"}},
			gone:   []string{"static/maps/main.js.map"},
		},
		{
			name:   "map outside the uploaded folder",
			files:  map[string]string{"static/js/main.js": jsElsewhere, "static/maps/main.js.map": jsMap},
			sub:    "static/js",
			prefix: "~/static/js",
			want:   []stored{{"~/static/js/main.js", "~/static/maps/main.js.map"}},
			gone:   []string{"static/maps/main.js.map"},
		},
		{
			name:     "stylesheet",
			files:    map[string]string{"static/css/main.css": css, "static/css/main.css.map": cssMap},
			prefix:   "https://cdn.example.com/assets",
			want:     []stored{{"https://cdn.example.com/assets/static/css/main.css", "https://cdn.example.com/assets/static/css/main.css.map"}},
			stripped: map[string]string{"static/css/main.css": "a{color:red}\n"},
			gone:     []string{"static/css/main.css.map"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			maps, url, tok := coordinatorAPI(t)
			dir := writeFiles(t, c.files)
			if r := cli(t, "sourcemaps", "inject", filepath.Join(dir, c.sub)); r.code != 0 {
				t.Fatalf("inject exit %d: %s", r.code, r.stderr)
			}
			if css, ok := c.files["static/css/main.css"]; ok && read(t, filepath.Join(dir, "static/css/main.css")) != css {
				t.Error("inject changed a stylesheet")
			}
			r := cli(t, "sourcemaps", "upload", "--release", "r1", "--url-prefix", c.prefix, "--strip", "--url", url, "--token", tok, filepath.Join(dir, c.sub))
			if r.code != 0 {
				t.Fatalf("upload exit %d: %s", r.code, r.stderr)
			}
			ctx := context.Background()
			list, err := maps.List(ctx, "shop", sourcemap.Filter{Release: "r1"})
			if err != nil {
				t.Fatal(err)
			}
			var got []stored
			for _, m := range list {
				got = append(got, stored{m.URL, m.MapURL})
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("stored %+v, want %+v", got, c.want)
			}
			for p, want := range c.stripped {
				if got := read(t, filepath.Join(dir, p)); got != want {
					t.Errorf("%s after strip: %q, want %q", p, got, want)
				}
			}
			for _, p := range c.gone {
				if _, err := os.Stat(filepath.Join(dir, p)); !os.IsNotExist(err) {
					t.Errorf("%s still in the build", p)
				}
			}
			if _, ok := c.files["static/js/main.js"]; ok {
				if strings.Contains(read(t, filepath.Join(dir, "static/js/main.js")), "sourceMappingURL") {
					t.Error("bundle keeps its sourceMappingURL")
				}
				frame := sdkproto.Frame{URL: "https://shop.example.com/static/js/main.js", Line: 1, Column: 167}
				frames, _ := symbolicate.New(maps, symbolicate.Options{}).Symbolicate(ctx, "shop", &sdkproto.Error{Release: "r1", Stack: []sdkproto.Frame{frame}})
				if frames[0].Original == nil || frames[0].Original.Function != "ProductList" {
					t.Errorf("symbolicated %+v: %s", frames[0].Original, frames[0].UnresolvedReason)
				}
			}
		})
	}
}

func TestStripComments(t *testing.T) {
	cases := []struct {
		name, file, in, want string
	}{
		{"script", "app.js", "f();\n//# sourceMappingURL=app.js.map\n", "f();\n"},
		{"script, old syntax", "app.js", "f();\n//@ sourceMappingURL=app.js.map", "f();\n"},
		{"stylesheet", "app.css", "a{color:red}\n/*# sourceMappingURL=app.css.map */\n", "a{color:red}\n"},
		{"stylesheet, old syntax, no spaces", "app.css", "a{color:red}\r\n/*@sourceMappingURL=app.css.map*/\r\n", "a{color:red}\r\n"},
		{"stylesheet, inline map", "app.css", "a{color:red}\n/*# sourceMappingURL=data:application/json;base64," + base64JSON(cssMap) + " */", "a{color:red}\n"},
		{"stylesheet, comment in a string stays", "app.css", `a::after{content:"/*# sourceMappingURL=x.map */"}` + "\n", `a::after{content:"/*# sourceMappingURL=x.map */"}` + "\n"},
		{"script, CSS syntax stays", "app.js", "f();\n/*# sourceMappingURL=app.js.map */\n", "f();\n/*# sourceMappingURL=app.js.map */\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{c.file: c.in, c.file + ".map": cssMap})
			arts, err := scanBuild(dir)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := stripBuild(dir, arts); err != nil {
				t.Fatal(err)
			}
			if got := read(t, filepath.Join(dir, c.file)); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func base64JSON(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
