//go:build !wasm

package jsontext

func keyNext(r *Reader, n *int, write bool) bool { return keyNextGo(r, n, write) }

func stringNext(r *Reader) (start, end int, escaped bool) { return stringNextGo(r) }

func copyNext(r *Reader) { copyNextGo(r) }

func openNext(r *Reader, c byte) { openNextGo(r, c) }

func elemNext(r *Reader, n *int) bool { return elemNextGo(r, n) }

func intNext(r *Reader) int64 { return intNextGo(r) }
