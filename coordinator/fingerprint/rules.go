package fingerprint

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits on a rules text, so that a project's rules stay cheap to apply to
// every event.
const (
	MaxRulesBytes = 64 << 10
	MaxRules      = 500
	maxValueLen   = 1024
	maxMatchers   = 16
	maxParts      = 16
)

// SyntaxError is a rules text that does not parse: where (1-based line and
// column, counted in characters) and what was expected there.
type SyntaxError struct {
	Line   int
	Column int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// Rules are a project's grouping rules in Sentry's syntax, one per line:
//
//	# fingerprint rules: matchers -> fingerprint [title="…"]
//	error.type:"TypeError" error.value:"*reading 'map'*" tags.url:"*/products*" -> products-map-undefined
//	error.type:ChunkLoadError -> chunk-load, {{ tags.release }}
//	# stack rules: matchers then +app / -app
//	stack.abs_path:"**/node_modules/**" -app
//	stack.module:"vendor/*" -app
//
// A matcher is key:value (a bare word or a "quoted string" with \" and \\
// escapes), optionally negated with a leading '!'. Values are globs: '*'
// matches any run of characters (including '/'; "**" is the same), '?' one.
// Paths, modules, messages and tags match case-insensitively; types and
// function names exactly. The first fingerprint rule whose matchers all
// hold decides the fingerprint; stack rules apply in order to every frame,
// later ones overriding earlier ones. Matchers on frames (stack.*, app)
// hold in a fingerprint rule when one frame satisfies all of them.
//
// A nil *Rules is valid and has no rules.
type Rules struct {
	fingerprint []fingerprintRule
	stack       []stackRule
}

type matcher struct {
	negate  bool
	key     string // canonical key, see keys
	tag     string // for key "tags"
	pattern string // as written (unescaped)
	fold    bool
	kind    int    // see compileGlob
	lit     string // the literal part for the fast paths
}

type part struct {
	literal  string
	variable string // canonical variable name, "" for a literal
	tag      string // for variable "tags"
}

type fingerprintRule struct {
	matchers []matcher
	parts    []part
	title    []part // nil when there is no title attribute
	text     string // canonical form, reported with the result
}

type stackRule struct {
	matchers []matcher
	inApp    bool
}

// keyInfo describes a matcher key: its canonical name, whether it is
// matched per frame, and whether it matches case-insensitively.
type keyInfo struct {
	name  string
	frame bool
	fold  bool
}

var keys = map[string]keyInfo{
	"error.type":     {"error.type", false, false},
	"type":           {"error.type", false, false},
	"error.value":    {"error.value", false, true},
	"value":          {"error.value", false, true},
	"message":        {"message", false, true},
	"release":        {"release", false, false},
	"level":          {"level", false, true},
	"environment":    {"environment", false, true},
	"family":         {"family", false, true},
	"stack.abs_path": {"stack.abs_path", true, true},
	"path":           {"stack.abs_path", true, true},
	"stack.module":   {"stack.module", true, true},
	"module":         {"stack.module", true, true},
	"stack.function": {"stack.function", true, false},
	"function":       {"stack.function", true, false},
	"app":            {"app", true, true},
}

const knownKeys = "error.type, error.value, message, release, level, environment, family, tags.<name>, stack.abs_path, stack.module, stack.function or app"

var variables = map[string]string{
	"default":        "default",
	"error.type":     "error.type",
	"type":           "error.type",
	"error.value":    "error.value",
	"value":          "error.value",
	"message":        "message",
	"release":        "release",
	"level":          "level",
	"environment":    "environment",
	"stack.function": "stack.function",
	"function":       "stack.function",
	"stack.module":   "stack.module",
	"module":         "stack.module",
	"stack.abs_path": "stack.abs_path",
	"path":           "stack.abs_path",
}

const knownVariables = "default, tags.<name>, error.type, error.value, message, release, level, environment, stack.function, stack.module or stack.abs_path"

// Len reports how many fingerprint and stack rules r holds.
func (r *Rules) Len() (fingerprint, stack int) {
	if r == nil {
		return 0, 0
	}
	return len(r.fingerprint), len(r.stack)
}

// Parse parses a rules text. Blank lines and lines starting with '#' are
// ignored. The error is a *SyntaxError for text that does not parse.
func Parse(text string) (*Rules, error) {
	if len(text) > MaxRulesBytes {
		return nil, &SyntaxError{Line: 1, Column: 1, Msg: fmt.Sprintf("rules text is %d bytes, more than the limit of %d", len(text), MaxRulesBytes)}
	}
	if !utf8.ValidString(text) {
		line := 1 + strings.Count(text[:firstInvalidUTF8(text)], "\n")
		return nil, &SyntaxError{Line: line, Column: 1, Msg: "rules text is not valid UTF-8"}
	}
	r := &Rules{}
	for n, line := range strings.Split(text, "\n") {
		p := &lineParser{s: strings.TrimSuffix(line, "\r"), line: n + 1}
		if err := p.parse(r); err != nil {
			return nil, err
		}
		if len(r.fingerprint)+len(r.stack) > MaxRules {
			return nil, &SyntaxError{Line: n + 1, Column: 1, Msg: fmt.Sprintf("more than %d rules", MaxRules)}
		}
	}
	return r, nil
}

func firstInvalidUTF8(s string) int {
	for i, c := range s {
		if c == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				return i
			}
		}
	}
	return len(s)
}

