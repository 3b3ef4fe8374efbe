package live_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"

	"github.com/rearview-dev/rearview/coordinator/auth"
	"github.com/rearview-dev/rearview/coordinator/live"
	"github.com/rearview-dev/rearview/internal/testenv"
	"github.com/rearview-dev/rearview/sdkproto"
)

type env struct {
	nc      *nats.Conn
	hub     *live.Hub
	srv     *httptest.Server
	history atomic.Int32
}

// newEnv starts a hub on a real NATS server behind an HTTP server that
// authenticates every caller as the principal in the X-Test-Principal
// header ("admin" or a project id), like the coordinator's API mux does.
func newEnv(t testing.TB, cfg live.Config) *env {
	t.Helper()
	ns := testenv.NATS(t)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	e := &env{nc: nc}
	cfg.Conn = nc
	if cfg.History == nil {
		cfg.History = func(ctx context.Context, project, session string) ([]json.RawMessage, error) {
			e.history.Add(1)
			return []json.RawMessage{json.RawMessage(`{"type":4,"data":{"href":"history"}}`), json.RawMessage(`{"type":2,"data":{"from":"history"}}`)}, nil
		}
	}
	hub, err := live.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { hub.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	mux := http.NewServeMux()
	hub.Mount(mux)
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := auth.Principal{Admin: true}
		if who := r.Header.Get("X-Test-Principal"); who != "admin" {
			p = auth.Principal{Project: who}
		}
		mux.ServeHTTP(w, r.WithContext(auth.With(r.Context(), p)))
	}))
	t.Cleanup(e.srv.Close)
	e.hub = hub
	nc.Flush()
	return e
}

func (e *env) dial(t testing.TB, who, query string, hdr http.Header) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	if hdr == nil {
		hdr = http.Header{}
	}
	hdr.Set("X-Test-Principal", who)
	u := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/api/v1/live" + query
	c, resp, err := websocket.DefaultDialer.Dial(u, hdr)
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, resp, err
}

func (e *env) publish(t testing.TB, project, session string, kind sdkproto.Kind, events ...sdkproto.Event) {
	t.Helper()
	b := sdkproto.Batch{V: 1, Session: sdkproto.Session{ID: session, StartedAt: 1}, Page: sdkproto.Page{URL: "https://shop.example/checkout"}, Events: events}
	body, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	m := nats.NewMsg(sdkproto.Subject("eu", project, kind))
	m.Data = body
	m.Header.Set(sdkproto.HeaderCountry, "DE")
	if err := e.nc.PublishMsg(m); err != nil {
		t.Fatal(err)
	}
	e.nc.Flush()
}

func replay(id string, rrweb ...string) sdkproto.Event {
	return sdkproto.Event{ID: id, TS: 1, Kind: sdkproto.KindReplay, Replay: &sdkproto.Replay{Events: json.RawMessage("[" + strings.Join(rrweb, ",") + "]")}}
}

type msg struct {
	Type     string            `json:"type"`
	Sessions []map[string]any  `json:"sessions"`
	Events   []json.RawMessage `json:"events"`
	Event    json.RawMessage   `json:"event"`
}

func read(t *testing.T, c *websocket.Conn) msg {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var m msg
	if err := c.ReadJSON(&m); err != nil {
		t.Fatalf("read: %v", err)
	}
	return m
}

