package noise

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"

	"github.com/rearview-dev/rearview/wasm/jsontext"
	"github.com/rearview-dev/rearview/wasm/noise/botlist"
)

// A BotList is a list of bot User-Agent patterns compiled for Match. The
// patterns are regular expressions in the syntax of Go's regexp (RE2), as
// crawler-user-agents writes them, matched case-sensitively, and only where
// a word starts: a pattern whose first character is a letter or digit must
// not begin in the middle of a run of letters and digits ("008/" does not
// match Opera Mini's "39008/", "bot" not the phone brand "CUBOT"). A
// pattern may end inside one: the lists name crawlers by a prefix of their
// product token ("Ahrefs" for "AhrefsBot").
//
// Compiling a thousand-pattern regexp and running it on every batch is
// slow, more so compiled to wasm. Instead each pattern is expanded, where
// its syntax allows, into the finite set of literal strings it matches
// (escapes, small classes like [wW], alternations, anchors): almost every
// pattern of the built-in list is one or a few literals. Match looks the
// literals up by the first three bytes at every position where a word or
// a punctuation character starts, a handful of table probes per
// User-Agent. The few patterns that are no finite set (`AdsBot-Google([^-]|$)`,
// `BlogTraffic\/\d\.\d+`) keep a regexp, run only when the lookup saw the
// literal they start with (or, without one, on a User-Agent holding their
// longest required literal).
//
// A BotList is immutable and safe for concurrent use.
type BotList struct {
	own      bool // with Rearview's own rules
	patterns int
	lits     []botLit
	heads    [botSlots]int32 // first literal of a slot, by its first three bytes (lower-case), +1
	next     []int32         // next literal of the same slot, +1
	short    []int32         // literals shorter than three bytes: tried at every position
	res      []botRegexp
}

const botSlots = 4096

func botSlot(a, b, c byte) int { return (int(a)*31*31 + int(b)*31 + int(c)) & (botSlots - 1) }

type botLit struct {
	s, low     string // as written, and lower-case
	fold       bool   // case-insensitive
	begin, end bool   // anchored at the start or end of the User-Agent
	// What a match means: a bot, a human marker to skip, or that regexp
	// res[kind-1] may match.
	kind int
}

const (
	kindBot   = 0
	kindHuman = -1
)

type botRegexp struct {
	// need is lower-case: a User-Agent without it cannot match. When
	// prefix is set it is the literal every match starts with, found by
	// the lookup where words start, else it is searched for anywhere.
	need   string
	prefix bool
	re     *regexp.Regexp
}

// humanMarkers are spans of real browsers' User-Agents that contain a
// list pattern's literal: an in-app browser, a search app named like its
// vendor's crawler. Match skips them, as it skips an Android phone's model
// ("; HTC Butterfly Build/", "; B BOT 550 Build/"). Lower-case.
var humanMarkers = []string{
	"blackboard/",        // the Blackboard Learn app's product token; the crawler is "Blackboard Safeassign"
	"sogoumobilebrowser", // Sogou's browser and search app; the crawler is "Sogou web spider"
	"sogoumse",
	"yandexsearch", "yasearchbrowser", "yaapp_", // Yandex's search app; its crawlers are YandexBot and kin
}

// The rules below are Rearview's own, beside the list: names of headless
// browsers, automation and HTTP libraries the list lacks (case-insensitive,
// where a word starts), and two conventions only robots follow: a word
// ending in "bot", and a word holding "crawl" or "spider" (see ownWord).
// Lower-case.
var (
	ownLiterals = []string{
		"headlesschrome", "phantomjs", "puppeteer", "playwright", "selenium", "webdriver",
		"chrome-lighthouse", "lighthouse", "pagespeed", "gtmetrix", "pingdom", "uptimerobot",
		"statuscake", "site24x7", "datadogsynthetics", "newrelicpinger", "checkly", "better uptime",
		"uptime-kuma", "freshping", "monitis", "catchpoint", "dareboost", "webpagetest",
		"curl/", "wget/", "python-requests", "python-urllib", "python-httpx", "go-http-client",
		"java/", "okhttp", "axios/", "node-fetch", "undici", "libwww-perl", "scrapy", "aiohttp",
		"slurp", "mediapartners", "facebookexternalhit", "ia_archiver",
	}
	// botWordExceptions are words ending in "bot" that name no robot.
	botWordExceptions = []string{"cubot"} // a phone brand
)

