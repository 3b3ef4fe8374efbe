package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/rearview-dev/rearview/coordinator/blob"
	"github.com/rearview-dev/rearview/coordinator/sentryapi"
	"github.com/rearview-dev/rearview/coordinator/sourcemap"
	"github.com/rearview-dev/rearview/coordinator/symbolicate"
)

// MapFlags configure the coordinator's source-map store.
type MapFlags struct {
	SourcemapRetention time.Duration `name:"sourcemap-retention" help:"How long uploaded source maps are kept after their last upload; at least 2160h (90 days)." default:"2160h" env:"REARVIEW_SOURCEMAP_RETENTION"`
}

// sourceMaps is the coordinator's source-map service: the store, and
// sentry-cli's upload API over it (coordinator/sentryapi).
type sourceMaps struct {
	*sourcemap.Store
	sentry *sentryapi.Server
}

// Mount adds both upload APIs: /api/v1/sourcemaps and Sentry's /api/0/.
func (m sourceMaps) Mount(mux *http.ServeMux) {
	m.Store.Mount(mux)
	m.sentry.Mount(mux)
}

// openSourcemaps opens the source-map store on the coordinator's database
// and blobs, with sentry-cli's upload API over it, and starts their
// sweeps (expired maps, stale upload chunks) under the retention lease.
func (f *MapFlags) openSourcemaps(db *sql.DB, blobs blob.Store, admin string, ro *runOnce, log *slog.Logger) (sourceMaps, error) {
	s, err := sourcemap.New(sourcemap.Config{DB: db, Blobs: blobs, AdminToken: admin, Retention: f.SourcemapRetention, Logger: log})
	if err != nil {
		return sourceMaps{}, fmt.Errorf("--sourcemap-retention: %w", err)
	}
	sentry, err := sentryapi.New(sentryapi.Config{DB: db, Maps: s, Blobs: blobs, Logger: log})
	if err != nil {
		return sourceMaps{}, err
	}
	ro.start(leaseSourcemapRetention, func(ctx context.Context) {
		done := make(chan struct{})
		go func() { defer close(done); sentry.Run(ctx, time.Hour) }()
		s.Run(ctx, time.Hour)
		<-done
	})
	return sourceMaps{Store: s, sentry: sentry}, nil
}

// newSymbolicator returns the symbolicator over the source-map store.
func newSymbolicator(maps sourceMaps, log *slog.Logger) *symbolicate.Symbolicator {
	return symbolicate.New(maps.Store, symbolicate.Options{Logger: log})
}

// SourcemapsCmd groups the source-map tools CI runs after a build.
type SourcemapsCmd struct {
	Inject  SourcemapsInjectCmd  `cmd:"" help:"Add a deterministic Debug ID to every bundle (//# debugId=…) and its map (\"debug_id\")."`
	Upload  SourcemapsUploadCmd  `cmd:"" help:"Validate and upload a build's source maps for a release; --strip removes them from the build afterwards."`
	Resolve SourcemapsResolveCmd `cmd:"" help:"Print the original positions of generated LINE:COL positions in a bundle or map, as JSON."`
}

// debugIDNamespace makes Debug IDs UUIDv5 in a namespace of our own, so the
// same bundle always gets the same id.
var debugIDNamespace = uuid.MustParse("7c1d4bb5-2f7e-4a55-9a53-5e2a3f0c6b1d")

var (
	sourceMappingRe = regexp.MustCompile(`(?m)^[ \t]*//[#@][ \t]*sourceMappingURL=(\S+)[ \t]*\r?$\n?`)
	// CSS has no line comments: /*# sourceMappingURL=main.css.map */.
	cssSourceMappingRe = regexp.MustCompile(`(?m)^[ \t]*/\*[#@][ \t]*sourceMappingURL=(\S+?)[ \t]*\*/[ \t]*\r?$\n?`)
	debugIDRe          = regexp.MustCompile(`(?m)^[ \t]*//[#@][ \t]*debugId=([0-9A-Fa-f-]{36})[ \t]*\r?$`)
)

func isBundle(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".js", ".mjs", ".cjs":
		return true
	}
	return false
}

// isStylesheet reports a CSS file: its map is uploaded and stripped like a
// bundle's, but it gets no Debug ID (no script runs to report one).
func isStylesheet(name string) bool {
	return strings.EqualFold(filepath.Ext(name), ".css")
}

