//go:build !wasm

package mask

func mayMatch(b []byte) bool { return mayMatchGo(b) }
