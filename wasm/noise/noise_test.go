package noise

import (
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
