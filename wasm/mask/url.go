package mask

import "bytes"

// URL masks personal data in the URL in b, in place, keeping its length:
// the values of sensitive query parameters whole (see Query), then what
// the detectors find in each path segment and query value once decoded —
// percent-escapes, and '+' for a space in the query, so that a card number
// sent as 4111+1111+1111+1111 or a phone number as %2B44%2020%207946%200958
// is found — masked in its encoded bytes, then what they find in the URL as
// written. Encoded whitespace (%20, '+') is kept, as whitespace is
// elsewhere. buf is scratch space for the decoded parts; URL returns it,
// grown, for the next call, and the number of values masked.
func URL(b []byte, set Set, all bool, extra func(name []byte) bool, buf []byte) (int, []byte) {
	n := Query(b, all, extra)
	// Most URLs hold no escape and no '+': nothing to decode.
	if set != 0 && (bytes.IndexByte(b, '%') >= 0 || bytes.IndexByte(b, '+') >= 0) {
		q := len(b)
		for i, c := range b {
			if c == '?' || c == '#' {
				q = i
				break
			}
		}
		// Path segments: only escapes need decoding; the rest is what the
		// final Detect reads.
		for s := 0; s < q; {
			e := s
			for e < q && b[e] != '/' {
				e++
			}
			var k int
			k, buf = encoded(b[s:e], set, false, buf)
			n += k
			s = e + 1
		}
		// Query and fragment parameters: their values.
		for s := q + 1; s < len(b); {
			e, eq := s, -1
			for e < len(b) && b[e] != '&' && b[e] != ';' && b[e] != '#' {
				if b[e] == '=' && eq < 0 {
					eq = e
				}
				e++
			}
			if eq < 0 {
				eq = s - 1 // a value without a name
			}
			var k int
			k, buf = encoded(b[eq+1:e], set, true, buf)
			n += k
			s = e + 1
		}
	}
	return n + Detect(b, set), buf
}

// encoded runs the detectors over v decoded (with plus, '+' is a space)
// and masks, in v, the encoded bytes of what they found. It does nothing
// to a v without escapes (or '+'): Detect reads those as they are.
func encoded(v []byte, set Set, plus bool, buf []byte) (int, []byte) {
	esc := false
	for _, c := range v {
		if c == '%' || plus && c == '+' {
			esc = true
			break
		}
	}
	if !esc {
		return 0, buf
	}
	// buf holds the decoded value twice: as decoded, then masked.
	buf = buf[:0]
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '%' && i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]):
			c = unhex(v[i+1])<<4 | unhex(v[i+2])
			i += 2
		case c == '+' && plus:
			// A '+' before a digit that starts a word is more likely a
			// phone number's, unescaped, than a space: +44+20+7946+0958.
			if !(i+1 < len(v) && isDigit(v[i+1]) && (len(buf) == 0 || buf[len(buf)-1] == ' ')) {
				c = ' '
			}
		}
		buf = append(buf, c)
	}
	d := len(buf)
	buf = append(buf, buf...)
	masked := buf[d:]
	k := Detect(masked, set)
	if k == 0 {
		return 0, buf
	}
	// Walk the encoded and the decoded bytes together, masking the encoded
	// form of every decoded byte the detectors changed.
	j := 0
	for i := 0; i < len(v) && j < d; j++ {
		w := 1
		if v[i] == '%' && i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]) {
			w = 3
		}
		if masked[j] != buf[j] {
			for x := i; x < i+w; x++ {
				v[x] = '*'
			}
		}
		i += w
	}
	return k, buf
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
