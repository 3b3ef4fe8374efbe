package mask

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

func TestDetect(t *testing.T) {
	// Each case lists the secrets in the input; the want is the input with
	// those masked, whitespace kept.
	tests := []struct {
		name, in string
		secrets  []string
	}{
		{"email", "write to jane.doe+x@mail.example.com now", []string{"jane.doe+x@mail.example.com"}},
		{"email percent", "to=jane%40example.com", []string{"jane%40example.com"}},
		{"not email", "a@b and @handle and x@localhost", nil},
		{"card spaced", "card 4111 1111 1111 1111.", []string{"4111 1111 1111 1111"}},
		{"card dashed", "4111-1111-1111-1111", []string{"4111-1111-1111-1111"}},
		{"card plain", "n=4111111111111111;", []string{"4111111111111111"}},
		{"card bad luhn", "4111111111111112", nil},
		{"card then year", "4111 1111 1111 1111 2024", []string{"4111 1111 1111 1111"}},
		{"timestamp", "at 1764028812000 ms", nil},
		{"iban", "IBAN DE89 3704 0044 0532 0130 00 ok", []string{"DE89 3704 0044 0532 0130 00"}},
		{"iban compact", "GB82WEST12345698765432", []string{"GB82WEST12345698765432"}},
		{"iban bad checksum", "GB82 WEST 1234 5698 7654 33", nil},
		{"phone intl", "call +1 (415) 555-0132 today", []string{"+1 (415) 555-0132"}},
		{"phone nanp", "call (415) 555-0132", []string{"(415) 555-0132"}},
		{"phone dashed", "415-555-0132", []string{"415-555-0132"}},
		{"date not phone", "2024-01-15", nil},
		{"ssn", "ssn 078-05-1120", []string{"078-05-1120"}},
		{"ssn invalid area", "666-05-1120", nil},
		{"jwt", "t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", []string{"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"}},
		{"bearer", "Authorization: Bearer abc.DEF-123_xyz", []string{"abc.DEF-123_xyz"}},
		{"bearer prose", "the bearer of bad news", nil},
		{"ipv4", "from 203.0.113.42:8080", []string{"203.0.113.42"}},
		{"version not ip", "v1.2.3.4.5", nil},
		{"product version not ip", "Chrome/156.0.0.0 Safari/537.36", nil},
		{"ip in a URL", "http://203.0.113.42/admin", []string{"203.0.113.42"}},
		{"ip in a path", "https://api.example.com/lookup/203.0.113.42", []string{"203.0.113.42"}},
		{"ipv6", "addr 2001:db8::7334 end", []string{"2001:db8::7334"}},
		{"ipv6 full", "fe80:0:0:0:200:f8ff:fe21:67cf", []string{"fe80:0:0:0:200:f8ff:fe21:67cf"}},
		{"cpp scope", "std::vector and Foo::bar", nil},
		{"time", "12:30:45", nil},
		{"stripe key", "key sk_live_4eC39HqLyjWDarjtT1zdp7dc", []string{"sk_live_4eC39HqLyjWDarjtT1zdp7dc"}},
		{"aws key", "AKIAIOSFODNN7EXAMPLE", []string{"AKIAIOSFODNN7EXAMPLE"}},
		{"password assignment", "password=hunter2&x=1", []string{"hunter2"}},
		{"json secret", `{"token": "abc", "name": "x"}`, []string{"abc"}},
		{"plain text", "Cannot read properties of undefined (reading 'map')", nil},
		{"phone 00 prefix", "call 0044 20 7946 0958 now", []string{"0044 20 7946 0958"}},
		{"phone 00 dashed", "Tel.: 0049-30-1234567", []string{"0049-30-1234567"}},
		{"phone 00 plain with context", "phone: 00442079460958", []string{"00442079460958"}},
		{"00 plain without context", "order 00442079460958 shipped", nil},
		{"ssn spaced", "ssn 078 05 1120", []string{"078 05 1120"}},
		{"ssn plain with context", "SSN 078051120 on file", []string{"078051120"}},
		{"ssn plain in prose", "Social Security number 078051120", []string{"078051120"}},
		{"nine digits without context", "order 078051120 shipped", nil},
		{"ssn spaced invalid", "000 05 1120", nil},
		{"email apostrophe", "mail o'brien.sean@example.ie today", []string{"o'brien.sean@example.ie"}},
		{"email quoted", "send to 'jane@example.com' now", []string{"jane@example.com"}},
		{"email non-ascii local", "an josé.garcía@example.es schreiben", []string{"josé.garcía@example.es"}},
		{"email non-ascii domain", "write to max@bücher.de", []string{"max@bücher.de"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.in
			for _, s := range tt.secrets {
				b := []byte(s)
				star(b)
				want = strings.Replace(want, s, string(b), 1)
			}
			b := []byte(tt.in)
			n := Detect(b, All)
			if string(b) != want || n < len(tt.secrets) {
				t.Fatalf("Detect(%q) = %d\n got %q\nwant %q", tt.in, n, b, want)
			}
			if m, ok := Find(b, All); ok {
				t.Fatalf("a match survives masking: %+v in %q", m, b)
			}
		})
	}
}

