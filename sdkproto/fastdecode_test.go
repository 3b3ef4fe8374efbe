package sdkproto

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/rearview-dev/rearview/wasm/testbatch"
)

// smallLimits make the string and depth caps bite on small inputs, so that
// the fuzzer reaches the fast path's own checks of them.
var smallLimits = Limits{MaxBody: 1 << 20, MaxEvents: 3, MaxString: 24, MaxDepth: 7}

// checkFast is the differential check: whatever fastDecode accepts,
// encoding/json's strict decode must accept too, into a deep-equal Batch,
// and walk must find within lim; and Decode, with its fast path, must answer
// exactly what decodeSlow (Decode on encoding/json alone, as it was before
// the fast path) answers. It reports whether the fast path took data.
func checkFast(t *testing.T, data []byte, lim Limits) bool {
	t.Helper()
	var fast Batch
	ok := fastDecode(data, lim, &fast)
	if ok {
		var want Batch
		if err := strictUnmarshal(data, &want); err != nil {
			t.Fatalf("fast path accepted what encoding/json refuses (%v): %.300q", err, data)
		}
		if _, e := walk(data, lim, -1); e != nil {
			t.Fatalf("fast path accepted what walk refuses (%v): %.300q", e, data)
		}
		if !reflect.DeepEqual(fast, want) {
			t.Fatalf("fast path decoded\n%#v\nencoding/json\n%#v\nfrom %.300q", fast, want, data)
		}
	} else if !reflect.DeepEqual(fast, Batch{}) {
		t.Fatalf("fast path refused but left %#v", fast)
	}
	// Unmarshal, for readers of validated batches, is json.Unmarshal.
	var u, ju Batch
	uerr, jerr := Unmarshal(data, &u), json.Unmarshal(data, &ju)
	if (uerr == nil) != (jerr == nil) || !reflect.DeepEqual(u, ju) {
		t.Fatalf("Unmarshal: %v\n%#v\njson.Unmarshal: %v\n%#v\nfor %.300q", uerr, u, jerr, ju, data)
	}
	b, rej, err := Decode(data, lim)
	if lim.MaxBody > 0 && int64(len(data)) > lim.MaxBody {
		// Decode's first check, before either path.
		if CodeOf(err) != CodeTooLarge {
			t.Fatalf("body over MaxBody decoded: %v", err)
		}
		return ok
	}
	wb, wrej, werr := decodeSlow(data, lim, false)
	if !reflect.DeepEqual(b, wb) || !reflect.DeepEqual(rej, wrej) || !reflect.DeepEqual(err, werr) {
		t.Fatalf("Decode answered\n%#v %#v %v\nencoding/json alone\n%#v %#v %v\nfor %.300q", b, rej, err, wb, wrej, werr, data)
	}
	return ok
}

func TestFastDecodeTakesTheVectors(t *testing.T) {
	for name, data := range readVectors(t) {
		t.Run(name, func(t *testing.T) {
			if !checkFast(t, data, DefaultLimits()) {
				t.Fatal("fast path refused a golden vector")
			}
		})
	}
	for _, data := range [][]byte{testbatch.Errors(20), testbatch.Replay(8 << 10), testbatch.Dense(7, 16<<10)} {
		if !checkFast(t, data, DefaultLimits()) {
			t.Fatalf("fast path refused a test batch: %.200s", data)
		}
	}
}

// TestFastDecodeMatchesEncodingJSON pins the corners where a hand-written
// decoder most easily parts from encoding/json (fastCases, also seeds of
// FuzzFastDecode).
func TestFastDecodeMatchesEncodingJSON(t *testing.T) {
	for _, tc := range fastCases() {
		t.Run(tc.name, func(t *testing.T) {
			if got := checkFast(t, tc.data, DefaultLimits()); tc.take && !got {
				t.Fatalf("fast path gave up on %.300q", tc.data)
			}
			checkFast(t, tc.data, smallLimits)
		})
	}
}

// fastCase is a body for checkFast; take says whether the fast path must
// take it itself (false: it may give up, and Decode then answers from
// encoding/json).
type fastCase struct {
	name string
	data []byte
	take bool
}