// artifact is a bundle and its map as found in a build directory. Paths are
// relative to the directory, slash-separated.
type artifact struct {
	bundle, mapFile string // mapFile "" for an inline map
	bundleData      []byte
	mapData         []byte
	smURL           string // the bundle's sourceMappingURL comment
	debugID         string
	css             bool // a stylesheet, not a script
}

// mappingRe is the sourceMappingURL comment syntax of a's bundle.
func (a *artifact) mappingRe() *regexp.Regexp {
	if a.css {
		return cssSourceMappingRe
	}
	return sourceMappingRe
}

// scanBuild pairs bundles with their maps: by the sourceMappingURL comment,
// else by the "<bundle>.map" convention. Maps no bundle claims come back
// alone (bundle "").
func scanBuild(dir string) ([]*artifact, error) {
	var bundles, maps []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case strings.HasSuffix(rel, ".map"):
			maps = append(maps, rel)
		case isBundle(rel), isStylesheet(rel):
			bundles = append(bundles, rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", dir, err)
	}
	claimed := map[string]bool{}
	var out []*artifact
	for _, b := range bundles {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(b)))
		if err != nil {
			return nil, err
		}
		a := &artifact{bundle: b, bundleData: data, css: isStylesheet(b)}
		if m := debugIDRe.FindAllSubmatch(data, -1); len(m) > 0 && !a.css {
			a.debugID = strings.ToLower(string(m[len(m)-1][1]))
		}
		if m := a.mappingRe().FindAllSubmatch(data, -1); len(m) > 0 {
			a.smURL = string(m[len(m)-1][1])
		}
		switch {
		case strings.HasPrefix(a.smURL, "data:"):
			if a.mapData, err = decodeDataURL(a.smURL); err != nil {
				return nil, fmt.Errorf("%s: inline source map: %w", b, err)
			}
		case a.smURL != "" && !strings.Contains(a.smURL, "://"):
			u, err := url.PathUnescape(strings.SplitN(a.smURL, "?", 2)[0])
			if err != nil {
				return nil, fmt.Errorf("%s: sourceMappingURL %q: %w", b, a.smURL, err)
			}
			a.mapFile = path.Clean(path.Join(path.Dir(b), u))
		default:
			a.mapFile = b + ".map"
		}
		if a.mapFile != "" {
			data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(a.mapFile)))
			if errors.Is(err, fs.ErrNotExist) {
				if a.smURL != "" && !strings.Contains(a.smURL, "://") {
					return nil, fmt.Errorf("%s: sourceMappingURL points to %s, which does not exist", b, a.mapFile)
				}
				continue // a bundle without a map: nothing to symbolicate with
			}
			if err != nil {
				return nil, err
			}
			a.mapData = data
			claimed[a.mapFile] = true
		}
		out = append(out, a)
	}
	for _, m := range maps {
		if claimed[m] {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(m)))
		if err != nil {
			return nil, err
		}
		out = append(out, &artifact{mapFile: m, mapData: data})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name() < out[j].name() })
	return out, nil
}

func (a *artifact) name() string {
	if a.mapFile != "" {
		return a.mapFile
	}
	return a.bundle + " (inline map)"
}

func decodeDataURL(u string) ([]byte, error) {
	meta, data, ok := strings.Cut(strings.TrimPrefix(u, "data:"), ",")
	if !ok {
		return nil, errors.New("malformed data: URL")
	}
	if strings.HasSuffix(meta, ";base64") {
		return base64.StdEncoding.DecodeString(data)
	}
	s, err := url.PathUnescape(data)
	return []byte(s), err
}

// SourcemapsInjectCmd adds Debug IDs to a build.
type SourcemapsInjectCmd struct {
	Dir string `arg:"" help:"Build output directory." type:"existingdir"`
}

// debugIDSnippet registers the bundle's Debug ID at run time the way the
// browser SDK looks it up (globalThis._rvDebugIds keyed by an Error stack
// captured inside the bundle). It is appended after the code, so no mapping
// moves.
const debugIDSnippet = `;!function(){try{var g="undefined"!=typeof globalThis?globalThis:"undefined"!=typeof window?window:"undefined"!=typeof self?self:{},s=(new g.Error).stack;s&&((g._rvDebugIds=g._rvDebugIds||{})[s]="%s")}catch(e){}}();` + "\n//# debugId=%s\n"

