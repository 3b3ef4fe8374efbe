package noise

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/rearview-dev/rearview/wasm/policy"
)

func TestExtension(t *testing.T) {
	for url, want := range map[string]bool{
		"chrome-extension://abc/content.js":  true,
		"moz-extension://2f0a/x.js":          true,
		"safari-web-extension://x/y.js":      true,
		"safari-extension://x/y.js":          true,
		"webkit-masked-url://hidden/":        true,
		"https://shop.example.com/app.js":    false,
		"https://extension.example.com/a.js": false,
	} {
		if got := Extension([]byte(url)); got != want {
			t.Errorf("Extension(%q) = %v", url, got)
		}
	}
}

func TestMessage(t *testing.T) {
	list := []string{"ResizeObserver loop", "Script error.", "AbortError"}
	tests := []struct {
		typ, value string
		want       bool
	}{
		{"Error", "ResizeObserver loop limit exceeded", true},
		{"Error", "Script error.", true},
		{"AbortError", "The operation was aborted", true},
		{"TypeError", "x is undefined", false},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			if got := Message([]byte(tt.typ), []byte(tt.value), list); got != tt.want {
				t.Fatalf("got %v", got)
			}
		})
	}
}

func TestBot(t *testing.T) {
	tests := []struct {
		ua           string
		allow, extra []string
		want         bool
	}{
		{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", nil, nil, true},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0 Safari/537.36", nil, nil, true},
		{"Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", nil, nil, true},
		{"curl/8.5.0", nil, nil, true},
		{"", nil, nil, true},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36", nil, nil, false},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Version/18.0 Mobile/15E148 Safari/604.1", nil, nil, false},
		{"Mozilla/5.0 (compatible; Checkly/1.0) HeadlessChrome/120", []string{"checkly"}, nil, false},
		{"Mozilla/5.0 Chrome/156 InternalProbe/1", nil, []string{"internalprobe"}, true},
		// Patterns of the list, where a word starts only.
		{"check_http/v2.2.1 (nagios-plugins 2.2.1)", nil, nil, true},
		{"omgili/0.5 +http://omgili.com", nil, nil, true},
		{"MainWP/4.2.7.1; +http://mainwp.com", nil, nil, true},
		{"Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", nil, nil, true},
		{"Opera/9.80 (MAUI Runtime; Opera Mini/4.4.39008/37.8625; U; en) Presto/2.12.423 Version/12.16", nil, nil, false},
		// A phone brand with "bot" in its name, phone models named like
		// crawlers, a search app named like its vendor's crawler.
		{"Mozilla/5.0 (Linux; Android 10; CUBOT_X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", nil, nil, false},
		{"Mozilla/5.0 (Linux; Android 9; CUBOT P30 Build/PPR1.180610.011) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/96.0.4664.92 Mobile Safari/537.36", nil, nil, false},
		{"Mozilla/5.0 (Linux; Android 6.0; B BOT 550 Build/MRA58K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/60.0.3112.116 Mobile Safari/537.36", nil, nil, false},
		{"Mozilla/5.0 (Linux; Android 6.0.1; HTC Butterfly 2 Build/MMB29M) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.68 Mobile Safari/537.36", nil, nil, false},
		{"Mozilla/5.0 (Linux; Android 12; SM-A525F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 YaBrowser/24.1.1.110.00 SA/3 Mobile Safari/537.36 YandexSearch/24.10", nil, nil, false},
		{"Mozilla/5.0 (Linux; U; Android 5.1; zh-cn; 1501_M02 Build/LMY47D) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30 SogouMSE,SogouMobileBrowser/4.1.0", nil, nil, false},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 11_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E216 Blackboard/3.6.1", nil, nil, false},
		// The crawlers those are named like still match.
		{"Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)", nil, nil, true},
		{"Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", nil, nil, true},
		{"Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", nil, nil, true},
		// Rearview's own rules: a word ending in "bot", crawl/spider.
		{"FeedCatBot/3.0 (+http://www.feedcat.net/)", nil, nil, true},
		{"Mozilla/5.0 (compatible; METASpider; +http://meta.ua/spider)", nil, nil, true},
		// Extra literals match where a word starts.
		{"Mozilla/5.0 Chrome/156 MyInternalProbe/1", nil, []string{"internalprobe"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.ua, func(t *testing.T) {
			if got := Bot([]byte(tt.ua), tt.allow, tt.extra); got != tt.want {
				t.Fatalf("got %v", got)
			}
		})
	}
}

