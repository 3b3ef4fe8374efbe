package sdkproto

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkDecodeKinds decodes one batch of each shape the edge and the
// coordinator see most: error events (as BenchmarkDecode), vitals, a replay
// segment whose rrweb events (kept as raw JSON) are most of its bytes, and
// an error batch with one bad event, which takes the slow path.
func BenchmarkDecodeKinds(b *testing.B) {
	cases := []struct {
		name string
		data []byte
		rej  int
	}{
		{"errors=50", benchBatch(b, 50), 0},
		{"vitals=50", benchVitals(b, 50), 0},
		{"replay=30KB", benchReplay(b, 300), 0},
		{"errors=50+1bad", benchWithBad(b, 50), 1},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			b.ReportAllocs()
			for b.Loop() {
				_, rej, err := Decode(c.data, DefaultLimits())
				if err != nil || len(rej) != c.rej {
					b.Fatalf("decode: %v, %d rejected", err, len(rej))
				}
			}
		})
	}
}

// benchVitals builds a batch of n vitals from the golden vitals vector.
func benchVitals(tb testing.TB, n int) []byte {
	var m map[string]any
	if err := json.Unmarshal(readVectors(tb)["vitals-batch.json"], &m); err != nil {
		tb.Fatal(err)
	}
	src := m["events"].([]any)
	var ev []any
	for i := range n {
		e := map[string]any{}
		for k, v := range src[i%len(src)].(map[string]any) {
			e[k] = v
		}
		e["id"] = fmt.Sprintf("v-%04d", i)
		ev = append(ev, e)
	}
	m["events"] = ev
	out, _ := json.Marshal(m)
	return out
}

// benchReplay builds a replay batch whose full snapshot holds a page of
// nodes elements, about 100 bytes of rrweb JSON each.
func benchReplay(tb testing.TB, nodes int) []byte {
	var m map[string]any
	if err := json.Unmarshal(readVectors(tb)["replay-batch.json"], &m); err != nil {
		tb.Fatal(err)
	}
	var kids []string
	for i := range nodes {
		kids = append(kids, fmt.Sprintf(`{"type":2,"tagName":"div","attributes":{"class":"row r%d"},"childNodes":[{"type":3,"textContent":"item \u00e9 %d","id":%d}],"id":%d}`, i, i, 2*i+11, 2*i+10))
	}
	snap := `[{"type":4,"data":{"href":"https://shop.example.com/","width":1280,"height":720},"timestamp":1764028800100},` +
		`{"type":2,"data":{"node":{"type":0,"childNodes":[{"type":2,"tagName":"body","attributes":{},"childNodes":[` + strings.Join(kids, ",") + `],"id":2}],"id":1},"initialOffset":{"left":0,"top":0}},"timestamp":1764028800110}]`
	ev := m["events"].([]any)[0].(map[string]any)
	ev["replay"].(map[string]any)["events"] = json.RawMessage(snap)
	out, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// benchWithBad is benchBatch with one more event that validation refuses.
func benchWithBad(tb testing.TB, n int) []byte {
	var m map[string]any
	if err := json.Unmarshal(benchBatch(tb, n), &m); err != nil {
		tb.Fatal(err)
	}
	m["events"] = append(m["events"].([]any), map[string]any{"id": "bad", "ts": 1, "kind": "error", "error": map[string]any{"type": "E", "mechanism": "manual", "stack": []any{map[string]any{"url": "u", "line": "x"}}}})
	out, _ := json.Marshal(m)
	return out
}

// BenchmarkEncode encodes what the edge publishes, with Encode and, for
// reference, with json.Marshal, whose bytes Encode writes.
func BenchmarkEncode(b *testing.B) {
	for _, c := range []struct {
		name string
		data []byte
	}{{"errors=50", benchBatch(b, 50)}, {"replay=30KB", benchReplay(b, 300)}} {
		batch, _, err := Decode(c.data, DefaultLimits())
		if err != nil {
			b.Fatal(err)
		}
		for _, enc := range []struct {
			name string
			fn   func(*Batch) ([]byte, error)
		}{{"Encode", Encode}, {"json.Marshal", func(b *Batch) ([]byte, error) { return json.Marshal(b) }}} {
			b.Run(c.name+"/"+enc.name, func(b *testing.B) {
				b.SetBytes(int64(len(c.data)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := enc.fn(batch); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
