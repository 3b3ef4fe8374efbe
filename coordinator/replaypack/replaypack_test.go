package replaypack_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"testing"

	"github.com/andybalholm/brotli"

	"github.com/rearview-dev/rearview/coordinator/replaypack"
)

// segmentsOf cuts the fixture recording into segments of n events, as the
// SDK sends them.
func segmentsOf(t testing.TB, n int) [][]byte {
	t.Helper()
	raw, err := os.ReadFile("../testdata/session.json")
	if err != nil {
		t.Fatal(err)
	}
	var evs []json.RawMessage
	if err := json.Unmarshal(raw, &evs); err != nil {
		t.Fatal(err)
	}
	// Its first 200 events (the full snapshot and a few seconds of
	// input) keep the test quick: quality 11 takes seconds a megabyte.
	evs = evs[:200]
	var segs [][]byte
	for i := 0; i < len(evs); i += n {
		seg := evs[i:min(i+n, len(evs))]
		b := []byte{'['}
		for j, e := range seg {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, e...)
		}
		segs = append(segs, append(b, ']'))
	}
	return segs
}

func TestRoundTrip(t *testing.T) {
	fixture := segmentsOf(t, 40)
	cases := []struct {
		name     string
		segments [][]byte
		format   byte
	}{
		{"recording", fixture, 4},
		{"no segments", nil, 4},
		{"empty segment", [][]byte{[]byte(`[]`), []byte(`[{"type":4,"timestamp":5}]`)}, 4},
		{"strings with brackets and commas", [][]byte{[]byte(`[{"a":"],[{\"x","timestamp":1764028800000},{"b":[1,{"c":"}"}],"timestamp":1764028800020}]`)}, 4},
		{"timestamps going back", [][]byte{[]byte(`[{"type":3,"timestamp":20},{"type":3,"timestamp":3}]`), []byte(`[{"type":3,"timestamp":-4}]`)}, 4},
		{"no key before the timestamp", [][]byte{[]byte(`[{"timestamp":20}]`)}, 3},
		// Anything the rewrite would not give back byte for byte is packed as it is.
		{"timestamp not last", [][]byte{[]byte(`[{"timestamp":1,"type":3}]`)}, 3},
		{"leading zero", [][]byte{[]byte(`[{"timestamp":01}]`)}, 3},
		{"whitespace", [][]byte{[]byte(`[ {"timestamp":1} ]`)}, 3},
		{"not an array", [][]byte{[]byte(`{"timestamp":1}`)}, 3},
		{"float timestamp", [][]byte{[]byte(`[{"timestamp":1.5}]`)}, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj, spans, err := replaypack.Pack(tc.segments)
			if err != nil {
				t.Fatal(err)
			}
			if obj[3] != tc.format {
				t.Errorf("format %d, want %d", obj[3], tc.format)
			}
			all, err := replaypack.Unpack(bytes.NewReader(obj))
			if err != nil {
				t.Fatal(err)
			}
			if len(spans) != len(tc.segments) {
				t.Fatalf("%d spans for %d segments", len(spans), len(tc.segments))
			}
			for i, s := range spans {
				got, err := replaypack.Slice(all, s)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, tc.segments[i]) {
					t.Errorf("segment %d: got %.80q, want %.80q", i, got, tc.segments[i])
				}
			}
		})
	}
}

// TestSmallerThanAlone: the point of packing. The fixture in segments of
// 20 events, each brotli'd alone at quality 6 as a live session stores
// them, against one pack, and against the same bytes packed plainly.
func TestSmallerThanAlone(t *testing.T) {
	segs := segmentsOf(t, 20)
	obj, _, err := replaypack.Pack(segs)
	if err != nil {
		t.Fatal(err)
	}
	alone := 0
	for _, s := range segs {
		var b bytes.Buffer
		w := brotli.NewWriterLevel(&b, 6)
		w.Write(s)
		w.Close()
		alone += b.Len()
	}
	// A trailing space defeats the timestamp rewrite: format 3.
	plain, _, err := replaypack.Pack([][]byte{append(bytes.Join(segs, nil), ' ')})
	if err != nil || plain[3] != 3 {
		t.Fatalf("plain pack: format %d, %v", plain[3], err)
	}
	if !(len(obj) < len(plain) && len(plain) < alone) {
		t.Errorf("pack %d bytes, plain pack %d, segments alone %d: want increasing", len(obj), len(plain), alone)
	}
	t.Logf("%d segments: pack %d bytes, plain pack %d, alone at q6 %d", len(segs), len(obj), len(plain), alone)
}

func TestUnpackCorrupt(t *testing.T) {
	good, _, err := replaypack.Pack([][]byte{[]byte(`[{"timestamp":1}]`)})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"empty":      nil,
		"bad magic":  append([]byte("XVP"), good[3:]...),
		"bad format": append([]byte("RVP\x09"), good[4:]...),
		"truncated":  good[:len(good)-2],
		"not brotli": []byte("RVP\x01hello"),
		"delta junk": mustPlainAsDelta(t, `[{"timestamp":x}]`),
		"not arrays": mustPlainAsDelta(t, `{"timestamp":1}`),
		"unbalanced": mustPlainAsDelta(t, `[{"timestamp":1}`),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := replaypack.Unpack(bytes.NewReader(b)); !errors.Is(err, replaypack.ErrCorrupt) {
				t.Errorf("err %v, want ErrCorrupt", err)
			}
		})
	}
	if _, err := replaypack.Slice([]byte("abc"), replaypack.Span{Offset: 2, Len: 2}); !errors.Is(err, replaypack.ErrCorrupt) {
		t.Errorf("span outside: err %v", err)
	}
}

