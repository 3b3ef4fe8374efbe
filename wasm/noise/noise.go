// Package noise recognises events nobody can act on: errors thrown by
// browser extensions, well-known browser noise, batches sent by bots and
// crawlers, and pages served from localhost. Each check works on bytes and
// allocates nothing.
package noise

import "bytes"

// Drop reasons, as counted in outcomes.
const (
	ReasonExtensions  = "browser-extensions"
	ReasonBrowser     = "browser-noise"
	ReasonKnown       = "known-noise"
	ReasonCrawlers    = "web-crawlers"
	ReasonWebdriver   = "webdriver"        // the SDK saw navigator.webdriver
	ReasonHeadless    = "headless-browser" // the SDK saw a headless browser's name in the page
	ReasonLocalhost   = "localhost"
	ReasonRelease     = "release"
	ReasonSampled     = "sampled"
	ReasonInvalidJSON = "invalid"
)

// extensionSchemes are URL prefixes of code injected by browser
// extensions or by the browser itself.
var extensionSchemes = []string{
	"chrome-extension:", "moz-extension:", "safari-extension:", "safari-web-extension:",
	"ms-browser-extension:", "edge-extension:", "extension:", "webkit-masked-url:",
	"chrome:", "resource:", "opera:", "about:",
}

// schemeStart marks the first bytes, in either case, of extensionSchemes:
// most frame URLs (https:) are rejected on their first byte, without a
// call per scheme.
var schemeStart = func() (t [256]bool) {
	for _, s := range extensionSchemes {
		t[lower(s[0])], t[lower(s[0])-32] = true, true
	}
	return t
}()

// Extension reports whether a frame URL belongs to a browser extension or
// to the browser itself.
func Extension(url []byte) bool {
	if len(url) == 0 || !schemeStart[url[0]] {
		return false
	}
	for _, s := range extensionSchemes {
		if hasPrefixFold(url, s) {
			return true
		}
	}
	return false
}

// Message reports whether an error type or message contains one of the
// noise substrings.
func Message(typ, value []byte, list []string) bool {
	for _, m := range list {
		if m == "" {
			continue
		}
		if contains(value, m) || contains(typ, m) {
			return true
		}
	}
	return false
}

// Localhost reports whether a page URL is served from the local machine.
func Localhost(url []byte) bool {
	i := 0
	for i+2 < len(url) && !(url[i] == ':' && url[i+1] == '/' && url[i+2] == '/') {
		i++
	}
	if i+2 >= len(url) {
		return false
	}
	h := url[i+3:]
	// Drop user info, then cut at the port or path.
	for k := 0; k < len(h); k++ {
		if h[k] == '@' {
			h = h[k+1:]
			break
		}
		if h[k] == '/' {
			break
		}
	}
	end := 0
	if len(h) > 0 && h[0] == '[' {
		for end < len(h) && h[end] != ']' {
			end++
		}
		if end < len(h) {
			end++
		}
	} else {
		for end < len(h) && h[end] != ':' && h[end] != '/' && h[end] != '?' && h[end] != '#' {
			end++
		}
	}
	host := h[:end]
	switch {
	case equalFold(host, "localhost"), equalFold(host, "[::1]"), equalFold(host, "0.0.0.0"):
		return true
	case hasPrefixFold(host, "127."):
		return true
	case len(host) > len(".localhost") && equalFold(host[len(host)-len(".localhost"):], ".localhost"):
		return true
	}
	return false
}

// Release reports whether an error of release is dropped by the deny and
// allow lists. A pattern ending in * matches a prefix.
func Release(release []byte, deny, allow []string) bool {
	for _, p := range deny {
		if matchRelease(release, p) {
			return true
		}
	}
	if len(allow) == 0 {
		return false
	}
	for _, p := range allow {
		if matchRelease(release, p) {
			return false
		}
	}
	return true
}

func matchRelease(r []byte, p string) bool {
	if n := len(p); n > 0 && p[n-1] == '*' {
		return len(r) >= n-1 && string(r[:n-1]) == p[:n-1]
	}
	return string(r) == p
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 32
	}
	return c
}

