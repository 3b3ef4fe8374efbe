package sentry

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
)

func TestParse(t *testing.T) {
	const hdr = `{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","dsn":"https://rvk_abc@edge.example.com/42"}` + "\n"
	for _, c := range []struct {
		name, in string
		status   int    // 0: parses
		msg      string // part of the error
		types    []string
		payloads []string
	}{
		{name: "header only", in: hdr, types: nil},
		{name: "header without newline", in: strings.TrimSpace(hdr)},
		{name: "item with length", in: hdr + `{"type":"event","length":7}` + "\n" + `{"a":1}` + "\n", types: []string{"event"}, payloads: []string{`{"a":1}`}},
		{name: "length, no trailing newline", in: hdr + `{"type":"event","length":7}` + "\n" + `{"a":1}`, types: []string{"event"}, payloads: []string{`{"a":1}`}},
		{name: "payload with a newline inside its length", in: hdr + `{"type":"attachment","length":3}` + "\na\nb\n", types: []string{"attachment"}, payloads: []string{"a\nb"}},
		{name: "implicit length", in: hdr + `{"type":"event"}` + "\n" + `{"a":1}` + "\n" + `{"type":"session"}` + "\n{}", types: []string{"event", "session"}, payloads: []string{`{"a":1}`, `{}`}},
		{name: "blank lines between items", in: hdr + "\n" + `{"type":"event"}` + "\n{}\n\n", types: []string{"event"}, payloads: []string{"{}"}},
		{name: "empty", in: "", status: 400, msg: "empty envelope"},
		{name: "header not JSON", in: "hello\n", status: 400, msg: "envelope header"},
		{name: "header an array", in: "[1]\n", status: 400, msg: "envelope header"},
		{name: "truncated header", in: `{"event_id":"9ec7`, status: 400, msg: "envelope header"},
		{name: "item header not JSON", in: hdr + "{type:event}\n{}\n", status: 400, msg: "item 0: header"},
		{name: "item header without type", in: hdr + `{"length":2}` + "\n{}\n", status: 400, msg: "no type"},
		{name: "length that runs past the end", in: hdr + `{"type":"event","length":100}` + "\n{}\n", status: 400, msg: "runs past the end"},
		{name: "length too short", in: hdr + `{"type":"event","length":2}` + "\n" + `{"a":1}` + "\n", status: 400, msg: "not followed by a newline"},
		{name: "negative length", in: hdr + `{"type":"event","length":-1}` + "\n{}\n", status: 400, msg: "non-negative"},
		{name: "length not a number", in: hdr + `{"type":"event","length":"7"}` + "\n{}\n", status: 400, msg: "non-negative"},
		{name: "event over 1 MiB", in: hdr + `{"type":"event"}` + "\n" + `{"m":"` + strings.Repeat("x", 1<<20) + `"}` + "\n", status: 413, msg: "exceed the limit"},
		{name: "too many items", in: hdr + strings.Repeat(`{"type":"session"}`+"\n{}\n", 1001), status: 413, msg: "more than 1000 items"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env, err := Parse([]byte(c.in), DefaultLimits())
			if c.status != 0 {
				e, ok := err.(*Error)
				if !ok || e.Status != c.status || !strings.Contains(e.Msg, c.msg) {
					t.Fatalf("Parse: %v (%T), want %d %q", err, err, c.status, c.msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(env.Items) != len(c.types) {
				t.Fatalf("%d items, want %v", len(env.Items), c.types)
			}
			for i, it := range env.Items {
				if it.Type != c.types[i] || string(it.Payload) != c.payloads[i] {
					t.Errorf("item %d: %s %q, want %s %q", i, it.Type, it.Payload, c.types[i], c.payloads[i])
				}
			}
		})
	}
}

func TestParseRealEnvelopes(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.envelope")
	if len(files) == 0 {
		t.Fatal("no testdata envelopes")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		env, err := Parse(b, DefaultLimits())
		if err != nil || len(env.Items) == 0 || env.Header.SDK == nil || env.Header.SDK.Name != "sentry.javascript.browser" {
			t.Errorf("%s: %v %+v", f, err, env)
		}
	}
}

func TestReadBody(t *testing.T) {
	plain := []byte(`{"event_id":"abc"}` + "\n")
	var gz, zl, br bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write(plain)
	gw.Close()
	zw := zlib.NewWriter(&zl)
	zw.Write(plain)
	zw.Close()
	bw := brotli.NewWriter(&br)
	bw.Write(plain)
	bw.Close()
	bomb := func() []byte { // 16 MiB of zeros, gzip: 16 KiB on the wire
		var b bytes.Buffer
		w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zero := make([]byte, 1<<20)
		for range 16 {
			w.Write(zero)
		}
		w.Close()
		return b.Bytes()
	}()
	for _, c := range []struct {
		name, enc string
		body      []byte
		status    int
	}{
		{"identity", "", plain, 0},
		{"gzip", "gzip", gz.Bytes(), 0},
		{"deflate (zlib)", "deflate", zl.Bytes(), 0},
		{"deflate (raw)", "deflate", zl.Bytes()[2 : zl.Len()-4], 0},
		{"br", "br", br.Bytes(), 0},
		{"gzip that is not", "gzip", plain, http.StatusBadRequest},
		{"corrupt br", "br", []byte("not brotli at all"), http.StatusBadRequest},
		{"unknown encoding", "zstd", plain, http.StatusUnsupportedMediaType},
		{"gzip bomb", "gzip", bomb, http.StatusRequestEntityTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			lim := DefaultLimits()
			lim.MaxEnvelope = 1 << 20 // the bomb inflates 16×
			got, err := ReadBody(bytes.NewReader(c.body), c.enc, lim)
			if c.status != 0 {
				if e, ok := err.(*Error); !ok || e.Status != c.status {
					t.Fatalf("ReadBody: %v, want status %d", err, c.status)
				}
				return
			}
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("ReadBody: %q %v", got, err)
			}
		})
	}
	t.Run("over the request cap", func(t *testing.T) {
		lim := DefaultLimits()
		lim.MaxRequest = 10
		if _, err := ReadBody(bytes.NewReader(plain), "", lim); err == nil || err.(*Error).Status != 413 {
			t.Fatalf("ReadBody: %v, want 413", err)
		}
	})
}

func TestAuth(t *testing.T) {
	for _, c := range []struct {
		name, header, query, want string
	}{
		{"X-Sentry-Auth", "Sentry sentry_version=7, sentry_client=raven-js/3.0, sentry_key=rvk_abc", "", "rvk_abc"},
		{"query", "", "sentry_key=rvk_q&sentry_version=7", "rvk_q"},
		{"header wins", "Sentry sentry_key=rvk_h", "sentry_key=rvk_q", "rvk_h"},
		{"not a Sentry header", "Bearer xyz", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, _ := http.NewRequest("POST", "http://edge/api/1/envelope/?"+c.query, nil)
			if c.header != "" {
				r.Header.Set("X-Sentry-Auth", c.header)
			}
			a, ok := RequestAuth(r)
			if a.Key != c.want || ok != (c.want != "") {
				t.Errorf("RequestAuth = %+v %v, want %q", a, ok, c.want)
			}
		})
	}
	if a, ok := DSNAuth("https://rvk_abc@edge.example.com/prefix/1234"); !ok || a.Key != "rvk_abc" || a.ProjectID != "1234" {
		t.Errorf("DSNAuth = %+v %v", a, ok)
	}
	if _, ok := DSNAuth("https://edge.example.com/1234"); ok {
		t.Error("DSNAuth accepted a DSN without a key")
	}
}
