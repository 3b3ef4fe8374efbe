package fingerprint

import (
	"strings"
)

// NormalizeMessage replaces the variable parts of an error message so that
// messages differing only in ids group together: quoted strings become
// <str>, URLs <url>, e-mail addresses <email>, UUIDs <uuid>, hexadecimal
// numbers and long hex runs <hex>, and other numbers <num>.
//
//	"User 42 not found: 'bob@x.io'"  → "User <num> not found: <str>"
func NormalizeMessage(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		wordStart := i == 0 || !isWordByte(s[i-1])
		if (c == '\'' || c == '"' || c == '`') && wordStart {
			if j := strings.IndexByte(s[i+1:], c); j >= 0 && !strings.ContainsRune(s[i+1:i+1+j], '\n') {
				b.WriteString("<str>")
				i += j + 2
				continue
			}
		}
		if wordStart && isWordByte(c) {
			end := i
			for end < len(s) && !isSpaceOrDelim(s[end]) {
				end++
			}
			w := strings.TrimRight(s[i:end], ".:;!?")
			switch {
			case strings.Contains(w, "://") || strings.HasPrefix(w, "www."):
				b.WriteString("<url>")
				i += len(w)
				continue
			case isEmail(w):
				b.WriteString("<email>")
				i += len(w)
				continue
			}
			i = normalizeWord(&b, s, i, i+len(w))
			continue
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c >= 0x80
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isSpaceOrDelim(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '"', '\'', '`', '(', ')', '[', ']', '{', '}', '<', '>', ',':
		return true
	}
	return false
}

func isEmail(w string) bool {
	at := strings.IndexByte(w, '@')
	if at <= 0 || at == len(w)-1 {
		return false
	}
	dot := strings.LastIndexByte(w[at:], '.')
	return dot > 1 && dot < len(w[at:])-1
}

// isUUIDAt reports whether s[i:] starts with a UUID (8-4-4-4-12 hex).
func isUUIDAt(s string, i int) bool {
	if len(s)-i < 36 {
		return false
	}
	for k := 0; k < 36; k++ {
		c := s[i+k]
		if k == 8 || k == 13 || k == 18 || k == 23 {
			if c != '-' {
				return false
			}
		} else if !isHex(c) {
			return false
		}
	}
	return i+36 == len(s) || !isHex(s[i+36])
}

// normalizeWord writes s[i:end] with UUIDs, hex and numbers replaced and
// returns end.
func normalizeWord(b *strings.Builder, s string, i, end int) int {
	w := s[:end]
	for i < end {
		c := w[i]
		atStart := i == 0 || !isWordByte(w[i-1]) || isDigit(c) && !isDigit(w[i-1]) && !isHex(w[i-1])
		switch {
		case atStart && isHex(c) && isUUIDAt(w, i):
			b.WriteString("<uuid>")
			i += 36
			continue
		case atStart && c == '0' && i+2 < end && (w[i+1] == 'x' || w[i+1] == 'X') && isHex(w[i+2]):
			j := i + 2
			for j < end && isHex(w[j]) {
				j++
			}
			b.WriteString("<hex>")
			i = j
			continue
		case isHex(c) && (i == 0 || !isWordByte(w[i-1])):
			// A run of 8+ hex digits with at least one digit is an id or a
			// hash, not a word.
			j, digits := i, 0
			for j < end && isHex(w[j]) {
				if isDigit(w[j]) {
					digits++
				}
				j++
			}
			if j-i >= 8 && digits > 0 && (j == end || !isWordByte(w[j])) {
				b.WriteString("<hex>")
				i = j
				continue
			}
		}
		if isDigit(c) {
			j := i
			for j < end && (isDigit(w[j]) || (w[j] == '.' || w[j] == ',') && j+1 < end && isDigit(w[j+1])) {
				j++
			}
			b.WriteString("<num>")
			i = j
			continue
		}
		b.WriteByte(c)
		i++
	}
	return end
}

// NormalizePath reduces a script URL or source path to what stays the same
// across deploys: no scheme, host, query or fragment, no bundler prefix
// (webpack://, ./, ~/), and no content-hash segments in the file name
// (main.a7f3e2.js → main.js).
func NormalizePath(p string) string {
	for i := 0; i < len(p); i++ {
		if p[i] == '?' || p[i] == '#' {
			p = p[:i]
			break
		}
	}
	if i := strings.Index(p, "://"); i >= 0 {
		scheme := p[:i]
		rest := p[i+3:]
		switch {
		case strings.HasPrefix(scheme, "webpack"), scheme == "file", scheme == "app", scheme == "vite":
			p = rest
			// webpack://<namespace>/./src/x.js keeps only the path.
			if strings.HasPrefix(scheme, "webpack") && !strings.HasPrefix(rest, "/") {
				if j := strings.IndexByte(rest, '/'); j >= 0 {
					p = rest[j:]
				}
			}
		default:
			if j := strings.IndexByte(rest, '/'); j >= 0 {
				p = rest[j:]
			} else {
				p = ""
			}
		}
	}
	p = strings.ReplaceAll(p, "\\", "/")
	for {
		switch {
		case strings.HasPrefix(p, "./"):
			p = p[2:]
		case strings.HasPrefix(p, "~/"):
			p = p[2:]
		case strings.HasPrefix(p, "/"):
			p = p[1:]
		default:
			return stripHashes(p)
		}
	}
}

// stripHashes drops content-hash segments from the file name: a segment
// after the first, separated by '.', '-' or '_', that is all digits or five
// or more hex digits holding a digit.
func stripHashes(p string) string {
	dir, base := "", p
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		dir, base = p[:i+1], p[i+1:]
	}
	first := indexSep(base)
	if first <= 0 || !hasHashSegment(base[first:]) {
		return p
	}
	var b strings.Builder
	b.WriteString(dir)
	b.WriteString(base[:first])
	rest := base[first:]
	changed := false
	for rest != "" {
		sep := rest[0]
		seg := rest[1:]
		if i := indexSep(seg); i >= 0 {
			seg = seg[:i]
		}
		rest = rest[1+len(seg):]
		if isHashSegment(seg) && (rest != "" || sep != '.') {
			changed = true
			continue
		}
		b.WriteByte(sep)
		b.WriteString(seg)
	}
	if !changed {
		return p
	}
	return b.String()
}