// Builtin returns the built-in list, compiled once.
var Builtin = sync.OnceValue(func() *BotList {
	l, err := CompileBotList(botlist.JSON)
	if err != nil {
		panic("noise: the built-in bot list does not compile: " + err.Error())
	}
	return l
})

// ErrEmptyBotList is returned for a list without a pattern.
var ErrEmptyBotList = errors.New("bot list: no pattern")

// ParseBotList reads the patterns of a bot list document: a JSON array
// whose elements are pattern strings or objects with a "pattern" member
// (the format of crawler-user-agents.json; other members are ignored).
func ParseBotList(doc []byte) (patterns []string, err error) {
	defer jsontext.Catch(&err)
	var r jsontext.Reader
	r.Reset(doc, nil)
	str := func() string {
		s, e, esc := r.String()
		if esc {
			return string(jsontext.Unescape(nil, r.In[s:e]))
		}
		return string(r.In[s:e])
	}
	r.Open('[')
	// One pattern an element, and crawler-user-agents' elements are
	// ~360 bytes: enough room without growing the slice.
	patterns = make([]string, 0, len(doc)/256+1)
	n := 0
	for r.NextElem(&n) {
		switch r.Peek() {
		case '"':
			patterns = append(patterns, str())
		case '{':
			r.Open('{')
			found := false
			m := 0
			for r.NextKey(&m) {
				if string(r.Key()) == "pattern" && r.Peek() == '"' {
					patterns = append(patterns, str())
					found = true
					continue
				}
				r.Skip()
			}
			if !found {
				r.Fail(fmt.Sprintf("element %d has no pattern", n-1))
			}
		default:
			r.Fail(fmt.Sprintf("element %d is neither a string nor an object", n-1))
		}
	}
	r.End()
	if len(patterns) == 0 {
		return nil, ErrEmptyBotList
	}
	return patterns, nil
}

// CompileBotList parses and compiles a bot list document (see
// ParseBotList). It refuses a pattern that does not compile or that would
// match every User-Agent.
func CompileBotList(doc []byte) (*BotList, error) {
	patterns, err := ParseBotList(doc)
	if err != nil {
		return nil, fmt.Errorf("bot list: %w", err)
	}
	return CompilePatterns(patterns)
}

// maxLiterals bounds the literals one pattern expands into before it is
// kept as a regexp instead.
const maxLiterals = 64

// CompilePatterns compiles patterns, with Rearview's own rules, into a
// BotList.
func CompilePatterns(patterns []string) (*BotList, error) { return compile(patterns, true) }

