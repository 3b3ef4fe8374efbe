//go:build !wasm

package jsontext

func keyNext(r *Reader, n *int, write bool) bool { return keyNextGo(r, n, write) }
