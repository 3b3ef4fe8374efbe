package sdkproto

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readVectors(tb testing.TB) map[string][]byte {
	tb.Helper()
	files, err := filepath.Glob("testdata/valid/*.json")
	if err != nil || len(files) == 0 {
		tb.Fatalf("no golden vectors: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

func TestDecodeGoldenVectors(t *testing.T) {
	for name, data := range readVectors(t) {
		t.Run(name, func(t *testing.T) {
			b, rej, err := Decode(data, DefaultLimits())
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if len(rej) != 0 {
				t.Fatalf("rejected: %+v", rej)
			}
			var generic struct {
				Events []json.RawMessage `json:"events"`
			}
			if err := json.Unmarshal(data, &generic); err != nil {
				t.Fatal(err)
			}
			if len(b.Events) != len(generic.Events) {
				t.Fatalf("decoded %d events, vector has %d", len(b.Events), len(generic.Events))
			}
			// Round trip: what we encode decodes to the same batch.
			enc, err := Encode(b)
			if err != nil {
				t.Fatal(err)
			}
			b2, _, err := Decode(enc, DefaultLimits())
			if err != nil {
				t.Fatalf("decode re-encoded: %v", err)
			}
			enc2, _ := Encode(b2)
			if !bytes.Equal(enc, enc2) {
				t.Fatalf("round trip differs:\n%s\n%s", enc, enc2)
			}
		})
	}
}

// mutate returns the error vector with fn applied to its decoded form.
func mutate(t *testing.T, fn func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readVectors(t)["error-batch.json"], &m); err != nil {
		t.Fatal(err)
	}
	fn(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func events(m map[string]any) []any { return m["events"].([]any) }

func TestDecodeRejects(t *testing.T) {
	deep := strings.Repeat("[", 300) + strings.Repeat("]", 300)
	cases := []struct {
		name string
		body []byte
		code Code
		path string
		msg  string
	}{
		{"empty", []byte(""), CodeSyntax, "", "malformed JSON"},
		{"truncated", []byte(`{"v":1,"sdk":{"name":"x"`), CodeSyntax, "sdk.name", "unexpected end"},
		{"trailing data", append(readVectors(t)["vitals-batch.json"], []byte(` {}`)...), CodeSyntax, "", "malformed JSON"},
		{"not an object", []byte(`[1,2]`), CodeInvalid, "", "expected object, got array"},
		{"too deep", []byte(`{"v":1,"events":` + deep + `}`), CodeTooDeep, "events" + strings.Repeat("[0]", 255), "depth 256"},
		{"wrong version", mutate(t, func(m map[string]any) { m["v"] = 2 }), CodeVersion, "v", "version 2"},
		{"unknown top-level field", mutate(t, func(m map[string]any) { m["ip"] = "1.2.3.4" }), CodeUnknownField, "", `unknown field "ip"`},
		{"session id missing", mutate(t, func(m map[string]any) { delete(m["session"].(map[string]any), "id") }), CodeInvalid, "session.id", "required"},
		{"seq wrong type", mutate(t, func(m map[string]any) { m["session"].(map[string]any)["seq"] = "three" }), CodeInvalid, "session.seq", "expected integer, got string"},
		{"no events", mutate(t, func(m map[string]any) { m["events"] = []any{} }), CodeInvalid, "events", "no events"},
		{"too many events", mutate(t, func(m map[string]any) {
			ev := events(m)
			for len(ev) <= 500 {
				ev = append(ev, ev[1])
			}
			m["events"] = ev
		}), CodeTooMany, "events", "501 events exceed"},
		{"string too long", mutate(t, func(m map[string]any) {
			m["page"].(map[string]any)["url"] = strings.Repeat("a", 1<<20+1)
		}), CodeTooLong, "page.url", "exceeds"},
		{"all events invalid", mutate(t, func(m map[string]any) {
			m["events"] = []any{map[string]any{"id": "x", "ts": 1, "kind": "nope"}}
		}), CodeInvalid, "events[0].kind", `unknown kind "nope"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Decode(tc.body, DefaultLimits())
			if err == nil {
				t.Fatal("decoded without error")
			}
			de, ok := err.(*DecodeError)
			if !ok {
				t.Fatalf("error %T is not *DecodeError: %v", err, err)
			}
			if de.Code != tc.code || de.Path != tc.path || !strings.Contains(de.Msg, tc.msg) {
				t.Fatalf("got code=%s path=%q msg=%q; want code=%s path=%q msg~%q", de.Code, de.Path, de.Msg, tc.code, tc.path, tc.msg)
			}
		})
	}
}

func TestDecodeKeepsGoodEvents(t *testing.T) {
	cases := []struct {
		name string
		bad  any
		path string
		msg  string
	}{
		{"bad trace id", map[string]any{"id": "bad-1", "ts": 5, "kind": "error", "error": map[string]any{"type": "E", "mechanism": "manual", "trace_id": "xyz"}}, "events[2].error.trace_id", "32 lowercase hex"},
		{"frame line wrong type", map[string]any{"id": "bad-2", "ts": 5, "kind": "error", "error": map[string]any{"type": "E", "mechanism": "manual", "stack": []any{map[string]any{"url": "u"}, map[string]any{"url": "u", "line": "x"}}}}, "events[2].error.stack[1].line", "expected integer"},
		{"payload mismatch", map[string]any{"id": "bad-3", "ts": 5, "kind": "vital", "error": map[string]any{"type": "E"}}, "events[2].vital", "required for kind vital"},
		{"unknown field in event", map[string]any{"id": "bad-4", "ts": 5, "kind": "session", "session": map[string]any{"state": "start"}, "email": "a@b.c"}, "events[2]", `unknown field "email"`},
		{"NaN-like vital", map[string]any{"id": "bad-5", "ts": 5, "kind": "vital", "vital": map[string]any{"name": "LCP", "value": -1}}, "events[2].vital.value", "finite, non-negative"},
		{"empty replay", map[string]any{"id": "bad-6", "ts": 5, "kind": "replay", "replay": map[string]any{"segment": 0, "events": []any{}}}, "events[2].replay.events", "must not be empty"},
		{"duplicate id", map[string]any{"id": "e-0001", "ts": 5, "kind": "session", "session": map[string]any{"state": "end"}}, "events[2].id", "duplicate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := mutate(t, func(m map[string]any) { m["events"] = append(events(m), tc.bad) })
			b, rej, err := Decode(body, DefaultLimits())
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if len(b.Events) != 2 {
				t.Fatalf("kept %d events, want the 2 good ones", len(b.Events))
			}
			if len(rej) != 1 || rej[0].Index != 2 || rej[0].Path != tc.path || !strings.Contains(rej[0].Error, tc.msg) {
				t.Fatalf("rejected %+v; want index 2 path %q msg~%q", rej, tc.path, tc.msg)
			}
			// Also when the strict decoder refused the event's JSON
			// before validation could read it.
			if id := tc.bad.(map[string]any)["id"]; rej[0].ID != id {
				t.Fatalf("rejected event's id %q, want %q", rej[0].ID, id)
			}
		})
	}
}

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// TestInvalidVectors pins what the decoder says about the batches in
// testdata/invalid (want.json): the batch-level error's code and JSON path,
// or which events it rejects and how many it keeps. Third-party SDKs test
// their error handling against the same files.
func TestInvalidVectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/invalid/want.json")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]struct {
		Code     Code     `json:"code"`
		Path     string   `json:"path"`
		Rejected []string `json:"rejected"`
		Kept     int      `json:"kept"`
	}
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatalf("want.json: %v", err)
	}
	files, _ := filepath.Glob("testdata/invalid/*.json")
	if len(files) != len(want)+1 {
		t.Fatalf("%d vectors for %d expectations", len(files)-1, len(want))
	}
	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata/invalid", name))
			if err != nil {
				t.Fatal(err)
			}
			b, rej, err := Decode(data, DefaultLimits())
			var de *DecodeError
			if w.Code != "" {
				if !errors.As(err, &de) || de.Code != w.Code || de.Path != w.Path {
					t.Fatalf("got %v, want %s at %q", err, w.Code, w.Path)
				}
			} else if err != nil {
				t.Fatalf("got %v, want a batch", err)
			} else if len(b.Events) != w.Kept {
				t.Fatalf("kept %d events, want %d", len(b.Events), w.Kept)
			}
			var paths []string
			for _, r := range rej {
				paths = append(paths, r.Path)
			}
			if strings.Join(paths, " ") != strings.Join(w.Rejected, " ") {
				t.Fatalf("rejected %v, want %v", paths, w.Rejected)
			}
		})
	}
}

func TestReadBody(t *testing.T) {
	lim := Limits{MaxCompressed: 1000, MaxBody: 5000}
	bomb := gz(t, make([]byte, 10<<20))
	cases := []struct {
		name, enc string
		body      []byte
		lim       Limits // zero: lim
		want      int
		code      Code
	}{
		{"plain", "", []byte(`{"a":1}`), Limits{}, 7, ""},
		{"gzip header", "gzip", gz(t, []byte(`{"a":1}`)), Limits{}, 7, ""},
		{"gzip sniffed for sendBeacon", "", gz(t, []byte(`{"a":1}`)), Limits{}, 7, ""},
		{"too large on the wire", "", make([]byte, 1001), Limits{}, 0, CodeTooLarge},
		// The bomb is under the wire cap and inflates past the decoded one.
		{"gzip bomb", "gzip", bomb, Limits{MaxCompressed: int64(len(bomb)), MaxBody: 5000}, 0, CodeTooLarge},
		{"plain within both caps", "", bytes.Repeat([]byte(" "), 999), Limits{}, 999, ""},
		// A plain body under the wire cap is still held to the decoded one.
		{"plain over decoded cap", "", bytes.Repeat([]byte(" "), 999), Limits{MaxCompressed: 1000, MaxBody: 500}, 0, CodeTooLarge},
		{"header says gzip, body is not", "gzip", []byte(`{}`), Limits{}, 0, CodeEncoding},
		{"unsupported encoding", "br", []byte(`{}`), Limits{}, 0, CodeEncoding},
		{"corrupt gzip", "gzip", append(gz(t, []byte(`{"a":1}`))[:12], 0, 0, 0), Limits{}, 0, CodeEncoding},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := lim
			if tc.lim != (Limits{}) {
				l = tc.lim
			}
			out, err := ReadBody(bytes.NewReader(tc.body), tc.enc, l)
			if CodeOf(err) != tc.code {
				t.Fatalf("got err %v, want code %q", err, tc.code)
			}
			if err == nil && len(out) != tc.want {
				t.Fatalf("got %d bytes, want %d", len(out), tc.want)
			}
		})
	}
}

func TestSubject(t *testing.T) {
	s := Subject("eu", "shop", KindError)
	r, p, k, err := ParseSubject(s)
	if err != nil || r != "eu" || p != "shop" || k != KindError {
		t.Fatalf("ParseSubject(%q) = %q %q %q %v", s, r, p, k, err)
	}
	if _, _, _, err := ParseSubject("rv.ingest.eu"); err == nil {
		t.Fatal("short subject parsed")
	}
	for s, want := range map[string]bool{"eu": true, "us-east-1": true, "": false, "EU": false, "a.b": false, "a*": false, strings.Repeat("a", 33): false} {
		if ValidToken(s) != want {
			t.Errorf("ValidToken(%q) = %v", s, !want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, v := range readVectors(f) {
		f.Add(v)
	}
	invalid, _ := filepath.Glob("testdata/invalid/*.json")
	for _, p := range invalid {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"v":1,"events":[{"id":"a","ts":1,"kind":"error","error":{"type":"x","mechanism":"manual"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, rej, err := Decode(data, DefaultLimits())
		if err != nil {
			if _, ok := err.(*DecodeError); !ok {
				t.Fatalf("error %T is not *DecodeError", err)
			}
			return
		}
		if len(b.Events) == 0 {
			t.Fatal("batch with no events decoded")
		}
		for _, r := range rej {
			if !strings.HasPrefix(r.Path, "events[") {
				t.Fatalf("rejected path %q outside events", r.Path)
			}
		}
		enc, err := Encode(b)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := Decode(enc, DefaultLimits()); err != nil {
			t.Fatalf("re-decode of accepted batch failed: %v", err)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	data := benchBatch(b, 50)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Decode(data, DefaultLimits()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "batches/s")
}

// benchBatch builds a batch of n error events from the golden error vector.
func benchBatch(tb testing.TB, n int) []byte {
	var m map[string]any
	if err := json.Unmarshal(readVectors(tb)["error-batch.json"], &m); err != nil {
		tb.Fatal(err)
	}
	proto := m["events"].([]any)[0].(map[string]any)
	var ev []any
	for i := range n {
		e := map[string]any{}
		for k, v := range proto {
			e[k] = v
		}
		e["id"] = "e-" + strings.Repeat("0", 4) + string(rune('a'+i%26)) + string(rune('a'+i/26))
		ev = append(ev, e)
	}
	m["events"] = ev
	out, _ := json.Marshal(m)
	return out
}
