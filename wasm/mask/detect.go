// Package mask finds and masks personal data in strings without changing
// their length in characters, so a masked replay keeps its layout and a
// masked message keeps its shape.
//
// Everything here works on byte slices in place and allocates nothing: it
// runs on the edge's hot path inside a wasm instance, where Go's allocator
// and garbage collector cost several times what they cost natively.
package mask

import (
	"encoding/binary"
	"math/bits"
)

// Set selects detectors; the zero Set detects nothing.
type Set uint16

// The detectors.
const (
	Email  Set = 1 << iota // local@domain.tld, also with %40 for @
	Card                   // 13–19 digit card numbers passing the Luhn check
	IBAN                   // IBANs passing the mod-97 check
	Phone                  // +international and North-American formats
	SSN                    // US social security numbers
	JWT                    // eyJ….….… tokens
	Bearer                 // Bearer and Basic credentials
	IP                     // IPv4 and IPv6 addresses
	Secret                 // vendor keys (sk_live_, AKIA, ghp_, …) and password=… assignments

	// All is every detector.
	All = Email | Card | IBAN | Phone | SSN | JWT | Bearer | IP | Secret
)

var setNames = []struct {
	name string
	set  Set
}{
	{"email", Email}, {"card", Card}, {"iban", IBAN}, {"phone", Phone}, {"ssn", SSN},
	{"jwt", JWT}, {"bearer", Bearer}, {"ip", IP}, {"secret", Secret},
}

// ParseSet turns detector names into a Set; "all" selects every detector.
// It reports the first unknown name.
func ParseSet(names []string) (Set, string) {
	var s Set
	for _, n := range names {
		if n == "all" {
			s |= All
			continue
		}
		found := false
		for _, sn := range setNames {
			if sn.name == n {
				s |= sn.set
				found = true
			}
		}
		if !found {
			return 0, n
		}
	}
	return s, ""
}

// Name returns the name of a single-detector Set.
func (s Set) Name() string {
	for _, sn := range setNames {
		if sn.set == s {
			return sn.name
		}
	}
	return ""
}

// Detect masks every match of the detectors in set within b, in place,
// and returns the number of matches. A match's bytes become '*' except
// whitespace; detectors match only ASCII, so the length in bytes and in
// characters is kept. Masking can expose a neighbouring match that a word
// boundary hid, so Detect repeats until nothing more matches.
func Detect(b []byte, set Set) int {
	if set == 0 {
		return 0
	}
	total := 0
	for range 4 {
		n := scan(b, set, true, nil)
		total += n
		if n == 0 {
			break
		}
	}
	return total
}

// Match is one detector hit.
type Match struct {
	Detector   Set
	Start, End int
}

// Find returns the first match in b without masking it.
func Find(b []byte, set Set) (Match, bool) {
	var m Match
	if scan(b, set, false, &m) > 0 {
		return m, true
	}
	return Match{}, false
}

const (
	cDigit = 1 << iota
	cUpper
	cLower
	cHex
	cTrigger // bytes that can start or anchor a match
)

var class = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] |= cDigit | cHex | cTrigger
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] |= cUpper | cTrigger
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] |= cLower | cTrigger
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] |= cHex
		t[c-32] |= cHex
	}
	for _, c := range "@%+(:=" {
		t[c] |= cTrigger
	}
	return t
}()

func isDigit(c byte) bool { return class[c]&cDigit != 0 }
func isAlnum(c byte) bool { return class[c]&(cDigit|cUpper|cLower) != 0 }
func isAlpha(c byte) bool { return class[c]&(cUpper|cLower) != 0 }
func isHex(c byte) bool   { return class[c]&cHex != 0 }

// letterTrigger marks the letters a word-anchored detector starts with
// (IBANs, which start with any two letters, are checked apart).
var letterTrigger = func() (t [256]bool) {
	for _, c := range "ebBsrAgxn" {
		t[c] = true
	}
	return t
}()