func fastCases() []fastCase {
	const head = `{"v":1,"sdk":{"name":"s","version":"1"},"session":{"id":"s1","seq":1,"started_at":1,"flags":{}},"page":{"url":"u"},"device":{"ua":"a","viewport":{"w":1,"h":2}},"sent_at":5,"events":[`
	ev := func(s string) []byte { return []byte(head + s + `]}`) }
	errEv := func(fields string) []byte {
		return ev(`{"id":"e1","ts":1,"kind":"error","error":{"type":"T","mechanism":"manual"` + fields + `}}`)
	}
	return []fastCase{
		{"plain", errEv(``), true},
		{"white space everywhere", []byte(" \n" + strings.ReplaceAll(string(errEv(`,"value":"a b"`)), ",", " ,\t") + "\r\n"), true},
		{"escapes", errEv(`,"value":"a\"b\\c\/d\b\f\n\r\t\u0041\u00e9\u20ac"`), true},
		{"surrogate pair", errEv(`,"value":"\ud83d\ude00"`), true},
		{"lone high surrogate", errEv(`,"value":"a\ud800b"`), true},
		{"lone low surrogate", errEv(`,"value":"\udc00"`), true},
		{"high surrogate then escape", errEv(`,"value":"\ud800\u0041"`), true},
		{"two high surrogates", errEv(`,"value":"\ud800\ud800\udc00"`), true},
		{"high surrogate at end", errEv(`,"value":"\ud83d"`), true},
		{"invalid UTF-8 byte", errEv(",\"value\":\"a\xffb\""), true},
		{"truncated UTF-8", errEv(",\"value\":\"\xe2\x82\""), true},
		{"overlong UTF-8", errEv(",\"value\":\"\xc0\xaf\""), true},
		{"UTF-8 surrogate", errEv(",\"value\":\"\xed\xa0\x80\""), true},
		{"invalid UTF-8 with escapes", errEv(",\"value\":\"\\n\xff\\u00e9\xfe\""), true},
		{"invalid UTF-8 in map key", errEv(",\"tags\":{\"k\xff\":\"v\"}"), true},
		{"escaped map key", errEv(`,"tags":{"\u006b":"v","k\n":"w"}`), true},
		{"duplicate map key", errEv(`,"tags":{"k":"v","k":"w"}`), true},
		{"empty map and slices", errEv(`,"tags":{},"stack":[],"breadcrumbs":[],"fingerprint":[]`), true},
		{"fingerprint", errEv(`,"fingerprint":["a","b\u00e9"]`), true},
		{"every field", ev(`{"id":"e1","ts":1,"kind":"error","error":{"type":"T","value":"v","level":"error","mechanism":"onerror","handled":true,"stack":[{"url":"u","function":"f","line":1,"column":2}],"release":"r","dist":"d","environment":"e","url":"u","tags":{"a":"b"},"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","breadcrumbs":[{"ts":1,"category":"fetch","level":"info","message":"m","selector":"s","url":"u","http":{"method":"GET","url":"u","status":200,"duration_ms":1.5,"trace_id":"t","request_headers":{"a":"b"},"request_body":"q","response_headers":{"c":"d"},"response_body":"r"},"data":{"x":"y"}}],"debug_ids":{"u":"d"},"fingerprint":["f"]}},` +
			`{"id":"v1","ts":2,"kind":"vital","vital":{"name":"LCP","value":1.25e3,"delta":-0.5,"rating":"good","navigation_type":"navigate","metric_id":"m","url":"u","attribution":{"a":"b"}}},` +
			`{"id":"r1","ts":3,"kind":"replay","replay":{"segment":0,"events":[ {"type":4} , 1, "x", true, null ],"from_buffer":true,"end_ts":9}},` +
			`{"id":"b1","ts":4,"kind":"breadcrumb","breadcrumb":{"category":"ui.click"}},` +
			`{"id":"s1","ts":5,"kind":"session","session":{"state":"start","url":"u"}}`), true},
		{"device in full", []byte(strings.Replace(string(errEv(``)), `"device":{"ua":"a","viewport":{"w":1,"h":2}}`, `"device":{"ua":"a","viewport":{"w":1,"h":2},"screen":{"w":3,"h":4},"dpr":2.5,"language":"en","timezone":"UTC","connection":"4g","webdriver":true,"headless":false}`, 1)), true},
		{"flags and user", []byte(strings.Replace(string(errEv(``)), `"flags":{}`, `"user_id":"u","flags":{"error":true,"support":false,"synthetic":true}`, 1)), true},
		{"kind not of this version", ev(`{"id":"e1","ts":1,"kind":"nope"}`), true},
		{"escaped kind", ev(`{"id":"e1","ts":1,"kind":"\u0065rror","error":{"type":"T","mechanism":"manual"}}`), true},
		{"negative zero", errEv(`,"stack":[{"url":"u","line":-0}]`), true},
		{"largest int64", ev(`{"id":"e1","ts":9223372036854775807,"kind":"session","session":{"state":"start"}}`), true},
		{"smallest int64", ev(`{"id":"e1","ts":-9223372036854775808,"kind":"session","session":{"state":"start"}}`), true},
		{"18 digits", ev(`{"id":"e1","ts":999999999999999999,"kind":"session","session":{"state":"start"}}`), true},
		{"int64 overflow", ev(`{"id":"e1","ts":9223372036854775808,"kind":"session","session":{"state":"start"}}`), false},
		{"float where int", errEv(`,"stack":[{"url":"u","line":1.0}]`), false},
		{"exponent where int", errEv(`,"stack":[{"url":"u","line":1e2}]`), false},
		{"float overflow", ev(`{"id":"v1","ts":2,"kind":"vital","vital":{"name":"LCP","value":1e400}}`), false},
		{"float underflow", ev(`{"id":"v1","ts":2,"kind":"vital","vital":{"name":"LCP","value":1e-400}}`), true},
		{"string where int", errEv(`,"stack":[{"url":"u","line":"1"}]`), false},
		{"int where string", errEv(`,"value":1`), false},
		{"int where bool", errEv(`,"handled":1`), false},
		{"object where map of strings", errEv(`,"tags":{"a":{"b":"c"}}`), false},
		{"null scalar", errEv(`,"value":null`), false},
		{"null object", errEv(`,"tags":null`), false},
		{"null pointer", ev(`{"id":"e1","ts":1,"kind":"error","error":null}`), false},
		{"null map value", errEv(`,"tags":{"a":null}`), false},
		{"null replay events", ev(`{"id":"r1","ts":3,"kind":"replay","replay":{"segment":0,"events":null}}`), false},
		{"null events", []byte(head[:len(head)-1] + `null}`), false},
		{"unknown field", errEv(`,"email":"a@b.c"`), false},
		{"field in other case", errEv(`,"Value":"x"`), false},
		{"field by Kelvin sign", []byte(strings.Replace(string(errEv(``)), `"kind"`, "\"\u212aind\"", 1)), false},
		{"escaped field name", errEv(`,"v\u0061lue":"x"`), false},
		{"duplicate scalar", errEv(`,"value":"x","value":"y"`), false},
		{"duplicate object", errEv(`,"stack":[{"url":"u","line":1,"line":2}]`), false},
		{"duplicate map", errEv(`,"tags":{"a":"b"},"tags":{"c":"d"}`), false},
		{"duplicate pointer", ev(`{"id":"e1","ts":1,"kind":"error","error":{"type":"T"},"error":{"mechanism":"manual"}}`), false},
		{"duplicate events", []byte(head + `{"id":"a","ts":1,"kind":"session","session":{"state":"start"}}],"events":[{"id":"b","ts":1,"kind":"session","session":{"state":"end"}}]}`), false},
		{"trailing data", append(errEv(``), " {}"...), false},
		{"trailing vertical tab", append(errEv(``), '\v'), false},
		{"trailing NBSP", append(errEv(``), "\u00a0"...), false},
		{"top level array", []byte(`[1]`), false},
		{"empty", nil, false},
		{"truncated", errEv(``)[:50], false},
		{"missing comma", []byte(strings.Replace(string(errEv(``)), `,"ts"`, ` "ts"`, 1)), false},
		{"trailing comma", errEv(`,`), false},
		{"control character", errEv(",\"value\":\"a\tb\""), false},
		{"bad escape", errEv(`,"value":"\x"`), false},
		{"bad unicode escape", errEv(`,"value":"\u12g4"`), false},
		{"leading zero", errEv(`,"stack":[{"url":"u","line":01}]`), false},
		{"bad literal in replay", ev(`{"id":"r1","ts":3,"kind":"replay","replay":{"segment":0,"events":[nul]}}`), false},
		{"long string", errEv(`,"value":"` + strings.Repeat("x", 1<<20+1) + `"`), false},
		{"long key is no string", errEv(`,"tags":{"` + strings.Repeat("k", 1<<20+1) + `":"v"}`), true},
		// events[0].replay.events opens at depth 4 (batch, events, the
		// event, replay): its 252nd nested array opens at 255, the last
		// the default cap of 256 allows.
		{"replay at the depth cap", ev(`{"id":"r1","ts":3,"kind":"replay","replay":{"segment":0,"events":` + strings.Repeat("[", 252) + strings.Repeat("]", 252) + `}}`), true},
		{"replay too deep", ev(`{"id":"r1","ts":3,"kind":"replay","replay":{"segment":0,"events":` + strings.Repeat("[", 253) + strings.Repeat("]", 253) + `}}`), false},
		{"validation refuses, JSON fine", errEv(`,"trace_id":"xyz"`), true},
	}
}