func TestDetectOnlySelected(t *testing.T) {
	b := []byte("jane@example.com 4111111111111111")
	Detect(b, Card)
	if string(b) != "jane@example.com ****************" {
		t.Fatalf("got %q", b)
	}
	if s, bad := ParseSet([]string{"email", "nope"}); bad != "nope" || s != 0 {
		t.Fatalf("ParseSet: %v %q", s, bad)
	}
}

func TestAppendStars(t *testing.T) {
	tests := []struct{ in, want string }{
		{`Hello world`, `***** *****`},
		{`line\nbreak`, `****\n*****`},
		{`caf\u00e9 ✓`, `**** *`},
		{`emoji \ud83d\ude00!`, `***** **`},
		{`***`, `***`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, _ := AppendStars(nil, []byte(tt.in))
			if string(got) != tt.want {
				t.Fatalf("got %q want %q", got, tt.want)
			}
		})
	}
}

func TestQuery(t *testing.T) {
	tests := []struct {
		in, want string
		all      bool
		n        int
	}{
		{"https://x.com/a?step=2&token=abc&email=x#top", "https://x.com/a?step=2&token=***&email=*#top", false, 2},
		{"https://x.com/a?step=2&q=shoes", "https://x.com/a?step=*&q=*****", true, 2},
		{"https://x.com/cb#access_token=abc&state=1", "https://x.com/cb#access_token=***&state=1", false, 1},
		{"https://x.com/plain", "https://x.com/plain", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			b := []byte(tt.in)
			if n := Query(b, tt.all, nil); n != tt.n || string(b) != tt.want {
				t.Fatalf("got %q (%d) want %q (%d)", b, n, tt.want, tt.n)
			}
		})
	}
}

