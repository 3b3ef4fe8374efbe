package mask

import (
	"encoding/binary"
	"slices"
)

// AppendStars appends raw, the content of a JSON string as it appears
// between the quotes, with every character replaced by '*' except
// whitespace, one '*' per character whatever its encoded length: the masked
// text keeps its length as the browser renders it. It reports whether
// anything was not already a '*' or whitespace.
func AppendStars(dst, raw []byte) ([]byte, bool) {
	// The output is never longer than raw (an escape gives at most as
	// many bytes as it has), so it is written in place of an append per
	// byte, and eight plain bytes (no whitespace, '*', escape or UTF-8) at
	// a time: under wasm each append and each loop turn costs a jump
	// through the function's dispatch loop.
	n := len(dst)
	dst = slices.Grow(dst, len(raw))[:n+len(raw)]
	out := dst[n:]
	o := 0
	changed := false
	for i := 0; i < len(raw); i++ {
		if i+8 <= len(raw) {
			v := binary.LittleEndian.Uint64(raw[i:])
			if (v|zero(v^(lo8*' '))|zero(v^(lo8*'*'))|zero(v^(lo8*'\\')))&hi8 == 0 {
				binary.LittleEndian.PutUint64(out[o:], lo8*'*')
				o += 8
				i += 7
				changed = true
				continue
			}
		}
		c := raw[i]
		switch {
		case c == ' ':
			out[o] = ' '
			o++
		case c == '*':
			out[o] = '*'
			o++
		case c == '\\' && i+1 < len(raw):
			i++
			switch raw[i] {
			case 'n', 'r', 't':
				out[o], out[o+1] = '\\', raw[i]
				o += 2
				continue
			case 'u':
				// A surrogate pair is one character.
				if i+10 < len(raw) && (raw[i+1] == 'd' || raw[i+1] == 'D') && raw[i+5] == '\\' && raw[i+6] == 'u' {
					i += 6
				}
				i += 4
			}
			out[o] = '*'
			o++
			changed = true
		case c >= 0x80 && c < 0xC0:
			// A UTF-8 continuation byte: its character is already starred.
		default:
			out[o] = '*'
			o++
			changed = true
		}
	}
	return dst[:n+o], changed
}

// Query masks, in place, the values of the query parameters of the URL in
// b, and of its fragment when the fragment is made of parameters (as in an
// OAuth redirect). With all every value is masked, otherwise those whose
// name SensitiveKey or extra reports. It returns the number of values
// masked.
func Query(b []byte, all bool, extra func(name []byte) bool) int {
	n := 0
	start := -1
	for i, c := range b {
		if c == '?' || c == '#' {
			start = i + 1
			break
		}
	}
	if start < 0 {
		return 0
	}
	for start < len(b) {
		end := start
		eq := -1
		for end < len(b) && b[end] != '&' && b[end] != ';' && b[end] != '#' {
			if b[end] == '=' && eq < 0 {
				eq = end
			}
			end++
		}
		if eq >= 0 && eq+1 < end {
			key, val := b[start:eq], b[eq+1:end]
			if all || SensitiveKey(key) || extra != nil && extra(key) {
				if starred(val) {
					n++
				}
			}
		}
		start = end + 1
	}
	return n
}

// starred replaces b by '*' and reports whether that changed anything.
func starred(b []byte) bool {
	changed := false
	for i, c := range b {
		if c != '*' {
			b[i] = '*'
			changed = true
		}
	}
	return changed
}

// Header reports whether an HTTP header's value must be masked whole
// because of its name: credentials and cookies, or a name in deny
// (lower-case).
func Header(name []byte, deny []string) bool {
	if len(name) > 64 {
		return false
	}
	for _, d := range deny {
		if len(d) == len(name) && equalFold(name, d) {
			return true
		}
	}
	return SensitiveKey(name)
}

// DefaultDenyHeaders are the headers whose values never leave the edge.
func DefaultDenyHeaders() []string {
	return []string{"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token", "x-csrf-token", "x-xsrf-token", "x-amz-security-token", "x-forwarded-for", "x-real-ip", "cf-connecting-ip", "forwarded", "true-client-ip"}
}
