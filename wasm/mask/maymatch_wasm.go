package mask

// mayMatch is mayMatchGo in assembly (maymatch_wasm.s).
//
//go:noescape
func mayMatch(b []byte) bool
