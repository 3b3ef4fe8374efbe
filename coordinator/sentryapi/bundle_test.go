package sentryapi_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/rearview-dev/rearview/coordinator/sentryapi"
	"github.com/rearview-dev/rearview/coordinator/sourcemap"
)

// testMap is a small valid source map.
const testMap = `{"version":3,"sources":["src/a.ts"],"sourcesContent":["export function a() {\n  throw new Error('x')\n}\n"],"names":["a"],"mappings":"AAAA,SAASA"}`

// zipOf builds a zip of name → content, in the given order.
func zipOf(t testing.TB, files ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i+1 < len(files); i += 2 {
		w, err := zw.Create(files[i])
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[i+1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// bundleOf builds an artifact bundle as sentry-cli does: a minified
// script referencing its map, with Debug IDs in both headers.
func bundleOf(t testing.TB, manifest map[string]any, files ...string) []byte {
	t.Helper()
	m, err := json.Marshal(manifest)
	if err != nil {
		t.Fatal(err)
	}
	return zipOf(t, append([]string{"manifest.json", string(m)}, files...)...)
}

const debugID = "c079d49c-f527-58d0-aba6-aea4c1fccb7e"

func scriptAndMap() map[string]any {
	return map[string]any{
		"org": "acme", "project": "shop", "release": "r-manifest",
		"files": map[string]any{
			"files/_/_/assets/app.js":     map[string]any{"type": "minified_source", "url": "~/assets/app.js", "headers": map[string]string{"debug-id": debugID, "sourcemap": "app.js.map"}},
			"files/_/_/assets/app.js.map": map[string]any{"type": "source_map", "url": "~/assets/app.js.map", "headers": map[string]string{"debug-id": debugID}},
		},
	}
}

func TestReadBundle(t *testing.T) {
	real, err := os.ReadFile("testdata/sentry-cli-3.8.0-demo.zip")
	if err != nil {
		t.Fatal(err)
	}
	lone := map[string]any{"files": map[string]any{
		"files/_/_/x/vendor.js.map": map[string]any{"type": "source_map", "url": "~/x/vendor.js.map"},
		"files/_/_/x/src.ts":        map[string]any{"type": "source", "url": "~/x/src.ts"},
	}}
	absolute := map[string]any{"files": map[string]any{
		"a": map[string]any{"type": "minified_source", "url": "https://cdn.example.com/js/app.js", "headers": map[string]string{"Sourcemap": "../maps/app.js.map", "debug-id": debugID}},
		"b": map[string]any{"type": "source_map", "url": "https://cdn.example.com/maps/app.js.map"},
	}}
	for _, c := range []struct {
		name    string
		zip     []byte
		release string
		want    []sourcemap.Upload // name, url, map url, debug id
	}{
		{"sentry-cli 3.8.0 bundle of the demo shop", real, "r1", []sourcemap.Upload{{Name: "~/assets/app-WJIB5TRV.js.map", URL: "~/assets/app-WJIB5TRV.js", MapURL: "~/assets/app-WJIB5TRV.js.map", DebugID: debugID}}},
		{"script and map", bundleOf(t, scriptAndMap(), "files/_/_/assets/app.js", "x()", "files/_/_/assets/app.js.map", testMap), "r-manifest",
			[]sourcemap.Upload{{Name: "~/assets/app.js.map", URL: "~/assets/app.js", MapURL: "~/assets/app.js.map", DebugID: debugID}}},
		{"a map no script claims, and an original source", bundleOf(t, lone, "files/_/_/x/vendor.js.map", testMap, "files/_/_/x/src.ts", "x"), "",
			[]sourcemap.Upload{{Name: "~/x/vendor.js.map", URL: "~/x/vendor.js", MapURL: "~/x/vendor.js.map"}}},
		{"absolute URLs, relative reference, the script's Debug ID", bundleOf(t, absolute, "a", "x()", "b", testMap), "",
			[]sourcemap.Upload{{Name: "https://cdn.example.com/maps/app.js.map", URL: "https://cdn.example.com/js/app.js", MapURL: "https://cdn.example.com/maps/app.js.map", DebugID: debugID}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := sentryapi.ReadBundle(bytes.NewReader(c.zip), int64(len(c.zip)), sentryapi.DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if b.Release != c.release {
				t.Errorf("release %q, want %q", b.Release, c.release)
			}
			if len(b.Maps) != len(c.want) {
				t.Fatalf("%d maps, want %d", len(b.Maps), len(c.want))
			}
			for i, m := range b.Maps {
				w := c.want[i]
				if m.Name != w.Name || m.URL != w.URL || m.MapURL != w.MapURL || m.DebugID != w.DebugID {
					t.Errorf("map %d: name %q url %q map_url %q debug id %q; want %q %q %q %q", i, m.Name, m.URL, m.MapURL, m.DebugID, w.Name, w.URL, w.MapURL, w.DebugID)
				}
				if !json.Valid(m.Data) {
					t.Errorf("map %d: data is not the map: %.60q", i, m.Data)
				}
			}
		})
	}
}

func TestReadBundleRefuses(t *testing.T) {
	tight := sentryapi.Limits{MaxMapBytes: 100, MaxManifestBytes: 1 << 20, MaxFiles: 10, MaxMaps: 1}
	many := map[string]any{"files": map[string]any{
		"a": map[string]any{"type": "source_map", "url": "~/a.js.map"},
		"b": map[string]any{"type": "source_map", "url": "~/b.js.map"},
	}}
	noURL := map[string]any{"files": map[string]any{"a": map[string]any{"type": "source_map"}}}
	big := strings.Repeat(" ", 200) + testMap
	for _, c := range []struct {
		name string
		zip  []byte
		lim  sentryapi.Limits
		want string
	}{
		{"not a zip", []byte("PK\x03\x04 certainly not"), sentryapi.DefaultLimits, "not a zip archive"},
		{"empty", nil, sentryapi.DefaultLimits, "not a zip archive"},
		{"no manifest", zipOf(t, "files/a.js.map", testMap), sentryapi.DefaultLimits, "no manifest.json"},
		{"manifest not JSON", zipOf(t, "manifest.json", "{"), sentryapi.DefaultLimits, "manifest.json:"},
		{"no maps", bundleOf(t, map[string]any{"files": map[string]any{}}), sentryapi.DefaultLimits, "no source maps"},
		{"listed but absent", bundleOf(t, scriptAndMap(), "files/_/_/assets/app.js", "x()"), sentryapi.DefaultLimits, "listed in manifest.json but not in the archive"},
		{"map without url", bundleOf(t, noURL, "a", testMap), sentryapi.DefaultLimits, "has no url"},
		{"map over the size limit", bundleOf(t, scriptAndMap(), "files/_/_/assets/app.js.map", big), tight, "more than the limit of 100"},
		{"too many maps", bundleOf(t, many, "a", testMap, "b", testMap), tight, "2 source maps, more than 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := sentryapi.ReadBundle(bytes.NewReader(c.zip), int64(len(c.zip)), c.lim)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want it to say %q", err, c.want)
			}
		})
	}
}

// TestReadBundleSizeLies: a zip whose header claims a small size for an
// entry that inflates to more is refused, not read to the end.
func TestReadBundleSizeLies(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	m, _ := json.Marshal(scriptAndMap())
	w, _ := zw.Create("manifest.json")
	w.Write(m)
	fh := &zip.FileHeader{Name: "files/_/_/assets/app.js.map", Method: zip.Deflate}
	w, _ = zw.CreateHeader(fh)
	w.Write(bytes.Repeat([]byte("a"), 1<<20))
	zw.Close()
	data := buf.Bytes()
	// Rewrite the entry's uncompressed size (local and central headers)
	// to 10 bytes: a lying bomb.
	data = bytes.ReplaceAll(data, le32(1<<20), le32(10))
	lim := sentryapi.Limits{MaxMapBytes: 1000, MaxManifestBytes: 1 << 20, MaxFiles: 10, MaxMaps: 10}
	_, err := sentryapi.ReadBundle(bytes.NewReader(data), int64(len(data)), lim)
	if err == nil || !strings.Contains(err.Error(), "app.js.map") {
		t.Fatalf("a zip that inflates past what its header says: err %v", err)
	}
	t.Log(err)
}

func le32(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }

func FuzzReadBundle(f *testing.F) {
	real, err := os.ReadFile("testdata/sentry-cli-3.8.0-demo.zip")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(real)
	f.Add(bundleOf(f, scriptAndMap(), "files/_/_/assets/app.js", "x()", "files/_/_/assets/app.js.map", testMap))
	f.Add([]byte("PK\x05\x06"))
	lim := sentryapi.Limits{MaxMapBytes: 1 << 20, MaxManifestBytes: 1 << 20, MaxFiles: 100, MaxMaps: 10}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := sentryapi.ReadBundle(bytes.NewReader(data), int64(len(data)), lim)
		if err != nil {
			return
		}
		if len(b.Maps) == 0 || len(b.Maps) > lim.MaxMaps {
			t.Fatalf("accepted a bundle with %d maps", len(b.Maps))
		}
		for _, m := range b.Maps {
			if int64(len(m.Data)) > lim.MaxMapBytes || m.MapURL == "" {
				t.Fatalf("accepted map %q of %d bytes", m.MapURL, len(m.Data))
			}
		}
	})
}
