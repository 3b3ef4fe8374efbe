package sentryapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/rearview-dev/rearview/coordinator/sentryapi"
	"github.com/rearview-dev/rearview/internal/testenv"
)

// demoBundle is an artifact bundle of n distinct copies of the demo
// shop's map (11 KB each), each with its script entry, as sentry-cli
// builds it for a build of n bundles.
func demoBundle(tb testing.TB, n int) []byte {
	tb.Helper()
	maps, _ := filepath.Glob(filepath.Join(testenv.RepoRoot(), "e2e", "demo", "maps", "app-*.js.map"))
	if len(maps) != 1 {
		tb.Fatalf("demo maps: %v", maps)
	}
	m, err := os.ReadFile(maps[0])
	if err != nil {
		tb.Fatal(err)
	}
	files := map[string]any{}
	var content []string
	for i := range n {
		js, sm := fmt.Sprintf("files/_/_/assets/app-%d.js", i), fmt.Sprintf("files/_/_/assets/app-%d.js.map", i)
		files[js] = map[string]any{"type": "minified_source", "url": fmt.Sprintf("~/assets/app-%d.js", i), "headers": map[string]string{"sourcemap": fmt.Sprintf("app-%d.js.map", i)}}
		files[sm] = map[string]any{"type": "source_map", "url": fmt.Sprintf("~/assets/app-%d.js.map", i)}
		distinct := bytes.Replace(m, []byte(`{"version":3,`), fmt.Appendf(nil, `{"version":3,"file":"app-%d.js",`, i), 1)
		content = append(content, js, "x()", sm, string(distinct))
	}
	return bundleOf(tb, map[string]any{"files": files}, content...)
}

// BenchmarkReadBundle decodes a 100-map bundle (zip, manifest, pairing).
func BenchmarkReadBundle(b *testing.B) {
	zip := demoBundle(b, 100)
	b.SetBytes(int64(len(zip)))
	for b.Loop() {
		if _, err := sentryapi.ReadBundle(bytes.NewReader(zip), int64(len(zip)), sentryapi.DefaultLimits); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAssemble is the assemble request of a 100-map bundle whose
// chunks are uploaded: join the chunks, check the checksum, read the zip,
// validate every map and store it (blob + row), for a new release each
// time, as CI does per build.
func BenchmarkAssemble(b *testing.B) {
	e := newEnv(b)
	zip := demoBundle(b, 100)
	parts, sums := split(zip, sentryapi.ChunkSize)
	body, ct := multipartOf(b, true, sums, parts)
	if st, r := e.do(b, "POST", "/api/0/organizations/acme/chunk-upload/", e.tokens["shop"], ct, body, nil); st != 200 {
		b.Fatalf("chunk upload: %d %s", st, r)
	}
	b.SetBytes(int64(len(zip)))
	i := 0
	for b.Loop() {
		i++
		req, _ := json.Marshal(map[string]any{"checksum": sha(zip), "chunks": sums, "projects": []string{"shop"}, "version": fmt.Sprintf("r%d", i)})
		if st, r := e.do(b, "POST", "/api/0/organizations/acme/artifactbundle/assemble/", e.tokens["shop"], "application/json", req, nil); st != 200 {
			b.Fatalf("assemble: %d %s", st, r)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "maps/s")
}
