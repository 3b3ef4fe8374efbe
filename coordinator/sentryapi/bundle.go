package sentryapi

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/rearview-dev/rearview/coordinator/sourcemap"
)

// Limits bound what ReadBundle accepts from one artifact bundle.
type Limits struct {
	MaxMapBytes      int64 // one source map, uncompressed
	MaxManifestBytes int64 // manifest.json, uncompressed
	MaxFiles         int   // entries in the manifest
	MaxMaps          int   // source maps in the bundle
}

// DefaultLimits match the source-map store's: a map is at most
// sourcemap.DefaultMaxMapBytes, and one bundle holds at most 1000 maps,
// like one request of POST /api/v1/sourcemaps.
var DefaultLimits = Limits{
	MaxMapBytes:      sourcemap.DefaultMaxMapBytes,
	MaxManifestBytes: 16 << 20,
	MaxFiles:         20000,
	MaxMaps:          1000,
}

// manifest is an artifact bundle's manifest.json as sentry-cli writes it
// (symbolic's SourceBundleWriter): bundle paths mapped to each file's URL,
// type and headers, plus the bundle's own attributes.
type manifest struct {
	Files   map[string]manifestFile `json:"files"`
	Release string                  `json:"release"`
	Dist    string                  `json:"dist"`
}

type manifestFile struct {
	Type    string            `json:"type"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
}

// Bundle is what an artifact bundle holds that Rearview keeps: its source
// maps, named the way `rearview sourcemaps upload` names them (the bundle's
// URL, the map's URL, the Debug ID), and the release and dist the bundle
// itself declares. Maps from OpenBundle have no Data yet: Load reads one at
// a time, so a large bundle never sits in memory whole.
type Bundle struct {
	Release, Dist string
	Maps          []sourcemap.Upload

	files []*zip.File // the archive entry of each map
	lim   Limits
}

// Load returns the bytes of map i, reading at most the map limit.
func (b *Bundle) Load(i int) ([]byte, error) { return readEntry(b.files[i], b.lim.MaxMapBytes) }

// header looks a header up case-insensitively: sentry-cli writes
// "debug-id" and "sourcemap", older writers "Sourcemap" or "X-SourceMap".
func (f manifestFile) header(names ...string) string {
	for _, n := range names {
		for k, v := range f.Headers {
			if strings.EqualFold(k, n) {
				return strings.TrimSpace(v)
			}
		}
	}
	return ""
}

// resolveRef resolves a bundle's sourcemap reference against the bundle's
// URL ("~/assets/app.js" + "app.js.map" → "~/assets/app.js.map").
func resolveRef(bundleURL, ref string) string {
	if ref == "" || strings.HasPrefix(ref, "data:") {
		return ""
	}
	if strings.Contains(ref, "://") || strings.HasPrefix(ref, "~/") {
		return ref
	}
	if rest, ok := strings.CutPrefix(bundleURL, "~/"); ok {
		dir := path.Dir("/" + rest)
		if strings.HasPrefix(ref, "/") {
			dir = "/"
		}
		u, err := url.PathUnescape(strings.SplitN(ref, "?", 2)[0])
		if err != nil {
			return ""
		}
		return "~" + path.Join(dir, u)
	}
	base, err := url.Parse(bundleURL)
	if err != nil {
		return ""
	}
	r, err := url.Parse(ref)
	if err != nil {
		return ""
	}
	return base.ResolveReference(r).String()
}

// ReadBundle is OpenBundle followed by loading every map.
func ReadBundle(r io.ReaderAt, size int64, lim Limits) (Bundle, error) {
	b, err := OpenBundle(r, size, lim)
	if err != nil {
		return Bundle{}, err
	}
	for i := range b.Maps {
		if b.Maps[i].Data, err = b.Load(i); err != nil {
			return Bundle{}, err
		}
	}
	return *b, nil
}

// OpenBundle reads a sentry-cli artifact bundle (a zip with manifest.json)
// of size bytes and lists its maps. It checks every bound before reading a
// file, and Load reads no more than the bound even when a zip header lies
// about a size. Scripts
// are paired with their maps by their sourcemap header; a map no script
// claims is named like `rearview sourcemaps upload` names a lone map (its
// URL without ".map"). Files other than scripts and maps (original sources,
// RAM bundles) are ignored: the maps' sourcesContent is what Rearview shows.
func OpenBundle(r io.ReaderAt, size int64, lim Limits) (*Bundle, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("not a zip archive: %w", err)
	}
	entries := make(map[string]*zip.File, len(zr.File))
	for _, f := range zr.File {
		entries[f.Name] = f
	}
	mf, ok := entries["manifest.json"]
	if !ok {
		return nil, errors.New("bundle has no manifest.json")
	}
	raw, err := readEntry(mf, lim.MaxManifestBytes)
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("manifest.json: %w", err)
	}
	if len(m.Files) > lim.MaxFiles {
		return nil, fmt.Errorf("manifest.json lists %d files, more than %d", len(m.Files), lim.MaxFiles)
	}
	// Sorted for a deterministic order of maps and messages.
	paths := make([]string, 0, len(m.Files))
	for p := range m.Files {
		paths = append(paths, p)
	}
	sort.Strings(paths)

	type script struct{ url, debugID string }
	byMap := map[string]script{} // map URL → the script that references it
	var mapPaths []string
	for _, p := range paths {
		f := m.Files[p]
		switch f.Type {
		case "minified_source", "source":
			if ref := resolveRef(f.URL, f.header("sourcemap", "x-sourcemap")); ref != "" {
				byMap[ref] = script{url: f.URL, debugID: f.header("debug-id")}
			}
		case "source_map":
			mapPaths = append(mapPaths, p)
		}
	}
	if len(mapPaths) == 0 {
		return nil, errors.New("bundle holds no source maps")
	}
	if len(mapPaths) > lim.MaxMaps {
		return nil, fmt.Errorf("bundle holds %d source maps, more than %d", len(mapPaths), lim.MaxMaps)
	}
	b := &Bundle{Release: m.Release, Dist: m.Dist, lim: lim}
	for _, p := range mapPaths {
		f := m.Files[p]
		if f.URL == "" {
			return nil, fmt.Errorf("%s: manifest entry has no url", p)
		}
		e, ok := entries[p]
		if !ok {
			return nil, fmt.Errorf("%s: listed in manifest.json but not in the archive", p)
		}
		if e.UncompressedSize64 > uint64(lim.MaxMapBytes) {
			return nil, fmt.Errorf("%s: %d bytes uncompressed, more than the limit of %d", e.Name, e.UncompressedSize64, lim.MaxMapBytes)
		}
		u := sourcemap.Upload{Name: f.URL, MapURL: f.URL, DebugID: f.header("debug-id")}
		if s, ok := byMap[f.URL]; ok {
			u.URL = s.url
			if u.DebugID == "" {
				u.DebugID = s.debugID
			}
		} else {
			u.URL = strings.TrimSuffix(f.URL, ".map")
		}
		b.Maps = append(b.Maps, u)
		b.files = append(b.files, e)
	}
	return b, nil
}

// readEntry reads one zip entry of at most limit bytes, whatever its
// header claims.
func readEntry(f *zip.File, limit int64) ([]byte, error) {
	if f.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("%s: %d bytes uncompressed, more than the limit of %d", f.Name, f.UncompressedSize64, limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	buf.Grow(int(f.UncompressedSize64))
	n, err := buf.ReadFrom(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	if n > limit {
		return nil, fmt.Errorf("%s: more than the limit of %d bytes uncompressed", f.Name, limit)
	}
	return buf.Bytes(), nil
}