// TestURL checks personal data inside URLs: found on the decoded query
// values and path segments, masked in the encoded bytes, length kept,
// encoded whitespace kept; sensitive parameter names masked whole.
func TestURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://x.com/s?q=4111+1111+1111+1111&page=2", "https://x.com/s?q=****+****+****+****&page=2"},
		{"https://x.com/s?q=4111%201111%201111%201111", "https://x.com/s?q=****%20****%20****%20****"},
		{"https://x.com/s?q=DE89+3704+0044+0532+0130+00", "https://x.com/s?q=****+****+****+****+****+**"},
		{"https://x.com/s?q=%2B44%2020%207946%200958", "https://x.com/s?q=*****%20**%20****%20****"},
		{"https://x.com/s?q=+44+20+7946+0958", "https://x.com/s?q=***+**+****+****"},
		{"https://x.com/s?q=call+%2B1+415+555+0132+now", "https://x.com/s?q=call+****+***+***+****+now"},
		{"https://x.com/s?q=0044+20+7946+0958", "https://x.com/s?q=****+**+****+****"},
		{"https://x.com/s?q=078+05+1120", "https://x.com/s?q=***+**+****"},
		{"https://x.com/s?q=ssn+078051120", "https://x.com/s?q=ssn+*********"},
		{"https://x.com/s?q=jane%40example.com", "https://x.com/s?q=******************"},
		{"https://x.com/s?q=o%27brien%40example.ie", "https://x.com/s?q=**********************"},
		{"https://x.com/s?q=jos%C3%A9%40example.es", "https://x.com/s?q=**********************"},
		{"https://x.com/u/jane%40example.com/orders", "https://x.com/u/******************/orders"},
		{"https://x.com/card/4111%201111%201111%201111/edit", "https://x.com/card/****%20****%20****%20****/edit"},
		{"https://x.com/pay?card_number=4111&cc=1&pan=5&user_pwd=x&auth=y&author=ann", "https://x.com/pay?card_number=****&cc=*&pan=*&user_pwd=*&auth=*&author=ann"},
		{"https://x.com/s?q=running+shoes&size=44&page=2", "https://x.com/s?q=running+shoes&size=44&page=2"},
		{"https://x.com/s?q=order+2026-000123&ts=2026-12-03T00%3A15%3A22Z", "https://x.com/s?q=order+2026-000123&ts=2026-12-03T00%3A15%3A22Z"},
		{"https://x.com/s?q=100%25+off", "https://x.com/s?q=100%25+off"},
		{"https://x.com/a%zz?q=%", "https://x.com/a%zz?q=%"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			b := []byte(tt.in)
			URL(b, All, false, nil, nil)
			if string(b) != tt.want {
				t.Fatalf("got  %q\nwant %q", b, tt.want)
			}
		})
	}
}

// TestNoFalsePositives runs the detectors over text without personal
// data that looks most like it — order numbers, timestamps, prices,
// versions, ids, measurements — in prose and in URLs, and counts what
// they mask: nothing.
func TestNoFalsePositives(t *testing.T) {
	corpus := []string{
		"Order 4500012345 shipped on 2026-12-03", "order #100234567", "ORD-2026-000123", "INV-00012345",
		"Order 0012345678 confirmed", "ref 00123456", "tracking 1Z999AA10123456784",
		"2026-12-03 00:15:22", "2026-12-03T00:15:22.123Z", "Thu, 03 Dec 2026 00:15:22 GMT", "1764028812345",
		"at 00:00:01", "12/03/2026 10:00", "duration 00:03:25", "2026120300152200",
		"€1,299.00", "$ 1 299,00", "Total: 1.000,00 EUR", "price 129.99 (was 199.99)", "Save 20% today",
		"1 234 567", "qty 100 200 300", "EAN 4006381333931", "ISBN 978-3-16-148410-0",
		"v1.2.3", "version 10.0.19045.3803", "Chrome/156.0.0.0", "build 2026.12.03-001", "node v20.11.1",
		"SKU 078 05 11", "size 42 EU / 8.5 US", "lat 52.5200, lng 13.4050", "rgb(0, 128, 255)",
		"page 2 of 10", "room 101", "call me at noon", "auth failed for author page",
		"https://shop.example.com/products?page=2&sort=price_asc&q=running+shoes",
		"https://shop.example.com/orders/4500012345?ref=mail&utm_campaign=2026-12",
		"https://cdn.example.com/static/js/chunk-0044.a7f3e2.js",
		"https://x.com/search?q=iphone+15+pro+max+256gb&price_min=1000&price_max=1500",
		"https://x.com/api/v2/items/00123456/reviews?since=2026-12-03T00%3A15%3A22Z",
		"https://x.com/de/k%C3%BCche/t%C3%B6pfe?farbe=gr%C3%BCn",
	}
	masked := 0
	for _, text := range corpus {
		b := []byte(text)
		n, _ := URL(b, All, false, nil, nil)
		if n > 0 || string(b) != text {
			masked++
			t.Errorf("masked in non-personal text: %q -> %q", text, b)
		}
	}
	t.Logf("false positives: %d of %d non-personal strings", masked, len(corpus))
}

