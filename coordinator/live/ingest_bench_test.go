package live

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/rearview-dev/rearview/sdkproto"
)

// BenchmarkIngest measures what the hub costs every coordinator per
// message of the stream when nobody watches (most sessions, most of the
// time): decoding the batch and following the session, and for a replay
// segment splitting its rrweb events into the session's buffer.
func BenchmarkIngest(b *testing.B) {
	errs := make([]sdkproto.Event, 50)
	for i := range errs {
		errs[i] = sdkproto.Event{ID: fmt.Sprintf("e-%d", i), TS: 1764028812000, Kind: sdkproto.KindError, Error: &sdkproto.Error{
			Type: "TypeError", Value: "Cannot read properties of undefined (reading 'map')", Mechanism: sdkproto.MechanismOnError,
			Stack:   []sdkproto.Frame{{URL: "https://shop.example.com/static/js/main.a7f3e2.js", Function: "n", Line: 1, Column: 48293}, {URL: "https://shop.example.com/static/js/main.a7f3e2.js", Function: "onClick", Line: 1, Column: 1022}},
			Release: "a7f3e2c", Environment: "production", URL: "https://shop.example.com/checkout?step=2", Tags: map[string]string{"component": "CartSummary"},
		}}
	}
	var nodes []string
	for i := range 300 {
		nodes = append(nodes, fmt.Sprintf(`{"type":3,"data":{"source":0,"adds":[{"parentId":%d,"node":{"type":2,"tagName":"div","attributes":{"class":"row"},"childNodes":[],"id":%d}}]},"timestamp":%d}`, i, i+10, 1764028800200+i))
	}
	rrweb := `[{"type":4,"data":{"href":"https://shop.example.com/","width":1280,"height":720},"timestamp":1764028800100},{"type":2,"data":{"node":{"type":0,"childNodes":[],"id":1},"initialOffset":{"left":0,"top":0}},"timestamp":1764028800110},` + strings.Join(nodes, ",") + `]`
	replay := []sdkproto.Event{{ID: "r-0", TS: 1764028800100, Kind: sdkproto.KindReplay, Replay: &sdkproto.Replay{Segment: 0, Events: json.RawMessage(rrweb)}}}
	for _, c := range []struct {
		name   string
		kind   sdkproto.Kind
		events []sdkproto.Event
	}{{"errors=50", sdkproto.KindError, errs}, {"replay=300", sdkproto.KindReplay, replay}} {
		b.Run(c.name, func(b *testing.B) {
			data, err := sdkproto.Encode(&sdkproto.Batch{V: 1, SDK: sdkproto.SDK{Name: "@rearview/browser", Version: "0.1.0"},
				Session: sdkproto.Session{ID: "s-bench", Seq: 1, StartedAt: 1764028800000}, Page: sdkproto.Page{URL: "https://shop.example.com/"},
				Device: sdkproto.Device{UA: "Mozilla/5.0"}, SentAt: 1764028812345, Events: c.events})
			if err != nil {
				b.Fatal(err)
			}
			h, err := New(Config{Conn: &nats.Conn{}})
			if err != nil {
				b.Fatal(err)
			}
			subject := sdkproto.Subject("eu", "shop", c.kind)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				h.ingest(subject, "DE", data)
			}
			if s := h.sessions[sessionKey{"shop", "s-bench"}]; s == nil || s.Events == 0 || c.kind == sdkproto.KindReplay && len(s.buf) != 302 {
				b.Fatalf("session not followed: %+v", s)
			}
		})
	}
}
