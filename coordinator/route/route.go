// Package route turns page URLs into the routes they are instances of
// (`/orders/:id`), the page dimension that vitals, alerts and session search
// share.
package route

import (
	"net/url"
	"strings"
)

// maxRouteLen bounds a route so that a hostile or generated URL cannot
// blow up the number of slices; past it the route is cut at a segment.
const maxRouteLen = 200

// Normalise turns a page URL into the route it is an instance of: the
// path only (scheme, host, query and fragment dropped), with segments that
// are identifiers — numbers, UUIDs, hex hashes, long random tokens —
// replaced by ":id", and no trailing slash. Cardinality of routes is what
// keeps the number of sketches bounded, so ids must never survive.
func Normalise(raw string) string {
	p := raw
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	if strings.Contains(p, "://") {
		if u, err := url.Parse(p); err == nil {
			p = u.EscapedPath()
		} else {
			// Keep what follows the authority.
			p = p[strings.Index(p, "://")+3:]
			if i := strings.IndexByte(p, '/'); i >= 0 {
				p = p[i:]
			} else {
				p = "/"
			}
		}
	}
	if p == "" || p == "/" {
		return "/"
	}
	var b strings.Builder
	b.Grow(len(p))
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "" {
			continue
		}
		if b.Len()+len(seg)+1 > maxRouteLen {
			b.WriteString("/…")
			break
		}
		b.WriteByte('/')
		if isID(seg) {
			b.WriteString(":id")
		} else {
			b.WriteString(seg)
		}
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

// isID reports whether a path segment is an identifier rather than a word.
func isID(seg string) bool {
	var digits, hex, letters, other int
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
			hex++
		case c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F':
			hex++
			letters++
		case c >= 'g' && c <= 'z' || c >= 'G' && c <= 'Z':
			letters++
		default:
			other++
		}
	}
	n := len(seg)
	switch {
	case digits == n: // 123
		return true
	case isUUID(seg):
		return true
	case hex == n && n >= 12 && digits > 0: // md5, sha1, sha256, Mongo ObjectId, content hashes
		return true
	case other == 0 && n >= 16 && digits >= 2 && letters > 0: // base62/base64url random tokens
		return true
	}
	return false
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}