func TestHeader(t *testing.T) {
	for name, want := range map[string]bool{"Authorization": true, "COOKIE": true, "X-Api-Key": true, "Content-Type": false, "X-Custom-Token": true, "Accept": false} {
		if got := Header([]byte(name), DefaultDenyHeaders()); got != want {
			t.Errorf("Header(%q) = %v", name, got)
		}
	}
}

func BenchmarkDetect(b *testing.B) {
	text := []byte(strings.Repeat("The quick brown fox jumps over the lazy dog; order 1234 shipped. ", 64))
	buf := make([]byte, len(text))
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		copy(buf, text)
		Detect(buf, All)
	}
}

// TestMayMatchIsNecessary checks the prefilter against a byte-by-byte
// definition on every single byte and on shifted positions.
func TestMayMatchIsNecessary(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 17; pos++ {
			b := []byte(strings.Repeat("x", 17))
			b[pos] = byte(c)
			if got := mayMatch(b); got != anchor[c] {
				t.Fatalf("mayMatch with %#x at %d = %v", c, pos, got)
			}
		}
	}
}

// TestMayMatchAsm checks mayMatch against mayMatchGo, which it is natively
// and which the assembly of the wasm build must match, and both against
// the anchor table byte by byte: every length around the word size, with
// anchors or near-anchors (0x2A, 0x41, non-ASCII) at every position, inside
// a larger buffer whose bytes around the string must not count.
func TestMayMatchAsm(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const alphabet = "abz*+@A\x00\x80\xaa%_~J KQ"
	for iter := 0; iter < 200000; iter++ {
		buf := make([]byte, 48)
		for i := range buf {
			buf[i] = alphabet[rng.IntN(len(alphabet))]
		}
		n := rng.IntN(33)
		b := buf[8 : 8+n]
		if rng.IntN(2) == 0 {
			for i := range b {
				b[i] = "abzQ \x80"[rng.IntN(6)]
			}
			if n > 0 && rng.IntN(2) == 0 {
				b[rng.IntN(n)] = alphabet[rng.IntN(len(alphabet))]
			}
		}
		want := false
		for _, c := range b {
			want = want || anchor[c]
		}
		if got, gotGo := mayMatch(b), mayMatchGo(b); got != want || gotGo != want {
			t.Fatalf("%q in %q: mayMatch %v, mayMatchGo %v, want %v", b, buf, got, gotGo, want)
		}
	}
}