func compile(patterns []string, own bool) (*BotList, error) {
	l := &BotList{patterns: len(patterns), own: own, lits: make([]botLit, 0, len(patterns)+len(ownLiterals)+len(humanMarkers))}
	seen := make(map[botLit]bool, cap(l.lits))
	add := func(b botLit) {
		if !seen[b] {
			seen[b] = true
			l.lits = append(l.lits, b)
		}
	}
	for i, p := range patterns {
		if lit, ok := plainLiteral(p); ok {
			if lit == "" {
				return nil, fmt.Errorf("bot list: pattern %d %q matches every User-Agent", i, p)
			}
			add(botLit{s: lit, low: strings.ToLower(lit)})
			continue
		}
		re, err := syntax.Parse(p, syntax.Perl)
		if err != nil {
			return nil, fmt.Errorf("bot list: pattern %d %q: %w", i, p, err)
		}
		re = re.Simplify()
		if lits, ok := expand(re); ok {
			for _, b := range lits {
				if b.s == "" {
					return nil, fmt.Errorf("bot list: pattern %d %q matches every User-Agent", i, p)
				}
				b.low = strings.ToLower(b.s)
				add(b)
			}
			continue
		}
		need, prefix := prefixLiteral(re), true
		if len(need) < 3 {
			need, prefix = required(re), false
		}
		if len(need) < 3 {
			return nil, fmt.Errorf("bot list: pattern %d %q: no literal of three bytes or more that every match holds", i, p)
		}
		c, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("bot list: pattern %d %q: %w", i, p, err)
		}
		need = strings.ToLower(need)
		if prefix {
			add(botLit{s: need, low: need, fold: true, kind: len(l.res) + 1})
		}
		l.res = append(l.res, botRegexp{need: need, prefix: prefix, re: c})
	}
	if own {
		for _, s := range ownLiterals {
			add(botLit{s: s, low: s, fold: true})
		}
	}
	// Human markers last, so that they head their slots' chains: a
	// marker is skipped before a pattern it contains can match.
	for _, s := range humanMarkers {
		add(botLit{s: s, low: s, fold: true, kind: kindHuman})
	}
	l.next = make([]int32, len(l.lits))
	for i, b := range l.lits {
		if len(b.low) < 3 {
			l.short = append(l.short, int32(i))
			continue
		}
		k := botSlot(b.low[0], b.low[1], b.low[2])
		l.next[i] = l.heads[k]
		l.heads[k] = int32(i + 1)
	}
	return l, nil
}

// Patterns is the number of patterns l was compiled from.
func (l *BotList) Patterns() int { return l.patterns }

// plainLiteral returns the string a pattern without operators matches:
// most of a list, and parsing each would cost the module's start.
func plainLiteral(p string) (string, bool) {
	var b []byte
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			if i+1 == len(p) {
				return "", false
			}
			d := p[i+1]
			if !strings.ContainsRune(`/.-+*?()[]{}|^$\ !:;,@#&=~'"<>%_`, rune(d)) {
				return "", false // \d, \s, \b, …
			}
			b = append(b, d)
			i++
		case strings.IndexByte(`.+*?()[]{}|^$`, c) >= 0, c >= 0x80:
			return "", false
		default:
			b = append(b, c)
		}
	}
	return string(b), true
}

// expand returns the finite set of strings re matches, with the anchors
// they need, or false when there is none small enough.
func expand(re *syntax.Regexp) ([]botLit, bool) {
	switch re.Op {
	case syntax.OpEmptyMatch:
		return []botLit{{}}, true
	case syntax.OpLiteral:
		letters := 0
		for _, r := range re.Rune {
			if r >= 0x80 {
				return nil, false
			}
			if alnum(byte(r)) && !(r >= '0' && r <= '9') {
				letters++
			}
		}
		if re.Flags&syntax.FoldCase == 0 || letters == 0 {
			return []botLit{{s: string(re.Rune)}}, true
		}
		if letters > 3 {
			return []botLit{{s: string(re.Rune), fold: true}}, true
		}
		// A class like [wW], which the parser turns into a case-folded
		// literal: its spellings, so that it joins the literals around it.
		out := []botLit{{}}
		for _, r := range re.Rune {
			c := byte(r)
			var next []botLit
			for _, a := range out {
				next = append(next, botLit{s: a.s + string(c)})
				if u := c &^ 0x20; alnum(c) && c > '9' && u != c {
					next = append(next, botLit{s: a.s + string(u)})
				} else if l := c | 0x20; alnum(c) && c > '9' && l != c {
					next = append(next, botLit{s: a.s + string(l)})
				}
			}
			out = next
		}
		return out, true
	case syntax.OpCharClass:
		var out []botLit
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				if r >= 0x80 || len(out) == maxLiterals {
					return nil, false
				}
				out = append(out, botLit{s: string(r)})
			}
		}
		return out, len(out) > 0
	case syntax.OpBeginText, syntax.OpBeginLine:
		return []botLit{{begin: true}}, true
	case syntax.OpEndText, syntax.OpEndLine:
		return []botLit{{end: true}}, true
	case syntax.OpCapture:
		return expand(re.Sub[0])
	case syntax.OpQuest:
		sub, ok := expand(re.Sub[0])
		if !ok || len(sub)+1 > maxLiterals {
			return nil, false
		}
		return append(sub, botLit{}), true
	case syntax.OpAlternate:
		var out []botLit
		for _, s := range re.Sub {
			sub, ok := expand(s)
			if !ok || len(out)+len(sub) > maxLiterals {
				return nil, false
			}
			out = append(out, sub...)
		}
		return out, true
	case syntax.OpConcat:
		out := []botLit{{}}
		for _, s := range re.Sub {
			sub, ok := expand(s)
			if !ok || len(out)*len(sub) > maxLiterals {
				return nil, false
			}
			var next []botLit
			for _, a := range out {
				for _, b := range sub {
					c, ok := concat(a, b)
					if ok {
						next = append(next, c)
					}
				}
			}
			out = next
		}
		return out, len(out) > 0
	}
	return nil, false
}

