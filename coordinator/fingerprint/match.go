package fingerprint

import (
	"strings"

	"github.com/rearview-dev/rearview/coordinator/symbolicate"
)

// Glob shapes with a fast path: most patterns are a literal with '*' at
// one or both ends.
const (
	globGeneral = iota
	globExact
	globPrefix   // lit*
	globSuffix   // *lit
	globContains // *lit*
)

// compileGlob classifies a pattern; lit is its literal part.
func compileGlob(pattern string) (kind int, lit string) {
	if strings.ContainsRune(pattern, '?') {
		return globGeneral, ""
	}
	lead := len(pattern) - len(strings.TrimLeft(pattern, "*"))
	trimmed := strings.Trim(pattern, "*")
	trail := len(pattern) - lead - len(trimmed)
	if strings.ContainsRune(trimmed, '*') || trimmed == "" && pattern != "" {
		return globGeneral, ""
	}
	switch {
	case lead == 0 && trail == 0:
		return globExact, trimmed
	case lead == 0:
		return globPrefix, trimmed
	case trail == 0:
		return globSuffix, trimmed
	}
	return globContains, trimmed
}

// match matches s against the matcher's compiled pattern.
func (m *matcher) match(s string, fold bool) bool {
	switch m.kind {
	case globExact:
		return len(s) == len(m.lit) && hasPrefix(s, m.lit, fold)
	case globPrefix:
		return hasPrefix(s, m.lit, fold)
	case globSuffix:
		return len(s) >= len(m.lit) && hasPrefix(s[len(s)-len(m.lit):], m.lit, fold)
	case globContains:
		for i := 0; i+len(m.lit) <= len(s); i++ {
			if hasPrefix(s[i:], m.lit, fold) {
				return true
			}
		}
		return false
	}
	return globMatch(m.pattern, s, fold)
}

func hasPrefix(s, p string, fold bool) bool {
	if len(s) < len(p) {
		return false
	}
	if !fold {
		return s[:len(p)] == p
	}
	for i := 0; i < len(p); i++ {
		if s[i] != p[i] && lower(s[i]) != lower(p[i]) {
			return false
		}
	}
	return true
}

// globMatch reports whether s matches pattern, where '*' matches any run of
// bytes and '?' one byte. fold compares ASCII letters case-insensitively.
// It runs in O(len(pattern)·len(s)) at worst, without allocating.
func globMatch(pattern, s string, fold bool) bool {
	px, sx := 0, 0
	starP, starS := -1, 0
	for sx < len(s) {
		if px < len(pattern) {
			c := pattern[px]
			switch {
			case c == '*':
				for px < len(pattern) && pattern[px] == '*' {
					px++
				}
				if px == len(pattern) {
					return true
				}
				starP, starS = px, sx
				continue
			case c == '?' || c == s[sx] || fold && lower(c) == lower(s[sx]):
				px++
				sx++
				continue
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		px, sx = starP, starS
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// frameView is what grouping and matchers see of one frame.
type frameView struct {
	frame *symbolicate.Frame
	// file and fn are what the frame contributes to a hash: the
	// normalised original file and function, or for an unresolved frame
	// the normalised URL and a function name that does not look minified.
	file, fn string
	module   string
	function string // for matchers: the original or the reported name
	inApp    bool
	g        *grouper // for its URL memo
	// paths[:npaths] is pathList's answer once pathsDone: in the view
	// itself, not a slice allocated per frame.
	paths     [4]string
	npaths    int8
	pathsDone bool
}

func (v *frameView) empty() bool { return v.file == "" && v.fn == "" }

// pathList returns the paths a stack.abs_path matcher tries, computed on
// first use: original source and minified URL, each raw and normalised.
func (v *frameView) pathList() []string {
	if v.pathsDone {
		return v.paths[:v.npaths]
	}
	add := func(p, n string) {
		if p == "" {
			return
		}
		v.paths[v.npaths] = p
		v.npaths++
		if n != p && n != "" {
			v.paths[v.npaths] = n
			v.npaths++
		}
	}
	if o := v.frame.Original; o != nil {
		add(o.Source, v.file)
	}
	add(v.frame.URL, v.g.normURL(v.frame.URL))
	v.pathsDone = true
	return v.paths[:v.npaths]
}

func (m *matcher) matchString(v string) bool {
	return m.match(v, m.fold) != m.negate
}

// matchFrame evaluates a frame matcher against f.
func (m *matcher) matchFrame(f *frameView) bool {
	var ok bool
	switch m.key {
	case "stack.abs_path":
		for _, p := range f.pathList() {
			if m.match(p, true) {
				ok = true
				break
			}
		}
	case "stack.module":
		ok = m.match(f.module, true)
	case "stack.function":
		ok = m.match(f.function, false)
	case "app":
		ok = f.inApp == (m.pattern == "yes")
	}
	return ok != m.negate
}

// matchEvent evaluates an event matcher.
func (m *matcher) matchEvent(ev *Event) bool {
	switch m.key {
	case "error.type":
		return m.matchString(ev.Type)
	case "error.value", "message":
		return m.matchString(ev.Value)
	case "release":
		return m.matchString(ev.Release)
	case "level":
		return m.matchString(ev.Level)
	case "environment":
		return m.matchString(ev.Environment)
	case "family":
		return (m.pattern == "javascript" || m.pattern == "all") != m.negate
	case "tags":
		v, ok := ev.tag(m.tag)
		if !ok {
			return m.negate
		}
		return m.matchString(v)
	}
	return false
}

func isFrameKey(k string) bool {
	switch k {
	case "stack.abs_path", "stack.module", "stack.function", "app":
		return true
	}
	return false
}