// wordMayMatch is a cheap test, on a word's first four bytes, of whether
// any word-anchored detector could match there: most words are rejected
// without a call.
func wordMayMatch(c0, c1, c2, c3 byte) bool {
	if class[c1]&(cUpper|cLower) != 0 && class[c2]&cDigit != 0 && class[c3]&cDigit != 0 {
		return true // CCdd: an IBAN
	}
	if !letterTrigger[c0] {
		return false
	}
	switch c0 {
	case 'e':
		return c1 == 'y' && c2 == 'J'
	case 'b', 'B':
		return c1|0x20 == 'e' && c2|0x20 == 'a' || c1|0x20 == 'a' && c2|0x20 == 's'
	case 's':
		return c1 == 'k' || c1 == 'q' || c1 == 'h'
	case 'r':
		return c1 == 'k'
	case 'n':
		return c1 == 'p'
	case 'g':
		return c1 == 'h' || c1 == 'i' || c1 == 'l'
	case 'x':
		return c1 == 'o'
	case 'A':
		return c1 == 'K' || c1 == 'S' || c1 == 'I'
	}
	return false
}

// wordStart reports whether b[i] starts a word.
func wordStart(b []byte, i int) bool { return i == 0 || !isAlnum(b[i-1]) }

// boundary reports whether the match ending at e is not glued to a
// following letter or digit.
func boundary(b []byte, e int) bool { return e >= len(b) || !isAlnum(b[e]) }

func scan(b []byte, set Set, mask bool, first *Match) int {
	if !mayMatch(b) {
		return 0
	}
	n := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		cl := class[c]
		if cl&cTrigger == 0 {
			continue
		}
		var s, e int
		var d Set
		if cl&(cUpper|cLower) != 0 {
			// Letters are most of any text: handle a word at once. Under
			// wasm every branch costs a jump through the function's
			// dispatch loop, so the common path must stay short.
			if i > 0 && class[b[i-1]]&(cDigit|cUpper|cLower) != 0 {
				continue
			}
			// wordMayMatch holds only for a trigger letter or a digit
			// third: tested here first, most words make no call.
			if i+3 < len(b) && (letterTrigger[c] || class[b[i+2]]&cDigit != 0) && wordMayMatch(c, b[i+1], b[i+2], b[i+3]) {
				d, s, e = word(b, i, set)
			}
			if e <= s {
				for i+1 < len(b) && class[b[i+1]]&(cUpper|cLower) != 0 {
					i++
				}
				continue
			}
		} else {
			switch {
			case c == '@':
				if set&Email != 0 {
					s, e = email(b, i, i+1)
					d = Email
				}
			case c == '%':
				if set&Email != 0 && i+2 < len(b) && b[i+1] == '4' && b[i+2] == '0' {
					s, e = email(b, i, i+3)
					d = Email
				}
			case c == '+':
				if set&Phone != 0 && wordStart(b, i) {
					if end := phoneIntl(b, i); end > i {
						s, e, d = i, end, Phone
					}
				}
			case c == '(':
				if set&Phone != 0 {
					s, e, d = i, nanp(b, i), Phone
				}
			case c == ':' || c == '=':
				if set&Secret != 0 {
					s, e = assignment(b, i)
					d = Secret
				}
				if e <= s && c == ':' && set&IP != 0 {
					s, e = ipv6(b, i)
					d = IP
				}
			default: // a digit
				if !wordStart(b, i) {
					continue
				}
				d, s, e = digits(b, i, set)
			}
			if e <= s {
				continue
			}
		}
		n++
		if first != nil {
			*first = Match{Detector: d, Start: s, End: e}
			return n
		}
		if mask {
			star(b[s:e])
		}
		i = e - 1
	}
	return n
}

// star replaces every character but whitespace with '*', in place. A
// character of several bytes (a match may hold letters beyond ASCII, as
// an e-mail address's local part does) becomes one masking character of
// the same length in bytes, so that the text keeps its length both in
// bytes and as rendered: '·' (U+00B7) for two, '∗' (U+2217) for three and
// '*∗' for four.
func star(b []byte) {
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		case c < 0x80:
			b[i] = '*'
		default:
			n := 1
			for i+n < len(b) && n < 4 && b[i+n]&0xC0 == 0x80 {
				n++
			}
			switch n {
			case 1:
				b[i] = '*' // a stray byte
			case 2:
				b[i], b[i+1] = 0xC2, 0xB7
			case 3:
				b[i], b[i+1], b[i+2] = 0xE2, 0x88, 0x97
			default:
				b[i], b[i+1], b[i+2], b[i+3] = '*', 0xE2, 0x88, 0x97
			}
			i += n - 1
		}
	}
}

// localChar reports whether c may be part of an e-mail address's local
// part: RFC 5322's common characters, the apostrophe (o'brien@…) and the
// bytes of letters beyond ASCII (RFC 6531: josé@…).
func localChar(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-' || c == '\'' || c >= 0x80
}

