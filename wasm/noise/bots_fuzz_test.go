package noise

import (
	"encoding/json"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"
)

// FuzzCompileBotList feeds bot list documents (as NATS KV would) and
// User-Agents to the compiler and the matcher: neither may panic, and a
// pattern compiled into literals must match exactly where Go's regexp
// finds a match that starts a word (outside the spans Match skips).
func FuzzCompileBotList(f *testing.F) {
	for _, s := range []struct{ doc, ua string }{
		{`["Googlebot\\/"]`, "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"},
		{`[{"pattern":"[wW]get","instances":["Wget/1.21"]}]`, "Wget/1.21.4"},
		{`[{"pattern":"(^| )sentry\\/"}]`, "sentry/1.0"},
		{`[{"pattern":"AdsBot-Google([^-]|$)"}]`, "AdsBot-Google-Mobile"},
		{`["SSL Labs$", "^Seekbot", "ia_archiver"]`, "x SSL Labs"},
		{`[{"pattern":"(?i)headless"}]`, "HeadlessChrome"},
		{`[{"pattern":"(ab|cd)?e[fF]"}]`, "cdef abeF ef"},
		{`[]`, ""},
		{`[{"url":"x"}]`, "x"},
	} {
		f.Add(s.doc, s.ua)
	}
	f.Fuzz(func(t *testing.T, doc, ua string) {
		l, err := CompileBotList([]byte(doc))
		if err != nil {
			return
		}
		l.Match([]byte(ua))
		l.Bot([]byte(ua), []string{"x"}, []string{"y"})
		// Human markers and Android models are skipped on purpose: the
		// reference below knows neither.
		low := strings.ToLower(ua)
		if strings.Contains(low, " build/") {
			return
		}
		for _, h := range humanMarkers {
			if strings.Contains(low, h) {
				return
			}
		}
		patterns, _ := ParseBotList([]byte(doc))
		for _, p := range patterns {
			if strings.ContainsAny(p, "^$") || strings.Contains(p, `\A`) || strings.Contains(p, `\z`) || strings.Contains(p, `\b`) || strings.Contains(p, `\B`) {
				continue // anchors: the reference below slices the text
			}
			re, err := syntax.Parse(p, syntax.Perl)
			if err != nil {
				continue
			}
			if _, ok := expand(re.Simplify()); !ok {
				continue // kept as a regexp
			}
			one, err := compile([]string{p}, false)
			if err != nil {
				continue
			}
			ref := regexp.MustCompile(`^(?:` + p + `)`)
			want := false
			for s := 0; s <= len(ua) && !want; s++ {
				if s > 0 && s < len(ua) && alnum(ua[s-1]) && alnum(ua[s]) {
					continue
				}
				want = ref.MatchString(ua[s:])
			}
			if got := one.Match([]byte(ua)); got != want {
				d, _ := json.Marshal(p)
				t.Fatalf("pattern %s on %q: Match = %v, regexp says %v", d, ua, got, want)
			}
		}
	})
}
