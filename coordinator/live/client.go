package live

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

const (
	writeWait  = 10 * time.Second
	pongWait   = 60 * time.Second
	pingPeriod = 20 * time.Second
)

// client is one WebSocket viewer. Only its write loop writes to the
// connection; everyone else queues.
type client struct {
	conn  *websocket.Conn
	q     chan []byte
	stale chan struct{} // signalled when q overflowed
	done  chan struct{}
	once  sync.Once
}

func newClient(conn *websocket.Conn, queue int) *client {
	return &client{conn: conn, q: make(chan []byte, queue), stale: make(chan struct{}, 1), done: make(chan struct{})}
}

// queue adds b without blocking; a full queue marks the client stale so the
// write loop resyncs it instead of memory growing.
func (c *client) queue(b []byte) {
	select {
	case c.q <- b:
	default:
		select {
		case c.stale <- struct{}{}:
		default:
		}
	}
}

// drain empties the queue.
func (c *client) drain() {
	for {
		select {
		case <-c.q:
		default:
			return
		}
	}
}

func (c *client) close() { c.once.Do(func() { close(c.done) }) }

// send writes m now; only the goroutine that owns the write loop calls it.
func (c *client) send(m message) bool {
	b, err := json.Marshal(m)
	if err != nil {
		return false
	}
	return c.write(b)
}

func (c *client) write(b []byte) bool {
	c.conn.SetWriteDeadline(time.Now().Add(writeWait))
	return c.conn.WriteMessage(websocket.TextMessage, b) == nil
}

// readLoop consumes what the viewer sends (pongs and close frames) and
// cancels the connection's context when it goes away.
func (c *client) readLoop(cancel context.CancelFunc) {
	defer cancel()
	c.conn.SetReadLimit(4096)
	c.conn.SetReadDeadline(time.Now().Add(pongWait))
	c.conn.SetPongHandler(func(string) error {
		return c.conn.SetReadDeadline(time.Now().Add(pongWait))
	})
	for {
		if _, _, err := c.conn.ReadMessage(); err != nil {
			return
		}
	}
}

// writeLoop sends queued messages and pings until the viewer leaves. When the
// viewer fell behind, resync (if any) returns a fresh snapshot to restart
// from; without it the backlog is simply dropped (the session list is sent
// whole each time, so the next one repairs it).
func (c *client) writeLoop(ctx context.Context, resync func() []json.RawMessage) {
	ping := time.NewTicker(pingPeriod)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "bye"), time.Now().Add(time.Second))
			return
		case <-c.done:
			c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"), time.Now().Add(time.Second))
			return
		case <-ping.C:
			if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				return
			}
		case <-c.stale:
			if resync == nil {
				c.drain()
				continue
			}
			snap := resync()
			if !c.send(message{Type: "resync"}) || !c.send(message{Type: "snapshot", Events: snap}) {
				return
			}
		case b := <-c.q:
			if !c.write(b) {
				return
			}
		}
	}
}
