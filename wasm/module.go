// Package wasm holds Rearview's edge policy engine compiled to WebAssembly
// (filter.wasm, built from cmd/filter with `go tool task wasm`). The Go
// packages beside it (policy, noise, sample, mask, engine) are the engine
// itself; they build natively too, and tests prove both builds give the
// same bytes.
package wasm

import (
	"embed"
	"path"
	"strings"
)

//go:embed filter.wasm
var module []byte

//go:embed testdata/corpus/*.json
var corpus embed.FS

//go:embed testdata/pii-canaries.txt
var canaries string

// Module returns the bytes of the embedded filter.wasm. The slice is
// shared: do not modify it.
func Module() []byte { return module }

// Vector is one batch of the golden corpus.
type Vector struct {
	Name  string
	Batch []byte
}

// Corpus returns the golden batches a host runs a new module on before
// trusting it: the protocol's vectors (sdkproto/testdata/valid) and the
// engine's own, which hold personal data in every field.
func Corpus() []Vector {
	ents, _ := corpus.ReadDir("testdata/corpus")
	vs := make([]Vector, 0, len(ents))
	for _, e := range ents {
		b, _ := corpus.ReadFile(path.Join("testdata/corpus", e.Name()))
		vs = append(vs, Vector{Name: strings.TrimSuffix(e.Name(), ".json"), Batch: b})
	}
	return vs
}

// Canaries returns the personal data planted in the corpus: none of it may
// appear in what a module forwards under the default policy.
func Canaries() []string {
	var out []string
	for _, l := range strings.Split(canaries, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
