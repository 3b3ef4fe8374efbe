package mask

import (
	"math/rand/v2"
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
		{"ipv6", "addr 2001:db8::7334 end", []string{"2001:db8::7334"}},
		{"ipv6 full", "fe80:0:0:0:200:f8ff:fe21:67cf", []string{"fe80:0:0:0:200:f8ff:fe21:67cf"}},
		{"cpp scope", "std::vector and Foo::bar", nil},
		{"time", "12:30:45", nil},
		{"stripe key", "key sk_live_4eC39HqLyjWDarjtT1zdp7dc", []string{"sk_live_4eC39HqLyjWDarjtT1zdp7dc"}},
		{"aws key", "AKIAIOSFODNN7EXAMPLE", []string{"AKIAIOSFODNN7EXAMPLE"}},
		{"password assignment", "password=hunter2&x=1", []string{"hunter2"}},
		{"json secret", `{"token": "abc", "name": "x"}`, []string{"abc"}},
		{"plain text", "Cannot read properties of undefined (reading 'map')", nil},
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
	ref := func(name string) bool {
		if len(name) < 3 || len(name) > 64 {
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
		return false
	}
	var pieces []string
	for _, p := range sensitiveParts {
		pieces = append(pieces, p, p[:len(p)-1], strings.ToUpper(p[:1])+p[1:])
	}
	pieces = append(pieces, "x", "_", "-", "Id", "KEY", "Pin", "@", "[", "é", "user", "SES", "sIoN")
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
