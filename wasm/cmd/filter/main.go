//go:build wasip1

// Command filter is the edge policy engine as a WASI reactor module
// (filter.wasm). It exports an allocator and one function, apply, over the
// byte envelope described in wasm/README.md; the work is done by package
// engine, the same code the edge runs natively.
package main

import (
	"unsafe"

	"github.com/rearview-dev/rearview/wasm/engine"
)

// instance is the module's state. A wasm instance is single-threaded and
// a host never calls into it concurrently, so one engine and one input
// buffer serve every call; keeping them avoids garbage per call.
var instance = struct {
	eng *engine.Engine
	in  []byte
}{eng: engine.New()}

// alloc returns the address of a buffer of n bytes where the host writes
// the next request. The buffer stays valid until the next alloc.
//
//go:wasmexport alloc
func alloc(n uint32) uint32 {
	if uint32(cap(instance.in)) < n {
		instance.in = make([]byte, n)
	}
	instance.in = instance.in[:n]
	if n == 0 {
		return 0
	}
	return uint32(uintptr(unsafe.Pointer(&instance.in[0])))
}

// free releases the request buffer, for a host that just sent an unusually
// large batch and wants the memory back for the next allocation.
//
//go:wasmexport free
func free(ptr uint32) {
	if len(instance.in) > 0 && ptr == uint32(uintptr(unsafe.Pointer(&instance.in[0]))) {
		instance.in = nil
	}
}

// apply runs the request of n bytes the host wrote at ptr (the address
// alloc returned) and returns the response's address in the high 32 bits
// and its length in the low 32 bits. The response stays valid until the
// next call.
//
//go:wasmexport apply
func apply(ptr, n uint32) uint64 {
	var req []byte
	if n > 0 && n <= uint32(len(instance.in)) && ptr == uint32(uintptr(unsafe.Pointer(&instance.in[0]))) {
		req = instance.in[:n]
	}
	resp := instance.eng.Handle(req)
	return uint64(uintptr(unsafe.Pointer(&resp[0])))<<32 | uint64(len(resp))
}

// bots makes the bot list document of n bytes the host wrote at ptr (the
// address alloc returned) the instance's list of bot patterns; n = 0
// restores the built-in list. It returns a response envelope like apply's:
// status 1 with the reason when the list does not compile, and then the
// previous list stays.
//
//go:wasmexport bots
func bots(ptr, n uint32) uint64 {
	var doc []byte
	if n > 0 && n <= uint32(len(instance.in)) && ptr == uint32(uintptr(unsafe.Pointer(&instance.in[0]))) {
		doc = instance.in[:n]
	} else if n > 0 {
		doc = []byte("not a list: the buffer is not the one alloc returned")
	}
	resp := instance.eng.HandleBots(doc)
	return uint64(uintptr(unsafe.Pointer(&resp[0])))<<32 | uint64(len(resp))
}

func main() {}