// domainChar reports whether c may be part of a domain, internationalised
// ones included (bücher.de).
func domainChar(c byte) bool { return isAlnum(c) || c == '.' || c == '-' || c >= 0x80 }

// email returns the bounds of an address whose @ spans b[at:dom].
func email(b []byte, at, dom int) (int, int) {
	s := at
	for s > 0 && localChar(b[s-1]) {
		s--
	}
	// Not a quote or a dot before the address ('jane@…' quoted).
	for s < at && (b[s] == '\'' || b[s] == '.') {
		s++
	}
	// Nor half a character.
	for s < at && b[s]&0xC0 == 0x80 {
		s++
	}
	if s == at {
		return 0, 0
	}
	e := dom
	for e < len(b) && domainChar(b[e]) {
		e++
	}
	for e > dom && (b[e-1] == '.' || b[e-1] == '-') {
		e--
	}
	if e == dom || !isAlnum(b[dom]) && b[dom] < 0x80 {
		return 0, 0
	}
	// The last label must be a TLD: two or more letters.
	dot := -1
	for j := e - 1; j >= dom; j-- {
		if b[j] == '.' {
			dot = j
			break
		}
	}
	if dot < 0 || e-dot-1 < 2 {
		return 0, 0
	}
	for j := dot + 1; j < e; j++ {
		if !isAlpha(b[j]) {
			return 0, 0
		}
	}
	return s, e
}

// digits tries the detectors that start with a digit.
func digits(b []byte, i int, set Set) (Set, int, int) {
	if i > 0 && b[i-1] == '.' && i > 1 && isDigit(b[i-2]) {
		return 0, 0, 0 // inside a dotted number
	}
	if set&IP != 0 {
		if e := ipv4(b, i); e > i {
			return IP, i, e
		}
	}
	if set&SSN != 0 {
		if e := ssn(b, i); e > i {
			return SSN, i, e
		}
	}
	if set&Phone != 0 && b[i] == '0' && i+2 < len(b) && b[i+1] == '0' && b[i+2] >= '1' && b[i+2] <= '9' {
		if e := phone00(b, i); e > i {
			return Phone, i, e
		}
	}
	if set&Card != 0 {
		if e := card(b, i); e > i {
			return Card, i, e
		}
	}
	if set&Phone != 0 {
		if e := nanp(b, i); e > i {
			return Phone, i, e
		}
	}
	return 0, 0, 0
}

// num reads 1 to max digits at i and returns their value and end.
func num(b []byte, i, max int) (int, int) {
	v, j := 0, i
	for j < len(b) && j-i < max && isDigit(b[j]) {
		v = v*10 + int(b[j]-'0')
		j++
	}
	return v, j
}

func ipv4(b []byte, i int) int {
	j := i
	for k := range 4 {
		if k > 0 {
			if j >= len(b) || b[j] != '.' {
				return 0
			}
			j++
		}
		v, e := num(b, j, 3)
		if e == j || v > 255 {
			return 0
		}
		j = e
	}
	if j < len(b) && (isAlnum(b[j]) || b[j] == '.' && j+1 < len(b) && isDigit(b[j+1])) {
		return 0
	}
	// N.0.0.0 names a network, not a host, and is how User-Agents write
	// versions (Chrome/156.0.0.0).
	if j-i >= 7 && string(b[j-6:j]) == ".0.0.0" {
		return 0
	}
	return j
}

// ssn matches a US social security number: ddd-dd-dddd or ddd dd dddd,
// or nine plain digits where the text before says it is one ("SSN",
// "social security"): nine digits alone are as likely an order number.
func ssn(b []byte, i int) int {
	if len(b)-i >= 9 && isDigit(b[i+8]) && boundary(b, i+9) {
		if _, e := num(b, i, 9); e == i+9 && validSSN(b, i, i+3, i+5) && ssnContext(b, i) {
			return e
		}
	}
	if len(b)-i < 11 || b[i+3] != b[i+6] || b[i+3] != '-' && b[i+3] != ' ' {
		return 0
	}
	_, e1 := num(b, i, 3)
	_, e2 := num(b, i+4, 2)
	_, e3 := num(b, i+7, 4)
	if e1 != i+3 || e2 != i+6 || e3 != i+11 || !boundary(b, e3) || !validSSN(b, i, i+4, i+7) {
		return 0
	}
	return e3
}