// Run injects Debug IDs; running it twice changes nothing.
func (c *SourcemapsInjectCmd) Run() error {
	arts, err := scanBuild(c.Dir)
	if err != nil {
		return err
	}
	n := 0
	for _, a := range arts {
		if a.bundle == "" || a.mapFile == "" || a.css {
			continue
		}
		id := a.debugID
		if id == "" {
			sum := sha256.New()
			sum.Write(a.bundleData)
			sum.Write([]byte{0})
			sum.Write(a.mapData)
			id = uuid.NewSHA1(debugIDNamespace, sum.Sum(nil)).String()
			// Before a trailing sourceMappingURL comment, which tools
			// expect last; after all code either way.
			head, tail := a.bundleData, []byte(nil)
			if loc := sourceMappingRe.FindAllIndex(head, -1); len(loc) > 0 && len(bytes.TrimSpace(head[loc[len(loc)-1][1]:])) == 0 {
				head, tail = head[:loc[len(loc)-1][0]], head[loc[len(loc)-1][0]:]
			}
			data := append([]byte(nil), head...)
			if len(data) > 0 && data[len(data)-1] != '\n' {
				data = append(data, '\n')
			}
			data = fmt.Appendf(data, debugIDSnippet, id, id)
			data = append(data, tail...)
			if err := writeFileKeepMode(filepath.Join(c.Dir, filepath.FromSlash(a.bundle)), data); err != nil {
				return err
			}
		}
		m, changed, err := setMapDebugID(a.mapData, id)
		if err != nil {
			return fmt.Errorf("%s: %w", a.mapFile, err)
		}
		if changed {
			if err := writeFileKeepMode(filepath.Join(c.Dir, filepath.FromSlash(a.mapFile)), m); err != nil {
				return err
			}
		}
		if a.debugID == "" || changed {
			n++
			fmt.Printf("%s  %s\n", id, a.bundle)
		}
	}
	fmt.Fprintf(os.Stderr, "injected Debug IDs into %d bundle(s)\n", n)
	return nil
}

// setMapDebugID sets "debug_id" (and ECMA-426's "debugId") in a map,
// touching nothing else when the map has neither yet.
func setMapDebugID(data []byte, id string) ([]byte, bool, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, false, fmt.Errorf("not a JSON object: %w", err)
	}
	quoted, _ := json.Marshal(id)
	a, hasA := fields["debug_id"]
	b, hasB := fields["debugId"]
	if hasA && hasB && bytes.Equal(a, quoted) && bytes.Equal(b, quoted) {
		return data, false, nil
	}
	if !hasA && !hasB {
		i := bytes.IndexByte(data, '{')
		out := make([]byte, 0, len(data)+100)
		out = append(out, data[:i+1]...)
		out = fmt.Appendf(out, `"debug_id":%s,"debugId":%s,`, quoted, quoted)
		out = append(out, data[i+1:]...)
		return out, true, nil
	}
	fields["debug_id"], fields["debugId"] = quoted, quoted
	out, err := json.Marshal(fields)
	return out, true, err
}