// concat joins two expansions; false when no string matches both in turn
// (text after an end anchor, an anchor at the start after text).
func concat(a, b botLit) (botLit, bool) {
	if a.end && b.s != "" || b.begin && a.s != "" {
		return botLit{}, false
	}
	if a.fold && hasLetter(b.s) || b.fold && hasLetter(a.s) {
		return botLit{}, false // mixed case rules: keep the regexp
	}
	return botLit{s: a.s + b.s, fold: a.fold || b.fold, begin: a.begin || b.begin, end: a.end || b.end}, true
}

// prefixLiteral returns the literal every match of re starts with.
func prefixLiteral(re *syntax.Regexp) string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase == 0 {
			return string(re.Rune)
		}
	case syntax.OpCapture, syntax.OpConcat:
		return prefixLiteral(re.Sub[0])
	}
	return ""
}

// required returns the longest literal every match of re contains.
func required(re *syntax.Regexp) string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase == 0 {
			return string(re.Rune)
		}
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min > 0 {
			return required(re.Sub[0])
		}
	case syntax.OpConcat:
		best := ""
		for _, s := range re.Sub {
			if r := required(s); len(r) > len(best) {
				best = r
			}
		}
		return best
	}
	return ""
}

func hasLetter(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i]|0x20)-'a' < 26 {
			return true
		}
	}
	return false
}

func alnum(c byte) bool { return c-'0' < 10 || (c|0x20)-'a' < 26 }

// Match reports whether ua matches a pattern of l or one of Rearview's own
// rules.
//
// It is one pass over the User-Agent that looks literals up where a word
// or a punctuation character starts (compiled to wasm, every further scan
// of the string costs more than the lookups): bots' literals, the human
// markers it skips, and the prefixes of the regexps it then runs.
func (l *BotList) Match(ua []byte) bool {
	var stack [1024]byte
	low := stack[:0]
	if len(ua) > len(stack) {
		low = make([]byte, 0, len(ua))
	}
	for _, c := range ua {
		low = append(low, lower(c))
	}
	n := len(low)
	// An Android phone's model, between the last "; " and " Build/", is
	// skipped: phone makers name models after anything, crawlers
	// included, and no crawler announces itself there.
	ms, me := -1, -1
	if b := bytes.Index(low, []byte(" build/")); b > 0 {
		if s := bytes.LastIndexByte(low[:b], ';'); s >= 0 && bytes.Contains(low[:s], []byte("android")) {
			ms, me = s+1, b
		}
	}
	var maybe uint64 // regexps whose prefix was found, by index (the first 64)
	for i := 0; i < n; i++ {
		if i == ms {
			i = me
		}
		c := low[i]
		word := alnum(c)
		if word && i > 0 && alnum(low[i-1]) {
			continue // inside a word: no pattern starts here
		}
		if word && l.own && l.ownWord(low[i:]) {
			return true
		}
		if i+3 <= n {
		chain:
			for j := l.heads[botSlot(c, low[i+1], low[i+2])]; j != 0; j = l.next[j-1] {
				b := &l.lits[j-1]
				if !b.at(ua, low, i) {
					continue
				}
				switch b.kind {
				case kindBot:
					return true
				case kindHuman:
					i += len(b.low) - 1
					break chain
				default:
					maybe |= 1 << ((b.kind - 1) & 63)
				}
			}
		}
		for _, j := range l.short {
			if b := &l.lits[j]; b.kind == kindBot && b.at(ua, low, i) {
				return true
			}
		}
	}
	for k := range l.res {
		r := &l.res[k]
		if r.prefix && k < 64 && maybe&(1<<k) == 0 || !bytes.Contains(low, []byte(r.need)) {
			continue
		}
		for _, m := range r.re.FindAllIndex(ua, -1) {
			if s := m[0]; s == 0 || !alnum(ua[s-1]) || !alnum(ua[s]) {
				return true
			}
		}
	}
	return false
}