// validSSN checks the area, group and serial of an SSN whose parts start
// at a, g and s: none is all zeros, and the area is not 666 or 9xx.
func validSSN(b []byte, a, g, s int) bool {
	area, e1 := num(b, a, 3)
	group, e2 := num(b, g, 2)
	serial, e3 := num(b, s, 4)
	if e1 != a+3 || e2 != g+2 || e3 != s+4 {
		return false
	}
	return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
}

// ssnContext reports whether the 32 bytes before i name a social security
// number.
func ssnContext(b []byte, i int) bool {
	for j := max(0, i-32); j+3 <= i; j++ {
		if hasPrefixFold(b[j:], "ssn") || hasPrefixFold(b[j:], "social security") {
			return true
		}
	}
	return false
}

// phone00 matches an international number written with the 00 prefix in
// place of +: 00, a country code, 7 to 13 more digits, grouped by spaces,
// dashes, dots or brackets, or plain where the text before says it is a
// phone number ("tel", "phone", "call", …). Plain runs of digits starting
// with 00 are as often order numbers and ids.
func phone00(b []byte, i int) int {
	count, j, last, seps := 0, i+2, 0, 0
	for j < len(b) && j-i <= 26 {
		c := b[j]
		if isDigit(c) {
			count++
			last = j + 1
		} else if c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' {
			if j+1 >= len(b) || !isDigit(b[j+1]) && b[j+1] != '(' && b[j+1] != ' ' {
				break
			}
			seps++
		} else {
			break
		}
		j++
	}
	if count < 8 || count > 15 || !boundary(b, last) {
		return 0
	}
	if seps == 0 && !phoneContext(b, i) {
		return 0
	}
	return last
}

// phoneContext reports whether the 24 bytes before i name a phone number.
func phoneContext(b []byte, i int) bool {
	for j := max(0, i-24); j+3 <= i; j++ {
		if hasPrefixFold(b[j:], "tel") || hasPrefixFold(b[j:], "phone") || hasPrefixFold(b[j:], "call") ||
			hasPrefixFold(b[j:], "mobile") || hasPrefixFold(b[j:], "fax") || hasPrefixFold(b[j:], "whatsapp") {
			return true
		}
	}
	return false
}

// card finds the longest run of 13–19 digits at i, in groups separated by
// single spaces or dashes, that passes the Luhn check.
func card(b []byte, i int) int {
	if b[i] < '2' || b[i] > '6' { // issuers: Mastercard 2/5, Amex 3, Visa 4, Discover 6
		return 0
	}
	var ends [20]int // ends[n] = end of the group boundary after n digits
	var nd [20]int
	cands := 0
	count, j := 0, i
	for j < len(b) {
		if isDigit(b[j]) {
			count++
			if count > 19 {
				break
			}
			j++
			continue
		}
		if count >= 13 {
			ends[cands], nd[cands] = j, count
			cands++
		}
		if (b[j] == ' ' || b[j] == '-') && j+1 < len(b) && isDigit(b[j+1]) {
			j++
			continue
		}
		break
	}
	if count <= 19 && count >= 13 && (j == len(b) || !isDigit(b[j])) {
		ends[cands], nd[cands] = j, count
		cands++
	}
	for k := cands - 1; k >= 0; k-- {
		if boundary(b, ends[k]) && luhn(b[i:ends[k]]) {
			return ends[k]
		}
	}
	return 0
}