func hasPrefixFold(b []byte, p string) bool {
	if len(b) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if lower(b[i]) != lower(p[i]) {
			return false
		}
	}
	return true
}

func equalFold(b []byte, s string) bool { return len(b) == len(s) && hasPrefixFold(b, s) }

// contains reports whether b contains s, which must not be empty. It
// finds candidates with bytes.IndexByte, which is assembly under wasm too:
// a loop over every byte costs a dispatch per iteration there.
func contains(b []byte, s string) bool {
	c := s[0]
	for len(b) >= len(s) {
		i := bytes.IndexByte(b[:len(b)-len(s)+1], c)
		if i < 0 {
			return false
		}
		if string(b[i:i+len(s)]) == s {
			return true
		}
		b = b[i+1:]
	}
	return false
}

// containsFold reports whether b contains s, which must be lower-case.
func containsFold(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if lower(b[i]) == s[0] && hasPrefixFold(b[i:], s) {
			return true
		}
	}
	return false
}

// MessageSet is a list of noise substrings prepared for Match: it finds
// them all in one pass over a message, where Message searches for each in
// turn (under wasm, two calls per substring and string).
//
// The pass skips as Wu and Manber's multi-pattern search does: it looks at
// the last two bytes of a window as long as the shortest substring and
// moves on by as much as no substring could end any nearer: with the
// default list, whose substrings are ten bytes or longer, up to nine bytes
// at a time.
type MessageSet struct {
	list   []string
	single [256]bool            // one-byte substrings
	pairs  [1 << 16 / 64]uint64 // the first two bytes of the longer ones
	window int                  // the shortest longer substring's length, at most 255
	shift  [shiftSlots]uint8    // by the hash of a window's last two bytes
}

const shiftSlots = 4096

func shiftSlot(a, b byte) int { return (int(a)<<4 ^ int(b)) & (shiftSlots - 1) }

// NewMessageSet prepares list for Match.
func NewMessageSet(list []string) *MessageSet {
	m := &MessageSet{window: 255}
	for _, s := range list {
		switch len(s) {
		case 0:
		case 1:
			m.single[s[0]] = true
		default:
			m.list = append(m.list, s)
			p := uint(s[0])<<8 | uint(s[1])
			m.pairs[p/64] |= 1 << (p % 64)
			m.window = min(m.window, len(s))
		}
	}
	for i := range m.shift {
		m.shift[i] = uint8(m.window - 1)
	}
	for _, s := range m.list {
		for j := 1; j < m.window; j++ {
			k := shiftSlot(s[j-1], s[j])
			m.shift[k] = min(m.shift[k], uint8(m.window-1-j))
		}
	}
	return m
}

// Match reports what Message reports for the list m was made from.
func (m *MessageSet) Match(typ, value []byte) bool { return m.in(value) || m.in(typ) }

func (m *MessageSet) in(b []byte) bool {
	if len(m.list) == 0 || m.window < 3 {
		return m.inEach(b) // nothing to skip by
	}
	w := m.window
	for end := w - 1; end < len(b); {
		if s := m.shift[shiftSlot(b[end-1], b[end])]; s > 0 {
			end += int(s)
			continue
		}
		// A substring may start at i: its first w bytes end here.
		i := end - w + 1
		for _, s := range m.list {
			if s[0] == b[i] && s[1] == b[i+1] && len(b)-i >= len(s) && string(b[i:i+len(s)]) == s {
				return true
			}
		}
		end++
	}
	return false
}

// inEach is in looking at every byte, for lists with one-byte substrings
// or short ones.
func (m *MessageSet) inEach(b []byte) bool {
	for i := range b {
		if m.single[b[i]] {
			return true
		}
		if i+1 == len(b) {
			break
		}
		if p := uint(b[i])<<8 | uint(b[i+1]); m.pairs[p/64]&(1<<(p%64)) != 0 {
			for _, s := range m.list {
				// The first two bytes before the rest: the
				// comparison of the rest is a call.
				if s[0] == b[i] && s[1] == b[i+1] && len(b)-i >= len(s) && string(b[i:i+len(s)]) == s {
					return true
				}
			}
		}
	}
	return false
}
