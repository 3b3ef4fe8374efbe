// Package sample decides, from the session id alone, whether a session's
// replay is kept, so that every edge and every batch of a session agree
// without talking to each other.
package sample

import "github.com/rearview-dev/rearview/wasm/policy"

// Session is what sampling looks at.
type Session struct {
	ID      []byte
	UserID  []byte
	Error   bool // the SDK flushed its error buffer: the session had an error
	Support bool // the user asked for support
	PageURL []byte
}

// Keep reports whether the session is kept under s.
func Keep(s Session, p *policy.Sampling) bool {
	if s.Error || s.Support {
		return true
	}
	for _, u := range p.Support {
		if string(s.UserID) == u && u != "" {
			return true
		}
	}
	return Score(s.ID) < Rate(s.PageURL, p)
}

// Rate returns the sampling rate for a page.
func Rate(pageURL []byte, p *policy.Sampling) float64 {
	if len(p.URLs) > 0 {
		path := Path(pageURL)
		root := [1]byte{'/'}
		if len(path) == 0 {
			path = root[:]
		}
		for _, u := range p.URLs {
			if Glob(u.Match, path) {
				return u.Rate
			}
		}
	}
	return p.Rate
}

// Score maps a session id to [0, 1): FNV-1a 64 followed by a finaliser so
// that ids differing in one character spread evenly.
func Score(id []byte) float64 {
	h := uint64(14695981039346656037)
	for _, c := range id {
		h ^= uint64(c)
		h *= 1099511628211
	}
	// splitmix64's finaliser.
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return float64(h>>11) / (1 << 53)
}

// Path returns the path of a URL: what follows scheme://host, without
// query or fragment; empty for the root. A URL without a scheme is taken
// as a path.
func Path(url []byte) []byte {
	s := 0
	for i := 0; i+2 < len(url); i++ {
		if url[i] == ':' && url[i+1] == '/' && url[i+2] == '/' {
			s = i + 3
			for s < len(url) && url[s] != '/' && url[s] != '?' && url[s] != '#' {
				s++
			}
			break
		}
		if url[i] == '/' || url[i] == '?' {
			break
		}
	}
	e := s
	for e < len(url) && url[e] != '?' && url[e] != '#' {
		e++
	}
	if e == s {
		return nil
	}
	return url[s:e]
}

// Glob matches s against pattern, where * matches any run of bytes.
func Glob(pattern string, s []byte) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
