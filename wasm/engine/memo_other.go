//go:build !wasm

package engine

func memoClean(mm *memo, b []byte, m mode) (bool, uint64) { return memoCleanGo(mm, b, m) }
