package wasm_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rearview-dev/rearview/wasm"
	"github.com/rearview-dev/rearview/wasm/engine"
)

// TestNodeWASI runs the embedded module under Node's WASI on the corpus:
// its answers must be the bytes the engine gives natively, which shows the
// module runs in a V8-based edge runtime, not only under wazero.
func TestNodeWASI(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("REARVIEW_INTEGRATION") == "require" {
			t.Fatal("node not found")
		}
		t.Skip("node not found")
	}
	dir := t.TempDir()
	mod := filepath.Join(dir, "filter.wasm")
	if err := os.WriteFile(mod, wasm.Module(), 0o644); err != nil {
		t.Fatal(err)
	}
	policies := []string{``, `{"masking":{"strict":true}}`, `{"sampling":{"rate":0},"regions":{"eu":{"masking":{"query_all":true}}}}`}
	want := map[string][]byte{}
	eng := engine.New()
	for _, v := range wasm.Corpus() {
		for i, p := range policies {
			name := fmt.Sprintf("%s.%d", v.Name, i)
			req := engine.AppendRequest(nil, []byte(p), engine.Context{Project: "p", Region: "eu", UA: "Mozilla/5.0 Chrome/156", Now: 1764028812345}, v.Batch)
			if err := os.WriteFile(filepath.Join(dir, name+".req"), req, 0o644); err != nil {
				t.Fatal(err)
			}
			want[name] = append([]byte(nil), eng.Handle(req)...)
		}
	}
	cmd := exec.Command(node, "--no-warnings", filepath.Join("testdata", "node", "run.mjs"), mod, dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	for name, w := range want {
		got, err := os.ReadFile(filepath.Join(dir, name+".resp"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, w) {
			t.Errorf("%s: node and native differ:\nnode:   %q\nnative: %q", name, got, w)
		}
	}
}

// TestCorpusMatchesProtocolVectors keeps the embedded copies of the
// protocol's golden vectors equal to sdkproto/testdata/valid.
func TestCorpusMatchesProtocolVectors(t *testing.T) {
	src := filepath.Join("..", "sdkproto", "testdata", "valid")
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		want, _ := os.ReadFile(filepath.Join(src, e.Name()))
		got, err := os.ReadFile(filepath.Join("testdata", "corpus", e.Name()))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("testdata/corpus/%s differs from sdkproto's vector: copy it (%v)", e.Name(), err)
		}
	}
}