func luhn(b []byte) bool {
	sum, dbl := 0, false
	for k := len(b) - 1; k >= 0; k-- {
		if !isDigit(b[k]) {
			continue
		}
		d := int(b[k] - '0')
		if dbl {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		dbl = !dbl
	}
	return sum%10 == 0
}

// nanp matches (ddd) ddd-dddd, ddd-ddd-dddd, ddd.ddd.dddd and ddd ddd dddd.
func nanp(b []byte, i int) int {
	j := i
	if b[j] == '(' {
		_, e := num(b, j+1, 3)
		if e != j+4 || e >= len(b) || b[e] != ')' {
			return 0
		}
		j = e + 1
		if j < len(b) && b[j] == ' ' {
			j++
		}
	} else {
		_, e := num(b, j, 3)
		if e != j+3 || e >= len(b) || (b[e] != '-' && b[e] != '.' && b[e] != ' ') {
			return 0
		}
		j = e + 1
	}
	_, e := num(b, j, 3)
	if e != j+3 || e >= len(b) || (b[e] != '-' && b[e] != '.' && b[e] != ' ') {
		return 0
	}
	sep := b[e]
	if b[i] != '(' && sep != b[i+3] {
		return 0 // mixed separators: more likely a date or a version
	}
	j = e + 1
	_, e = num(b, j, 4)
	if e != j+4 || !boundary(b, e) {
		return 0
	}
	return e
}

// phoneIntl matches +<7–15 digits> with spaces, dashes, dots or brackets
// between them and returns its end.
func phoneIntl(b []byte, i int) int {
	count, j, last := 0, i+1, 0
	for j < len(b) {
		c := b[j]
		switch {
		case isDigit(c):
			count++
			last = j + 1
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			goto done
		}
		j++
		if j-i > 24 {
			break
		}
	}
done:
	if count < 7 || count > 15 || !boundary(b, last) {
		return 0
	}
	return last
}

// word tries the detectors that start with a letter.
func word(b []byte, i int, set Set) (Set, int, int) {
	c := b[i]
	if set&JWT != 0 && c == 'e' {
		if e := jwt(b, i); e > i {
			return JWT, i, e
		}
	}
	if set&Bearer != 0 && (c == 'b' || c == 'B') {
		if s, e := bearer(b, i); e > s {
			return Bearer, s, e
		}
	}
	if set&Secret != 0 {
		if e := vendorKey(b, i); e > i {
			return Secret, i, e
		}
	}
	if set&IBAN != 0 && i+4 <= len(b) && isAlpha(b[i+1]) && isDigit(b[i+2]) && isDigit(b[i+3]) {
		if e := iban(b, i); e > i {
			return IBAN, i, e
		}
	}
	return 0, 0, 0
}

func b64url(c byte) bool { return isAlnum(c) || c == '-' || c == '_' }

func jwt(b []byte, i int) int {
	if !hasPrefix(b[i:], "eyJ") {
		return 0
	}
	j := i
	for seg := range 3 {
		s := j
		for j < len(b) && b64url(b[j]) {
			j++
		}
		if seg < 2 && j-s < 4 {
			return 0
		}
		if seg == 2 {
			break
		}
		if j >= len(b) || b[j] != '.' {
			return 0
		}
		j++
	}
	return j
}

func hasPrefix(b []byte, p string) bool {
	return len(b) >= len(p) && string(b[:len(p)]) == p
}

func hasPrefixFold(b []byte, p string) bool {
	if len(b) < len(p) {
		return false
	}
	for k := 0; k < len(p); k++ {
		c := b[k]
		if c >= 'A' && c <= 'Z' {
			c += 32
		}
		if c != p[k] {
			return false
		}
	}
	return true
}

func tokenChar(c byte) bool {
	return isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '='
}

// bearer matches the credential after "Bearer " or "Basic ", not the word.
func bearer(b []byte, i int) (int, int) {
	var j int
	switch {
	case hasPrefixFold(b[i:], "bearer"):
		j = i + 6
	case hasPrefixFold(b[i:], "basic"):
		j = i + 5
	default:
		return 0, 0
	}
	if j >= len(b) || b[j] != ' ' {
		return 0, 0
	}
	for j < len(b) && b[j] == ' ' {
		j++
	}
	s := j
	plain := true // all letters: prose ("bearer of bad news"), not a credential
	for j < len(b) && tokenChar(b[j]) {
		if !isAlpha(b[j]) {
			plain = false
		}
		j++
	}
	if j-s < 8 || plain || !boundary(b, j) {
		return 0, 0
	}
	return s, j
}

// vendorKeys are prefixes of well-known secret key formats with the least
// length of the whole key.
var vendorKeys = []struct {
	prefix string
	min    int
}{
	{"sk_live_", 20}, {"sk_test_", 20}, {"rk_live_", 20}, {"rk_test_", 20},
	{"AKIA", 20}, {"ASIA", 20}, {"AIza", 39},
	{"ghp_", 30}, {"gho_", 30}, {"ghu_", 30}, {"ghs_", 30}, {"ghr_", 30}, {"github_pat_", 40},
	{"glpat-", 26}, {"xoxb-", 20}, {"xoxp-", 20}, {"xoxa-", 20}, {"xoxs-", 20},
	{"npm_", 30}, {"sq0atp-", 26}, {"shpat_", 30},
}

func vendorKey(b []byte, i int) int {
	if !letterTrigger[b[i]] {
		return 0
	}
	for _, k := range vendorKeys {
		if b[i] != k.prefix[0] || !hasPrefix(b[i:], k.prefix) {
			continue
		}
		j := i + len(k.prefix)
		for j < len(b) && b64url(b[j]) {
			j++
		}
		if j-i >= k.min && boundary(b, j) {
			return j
		}
	}
	return 0
}

// iban matches CCdd followed by 11–30 letters and digits, in groups of
// four separated by single spaces or not at all, passing the mod-97 check.
func iban(b []byte, i int) int {
	var ends [8]int
	cands := 0
	count, j := 0, i
	for j < len(b) && count < 34 {
		if isAlnum(b[j]) {
			count++
			j++
			continue
		}
		if b[j] == ' ' && j+1 < len(b) && isAlnum(b[j+1]) && count >= 4 && count%4 == 0 {
			if count >= 15 && cands < len(ends) {
				ends[cands] = j
				cands++
			}
			j++
			continue
		}
		break
	}
	if count >= 15 && count <= 34 && cands < len(ends) {
		ends[cands] = j
		cands++
	}
	for k := cands - 1; k >= 0; k-- {
		if boundary(b, ends[k]) && mod97(b[i:ends[k]]) {
			return ends[k]
		}
	}
	return 0
}

func mod97(b []byte) bool {
	rem, n := 0, 0
	add := func(c byte) bool {
		switch {
		case isDigit(c):
			rem = (rem*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			rem = (rem*100 + int(c-'A'+10)) % 97
		case c >= 'a' && c <= 'z':
			rem = (rem*100 + int(c-'a'+10)) % 97
		default:
			return false
		}
		n++
		return true
	}
	// The check moves the first four characters to the end.
	start := 0
	for k, c := 0, 0; k < len(b) && c < 4; k++ {
		if b[k] != ' ' {
			c++
		}
		start = k + 1
	}
	for _, c := range b[start:] {
		if c != ' ' && !add(c) {
			return false
		}
	}
	for _, c := range b[:start] {
		if c != ' ' && !add(c) {
			return false
		}
	}
	return n >= 15 && rem == 1
}

// ipv6 matches an IPv6 address around the colon at i.
func ipv6(b []byte, i int) (int, int) {
	s := i
	for s > 0 && (isHex(b[s-1]) || b[s-1] == ':') {
		s--
	}
	e := i
	for e < len(b) && (isHex(b[e]) || b[e] == ':') {
		e++
	}
	if s > 0 && (isAlnum(b[s-1]) || b[s-1] == '.') || !boundary(b, e) {
		return 0, 0
	}
	if e < len(b) && b[e] == '.' {
		return 0, 0 // an embedded IPv4 tail is not handled; leave it to ipv4
	}
	groups, colons, compressed, run := 0, 0, false, 0
	for k := s; k < e; k++ {
		if b[k] != ':' {
			run++
			if run > 4 {
				return 0, 0
			}
			continue
		}
		if run > 0 {
			groups++
		}
		colons++
		if k+1 < e && b[k+1] == ':' {
			if compressed {
				return 0, 0
			}
			compressed = true
			colons++
			k++
			if k+1 < e && b[k+1] == ':' {
				return 0, 0
			}
		} else if run == 0 && k == s {
			return 0, 0 // a single leading colon
		}
		run = 0
	}
	if run > 0 {
		groups++
	} else if e > s && b[e-1] == ':' && !(e-2 >= s && b[e-2] == ':') {
		return 0, 0 // a single trailing colon
	}
	switch {
	case compressed && groups >= 1 && groups <= 7:
	case !compressed && groups == 8 && colons == 7:
	default:
		return 0, 0
	}
	return s, e
}

// assignment matches the value of key=value or key: value where the key
// names a secret (password=…, "token": "…", Authorization: Bearer …).
func assignment(b []byte, i int) (int, int) {
	if b[i] == ':' && i+1 < len(b) && b[i+1] == '/' {
		return 0, 0 // a URL's scheme (https://), not a key
	}
	k := i
	for k > 0 && b[k-1] == ' ' {
		k--
	}
	if k > 0 && (b[k-1] == '"' || b[k-1] == '\'') {
		k--
	}
	ke := k
	for k > 0 && (isAlnum(b[k-1]) || b[k-1] == '_' || b[k-1] == '-' || b[k-1] == '.') {
		k--
	}
	if ke == k || !SensitiveKey(b[k:ke]) {
		return 0, 0
	}
	j := i + 1
	for j < len(b) && b[j] == ' ' {
		j++
	}
	var q byte
	if j < len(b) && (b[j] == '"' || b[j] == '\'') {
		q = b[j]
		j++
	}
	for _, scheme := range [...]string{"bearer ", "basic ", "token "} {
		if hasPrefixFold(b[j:], scheme) {
			j += len(scheme)
			for j < len(b) && b[j] == ' ' {
				j++
			}
			break
		}
	}
	s := j
	for j < len(b) {
		c := b[j]
		if q != 0 {
			if c == q || c == '\\' {
				break
			}
		} else if c == '&' || c == ' ' || c == ',' || c == ';' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '}' || c == '{' || c == ')' || c == '\n' || c == '\r' || c == '\t' {
			break
		}
		j++
	}
	for k := s; k < j; k++ {
		switch {
		case b[k] == '*' || b[k] == ' ' || b[k] == '\t' || b[k] == '\n' || b[k] == '\r': // as star leaves it
		case k+1 < j && b[k] == 0xC2 && b[k+1] == 0xB7: // star's '·'
			k++
		case k+2 < j && b[k] == 0xE2 && b[k+1] == 0x88 && b[k+2] == 0x97: // and '∗'
			k += 2
		default:
			return s, j
		}
	}
	return 0, 0 // nothing left to mask
}

// SensitiveKey reports whether a field, header, parameter or tag name
// suggests that its value is a secret or personal data.
func SensitiveKey(name []byte) bool {
	n := len(name)
	if n == 2 {
		return sensitiveToken(name) // cc, ip
	}
	if n < 3 || n > 64 {
		return false
	}
	if n <= 5 {
		var buf [5]byte
		for k, c := range name {
			buf[k] = lower(c)
		}
		if exactSensitive(buf[:n]) {
			return true
		}
	}
	// One pass over the name, comparing only the parts that start with
	// the two bytes at hand (most names have no such place), in place and
	// case-folded: copying the name lower-cased first, or strings.Contains
	// per part, costs a call or a store per byte, which under wasm is most
	// of the cost of a key.
	for i := 0; i+4 <= n; i++ {
		m := partStart[lower(name[i])] & partSecond[lower(name[i+1])]
		for m != 0 {
			j := bits.TrailingZeros32(m)
			m &= m - 1
			p := sensitiveParts[j]
			if n-i >= len(p) && equalFold(name[i:i+len(p)], p) {
				return true
			}
		}
	}
	return sensitiveToken(name)
}

// lower folds an ASCII upper-case letter to lower case.
func lower(c byte) byte {
	if c-'A' < 26 {
		c += 'a' - 'A'
	}
	return c
}

// equalFold reports whether b, case-folded, is s, which is lower-case.
func equalFold(b []byte, s string) bool {
	for k := 0; k < len(s); k++ {
		if lower(b[k]) != s[k] {
			return false
		}
	}
	return true
}

// exactSensitive matches the short names that are sensitive only whole.
func exactSensitive(l []byte) bool {
	switch len(l) {
	case 3:
		switch string(l) {
		case "pwd", "sid", "key", "otp", "pin", "jwt", "ssn", "cvv", "cvc":
			return true
		}
	case 4:
		switch string(l) {
		case "pass", "auth", "code", "iban":
			return true
		}
	case 5:
		switch string(l) {
		case "email", "phone":
			return true
		}
	}
	return false
}

var sensitiveParts = [...]string{
	"password", "passwd", "passphrase", "secret", "token", "apikey", "api_key", "api-key",
	"accesskey", "access_key", "privatekey", "private_key", "credential", "authorization",
	"sessionid", "session_id", "cookie", "csrf", "xsrf", "signature",
	"creditcard", "cardnumber", "cardnum", "ccnum", "mysql_pwd",
}

// sensitiveToken reports whether a word of name (split at anything but
// letters and digits, and where camelCase starts a word) is one that
// names personal data or a credential on its own, as Sentry's and Relay's
// scrubbers treat them: card_number, ccExp, pan, user_pwd, auth, cvv.
// Words, not substrings: "author", "discard" and "japan" are not. Like the
// parts, words are compared only where the two bytes at hand start one.
func sensitiveToken(name []byte) bool {
	for i := 0; i+2 <= len(name); i++ {
		m := tokenStart[name[i]] & tokenSecond[name[i+1]]
		if m == 0 || i > 0 && !wordBreak(name, i) {
			continue
		}
		for m != 0 {
			j := bits.TrailingZeros32(m)
			m &= m - 1
			w := sensitiveWords[j]
			if e := i + len(w); e <= len(name) && equalFold(name[i:e], w) && (e == len(name) || wordBreak(name, e)) {
				return true
			}
		}
	}
	return false
}

// wordBreak reports whether a word of name starts at i > 0.
func wordBreak(name []byte, i int) bool {
	c := class[name[i]]
	return c&(cDigit|cUpper|cLower) == 0 || class[name[i-1]]&(cDigit|cUpper|cLower) == 0 || c&cUpper != 0 && class[name[i-1]]&cLower != 0
}

var sensitiveWords = [...]string{
	"cc", "ip", "card", "ccn", "pan", "cvv", "cvc", "cvn", "pin", "pwd", "pass", "passwd", "auth", "secret",
	"ssn", "iban", "email", "mail", "phone", "mobile", "tel", "otp", "jwt", "token", "bearer",
}

// tokenStart and tokenSecond map a byte, in either case, to the set of
// sensitiveWords whose first (second) letter it is.
var tokenStart, tokenSecond = func() (s, t [256]uint32) {
	for j, w := range sensitiveWords {
		s[w[0]] |= 1 << j
		s[w[0]-32] |= 1 << j
		t[w[1]] |= 1 << j
		t[w[1]-32] |= 1 << j
	}
	return s, t
}()

// partStart maps a byte to the set (bit j: sensitiveParts[j]) of parts
// starting with it.
var partStart = func() (t [256]uint32) {
	for j, p := range sensitiveParts {
		t[p[0]] |= 1 << j
	}
	return t
}()

// partSecond maps a byte to the set of parts whose second byte it is.
var partSecond = func() (t [256]uint32) {
	for j, p := range sensitiveParts {
		t[p[1]] |= 1 << j
	}
	return t
}()

const (
	lo8 = 0x0101010101010101
	hi8 = 0x8080808080808080
	lo7 = 0x7f7f7f7f7f7f7f7f
)

// anchor marks the bytes at least one of which every match holds: digits
// and + , - . / : ; < = > ? @ (0x2B–0x40), %, _, ~, and the A and J of
// AKIA… keys and eyJ… tokens.
var anchor = func() (t [256]bool) {
	for c := 0x2B; c <= 0x40; c++ {
		t[c] = true
	}
	for _, c := range "%_~AJ" {
		t[c] = true
	}
	return t
}()

// mayMatchGo reports whether b holds an anchor byte; text without one
// (most words of a page) cannot match and skips the scan. It tests eight
// bytes at a time without branching: under wasm a branch per byte is what
// costs. Each word's test is exact, not just a filter.
//
// mayMatch is this function natively; under wasm it is written in
// assembly (maymatch_wasm.s), where Go takes every loop iteration through
// its function's dispatch loop. TestMayMatchAsm, run under wazero by `go
// tool task wasm:test-wasip1`, holds the two to the same results.
func mayMatchGo(b []byte) bool {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		v := binary.LittleEndian.Uint64(b[i:])
		x := v & lo7
		// Bytes strictly between 0x2A and 0x41, ASCII only.
		between := (lo8*(127+0x41) - x) & ^v & (x + lo8*(127-0x2A))
		eq := zero(v^(lo8*'%')) | zero(v^(lo8*'_')) | zero(v^(lo8*'~')) | zero(v^(lo8*'A')) | zero(v^(lo8*'J'))
		if (between|eq)&hi8 != 0 {
			return true
		}
	}
	for ; i < len(b); i++ {
		if anchor[b[i]] {
			return true
		}
	}
	return false
}

// MayMatch reports whether any detector could match in b: false means
// Detect finds nothing there, whatever the Set. It is a cheap test, eight
// bytes at a time, that a caller can run before costlier work.
func MayMatch(b []byte) bool { return mayMatch(b) }

// zero sets the high bit of each zero byte of v (and maybe of bytes above
// a zero byte: callers only test for any).
func zero(v uint64) uint64 { return (v - lo8) & ^v & hi8 }