type lineParser struct {
	s    string
	i    int
	line int
}

func (p *lineParser) errAt(i int, format string, args ...any) error {
	return &SyntaxError{Line: p.line, Column: utf8.RuneCountInString(p.s[:i]) + 1, Msg: fmt.Sprintf(format, args...)}
}

func (p *lineParser) eol() bool { return p.i >= len(p.s) }

func (p *lineParser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// atComment reports whether the rest of the line is a comment.
func (p *lineParser) atComment() bool { return p.i < len(p.s) && p.s[p.i] == '#' }

// found describes what is at i for error messages.
func (p *lineParser) found(i int) string {
	if i >= len(p.s) {
		return "end of line"
	}
	r, _ := utf8.DecodeRuneInString(p.s[i:])
	return fmt.Sprintf("%q", r)
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isIdent(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '.' || c == '-'
}

func (p *lineParser) parse(r *Rules) error {
	p.skipSpace()
	if p.eol() || p.atComment() {
		return nil
	}
	var ms []matcher
	for {
		p.skipSpace()
		switch {
		case p.eol() || p.atComment():
			if len(ms) == 0 {
				return p.errAt(p.i, "expected a matcher such as error.type:\"TypeError\"")
			}
			return p.errAt(p.i, "expected '->' and a fingerprint, or an action (+app or -app), found %s", p.found(p.i))
		case strings.HasPrefix(p.s[p.i:], "->"):
			if len(ms) == 0 {
				return p.errAt(p.i, "expected at least one matcher before '->'")
			}
			p.i += 2
			return p.parseFingerprint(r, ms)
		case p.s[p.i] == '+' || p.s[p.i] == '-':
			if len(ms) == 0 {
				return p.errAt(p.i, "expected at least one matcher before the action")
			}
			return p.parseActions(r, ms)
		case (p.s[p.i] == '^' || p.s[p.i] == 'v') && p.i+1 < len(p.s) && (p.s[p.i+1] == '+' || p.s[p.i+1] == '-'):
			return p.errAt(p.i, "range actions (^ and v) are not supported; expected +app or -app")
		}
		if len(ms) == maxMatchers {
			return p.errAt(p.i, "more than %d matchers in one rule", maxMatchers)
		}
		m, err := p.parseMatcher()
		if err != nil {
			return err
		}
		ms = append(ms, m)
	}
}

func (p *lineParser) parseMatcher() (matcher, error) {
	var m matcher
	if p.s[p.i] == '!' {
		m.negate = true
		p.i++
	}
	start := p.i
	if p.eol() || !isIdentStart(p.s[p.i]) {
		return m, p.errAt(p.i, "expected a matcher key (%s), found %s", knownKeys, p.found(p.i))
	}
	for p.i < len(p.s) && isIdent(p.s[p.i]) {
		p.i++
	}
	key := p.s[start:p.i]
	if tag, ok := strings.CutPrefix(key, "tags."); ok {
		if tag == "" {
			return m, p.errAt(start, "expected a tag name after \"tags.\"")
		}
		m.key, m.tag, m.fold = "tags", tag, true
	} else if info, ok := keys[key]; ok {
		m.key, m.fold = info.name, info.fold
	} else {
		return m, p.errAt(start, "unknown matcher key %q; expected %s", key, knownKeys)
	}
	if p.eol() || p.s[p.i] != ':' {
		return m, p.errAt(p.i, "expected ':' after %q, found %s", key, p.found(p.i))
	}
	p.i++
	vstart := p.i
	v, err := p.parseValue(false)
	if err != nil {
		return m, err
	}
	if v == "" && vstart == p.i {
		return m, p.errAt(p.i, "expected a value after %q, found %s", key+":", p.found(p.i))
	}
	switch m.key {
	case "app":
		switch strings.ToLower(v) {
		case "yes", "true", "1":
			v = "yes"
		case "no", "false", "0":
			v = "no"
		default:
			return m, p.errAt(vstart, "app matcher takes yes or no, found %q", v)
		}
	case "family":
		switch strings.ToLower(v) {
		case "javascript", "native", "other", "all":
			v = strings.ToLower(v)
		default:
			return m, p.errAt(vstart, "family matcher takes javascript, native, other or all, found %q", v)
		}
	}
	m.pattern = v
	m.kind, m.lit = compileGlob(v)
	return m, nil
}

// parseValue reads a quoted string or a bare word. In a fingerprint bare
// words also end at ','.
func (p *lineParser) parseValue(inFingerprint bool) (string, error) {
	if !p.eol() && p.s[p.i] == '"' {
		open := p.i
		p.i++
		var b strings.Builder
		for {
			if p.eol() {
				return "", p.errAt(open, "unterminated quoted string: expected a closing '\"' before the end of line")
			}
			c := p.s[p.i]
			switch {
			case c == '"':
				p.i++
				if b.Len() > maxValueLen {
					return "", p.errAt(open, "value is longer than %d bytes", maxValueLen)
				}
				if !p.eol() && p.s[p.i] != ' ' && p.s[p.i] != '\t' && !(inFingerprint && p.s[p.i] == ',') {
					return "", p.errAt(p.i, "expected a space after the closing quote, found %s", p.found(p.i))
				}
				return b.String(), nil
			case c == '\\' && p.i+1 < len(p.s) && (p.s[p.i+1] == '"' || p.s[p.i+1] == '\\'):
				b.WriteByte(p.s[p.i+1])
				p.i += 2
			default:
				b.WriteByte(c)
				p.i++
			}
		}
	}
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == ' ' || c == '\t' || inFingerprint && c == ',' {
			break
		}
		p.i++
	}
	if p.i-start > maxValueLen {
		return "", p.errAt(start, "value is longer than %d bytes", maxValueLen)
	}
	return p.s[start:p.i], nil
}

func (p *lineParser) parseFingerprint(r *Rules, ms []matcher) error {
	rule := fingerprintRule{matchers: ms}
	for {
		p.skipSpace()
		if p.eol() || p.atComment() {
			if len(rule.parts) == 0 {
				return p.errAt(p.i, "expected a fingerprint after '->' (a name, a \"quoted string\" or {{ default }})")
			}
			return p.errAt(p.i, "expected a fingerprint component after ','")
		}
		if p.s[p.i] == ',' {
			return p.errAt(p.i, "expected a fingerprint component, found ','")
		}
		if len(rule.parts) == maxParts {
			return p.errAt(p.i, "more than %d fingerprint components", maxParts)
		}
		pt, err := p.parsePart()
		if err != nil {
			return err
		}
		rule.parts = append(rule.parts, pt)
		p.skipSpace()
		if !p.eol() && p.s[p.i] == ',' {
			p.i++
			continue
		}
		break
	}
	for {
		p.skipSpace()
		if p.eol() || p.atComment() {
			break
		}
		start := p.i
		for p.i < len(p.s) && isIdent(p.s[p.i]) {
			p.i++
		}
		name := p.s[start:p.i]
		if p.eol() || p.s[p.i] != '=' || name == "" {
			return p.errAt(start, "expected ',' and another fingerprint component, an attribute title=\"…\", or the end of line, found %s", p.found(start))
		}
		if name != "title" {
			return p.errAt(start, "unknown attribute %q; expected title", name)
		}
		if rule.title != nil {
			return p.errAt(start, "title is set twice")
		}
		p.i++
		vstart := p.i
		v, err := p.parseValue(false)
		if err != nil {
			return err
		}
		t, err := parseTemplate(v)
		if err != nil {
			return p.errAt(vstart, "title: %v", err)
		}
		if t == nil {
			t = []part{}
		}
		rule.title = t
	}
	rule.text = formatFingerprintRule(&rule)
	r.fingerprint = append(r.fingerprint, rule)
	return nil
}

func (p *lineParser) parsePart() (part, error) {
	if strings.HasPrefix(p.s[p.i:], "{{") {
		start := p.i
		end := strings.Index(p.s[p.i:], "}}")
		if end < 0 {
			return part{}, p.errAt(start, "unterminated variable: expected '}}' after '{{'")
		}
		name := strings.TrimSpace(p.s[p.i+2 : p.i+end])
		pt, err := variable(name)
		if err != nil {
			return part{}, p.errAt(start+2, "%v", err)
		}
		p.i += end + 2
		if !p.eol() && p.s[p.i] != ' ' && p.s[p.i] != '\t' && p.s[p.i] != ',' {
			return part{}, p.errAt(p.i, "expected ',' or a space after '}}', found %s", p.found(p.i))
		}
		return pt, nil
	}
	start := p.i
	quoted := p.s[p.i] == '"'
	v, err := p.parseValue(true)
	if err != nil {
		return part{}, err
	}
	if !quoted && strings.Contains(v, "=") {
		return part{}, p.errAt(start, "expected a fingerprint component, found attribute %q; attributes follow the components, separated by a space", v)
	}
	if !quoted && strings.Contains(v, "{{") {
		return part{}, p.errAt(start+strings.Index(v, "{{"), "expected ',' or a space before '{{'")
	}
	return part{literal: v}, nil
}

func variable(name string) (part, error) {
	if tag, ok := strings.CutPrefix(name, "tags."); ok && tag != "" {
		return part{variable: "tags", tag: tag}, nil
	}
	if v, ok := variables[name]; ok {
		return part{variable: v}, nil
	}
	return part{}, fmt.Errorf("unknown variable %q; expected %s", name, knownVariables)
}

// parseTemplate splits a title into literals and {{ variables }}.
func parseTemplate(s string) ([]part, error) {
	var out []part
	for s != "" {
		i := strings.Index(s, "{{")
		if i < 0 {
			out = append(out, part{literal: s})
			break
		}
		if i > 0 {
			out = append(out, part{literal: s[:i]})
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			return nil, fmt.Errorf("unterminated variable: expected '}}' after '{{'")
		}
		pt, err := variable(strings.TrimSpace(s[i+2 : i+j]))
		if err != nil {
			return nil, err
		}
		if pt.variable == "default" {
			return nil, fmt.Errorf("{{ default }} is a fingerprint, not text for a title")
		}
		out = append(out, pt)
		s = s[i+j+2:]
	}
	return out, nil
}

func (p *lineParser) parseActions(r *Rules, ms []matcher) error {
	rule := stackRule{matchers: ms}
	seen := false
	for {
		p.skipSpace()
		if p.eol() || p.atComment() {
			break
		}
		start := p.i
		c := p.s[p.i]
		if c != '+' && c != '-' {
			return p.errAt(p.i, "expected an action (+app or -app), found %s; matchers go before actions", p.found(p.i))
		}
		p.i++
		for p.i < len(p.s) && isIdent(p.s[p.i]) {
			p.i++
		}
		name := p.s[start+1 : p.i]
		if name != "app" {
			return p.errAt(start, "unknown action %q; expected +app or -app", p.s[start:p.i])
		}
		if seen {
			return p.errAt(start, "the app flag is set twice in one rule")
		}
		seen = true
		rule.inApp = c == '+'
	}
	r.stack = append(r.stack, rule)
	return nil
}

// String formats r canonically: parsing the result gives equal rules.
func (r *Rules) String() string {
	if r == nil {
		return ""
	}
	var b strings.Builder
	for i := range r.fingerprint {
		b.WriteString(r.fingerprint[i].text)
		b.WriteByte('\n')
	}
	for _, s := range r.stack {
		writeMatchers(&b, s.matchers)
		if s.inApp {
			b.WriteString(" +app\n")
		} else {
			b.WriteString(" -app\n")
		}
	}
	return b.String()
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

func writeMatchers(b *strings.Builder, ms []matcher) {
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(' ')
		}
		if m.negate {
			b.WriteByte('!')
		}
		if m.key == "tags" {
			b.WriteString("tags." + m.tag)
		} else {
			b.WriteString(m.key)
		}
		b.WriteByte(':')
		b.WriteString(quote(m.pattern))
	}
}

func formatVariable(pt part) string {
	if pt.variable == "tags" {
		return "{{ tags." + pt.tag + " }}"
	}
	return "{{ " + pt.variable + " }}"
}

func formatFingerprintRule(r *fingerprintRule) string {
	var b strings.Builder
	writeMatchers(&b, r.matchers)
	b.WriteString(" ->")
	for i, pt := range r.parts {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte(' ')
		if pt.variable != "" {
			b.WriteString(formatVariable(pt))
		} else {
			b.WriteString(quote(pt.literal))
		}
	}
	if r.title != nil {
		var t strings.Builder
		for _, pt := range r.title {
			if pt.variable != "" {
				t.WriteString(formatVariable(pt))
			} else {
				t.WriteString(pt.literal)
			}
		}
		b.WriteString(" title=")
		b.WriteString(quote(t.String()))
	}
	return b.String()
}