// hasHashSegment reports whether stripHashes would drop a segment of rest
// (the file name from its first separator on).
func hasHashSegment(rest string) bool {
	for rest != "" {
		sep := rest[0]
		seg := rest[1:]
		if i := indexSep(seg); i >= 0 {
			seg = seg[:i]
		}
		rest = rest[1+len(seg):]
		if isHashSegment(seg) && (rest != "" || sep != '.') {
			return true
		}
	}
	return false
}

// indexSep is strings.IndexAny(s, ".-_") without building a set per call.
func indexSep(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '.' || c == '-' || c == '_' {
			return i
		}
	}
	return -1
}

func isHashSegment(s string) bool {
	if s == "" {
		return false
	}
	digits := 0
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
		if isDigit(s[i]) {
			digits++
		}
	}
	return digits == len(s) || len(s) >= 5 && digits > 0
}

// modulePath is a path without its extension, the module name of a
// JavaScript frame (src/components/Cart.tsx → src/components/Cart).
func modulePath(normalized string) string {
	base := strings.LastIndexByte(normalized, '/') + 1
	if i := strings.LastIndexByte(normalized[base:], '.'); i > 0 {
		return normalized[:base+i]
	}
	return normalized
}

// normalizeFunction trims what differs between engines and call styles:
// "async ", "new ", "Object." and "Module." prefixes, and names that only
// say the function is anonymous.
func normalizeFunction(f string) string {
	f = strings.TrimPrefix(f, "async ")
	f = strings.TrimPrefix(f, "new ")
	for _, p := range []string{"Object.", "Module.", "Function."} {
		f = strings.TrimPrefix(f, p)
	}
	switch f {
	case "<anonymous>", "?", "anonymous", "<unknown>":
		return ""
	}
	return f
}