// TestFastDecodeInvalidUTF8 spells out what the differential check
// implies: invalid UTF-8 and lone surrogates become U+FFFD, one per
// invalid byte, as encoding/json makes them.
func TestFastDecodeInvalidUTF8(t *testing.T) {
	for in, want := range map[string]string{
		"a\xffb":              "a\uFFFDb",
		"\xe2\x82":            "\uFFFD\uFFFD",
		"\xc0\xaf":            "\uFFFD\uFFFD",
		`\ud800x`:             "\uFFFDx",
		`\ud83d\ude00`:        "\U0001F600",
		"\xff\\n\u00e9":       "\uFFFD\n\u00e9",
		"caf\u00e9, plain ok": "caf\u00e9, plain ok",
	} {
		data := []byte(`{"v":1,"sdk":{"name":"s","version":"1"},"session":{"id":"s1","seq":1,"started_at":1,"flags":{}},"page":{"url":"` + in + `"},"device":{"ua":"a","viewport":{"w":1,"h":2}},"sent_at":5,"events":[]}`)
		var b Batch
		if !fastDecode(data, DefaultLimits(), &b) {
			t.Fatalf("fast path gave up on %q", in)
		}
		if b.Page.URL != want {
			t.Errorf("%q decoded to %q, want %q", in, b.Page.URL, want)
		}
		checkFast(t, data, DefaultLimits())
	}
}

