package edge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/rearview-dev/rearview/edge"
	"github.com/rearview-dev/rearview/edge/wasmhost"
)

// BenchmarkIngestPolicy is BenchmarkIngest through the real policy module
// (the default policy, under wazero) instead of a pass-through stage: what
// `up` does per batch. The module writes a new batch, which the edge decodes
// again before splitting it by kind.
func BenchmarkIngestPolicy(b *testing.B) {
	ctx := context.Background()
	stage, err := wasmhost.New(ctx, wasmhost.Config{Instances: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stage.Close(ctx) })
	benchIngest(b, newHarness(b, edge.Config{Stage: stage, EventsPerSecond: 1e9, Burst: 1e9}))
}

func benchIngest(b *testing.B, h *harness) {
	var m map[string]any
	json.Unmarshal(vector(b, "error-batch.json"), &m)
	proto := m["events"].([]any)[0].(map[string]any)
	var evs []any
	for i := 0; i < 50; i++ {
		e := map[string]any{}
		for k, v := range proto {
			e[k] = v
		}
		e["id"] = fmt.Sprintf("e-%d", i)
		evs = append(evs, e)
	}
	m["events"] = evs
	// The session id is a fixed-width placeholder overwritten per
	// iteration, so making a body unique costs one copy, not a Marshal.
	const placeholder = "s-bench-000000000000"
	m["session"].(map[string]any)["id"] = placeholder
	tmpl, _ := json.Marshal(m)
	at := bytes.Index(tmpl, []byte(placeholder))
	if at < 0 || bytes.Count(tmpl, []byte(placeholder)) != 1 {
		b.Fatal("session id placeholder not found once in the batch")
	}
	at += len("s-bench-")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.SetBytes(int64(len(tmpl)))
	b.ResetTimer()
	i := 0
	for b.Loop() {
		body := append([]byte(nil), tmpl...)
		copy(body[at:], fmt.Sprintf("%012d", i))
		i++
		req, _ := http.NewRequest(http.MethodPost, h.url+"/v1/ingest", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Rearview-Key", testKey)
		// A browser's: the policy module drops Go's own as a bot.
		req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var a edge.Accepted
		err = json.NewDecoder(resp.Body).Decode(&a)
		resp.Body.Close()
		// Every event published: a stage that dropped the batch (as the
		// module drops a bot's) would make this measure something else.
		if resp.StatusCode != http.StatusAccepted || err != nil || a.Accepted != 50 {
			b.Fatalf("status %d, %+v, %v", resp.StatusCode, a, err)
		}
	}
	if got := h.streamMsgs(b); got != uint64(b.N) { // one error message per batch
		b.Fatalf("stream holds %d messages after %d batches: some were duplicates", got, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "batches/s")
	b.ReportMetric(float64(b.N*50)/b.Elapsed().Seconds(), "events/s")
}
