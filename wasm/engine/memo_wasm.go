package engine

// memoClean is memoCleanGo in assembly (memo_wasm.s).
//
//go:noescape
func memoClean(mm *memo, b []byte, m mode) (bool, uint64)