// fuzzSeeds are the batches the repository already holds: sdkproto's
// vectors, the policy module's corpus and golden outputs, the test
// batches, and the corpora of the fuzzers that decode batches.
func fuzzSeeds(tb testing.TB) [][]byte {
	var out [][]byte
	for _, pattern := range []string{"testdata/valid/*.json", "testdata/invalid/*.json", "../wasm/testdata/corpus/*.json"} {
		files, _ := filepath.Glob(pattern)
		for _, f := range files {
			if b, err := os.ReadFile(f); err == nil {
				out = append(out, b)
			}
		}
	}
	golden, _ := filepath.Glob("../wasm/testdata/golden/*.out")
	for _, f := range golden {
		// A module's answer: a binary header, then the batch it forwards.
		if b, err := os.ReadFile(f); err == nil && bytes.IndexByte(b, '{') >= 0 {
			out = append(out, b[bytes.IndexByte(b, '{'):])
		}
	}
	corpus, _ := filepath.Glob("../wasm/engine/testdata/fuzz/FuzzHandle/*")
	for _, f := range corpus {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if q, ok := strings.CutPrefix(line, "[]byte("); ok {
				if s, err := strconv.Unquote(strings.TrimSuffix(q, ")")); err == nil {
					out = append(out, []byte(s))
				}
			}
		}
	}
	out = append(out, testbatch.Errors(3), testbatch.Replay(2<<10), testbatch.Dense(1, 2<<10))
	return out
}

// FuzzFastDecode is the differential check (checkFast) under the fuzzer,
// with the edge's limits and with small ones.
func FuzzFastDecode(f *testing.F) {
	seeds := fuzzSeeds(f)
	if len(seeds) < 30 {
		f.Fatalf("only %d seeds", len(seeds))
	}
	for _, s := range seeds {
		f.Add(s)
	}
	for _, c := range fastCases() {
		if len(c.data) < 1<<16 {
			f.Add(c.data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFast(t, data, DefaultLimits())
		checkFast(t, data, smallLimits)
	})
}

// TestFastDecodeKnowsEveryField fills every field of a Batch, down to the
// last nested one, and requires the fast path to take its JSON: a field
// added to the types but not to fastdecode.go would otherwise send every
// batch that carries it down the slow path, correct but silently slow.
func TestFastDecodeKnowsEveryField(t *testing.T) {
	var b Batch
	fill(reflect.ValueOf(&b).Elem())
	data, err := json.Marshal(&b)
	if err != nil {
		t.Fatal(err)
	}
	var got Batch
	if !fastDecode(data, DefaultLimits(), &got) {
		t.Fatalf("fast path refused a batch with every field set; does fastdecode.go know them all?\n%s", data)
	}
	if !reflect.DeepEqual(got, b) {
		t.Fatalf("fast path decoded\n%#v\nwant\n%#v", got, b)
	}
}

// fill sets every field of v to a value that is not its zero.
func fill(v reflect.Value) {
	if v.Type() == reflect.TypeOf(json.RawMessage(nil)) {
		v.SetBytes([]byte(`[{"type":2}]`))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i))
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem())
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0))
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		v.SetMapIndex(reflect.ValueOf("k"), reflect.ValueOf("v"))
	case reflect.String:
		v.SetString("x")
	case reflect.Int, reflect.Int64:
		v.SetInt(7)
	case reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Bool:
		v.SetBool(true)
	default:
		panic("fill: no value for " + v.Type().String())
	}
}