// TestSensitiveKeyReference holds SensitiveKey to its plain definition,
// lower-casing and strings.Contains, on names made of parts, their
// prefixes and near misses in mixed case.
func TestSensitiveKeyReference(t *testing.T) {
	camel := regexp.MustCompile(`([a-z])([A-Z])`)
	ref := func(name string) bool {
		if len(name) < 2 || len(name) > 64 {
			return false
		}
		l := strings.ToLower(name)
		switch l {
		case "pwd", "sid", "key", "otp", "pin", "jwt", "ssn", "cvv", "cvc", "pass", "auth", "code", "iban", "email", "phone":
			return true
		}
		for _, p := range sensitiveParts {
			if strings.Contains(l, p) {
				return true
			}
		}
		// Words: split at non-alphanumerics and camelCase boundaries.
		words := strings.FieldsFunc(camel.ReplaceAllString(name, "$1 $2"), func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
		})
		for _, w := range words {
			switch strings.ToLower(w) {
			case "cc", "ip", "card", "ccn", "pan", "cvv", "cvc", "cvn", "pin", "pwd", "pass", "passwd", "auth", "secret",
				"ssn", "iban", "email", "mail", "phone", "mobile", "tel", "otp", "jwt", "token", "bearer":
				return true
			}
		}
		return false
	}
	var pieces []string
	for _, p := range sensitiveParts {
		pieces = append(pieces, p, p[:len(p)-1], strings.ToUpper(p[:1])+p[1:])
	}
	pieces = append(pieces, "x", "_", "-", "Id", "KEY", "Pin", "@", "[", "é", "user", "SES", "sIoN",
		"card", "Card", "cc", "CC", "pan", "Pan", "japan", "auth", "Author", "discard", "ip", "Ip", "tel", "hotel", "Cvv", "number", "9")
	rng := rand.New(rand.NewPCG(9, 10))
	for iter := 0; iter < 100000; iter++ {
		var b strings.Builder
		for k := rng.IntN(4); k >= 0; k-- {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		name := b.String()
		if got, want := SensitiveKey([]byte(name)), ref(name); got != want {
			t.Fatalf("SensitiveKey(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestAppendStarsReference holds AppendStars, which stars eight bytes at a
// time, to the plain byte-by-byte definition, on strings of ASCII,
// whitespace, stars, escapes and multi-byte UTF-8 at every alignment.
func TestAppendStarsReference(t *testing.T) {
	ref := func(raw []byte) ([]byte, bool) {
		var dst []byte
		changed := false
		for i := 0; i < len(raw); i++ {
			c := raw[i]
			switch {
			case c == ' ' || c == '*':
				dst = append(dst, c)
			case c == '\\' && i+1 < len(raw):
				i++
				switch raw[i] {
				case 'n', 'r', 't':
					dst = append(dst, '\\', raw[i])
					continue
				case 'u':
					if i+10 < len(raw) && (raw[i+1] == 'd' || raw[i+1] == 'D') && raw[i+5] == '\\' && raw[i+6] == 'u' {
						i += 6
					}
					i += 4
				}
				dst = append(dst, '*')
				changed = true
			case c >= 0x80 && c < 0xC0:
			default:
				dst = append(dst, '*')
				changed = true
			}
		}
		return dst, changed
	}
	pieces := []string{"a", "abcdefgh", "0123456789", " ", "*", "**", `\n`, `\"`, `\u00e9`, `\ud83d\ude00`, "é", "😀", "\t"}
	rng := rand.New(rand.NewPCG(11, 12))
	for iter := 0; iter < 50000; iter++ {
		var raw []byte
		for k := rng.IntN(10); k >= 0; k-- {
			raw = append(raw, pieces[rng.IntN(len(pieces))]...)
		}
		prefix := []byte("xy")[:rng.IntN(3)]
		got, gotChanged := AppendStars(append([]byte(nil), prefix...), raw)
		want, wantChanged := ref(raw)
		want = append(append([]byte(nil), prefix...), want...)
		if string(got) != string(want) || gotChanged != wantChanged {
			t.Fatalf("AppendStars(%q) = %q %v, want %q %v", raw, got, gotChanged, want, wantChanged)
		}
	}
}

// FuzzURL holds URL to what its callers rely on, for any input: it never
// panics, keeps the length, and changes bytes only into masking
// characters.
func FuzzURL(f *testing.F) {
	for _, s := range []string{
		"https://x.com/s?q=4111+1111+1111+1111&page=2",
		"https://x.com/s?q=%2B44%2020%207946%200958#frag=%",
		"https://x.com/u/jos%C3%A9%40example.es/%ZZ?&=&a==b;c=+%2",
		"/p/203.0.113.42?ip=1&cc=2&author=3",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		URL(b, All, false, nil, nil)
		if len(b) != len(s) {
			t.Fatalf("length %d, want %d", len(b), len(s))
		}
		for i := 0; i < len(b); i++ {
			if b[i] == s[i] || b[i] == '*' {
				continue
			}
			if i+1 < len(b) && b[i] == 0xC2 && b[i+1] == 0xB7 {
				i++
				continue
			}
			if i+2 < len(b) && b[i] == 0xE2 && b[i+1] == 0x88 && b[i+2] == 0x97 {
				i += 2
				continue
			}
			t.Fatalf("byte %d became %q: %q -> %q", i, b[i], s, b)
		}
	})
}