// at reports whether b occurs at i.
func (b *botLit) at(orig, low []byte, i int) bool {
	if b.begin && i != 0 || b.end && i+len(b.s) != len(low) || i+len(b.s) > len(low) {
		return false
	}
	if b.fold {
		return string(low[i:i+len(b.low)]) == b.low
	}
	return string(orig[i:i+len(b.s)]) == b.s
}

// ownWord applies Rearview's own rules to the word w starts with: it is
// or ends in "bot" or "bots" ("Googlebot", "FeedCatBot", "Analytics Bot";
// phone models named so are skipped before, see Match), or it holds
// "crawl" or "spider" ("Crawlera", "METASpider").
func (l *BotList) ownWord(w []byte) bool {
	e := 0
	for e < len(w) && alnum(w[e]) {
		e++
	}
	w = w[:e]
	for k := 0; k+5 <= len(w); k++ {
		if w[k] == 'c' && string(w[k:k+5]) == "crawl" || w[k] == 's' && k+6 <= len(w) && string(w[k:k+6]) == "spider" {
			return true
		}
	}
	if bytes.HasSuffix(w, []byte("bots")) {
		w = w[:len(w)-1]
	}
	if len(w) < 3 || !bytes.HasSuffix(w, []byte("bot")) {
		return false
	}
	for _, x := range botWordExceptions {
		if string(w) == x {
			return false
		}
	}
	return true
}

// Bot reports whether a User-Agent is a bot, crawler, headless browser or
// monitor by l. allow (lower-case substrings) wins over every pattern;
// extra (lower-case) adds literals matched case-insensitively where a word
// starts. An empty User-Agent is a bot: browsers always send one.
func (l *BotList) Bot(ua []byte, allow, extra []string) bool {
	if Allowed(ua, allow) {
		return false
	}
	if len(ua) == 0 {
		return true
	}
	for _, m := range extra {
		if m != "" && wordStartFold(ua, m) {
			return true
		}
	}
	return l.Match(ua)
}

// Allowed reports whether ua holds one of allow (lower-case substrings).
func Allowed(ua []byte, allow []string) bool {
	for _, a := range allow {
		if a != "" && containsFold(ua, a) {
			return true
		}
	}
	return false
}

// Bot is Builtin().Bot.
func Bot(ua []byte, allow, extra []string) bool { return Builtin().Bot(ua, allow, extra) }

// wordStartFold reports whether b contains s (lower-case) where a word
// starts (or anywhere, when s starts with punctuation).
func wordStartFold(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if i > 0 && alnum(b[i-1]) && alnum(b[i]) {
			continue
		}
		if lower(b[i]) == s[0] && hasPrefixFold(b[i:], s) {
			return true
		}
	}
	return false
}
