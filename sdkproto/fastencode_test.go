package sdkproto

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

// checkEncode holds Encode to json.Marshal: the same bytes, or the same
// error.
func checkEncode(t *testing.T, b *Batch) {
	t.Helper()
	got, err := Encode(b)
	want, werr := json.Marshal(b)
	if werr != nil {
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(werr.Error())) {
			t.Fatalf("Encode: %v; json.Marshal: %v", err, werr)
		}
		return
	}
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Encode (%v)\n%.400s\njson.Marshal\n%.400s", err, got, want)
	}
}

func TestEncodeMatchesMarshal(t *testing.T) {
	for name, data := range readVectors(t) {
		b, _, err := Decode(data, DefaultLimits())
		if err != nil {
			t.Fatal(name, err)
		}
		checkEncode(t, b)
	}
	var full Batch
	fill(reflect.ValueOf(&full).Elem())
	checkEncode(t, &full)
	strs := []string{"", "plain", `q"b\s`, "<a href='x'>&amp;</a>", "\x00\x01\b\f\n\r\t\x1f\x7f", "caf\u00e9 \u2028 \u2029 \U0001F600",
		"bad \xff\xfe utf8 \xe2\x82", "\xed\xa0\x80 surrogate in UTF-8"}
	for _, s := range strs {
		b := full
		b.Page.URL = s
		b.Session.Flags = SessionFlags{}
		b.Device.Screen = nil
		b.Events = []Event{{ID: s, TS: 1, Kind: Kind(s), Error: &Error{Type: s, Tags: map[string]string{s: s, "a" + s: "b", "": ""}}}}
		checkEncode(t, &b)
	}
	for _, f := range []float64{0, math.Copysign(0, -1), 1, -1.5, 1e-6, 9.99e-7, 1e20, 1e21, 123456789.123, 1e-9, 5e-324, math.MaxFloat64, math.NaN(), math.Inf(1), math.Inf(-1)} {
		b := full
		b.Device.DPR = f
		b.Events = []Event{{ID: "v", TS: 1, Kind: KindVital, Vital: &Vital{Name: "LCP", Value: f, Delta: f}}}
		checkEncode(t, &b)
	}
	for _, raw := range []string{`[1, 2 ,{"a" : "b"}]`, "[\"<script>&\u2028\u2029\"]", `[`, ``, `nul`, "[\"\xff\"]", `{"x":[true,false,null,-1.5e3]}`} {
		b := full
		b.Events = []Event{{ID: "r", TS: 1, Kind: KindReplay, Replay: &Replay{Events: json.RawMessage(raw)}}}
		checkEncode(t, &b)
	}
	b := full
	b.Events = nil
	checkEncode(t, &b)
	b.Events = []Event{{Replay: &Replay{}}}
	checkEncode(t, &b)
	checkEncode(t, &Batch{})
	checkEncode(t, nil)
}

// FuzzEncode holds Encode to json.Marshal on whatever Unmarshal makes of
// the fuzzer's bytes (seeded like FuzzFastDecode).
func FuzzEncode(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	for _, c := range fastCases() {
		if len(c.data) < 1<<16 {
			f.Add(c.data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var b Batch
		if json.Unmarshal(data, &b) != nil {
			return
		}
		checkEncode(t, &b)
	})
}
