package jsontext

// The steps of fast.go in assembly (fast_wasm.s).

//go:noescape
func keyNext(r *Reader, n *int, write bool) bool

//go:noescape
func stringNext(r *Reader) (start, end int, escaped bool)

//go:noescape
func copyNext(r *Reader)

//go:noescape
func openNext(r *Reader, c byte)

//go:noescape
func elemNext(r *Reader, n *int) bool

//go:noescape
func intNext(r *Reader) int64
