package wasmhost

import "encoding/binary"

// Tiny hand-assembled modules that speak the ABI but misbehave, for the
// tests of deadlines and of refused modules.

func uleb(v uint64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func sleb(v int64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func section(id byte, body []byte) []byte {
	return append(append([]byte{id}, uleb(uint64(len(body)))...), body...)
}

func vec(items ...[]byte) []byte {
	b := uleb(uint64(len(items)))
	for _, it := range items {
		b = append(b, it...)
	}
	return b
}

func name(s string) []byte { return append(uleb(uint64(len(s))), s...) }

// loopModule returns a module whose apply loops when the request's length
// is odd — forever, or for about `iterations` rounds when bounded — and
// otherwise answers that every event was dropped.
func loopModule(iterations int32) []byte {
	const dataAt, reqAt = 256, 4096
	report := []byte(`{"kept":0,"masked":0,"dropped":{},"decisions":[]}`)
	resp := []byte("RVR1")
	resp = binary.LittleEndian.AppendUint32(resp, 0)
	resp = binary.LittleEndian.AppendUint32(resp, 0)
	resp = binary.LittleEndian.AppendUint32(resp, uint32(len(report)))
	resp = append(resp, report...)

	var loop []byte
	if iterations <= 0 {
		loop = []byte{0x03, 0x40, 0x0c, 0x00, 0x0b} // loop br 0 end
	} else {
		loop = append([]byte{0x03, 0x40, 0x20, 0x02, 0x41, 0x01, 0x6a, 0x22, 0x02, 0x41}, sleb(int64(iterations))...)
		loop = append(loop, 0x49, 0x0d, 0x00, 0x0b) // i32.lt_u br_if 0 end
	}
	apply := []byte{0x01, 0x01, 0x7f, 0x20, 0x01, 0x41, 0x01, 0x71, 0x04, 0x40}
	apply = append(apply, loop...)
	apply = append(apply, 0x0b, 0x42)
	apply = append(apply, sleb(int64(dataAt)<<32|int64(len(resp)))...)
	apply = append(apply, 0x0b)
	body := func(b []byte) []byte { return append(uleb(uint64(len(b))), b...) }

	m := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	m = append(m, section(1, vec(
		[]byte{0x60, 0x01, 0x7f, 0x01, 0x7f},
		[]byte{0x60, 0x01, 0x7f, 0x00},
		[]byte{0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7e},
		[]byte{0x60, 0x00, 0x00},
	))...)
	m = append(m, section(3, vec([]byte{0}, []byte{1}, []byte{2}, []byte{3}))...)
	m = append(m, section(5, vec([]byte{0x00, 0x10}))...) // 16 pages
	m = append(m, section(7, vec(
		append(name("memory"), 0x02, 0x00),
		append(name("alloc"), 0x00, 0x00),
		append(name("free"), 0x00, 0x01),
		append(name("apply"), 0x00, 0x02),
		append(name("_initialize"), 0x00, 0x03),
	))...)
	m = append(m, section(10, vec(
		body(append(append([]byte{0x00, 0x41}, sleb(reqAt)...), 0x0b)),
		body([]byte{0x00, 0x0b}),
		body(apply),
		body([]byte{0x00, 0x0b}),
	))...)
	data := append([]byte{0x00, 0x41}, sleb(dataAt)...)
	data = append(data, 0x0b)
	data = append(data, uleb(uint64(len(resp)))...)
	data = append(data, resp...)
	m = append(m, section(11, vec(data))...)
	return m
}

// withCustomSection returns bin with a custom section appended: the same
// code under a different checksum.
func withCustomSection(bin []byte, label string) []byte {
	out := append([]byte(nil), bin...)
	return append(out, section(0, append(name("rv-test"), label...))...)
}
