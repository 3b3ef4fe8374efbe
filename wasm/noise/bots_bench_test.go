package noise

import (
	"testing"

	"github.com/rearview-dev/rearview/wasm/noise/botlist"
)

// benchUAs are what the edge sees most: browsers (the matcher's whole
// scan), and a crawler matched early and one matched only by a regexp.
var benchUAs = []struct{ name, ua string }{
	{"chrome-desktop", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/153.0.0.0 Safari/537.36"},
	{"safari-iphone", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1"},
	{"android-inapp", "Mozilla/5.0 (Linux; Android 14; SM-S918B Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.135 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/494.0.0.55.73;]"},
	{"googlebot", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"},
	{"adsbot-regexp", "AdsBot-Google (+http://www.google.com/adsbot.html)"},
}

// BenchmarkBotMatch measures the built-in matcher alone, per User-Agent
// (the engine checks one per batch).
func BenchmarkBotMatch(b *testing.B) {
	l := Builtin()
	for _, u := range benchUAs {
		ua := []byte(u.ua)
		b.Run(u.name, func(b *testing.B) {
			b.SetBytes(int64(len(ua)))
			b.ReportAllocs()
			for b.Loop() {
				l.Match(ua)
			}
		})
	}
}

// BenchmarkBotCompile measures compiling the built-in list, which every
// new instance of the module pays once, before its first batch.
func BenchmarkBotCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CompileBotList(botlist.JSON); err != nil {
			b.Fatal(err)
		}
	}
}
