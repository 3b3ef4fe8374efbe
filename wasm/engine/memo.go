package engine

import (
	"encoding/binary"
	"math/bits"
)

// The memo remembers, for one batch, what the detectors made of strings,
// so that a string seen again skips them: an error batch repeats the same
// frame URLs, function names and breadcrumbs in every event (and the same
// request URL with its session token, masked every time), and a replay the
// same class names and attribute values, while under wasm running the
// detectors over a string costs several times hashing it. What the
// detectors do depends only on the string, the mode and the policy, which
// is fixed for a batch, so a hit gives the same output. The memo is per
// batch: it keeps no batch's strings beyond it.
// It holds no pointers (offsets into one arena) so that filling it costs
// the garbage collector nothing.
const (
	memoSlots = 1024    // direct-mapped: a collision replaces the older entry
	memoArena = 1 << 16 // bytes of remembered strings; emptied when full
	memoMin   = 2       // shorter strings are cheaper to scan than to look up
)

type memoEntry struct {
	h      uint64
	off, n uint32 // the string is arena[off:off+n]
	gen    uint32 // the batch the entry belongs to
	m      uint8  // the mode
	// masked: the detectors changed the string, into arena[off+n:off+2n]
	// (masking keeps the length of a string without escapes).
	masked bool
}

type memo struct {
	gen   uint32
	slots [memoSlots]memoEntry
	arena []byte
}

// reset empties the memo for a new batch.
func (mm *memo) reset() {
	mm.gen++
	if mm.gen == 0 { // wrapped: entries of old batches could look current
		mm.slots = [memoSlots]memoEntry{}
		mm.gen = 1
	}
	mm.arena = mm.arena[:0]
}

// find reports whether the memo holds b in mode m (see masked for what
// the detectors made of it), returning the hash to pass to add when not. The hash (of
// b and m, eight bytes at a time) is computed here rather than in a
// function of its own: under wasm a call costs more than the hashing of a
// short string.
//
// Under wasm memoClean is this function written in assembly (memo_wasm.s),
// where Go's dispatch of every branch through a loop made it the largest
// single cost of an error batch; TestMemoClean, run under wazero by
// `go tool task wasm:test-wasip1`, holds the two to the same results.
func (mm *memo) find(b []byte, m mode) (bool, uint64) { return memoClean(mm, b, m) }

// masked returns what the detectors made of the string of hash h that
// find just found, or nil when they left it unchanged. It aliases the
// memo, valid until the next add.
func (mm *memo) masked(h uint64) []byte {
	en := &mm.slots[h%memoSlots]
	if !en.masked {
		return nil
	}
	return mm.arena[en.off+en.n : en.off+2*en.n]
}

func memoCleanGo(mm *memo, b []byte, m mode) (bool, uint64) {
	h := uint64(len(b))<<8 | uint64(m)
	i := 0
	for ; i+8 <= len(b); i += 8 {
		h = bits.RotateLeft64((h^binary.LittleEndian.Uint64(b[i:]))*0x9E3779B97F4A7C15, 29)
	}
	var t uint64
	for k := len(b) - 1; k >= i; k-- {
		t = t<<8 | uint64(b[k])
	}
	h = (h ^ t) * 0xC2B2AE3D27D4EB4F
	h ^= h >> 32
	en := &mm.slots[h%memoSlots]
	if en.gen != mm.gen || en.h != h || en.m != uint8(m) || int(en.n) != len(b) {
		return false, h
	}
	// Compared here, eight bytes at a time, rather than by the runtime's
	// memequal: two calls under wasm, for a string of a few words.
	a := mm.arena[en.off : en.off+en.n]
	for i = 0; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(a[i:]) != binary.LittleEndian.Uint64(b[i:]) {
			return false, h
		}
	}
	for ; i < len(b); i++ {
		if a[i] != b[i] {
			return false, h
		}
	}
	return true, h
}

// add remembers that b, of hash h, became masked in mode m: nil when
// the detectors left it unchanged, else of b's length.
func (mm *memo) add(b []byte, m mode, h uint64, masked []byte) {
	if masked != nil && len(masked) != len(b) {
		return // not kept by masked's layout (masking keeps lengths, so never)
	}
	size := len(b) + len(masked)
	if len(mm.arena)+size > memoArena {
		if size > memoArena/8 {
			return
		}
		mm.reset()
	}
	mm.slots[h%memoSlots] = memoEntry{h: h, off: uint32(len(mm.arena)), n: uint32(len(b)), gen: mm.gen, m: uint8(m), masked: masked != nil}
	// Stored back only when it moved: storing the slice costs a write
	// barrier while a collection runs (see keep).
	a := append(mm.arena, b...)
	a = append(a, masked...)
	if cap(a) != cap(mm.arena) {
		mm.arena = a
	} else {
		mm.arena = mm.arena[:len(a)]
	}
}
