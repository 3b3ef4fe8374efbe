package sentry

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/sdkproto"
)

// FuzzEnvelope feeds arbitrary bytes to Parse and Translate. Parse must
// answer every input with an envelope or a 400/413 *Error, never panic;
// whatever Translate makes of a parsed envelope must be a batch Rearview's
// own decoder takes whole, so the edge never forwards what it would refuse
// from its own SDK. The seeds are the real envelopes in testdata/ and
// testdata/sdk11/ (what @sentry/browser 11.12.0 sent from the demo shop) and
// broken variants: truncated headers, lengths that lie, a compressed
// recording cut short.
func FuzzEnvelope(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.envelope")
	sdk11, _ := filepath.Glob("testdata/sdk11/*.envelope")
	for _, name := range append(files, sdk11...) {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
		if i := bytes.IndexByte(b, '\n'); i > 0 {
			f.Add(b[:i/2])
		}
	}
	f.Add([]byte(`{}` + "\n" + `{"type":"event","length":99999}` + "\n{}"))
	f.Add([]byte(`{}` + "\n" + `{"type":"event","length":1}` + "\n{}\n"))
	f.Add([]byte(`{}` + "\n" + `{"type":"replay_event"}` + "\n" + `{"replay_id":"a","segment_id":0}` + "\n" + `{"type":"replay_recording","length":19}` + "\n" + `{"segment_id":0}` + "\n\x78\x9c"))
	lim := DefaultLimits()
	lim.MaxReplayRaw = 1 << 20
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := Parse(data, lim)
		if err != nil {
			e, ok := err.(*Error)
			if !ok || e.Status != 400 && e.Status != 413 || e.Msg == "" {
				t.Fatalf("Parse error %v (%T)", err, err)
			}
			return
		}
		tr := Translate(env, Request{Now: time.UnixMilli(1796310000000)}, lim)
		if tr.Batch == nil {
			return
		}
		enc, err := sdkproto.Encode(tr.Batch)
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		big := sdkproto.DefaultLimits()
		big.MaxBody, big.MaxString, big.MaxDepth = 1<<30, 1<<30, 1<<20 // size is the edge's call, not the translation's
		_, rejected, err := sdkproto.Decode(enc, big)
		if err != nil || len(rejected) > 0 {
			t.Fatalf("the translation is not a valid batch: %v %+v\n%s", err, rejected, enc)
		}
	})
}
