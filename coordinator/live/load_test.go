package live_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/rearview-dev/rearview/coordinator/live"
	"github.com/rearview-dev/rearview/edge"
	"github.com/rearview-dev/rearview/sdkproto"
)

func TestManyViewersOfOneSession(t *testing.T) {
	e := newEnv(t, live.Config{})
	e.publish(t, "shop", "s1", sdkproto.KindReplay, replay("r0", `{"type":4,"data":{},"timestamp":1}`, `{"type":2,"data":{"node":{}},"timestamp":2}`))
	const viewers, batches = 20, 50
	conns := make([]*websocket.Conn, viewers)
	for i := range conns {
		c, _, err := e.dial(t, "admin", "?project=shop&session=s1", nil)
		if err != nil {
			t.Fatal(err)
		}
		if m := read(t, c); m.Type != "snapshot" || len(m.Events) != 2 {
			t.Fatalf("viewer %d: first message %+v", i, m)
		}
		conns[i] = c
	}
	for i := 0; i < batches; i++ {
		e.publish(t, "shop", "s1", sdkproto.KindReplay, replay(fmt.Sprintf("b%d", i), fmt.Sprintf(`{"type":3,"data":{"n":%d},"timestamp":%d}`, i, 10+i)))
	}
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for want := 0; want < batches; want++ {
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				var m msg
				if err := c.ReadJSON(&m); err != nil {
					t.Errorf("viewer %d: %v", i, err)
					return
				}
				if m.Type != "events" || !strings.Contains(string(m.Events[0]), fmt.Sprintf(`"n":%d}`, want)) {
					t.Errorf("viewer %d: got %s %s, want event %d in order", i, m.Type, m.Events, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkLiveLatencyAt1000EventsPerSecond measures edge accept →
// JetStream → hub → WebSocket viewer while a browser-like client sends
// 1,000 rrweb events/s (100 batches of 10 each second) through a real edge
// and NATS server. It reports p50 and p99 latency from the moment the batch
// is posted to the edge to the moment the viewer has it.
func BenchmarkLiveLatencyAt1000EventsPerSecond(b *testing.B) {
	e := newEnv(b, live.Config{})
	js, _ := jetstream.New(e.nc)
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: sdkproto.StreamName, Subjects: []string{sdkproto.SubjectAll}, Duplicates: time.Minute, MaxMsgSize: 8 << 20}); err != nil {
		b.Fatal(err)
	}
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: sdkproto.KeysBucket})
	if err != nil {
		b.Fatal(err)
	}
	v, _ := json.Marshal(sdkproto.ProjectKey{Project: "shop", Name: "Shop"})
	kv.Put(ctx, "rvk_bench", v)
	ed, err := edge.New(edge.Config{Region: "eu", JetStream: js, EventsPerSecond: 1e9, Burst: 1e9, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go ed.Run(rctx)
	hs := httptest.NewServer(ed.Handler())
	defer hs.Close()
	for !ed.Ready() {
		time.Sleep(10 * time.Millisecond)
	}
	post := func(seq int, events string) {
		body := fmt.Sprintf(`{"v":1,"sdk":{"name":"bench","version":"1"},"session":{"id":"s1","seq":%d,"started_at":1,"flags":{}},"page":{"url":"https://shop.example/"},"device":{"ua":"Mozilla/5.0 Chrome/131.0","viewport":{"w":1280,"h":800}},"sent_at":1,"events":[{"id":"r%d","ts":1,"kind":"replay","replay":{"segment":%d,"events":[%s]}}]}`, seq, seq, seq, events)
		for {
			req, _ := http.NewRequest(http.MethodPost, hs.URL+"/v1/ingest", bytes.NewReader([]byte(body)))
			req.Header.Set("X-Rearview-Key", "rvk_bench")
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusAccepted {
					return
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	post(0, `{"type":4,"data":{},"timestamp":1},{"type":2,"data":{"node":{}},"timestamp":2}`)
	c, _, err := e.dial(b, "admin", "?project=shop&session=s1", nil)
	if err != nil {
		b.Fatal(err)
	}
	var first msg
	c.ReadJSON(&first)

	sent := make([]time.Time, b.N+1)
	lat := make([]time.Duration, 0, b.N)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for len(lat) < b.N {
			var m msg
			if err := c.ReadJSON(&m); err != nil {
				return
			}
			var ev struct {
				Data struct{ Seq int } `json:"data"`
			}
			if m.Type != "events" || json.Unmarshal(m.Events[0], &ev) != nil || ev.Data.Seq == 0 {
				continue
			}
			lat = append(lat, time.Since(sent[ev.Data.Seq]))
		}
	}()
	ten := make([]string, 10)
	b.ResetTimer()
	tick := time.NewTicker(10 * time.Millisecond) // 100 batches/s × 10 events
	defer tick.Stop()
	var wg sync.WaitGroup
	for i := 1; i <= b.N; i++ {
		<-tick.C
		for j := range ten {
			ten[j] = fmt.Sprintf(`{"type":3,"data":{"seq":%d,"j":%d,"source":1,"positions":[{"x":%d,"y":%d,"id":5,"timeOffset":0}]},"timestamp":%d}`, i, j, j*7, j*3, 100+i)
		}
		events := strings.Join(ten, ",")
		sent[i] = time.Now()
		wg.Add(1)
		go func() { defer wg.Done(); post(i, events) }()
	}
	wg.Wait()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		b.Fatalf("viewer received %d of %d batches", len(lat), b.N)
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(0, "ns/op")
}