// mustPlainAsDelta packs s plainly and relabels it as having deltas.
func mustPlainAsDelta(t *testing.T, s string) []byte {
	obj, _, err := replaypack.Pack([][]byte{[]byte(s + " ")})
	if err != nil || obj[3] != 3 {
		t.Fatalf("pack: %v", err)
	}
	obj[3] = 4
	return obj
}

func FuzzUnpack(f *testing.F) {
	for _, s := range []string{`[{"timestamp":1}]`, `[{"a":"\"],","timestamp":1764028800000}][]`} {
		obj, _, _ := replaypack.Pack([][]byte{[]byte(s)})
		f.Add(obj)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := replaypack.Unpack(bytes.NewReader(b))
		if err == nil && len(out) > replaypack.MaxUnpacked {
			t.Fatalf("unpacked %d bytes", len(out))
		}
	})
}

// FuzzPack: whatever the segments (split at newlines), unpacking gives them back.
func FuzzPack(f *testing.F) {
	f.Add([]byte("[{\"timestamp\":1}]\n[{\"x\":\",\",\"timestamp\":0}]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		segs := bytes.Split(b, []byte("\n"))
		obj, spans, err := replaypack.Pack(segs)
		if err != nil {
			t.Fatal(err)
		}
		all, err := replaypack.Unpack(bytes.NewReader(obj))
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range spans {
			got, err := replaypack.Slice(all, s)
			if err != nil || !bytes.Equal(got, segs[i]) {
				t.Fatalf("segment %d: %q, want %q (%v)", i, got, segs[i], err)
			}
		}
	})
}

var update = flag.Bool("update", false, "rewrite vocabulary.br from vocabulary.txt")

// TestVocabularyPrefix: the committed prefix is what this encoder emits
// for the vocabulary. If a brotli upgrade changes that, packs are made
// without the vocabulary (formats 1 and 2) and old packs still read with
// the committed prefix; rewrite it (-update) only with the vocabulary.
func TestVocabularyPrefix(t *testing.T) {
	got, err := replaypack.VocabularyPrefix()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("vocabulary.br", got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("vocabulary.br")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the encoder's vocabulary prefix (%d bytes) is not vocabulary.br (%d bytes)", len(got), len(want))
	}
}

// TestFormatsWithoutVocabulary: packs of formats 1 and 2, which an encoder
// whose prefix differs makes, read back.
func TestFormatsWithoutVocabulary(t *testing.T) {
	for _, tc := range []struct {
		format byte
		body   string
		want   string
	}{
		{1, `[{"type":3,"timestamp":5}]`, `[{"type":3,"timestamp":5}]`},
		{2, `[{"type":3,"timestamp":5},{"type":3,"timestamp":2}][{"type":3,"timestamp":-1}]`, `[{"type":3,"timestamp":5},{"type":3,"timestamp":7}][{"type":3,"timestamp":6}]`},
	} {
		var b bytes.Buffer
		b.WriteString("RVP")
		b.WriteByte(tc.format)
		w := brotli.NewWriterLevel(&b, 5)
		w.Write([]byte(tc.body))
		w.Close()
		got, err := replaypack.Unpack(&b)
		if err != nil || string(got) != tc.want {
			t.Errorf("format %d: %q %v, want %q", tc.format, got, err, tc.want)
		}
	}
}

// BenchmarkPack packs the fixture recording (one minute, 686 KB of rrweb
// events from the demo shop) in 5-s-like segments of 20 events: the CPU a
// packed minute costs and what it stores.
func BenchmarkPack(b *testing.B) {
	raw, err := os.ReadFile("../testdata/session.json")
	if err != nil {
		b.Fatal(err)
	}
	var evs []json.RawMessage
	if err := json.Unmarshal(raw, &evs); err != nil {
		b.Fatal(err)
	}
	var segs [][]byte
	for i := 0; i < len(evs); i += 20 {
		s := []byte{'['}
		for j, e := range evs[i:min(i+20, len(evs))] {
			if j > 0 {
				s = append(s, ',')
			}
			s = append(s, e...)
		}
		segs = append(segs, append(s, ']'))
	}
	var obj []byte
	b.SetBytes(int64(len(raw)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if obj, _, err = replaypack.Pack(segs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(obj))/1024, "KB/min")
}

// BenchmarkUnpack reads the same pack back, as the player's first segment
// request does.
func BenchmarkUnpack(b *testing.B) {
	raw, err := os.ReadFile("../testdata/session.json")
	if err != nil {
		b.Fatal(err)
	}
	obj, _, err := replaypack.Pack([][]byte{raw})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := replaypack.Unpack(bytes.NewReader(obj)); err != nil {
			b.Fatal(err)
		}
	}
}