func TestLocalhost(t *testing.T) {
	for url, want := range map[string]bool{
		"http://localhost:3000/x":       true,
		"http://127.0.0.1/":             true,
		"http://[::1]:8080/":            true,
		"https://app.localhost/":        true,
		"https://user@localhost/":       true,
		"https://shop.example.com/":     false,
		"https://localhost.example.com": false,
		"not a url":                     false,
	} {
		if got := Localhost([]byte(url)); got != want {
			t.Errorf("Localhost(%q) = %v", url, got)
		}
	}
}

func TestRelease(t *testing.T) {
	tests := []struct {
		release     string
		deny, allow []string
		want        bool
	}{
		{"dev-123", []string{"dev-*"}, nil, true},
		{"1.4.2", []string{"dev-*"}, nil, false},
		{"1.4.2", nil, []string{"1.4.*"}, false},
		{"1.3.0", nil, []string{"1.4.*"}, true},
		{"1.4.0", []string{"1.4.0"}, []string{"1.4.*"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.release, func(t *testing.T) {
			if got := Release([]byte(tt.release), tt.deny, tt.allow); got != tt.want {
				t.Fatalf("got %v", got)
			}
		})
	}
}

// TestMessageSet checks that MessageSet.Match agrees with Message on
// seeded random messages built from pieces of the default list.
func TestMessageSet(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	lists := [][]string{
		policy.DefaultNoiseMessages(), {"", "x", "ab", "abc", "Script error."}, {},
		// Short and overlapping substrings: windows of three and four
		// bytes, where skipping must not step over a match.
		{"abc", "bcd", "cab", "Script error."}, {"aborted", "abort", "bort", "rtab"},
	}
	pieces := append(policy.DefaultNoiseMessages(), "a", "b", "c", "d", "x", "Sc", "ab", "bc", "ort", "abor", "TypeError", " ", "", "é")
	for _, list := range lists {
		set := NewMessageSet(list)
		for range 20000 {
			var typ, val []byte
			for range r.IntN(6) {
				p := pieces[r.IntN(len(pieces))]
				val = append(val, p[:r.IntN(len(p)+1)]...)
			}
			typ = append(typ, pieces[r.IntN(len(pieces))]...)
			if r.IntN(2) == 0 {
				typ = typ[:r.IntN(len(typ)+1)]
			}
			if got, want := set.Match(typ, val), Message(typ, val, list); got != want {
				t.Fatalf("Match(%q, %q) = %v, Message says %v (list %q)", typ, val, got, want, list)
			}
		}
	}
}

// TestCompileBotList checks the expansion of patterns into literals
// against Go's regexp, on User-Agents built from the patterns' own pieces.
func TestCompileBotList(t *testing.T) {
	tests := []struct {
		pattern string
		match   []string
		miss    []string
	}{
		{`Googlebot\/`, []string{"Googlebot/2.1", "x (Googlebot/2.1)"}, []string{"googlebot/2.1", "XGooglebot/2.1"}},
		{`[wW]get`, []string{"Wget/1.21", "wget/1"}, []string{"WGET/1", "Swget"}},
		{`^Seekbot`, []string{"Seekbot/1.0"}, []string{"x Seekbot/1.0"}},
		{`SSL Labs$`, []string{"x SSL Labs"}, []string{"SSL Labs x"}},
		{`(^| )sentry\/`, []string{"sentry/1", "x sentry/1"}, []string{"xsentry/1", "x/sentry/1"}},
		{`AdsBot-Google([^-]|$)`, []string{"AdsBot-Google", "AdsBot-Google (+http://www.google.com/adsbot.html)"}, []string{"AdsBot-Google-Mobile"}},
		{`BlogTraffic\/\d\.\d+`, []string{"BlogTraffic/1.23 Feed-Fetcher"}, []string{"BlogTraffic/x"}},
		{`(?i)headlesS`, []string{"HeadlessChrome/1"}, []string{"Head less"}},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			doc, _ := json.Marshal([]any{map[string]any{"pattern": tt.pattern, "instances": tt.match}})
			patterns, err := ParseBotList(doc)
			if err != nil {
				t.Fatal(err)
			}
			l, err := compile(patterns, false) // the list alone
			if err != nil {
				t.Fatal(err)
			}
			for _, ua := range tt.match {
				if !l.Match([]byte(ua)) {
					t.Errorf("%q does not match", ua)
				}
			}
			for _, ua := range tt.miss {
				if l.Match([]byte(ua)) {
					t.Errorf("%q matches", ua)
				}
			}
		})
	}
	for _, bad := range []string{`[]`, `{}`, `[1]`, `[{"url":"x"}]`, `[""]`, `["a*"]`, `["("]`, `["x?"]`, `[".*"]`} {
		if _, err := CompileBotList([]byte(bad)); err == nil {
			t.Errorf("CompileBotList(%s) accepted", bad)
		}
	}
}