func TestSessionList(t *testing.T) {
	e := newEnv(t, live.Config{ListInterval: 50 * time.Millisecond})
	list, _, err := e.dial(t, "admin", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if m := read(t, list); m.Type != "sessions" || len(m.Sessions) != 0 {
		t.Fatalf("first message = %+v, want an empty session list", m)
	}
	start := time.Now()
	e.publish(t, "shop", "s1", sdkproto.KindVital, sdkproto.Event{ID: "v1", TS: 1, Kind: sdkproto.KindVital, Vital: &sdkproto.Vital{Name: "LCP", Value: 1}})
	for {
		m := read(t, list)
		if len(m.Sessions) == 1 {
			s := m.Sessions[0]
			if s["id"] != "s1" || s["project"] != "shop" || s["country"] != "DE" || s["url"] != "https://shop.example/checkout" {
				t.Fatalf("session = %v", s)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("session listed after %v, want within 1 s", d)
			}
			break
		}
	}

	t.Run("project token sees only its project", func(t *testing.T) {
		e.publish(t, "other", "s2", sdkproto.KindVital, sdkproto.Event{ID: "v2", TS: 1, Kind: sdkproto.KindVital, Vital: &sdkproto.Vital{Name: "LCP", Value: 1}})
		c, _, err := e.dial(t, "other", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, 3*time.Second, func() error {
			m := read(t, c)
			if len(m.Sessions) != 1 || m.Sessions[0]["id"] != "s2" {
				return fmt.Errorf("sessions = %v, want only s2", m.Sessions)
			}
			return nil
		})
	})
}

func TestSessionStream(t *testing.T) {
	e := newEnv(t, live.Config{})
	meta := `{"type":4,"data":{"href":"https://shop.example/"},"timestamp":1}`
	full := `{"type":2,"data":{"node":{}},"timestamp":2}`
	e.publish(t, "shop", "s1", sdkproto.KindReplay, replay("r0", `{"type":3,"data":{"old":true},"timestamp":0}`, meta, full, `{"type":3,"data":{"n":1},"timestamp":3}`))

	c, _, err := e.dial(t, "admin", "?project=shop&session=s1", nil)
	if err != nil {
		t.Fatal(err)
	}
	snap := read(t, c)
	if snap.Type != "snapshot" || len(snap.Events) != 3 || !strings.Contains(string(snap.Events[0]), `"type":4`) || !strings.Contains(string(snap.Events[1]), `"type":2`) {
		t.Fatalf("snapshot = %s, want meta, full snapshot and what followed", snap.Events)
	}
	e.publish(t, "shop", "s1", sdkproto.KindReplay, replay("r1", `{"type":3,"data":{"n":2},"timestamp":4}`))
	if m := read(t, c); m.Type != "events" || len(m.Events) != 1 || !strings.Contains(string(m.Events[0]), `"n":2`) {
		t.Fatalf("next = %+v", m)
	}
	e.publish(t, "shop", "s1", sdkproto.KindError, sdkproto.Event{ID: "e1", TS: 5, Kind: sdkproto.KindError, Error: &sdkproto.Error{Type: "TypeError", Value: "x is undefined"}})
	if m := read(t, c); m.Type != "error" || !strings.Contains(string(m.Event), "TypeError") {
		t.Fatalf("error message = %+v", m)
	}
	// Another session's events never reach this viewer.
	e.publish(t, "shop", "s9", sdkproto.KindReplay, replay("r9", meta, full))
	e.publish(t, "shop", "s1", sdkproto.KindReplay, replay("r2", `{"type":3,"data":{"n":3},"timestamp":6}`))
	if m := read(t, c); !strings.Contains(string(m.Events[0]), `"n":3`) {
		t.Fatalf("got %s, want s1's next event", m.Events)
	}
	if n := e.history.Load(); n != 0 {
		t.Fatalf("history loaded %d times for a buffered session", n)
	}
}

func TestHistoryWhenNotBuffered(t *testing.T) {
	e := newEnv(t, live.Config{})
	c, _, err := e.dial(t, "admin", "?project=shop&session=restarted", nil)
	if err != nil {
		t.Fatal(err)
	}
	if m := read(t, c); m.Type != "snapshot" || len(m.Events) != 2 || !strings.Contains(string(m.Events[1]), "history") {
		t.Fatalf("snapshot = %+v, want the stored history", m)
	}
}

func TestSlowViewerIsResynced(t *testing.T) {
	e := newEnv(t, live.Config{ClientQueue: 4, SessionBytes: 64 << 20})
	meta := `{"type":4,"data":{},"timestamp":1}`
	full := `{"type":2,"data":{"node":{}},"timestamp":2}`
	e.publish(t, "shop", "s1", sdkproto.KindReplay, replay("r0", meta, full))
	c, _, err := e.dial(t, "admin", "?project=shop&session=s1", nil)
	if err != nil {
		t.Fatal(err)
	}
	read(t, c)
	// A large burst while the viewer reads nothing: the socket buffers fill
	// and the hub's queue overflows.
	pad := strings.Repeat("x", 64<<10)
	for i := 0; i < 200; i++ {
		e.publish(t, "shop", "s1", sdkproto.KindReplay, replay(fmt.Sprintf("b%d", i), fmt.Sprintf(`{"type":3,"data":{"i":%d,"pad":%q},"timestamp":%d}`, i, pad, 10+i)))
	}
	// The last event holds a marker; after a resync, the snapshot must
	// lead to it with nothing lost since the full snapshot.
	e.publish(t, "shop", "s1", sdkproto.KindReplay, replay("last", `{"type":3,"data":{"last":true},"timestamp":999}`))
	sawResync := false
	for {
		m := read(t, c)
		if m.Type == "resync" {
			sawResync = true
			continue
		}
		if sawResync && m.Type == "snapshot" {
			if len(m.Events) < 2 || !strings.Contains(string(m.Events[1]), `"type":2`) {
				t.Fatalf("resync snapshot does not start at the full snapshot")
			}
		}
		if n := len(m.Events); n > 0 && strings.Contains(string(m.Events[n-1]), `"last":true`) {
			break
		}
	}
	if !sawResync {
		t.Fatal("a viewer 200 messages behind with a queue of 4 was never resynced")
	}
}

func TestRefused(t *testing.T) {
	e := newEnv(t, live.Config{})
	tests := []struct {
		name   string
		who    string
		query  string
		origin string
		status int
	}{
		{"foreign origin", "admin", "", "https://evil.example", http.StatusForbidden},
		{"other project's session", "shop", "?project=other&session=s1", "", http.StatusForbidden},
		{"admin without project", "admin", "?session=s1", "", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := http.Header{}
			if tt.origin != "" {
				hdr.Set("Origin", tt.origin)
			}
			_, resp, err := e.dial(t, tt.who, tt.query, hdr)
			if !errors.Is(err, websocket.ErrBadHandshake) || resp == nil || resp.StatusCode != tt.status {
				code := 0
				if resp != nil {
					code = resp.StatusCode
				}
				t.Fatalf("dial: err=%v status=%d, want %d", err, code, tt.status)
			}
		})
	}
	t.Run("own origin", func(t *testing.T) {
		hdr := http.Header{"Origin": {e.srv.URL}}
		if _, _, err := e.dial(t, "admin", "", hdr); err != nil {
			t.Fatalf("same-origin dial: %v", err)
		}
	})
}

// BenchmarkLiveLatency measures publish → NATS → hub → WebSocket viewer for
// one replay batch of ten rrweb events, one at a time (ns/op is latency).
func BenchmarkLiveLatency(b *testing.B) {
	e := newEnv(b, live.Config{})
	e.publish(b, "shop", "s1", sdkproto.KindReplay, replay("r0", `{"type":4,"data":{},"timestamp":1}`, `{"type":2,"data":{"node":{}},"timestamp":2}`))
	c, _, err := e.dial(b, "admin", "?project=shop&session=s1", nil)
	if err != nil {
		b.Fatal(err)
	}
	var m msg
	c.ReadJSON(&m)
	ten := make([]string, 10)
	for i := range ten {
		ten[i] = fmt.Sprintf(`{"type":3,"data":{"source":2,"type":2,"id":%d,"x":10,"y":20},"timestamp":%d}`, i, 100+i)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.publish(b, "shop", "s1", sdkproto.KindReplay, replay("x", ten...))
		if err := c.ReadJSON(&m); err != nil || m.Type != "events" {
			b.Fatalf("read: %v %s", err, m.Type)
		}
	}
}