func writeFileKeepMode(p string, data []byte) error {
	mode := fs.FileMode(0o644)
	if st, err := os.Stat(p); err == nil {
		mode = st.Mode().Perm()
	}
	tmp := p + ".rearview-tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// SourcemapsUploadCmd uploads a build's maps.
type SourcemapsUploadCmd struct {
	Dir       string `arg:"" help:"Build output directory." type:"existingdir"`
	Release   string `help:"Release the maps belong to (the git SHA the SDK reports)." required:"" env:"REARVIEW_RELEASE"`
	Dist      string `help:"Distribution within the release (e.g. a platform)." env:"REARVIEW_DIST"`
	URLPrefix string `name:"url-prefix" help:"URL (or ~/path) where DIR is served, e.g. '~/static/js' or 'https://cdn.example.com/assets'." default:"~/"`
	Strip     bool   `help:"After a successful upload, delete the .map files and the sourceMappingURL comments from DIR so maps never ship to browsers."`
	Project   string `help:"Project id (needed with the admin token)." env:"REARVIEW_PROJECT"`
	APIFlags
}

// Run validates every map first (nothing is uploaded if one is broken),
// skips what the coordinator already has, uploads the rest and strips.
func (c *SourcemapsUploadCmd) Run() error {
	arts, err := scanBuild(c.Dir)
	if err != nil {
		return err
	}
	if len(arts) == 0 {
		return fmt.Errorf("no source maps found in %s", c.Dir)
	}
	var problems []string
	for _, a := range arts {
		if _, err := sourcemap.Validate(a.mapData, sourcemap.DefaultMaxMapBytes); err != nil {
			problems = append(problems, a.name()+": "+err.Error())
		}
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(os.Stderr, "invalid source map:", p)
		}
		return fmt.Errorf("%d invalid source map(s); nothing uploaded", len(problems))
	}
	q := url.Values{"release": {c.Release}, "limit": {"10000"}}
	if c.Project != "" {
		q.Set("project", c.Project)
	}
	if c.Dist != "" {
		q.Set("dist", c.Dist)
	}
	var existing struct {
		Sourcemaps []sourcemap.Map `json:"sourcemaps"`
	}
	if err := c.call("GET", "/api/v1/sourcemaps?"+q.Encode(), nil, &existing); err != nil {
		return err
	}
	have := map[string]bool{}
	for _, m := range existing.Sourcemaps {
		have[m.SHA256+"\x00"+m.URL+"\x00"+m.MapURL] = true
	}
	up := url.Values{}
	if c.Project != "" {
		up.Set("project", c.Project)
	}
	bar := newProgress(os.Stderr, len(arts))
	var failed []string
	created, skipped := 0, 0
	for _, a := range arts {
		um := c.uploadMap(a)
		h := sha256.Sum256(a.mapData)
		if have[hex.EncodeToString(h[:])+"\x00"+um.URL+"\x00"+um.MapURL] {
			skipped++
			bar.step(a.name(), "skipped")
			continue
		}
		var res struct {
			Maps []sourcemap.UploadResult `json:"maps"`
		}
		err := c.call("POST", "/api/v1/sourcemaps?"+up.Encode(), sourcemap.UploadRequest{Release: c.Release, Dist: c.Dist, Maps: []sourcemap.UploadMap{um}}, &res)
		if err != nil {
			failed = append(failed, a.name()+": "+err.Error())
			bar.step(a.name(), "FAILED")
			continue
		}
		if len(res.Maps) == 1 && res.Maps[0].Status == "skipped" {
			skipped++
		} else {
			created++
		}
		bar.step(a.name(), "uploaded")
	}
	bar.done()
	fmt.Fprintf(os.Stderr, "release %s: %d uploaded, %d already there, %d failed\n", c.Release, created, skipped, len(failed))
	if len(failed) > 0 {
		for _, f := range failed {
			fmt.Fprintln(os.Stderr, "upload failed:", f)
		}
		return fmt.Errorf("%d source map(s) failed to upload", len(failed))
	}
	if c.Strip {
		n, err := stripBuild(c.Dir, arts)
		if err != nil {
			return fmt.Errorf("strip: %w", err)
		}
		fmt.Fprintf(os.Stderr, "stripped %d source map(s) from %s\n", n, c.Dir)
	}
	return nil
}

// uploadMap names a map for the coordinator: the bundle's URL under the
// prefix, and where its sourceMappingURL points.
func (c *SourcemapsUploadCmd) uploadMap(a *artifact) sourcemap.UploadMap {
	prefix := strings.TrimRight(c.URLPrefix, "/")
	if prefix == "~" || prefix == "" {
		prefix = "~"
	}
	// A sourceMappingURL may climb out of DIR (../maps/app.js.map from
	// --url-prefix ~/static/js): clean the path under the origin so the
	// coordinator records the URL the browser would request.
	origin, base := "", prefix
	if i := strings.Index(prefix, "://"); i >= 0 {
		if j := strings.IndexByte(prefix[i+3:], '/'); j >= 0 {
			origin, base = prefix[:i+3+j], prefix[i+3+j:]
		} else {
			origin, base = prefix, ""
		}
	} else if strings.HasPrefix(prefix, "~") {
		origin, base = "~", prefix[1:]
	}
	join := func(rel string) string {
		if origin == "" {
			return prefix + "/" + rel
		}
		return origin + path.Join("/", base, rel)
	}
	// Sent as a string so the coordinator stores the file byte for byte
	// and its content hash matches the one computed here.
	quoted, _ := json.Marshal(string(a.mapData))
	um := sourcemap.UploadMap{Name: a.name(), DebugID: a.debugID, Map: quoted}
	if a.bundle != "" {
		um.URL = join(a.bundle)
		switch {
		case a.mapFile == "":
		case strings.Contains(a.smURL, "://"):
			um.MapURL = a.smURL
		default:
			um.MapURL = join(a.mapFile)
		}
	} else {
		um.MapURL = join(a.mapFile)
		um.URL = join(strings.TrimSuffix(a.mapFile, ".map"))
	}
	return um
}

