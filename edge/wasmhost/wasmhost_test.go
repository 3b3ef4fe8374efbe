package wasmhost

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/wasm"
	"github.com/rearview-dev/rearview/wasm/engine"
)

// cacheDir is a compilation cache shared by the package's tests: the
// module is compiled once per test binary, not once per stage.
var cacheDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wasmhost-cache-")
	if err != nil {
		panic(err)
	}
	cacheDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func newStage(t testing.TB, cfg Config) *Stage {
	t.Helper()
	if cfg.CacheDir == "" {
		cfg.CacheDir = cacheDir
	}
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("new stage: %v", err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

// TestNativeMatchesWasm runs the golden corpus under every test policy
// through the module and natively: the response envelopes must be the
// same bytes.
func TestNativeMatchesWasm(t *testing.T) {
	ctx := context.Background()
	w := newStage(t, Config{Instances: 1})
	n := newStage(t, Config{Native: true})
	for _, v := range wasm.Corpus() {
		for _, p := range testPolicies {
			t.Run(v.Name+"/"+p.name, func(t *testing.T) {
				req := engine.AppendRequest(nil, []byte(p.doc), engine.Context{Project: "p", Region: "eu", UA: selfTestUA, Now: time.Now().UnixMilli()}, v.Batch)
				got, err := w.Raw(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				want, err := n.Raw(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("wasm and native differ:\nwasm:   %q\nnative: %q", got, want)
				}
			})
		}
	}
}

// TestNativeMatchesWasmOnMutations mutates the corpus (flipped bytes,
// cuts, inserted escapes and detector bait, valid or not): wasm and native
// must still answer with the same bytes, refusals included.
func TestNativeMatchesWasmOnMutations(t *testing.T) {
	ctx := context.Background()
	w := newStage(t, Config{Instances: 1})
	n := newStage(t, Config{Native: true})
	r := rand.New(rand.NewPCG(7, 8))
	vs := wasm.Corpus()
	bait := []string{`\u0040`, `4111 1111 1111 1111`, `"`, `{`, `]`, `jane@example.com`, `\ud83d\ude00`, `::1`, `,"x":{"y":[1]}`}
	for i := range 300 {
		b := append([]byte(nil), vs[r.IntN(len(vs))].Batch...)
		for range 1 + r.IntN(3) {
			p := r.IntN(len(b))
			switch r.IntN(3) {
			case 0:
				b[p] = byte(r.IntN(256))
			case 1:
				b = append(b[:p], b[min(len(b), p+r.IntN(16)):]...)
			default:
				b = append(b[:p], append([]byte(bait[r.IntN(len(bait))]), b[p:]...)...)
			}
		}
		p := testPolicies[i%len(testPolicies)]
		req := engine.AppendRequest(nil, []byte(p.doc), engine.Context{Project: "p", Region: "eu", UA: selfTestUA}, b)
		got, err := w.Raw(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := n.Raw(ctx, req)
		if !bytes.Equal(got, want) {
			t.Fatalf("mutation %d: wasm and native differ on %q", i, b)
		}
	}
}

var testPolicies = []struct{ name, doc string }{
	{"default", ``},
	{"strict", `{"masking":{"strict":true}}`},
	{"eu-override", `{"sampling":{"rate":0},"regions":{"eu":{"masking":{"strict":true,"query_all":true}}}}`},
	{"lenient", `{"noise":{"extensions":false,"messages":[]},"bots":{"drop":false},"masking":{"inputs":false,"detectors":[]}}`},
}

// TestCompilationCache checks that a stage leaves its compiled module on
// disk and that a second stage starts from it.
func TestCompilationCache(t *testing.T) {
	dir := t.TempDir()
	start := time.Now()
	newStage(t, Config{CacheDir: dir})
	cold := time.Since(start)
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) == 0 {
		t.Fatalf("nothing cached in %s: %v", dir, err)
	}
	start = time.Now()
	newStage(t, Config{CacheDir: dir})
	t.Logf("start: %v cold, %v from the cache", cold.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}
