// Package wasm holds Rearview's edge policy engine compiled to WebAssembly
// (filter.wasm, built from cmd/filter with `go tool task wasm`). The Go
// packages beside it (policy, noise, sample, mask, engine) are the engine
// itself; they build natively too, and tests prove both builds give the
// same bytes.
package wasm

import _ "embed"

//go:embed filter.wasm
var module []byte

// Module returns the bytes of the embedded filter.wasm. The slice is
// shared: do not modify it.
func Module() []byte { return module }
