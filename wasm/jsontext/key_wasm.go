package jsontext

// keyNext is keyNextGo in assembly (key_wasm.s).
//
//go:noescape
func keyNext(r *Reader, n *int, write bool) bool