// stripBuild deletes map files and sourceMappingURL comments (inline maps
// included; /*# … */ in stylesheets) so that nothing of the sources ships.
func stripBuild(dir string, arts []*artifact) (int, error) {
	n := 0
	for _, a := range arts {
		if a.bundle != "" {
			p := filepath.Join(dir, filepath.FromSlash(a.bundle))
			data, err := os.ReadFile(p)
			if err != nil {
				return n, err
			}
			if out := a.mappingRe().ReplaceAll(data, nil); !bytes.Equal(out, data) {
				if err := writeFileKeepMode(p, out); err != nil {
					return n, err
				}
			}
		}
		if a.mapFile != "" {
			if err := os.Remove(filepath.Join(dir, filepath.FromSlash(a.mapFile))); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return n, err
			}
		}
		n++
	}
	return n, nil
}

// progress draws a bar on a terminal, one line per file otherwise (CI logs).
type progress struct {
	w     io.Writer
	tty   bool
	total int
	n     int
}

func newProgress(f *os.File, total int) *progress {
	st, err := f.Stat()
	return &progress{w: f, tty: err == nil && st.Mode()&os.ModeCharDevice != 0, total: total}
}

func (p *progress) step(name, status string) {
	p.n++
	if !p.tty {
		fmt.Fprintf(p.w, "[%d/%d] %s %s\n", p.n, p.total, status, name)
		return
	}
	const width = 30
	filled := width * p.n / max(p.total, 1)
	if len(name) > 40 {
		name = "…" + name[len(name)-39:]
	}
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d %-8s %-40s", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), p.n, p.total, status, name)
}

func (p *progress) done() {
	if p.tty {
		fmt.Fprintln(p.w)
	}
}

// SourcemapsResolveCmd resolves generated positions locally.
type SourcemapsResolveCmd struct {
	File      string   `arg:"" help:"A bundle (its map is found like upload does) or a .map file." type:"existingfile"`
	Positions []string `arg:"" name:"LINE:COL" help:"Generated positions, 1-based as browsers report them."`
	Context   int      `help:"Context lines either side." default:"5"`
}

// Resolved is one line of `sourcemaps resolve` output.
type Resolved struct {
	Generated struct {
		Line   int `json:"line"`
		Column int `json:"column"`
	} `json:"generated"`
	Original *symbolicate.Position `json:"original,omitempty"`
	Context  *symbolicate.Context  `json:"context,omitempty"`
	Error    string                `json:"error,omitempty"`
}

// Run prints a JSON array, one element per position; it fails when the
// map is invalid or a position does not resolve.
func (c *SourcemapsResolveCmd) Run() error {
	data, name, err := mapFor(c.File)
	if err != nil {
		return err
	}
	if _, err := sourcemap.Validate(data, 0); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	m, err := symbolicate.ParseMap(data)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	out := make([]Resolved, 0, len(c.Positions))
	bad := 0
	for _, p := range c.Positions {
		var r Resolved
		l, col, ok := strings.Cut(p, ":")
		r.Generated.Line, err = strconv.Atoi(l)
		if err == nil && ok {
			r.Generated.Column, err = strconv.Atoi(col)
		}
		if err != nil || !ok || r.Generated.Line < 1 || r.Generated.Column < 0 {
			return fmt.Errorf("position %q: want LINE:COL with 1-based numbers", p)
		}
		pos, ctx, err := m.Resolve(r.Generated.Line, r.Generated.Column, c.Context)
		if err != nil {
			r.Error = err.Error()
			bad++
		} else {
			r.Original, r.Context = &pos, ctx
		}
		out = append(out, r)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return err
	}
	if bad > 0 {
		return fmt.Errorf("%d position(s) did not resolve", bad)
	}
	return nil
}

// mapFor reads file as a map, or finds the map of a bundle.
func mapFor(file string) ([]byte, string, error) {
	if !isBundle(file) && !isStylesheet(file) {
		data, err := os.ReadFile(file)
		return data, file, err
	}
	arts, err := scanBuild(filepath.Dir(file))
	if err != nil {
		return nil, "", err
	}
	base := filepath.Base(file)
	for _, a := range arts {
		if a.bundle == base {
			return a.mapData, a.name(), nil
		}
	}
	return nil, "", fmt.Errorf("%s: no source map found (no sourceMappingURL comment and no %s.map)", file, base)
}
