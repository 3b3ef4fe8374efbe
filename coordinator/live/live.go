// Package live is the coordinator's live tail: it follows the ingest
// subjects on NATS with a core subscription (no second copy of the data),
// keeps the list of active sessions and, per session, the rrweb events since
// the latest full snapshot, and streams them to WebSocket viewers.
//
// A viewer that opens a session gets that snapshot and what followed first,
// so it renders at once, then every new event. A viewer that cannot keep up
// is not buffered without bound: its queue is dropped and it is resynced
// from a fresh snapshot.
package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"

	"github.com/rearview-dev/rearview/coordinator/auth"
	"github.com/rearview-dev/rearview/sdkproto"
)

// History loads a session's stored rrweb events from its latest full
// snapshot on. The hub calls it when a viewer opens a session it holds no
// buffer for (after a restart, or when the buffer was evicted).
type History func(ctx context.Context, project, session string) ([]json.RawMessage, error)

// Config configures a Hub.
type Config struct {
	// Conn is the NATS connection the hub subscribes on.
	Conn *nats.Conn
	// Subject is what the hub follows; empty means sdkproto.SubjectAll.
	Subject string
	// History is optional; see History.
	History History
	// ActiveFor is how long a session stays in the live list after its
	// last event; zero means 2 minutes.
	ActiveFor time.Duration
	// SessionBytes bounds one session's snapshot buffer and TotalBytes all
	// of them; zero means 8 MiB and 256 MiB. A session over its bound keeps
	// no buffer until its next full snapshot.
	SessionBytes int
	TotalBytes   int
	// ClientQueue is how many messages a viewer may fall behind before it
	// is resynced; zero means 256.
	ClientQueue int
	// ListInterval is the most often the session list is pushed; zero
	// means 250 ms.
	ListInterval time.Duration
	// AllowedOrigins are the browser origins (scheme://host[:port]) allowed
	// besides the coordinator's own.
	AllowedOrigins []string
	Logger         *slog.Logger
}

// Hub follows active sessions and serves viewers. Create it with New, start
// it with Run and mount it with Mount.
type Hub struct {
	cfg      Config
	log      *slog.Logger
	upgrader websocket.Upgrader

	mu       sync.Mutex
	sessions map[sessionKey]*session
	buffered int
	lists    map[*client]listFilter
	version  uint64 // bumped when the session list changes
}

type sessionKey struct{ project, id string }

type session struct {
	Project  string `json:"project"`
	ID       string `json:"id"`
	Region   string `json:"region"`
	Country  string `json:"country,omitempty"`
	URL      string `json:"url"`
	UserID   string `json:"user_id,omitempty"`
	UA       string `json:"ua,omitempty"`
	Started  int64  `json:"started_at"`
	LastSeen int64  `json:"last_seen"`
	Events   int    `json:"events"`
	Errors   int    `json:"errors"`

	seen    time.Time
	meta    json.RawMessage   // the latest rrweb Meta event
	buf     []json.RawMessage // events since the latest full snapshot
	bufSize int
	full    bool // buf starts at a full snapshot
	viewers map[*client]struct{}
}

type listFilter struct {
	admin   bool
	project string
}

// New returns a hub; it does nothing until Run.
func New(cfg Config) (*Hub, error) {
	if cfg.Conn == nil {
		return nil, errors.New("new live hub: a NATS connection is required")
	}
	if cfg.Subject == "" {
		cfg.Subject = sdkproto.SubjectAll
	}
	if cfg.ActiveFor == 0 {
		cfg.ActiveFor = 2 * time.Minute
	}
	if cfg.SessionBytes == 0 {
		cfg.SessionBytes = 8 << 20
	}
	if cfg.TotalBytes == 0 {
		cfg.TotalBytes = 256 << 20
	}
	if cfg.ClientQueue == 0 {
		cfg.ClientQueue = 256
	}
	if cfg.ListInterval == 0 {
		cfg.ListInterval = 250 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &Hub{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "live"),
		sessions: map[sessionKey]*session{},
		lists:    map[*client]listFilter{},
	}
	h.upgrader = websocket.Upgrader{
		ReadBufferSize:  1024,
		WriteBufferSize: 32 << 10,
		CheckOrigin:     h.checkOrigin,
	}
	return h, nil
}

// Mount adds GET /api/v1/live to an authenticated API mux.
func (h *Hub) Mount(mux *http.ServeMux) { mux.Handle("GET /api/v1/live", h) }

// Run follows the ingest subjects until ctx is done.
func (h *Hub) Run(ctx context.Context) error {
	sub, err := h.cfg.Conn.Subscribe(h.cfg.Subject, func(m *nats.Msg) { h.ingest(m.Subject, m.Header.Get(sdkproto.HeaderCountry), m.Data) })
	if err != nil {
		return fmt.Errorf("live: subscribe %s: %w", h.cfg.Subject, err)
	}
	// Live tail is best effort: a viewer too slow to keep up is resynced,
	// and so is the hub itself rather than holding the connection back.
	_ = sub.SetPendingLimits(64<<10, 256<<20)
	defer sub.Unsubscribe()
	tick := time.NewTicker(h.cfg.ListInterval)
	defer tick.Stop()
	var sent uint64
	for {
		select {
		case <-ctx.Done():
			h.closeAll()
			return nil
		case now := <-tick.C:
			h.expire(now)
			h.mu.Lock()
			v := h.version
			h.mu.Unlock()
			if v != sent {
				sent = v
				h.pushLists()
			}
		}
	}
}

// rrweb event types the hub cares about.
const (
	rrwebFullSnapshot = 2
	rrwebMeta         = 4
)

// ingest handles one NATS message: one batch of one kind.
func (h *Hub) ingest(subject, country string, data []byte) {
	region, project, kind, err := sdkproto.ParseSubject(subject)
	if err != nil || !kind.Valid() {
		return // outcomes and anything else that is not an event batch
	}
	var b sdkproto.Batch
	if err := sdkproto.Unmarshal(data, &b); err != nil || b.Session.ID == "" {
		return
	}
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	k := sessionKey{project, b.Session.ID}
	s := h.sessions[k]
	if s == nil {
		s = &session{Project: project, ID: b.Session.ID, Started: b.Session.StartedAt, viewers: map[*client]struct{}{}}
		h.sessions[k] = s
	}
	s.Region, s.seen, s.LastSeen = region, now, now.UnixMilli()
	if country != "" {
		s.Country = country
	}
	if b.Page.URL != "" {
		s.URL = b.Page.URL
	}
	if b.Session.UserID != "" {
		s.UserID = b.Session.UserID
	}
	if b.Device.UA != "" {
		s.UA = b.Device.UA
	}
	s.Events += len(b.Events)
	h.version++
	for i := range b.Events {
		ev := &b.Events[i]
		switch {
		case ev.Kind == sdkproto.KindReplay && ev.Replay != nil:
			h.addReplay(s, ev.Replay.Events)
		case ev.Kind == sdkproto.KindError && ev.Error != nil:
			s.Errors++
			if len(s.viewers) == 0 {
				continue // nobody to send it to: most sessions, most of the time
			}
			raw, err := json.Marshal(ev)
			if err != nil {
				continue
			}
			h.broadcast(s, message{Type: "error", Event: raw})
		}
	}
}

// addReplay appends rrweb events to the session's buffer, restarting it at
// each full snapshot, and streams them to the session's viewers.
func (h *Hub) addReplay(s *session, raw json.RawMessage) {
	events, types := sdkproto.SplitReplay(raw)
	if len(events) == 0 {
		return
	}
	for i, e := range events {
		switch types[i] {
		case rrwebMeta:
			s.meta = e
			continue // sent together with the full snapshot that follows
		case rrwebFullSnapshot:
			h.buffered -= s.bufSize
			s.buf, s.bufSize, s.full = nil, 0, true
			if s.meta != nil {
				s.buf = append(s.buf, s.meta)
				s.bufSize += len(s.meta)
			}
		}
		if !s.full {
			continue
		}
		if s.bufSize+len(e) > h.cfg.SessionBytes {
			// Too big to hold: keep nothing until the next full snapshot;
			// a viewer opening now gets the stored history instead.
			h.buffered -= s.bufSize
			s.buf, s.bufSize, s.full = nil, 0, false
			continue
		}
		s.buf = append(s.buf, e)
		s.bufSize += len(e)
		h.buffered += len(e)
	}
	h.evict()
	if len(s.viewers) > 0 {
		out := events
		if s.meta != nil && len(events) > 0 && types[0] == rrwebFullSnapshot {
			out = append([]json.RawMessage{s.meta}, events...)
		}
		h.broadcast(s, message{Type: "events", Events: out})
	}
}

// evict drops the buffers of the sessions seen longest ago until the total
// is within bounds.
func (h *Hub) evict() {
	if h.buffered <= h.cfg.TotalBytes {
		return
	}
	all := make([]*session, 0, len(h.sessions))
	for _, s := range h.sessions {
		if s.bufSize > 0 {
			all = append(all, s)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].seen.Before(all[j].seen) })
	for _, s := range all {
		if h.buffered <= h.cfg.TotalBytes {
			return
		}
		h.buffered -= s.bufSize
		s.buf, s.bufSize, s.full = nil, 0, false
	}
}

// expire forgets sessions that went quiet and have no viewer.
func (h *Hub) expire(now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, s := range h.sessions {
		if now.Sub(s.seen) > h.cfg.ActiveFor && len(s.viewers) == 0 {
			h.buffered -= s.bufSize
			delete(h.sessions, k)
			h.version++
		}
	}
}

// Active returns the active sessions a caller may see, newest first.
func (h *Hub) active(f listFilter) []session {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]session, 0, len(h.sessions))
	for _, s := range h.sessions {
		if f.admin && f.project == "" || s.Project == f.project {
			c := *s
			c.buf, c.meta, c.viewers = nil, nil, nil
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LastSeen > out[j].LastSeen })
	if len(out) > 200 {
		out = out[:200]
	}
	return out
}

func (h *Hub) pushLists() {
	h.mu.Lock()
	clients := make(map[*client]listFilter, len(h.lists))
	for c, f := range h.lists {
		clients[c] = f
	}
	h.mu.Unlock()
	for c, f := range clients {
		if b, err := json.Marshal(listMessage(h.active(f))); err == nil {
			c.queue(b)
		}
	}
}

func listMessage(s []session) message {
	raw, _ := json.Marshal(s)
	return message{Type: "sessions", Sessions: raw}
}

// broadcast queues m for every viewer of s; h.mu is held.
func (h *Hub) broadcast(s *session, m message) {
	if len(s.viewers) == 0 {
		return
	}
	b, err := json.Marshal(m)
	if err != nil {
		return
	}
	for c := range s.viewers {
		c.queue(b)
	}
}

func (h *Hub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.lists {
		c.close()
	}
	for _, s := range h.sessions {
		for c := range s.viewers {
			c.close()
		}
	}
}

func (h *Hub) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not a browser: authentication alone decides
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if u.Host == r.Host {
		return true
	}
	for _, o := range h.cfg.AllowedOrigins {
		if o == origin {
			return true
		}
	}
	return false
}

// message is what viewers receive.
type message struct {
	Type     string            `json:"type"`
	Session  string            `json:"session,omitempty"`
	Sessions json.RawMessage   `json:"sessions,omitempty"`
	Events   []json.RawMessage `json:"events,omitempty"`
	Event    json.RawMessage   `json:"event,omitempty"`
	Detail   string            `json:"detail,omitempty"`
}

// ServeHTTP upgrades to a WebSocket: the active-session list, or with
// ?session= one session's event stream. The API mux has authenticated the
// caller already.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p, ok := auth.From(r.Context())
	if !ok {
		http.Error(w, `{"error":"unauthorized","detail":"missing credentials"}`, http.StatusUnauthorized)
		return
	}
	id := r.URL.Query().Get("session")
	project := r.URL.Query().Get("project")
	if id != "" {
		if project = auth.Project(w, r); project == "" {
			return
		}
	} else if project != "" && !p.CanRead(project) {
		http.Error(w, `{"error":"forbidden","detail":"token is not valid for project `+project+`"}`, http.StatusForbidden)
		return
	} else if !p.Admin {
		project = p.Project
	}
	conn, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader wrote the error response
	}
	c := newClient(conn, h.cfg.ClientQueue)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go c.readLoop(cancel)
	if id == "" {
		h.serveList(ctx, c, listFilter{admin: p.Admin, project: project})
	} else {
		h.serveSession(ctx, c, sessionKey{project, id})
	}
	c.conn.Close()
}

func (h *Hub) serveList(ctx context.Context, c *client, f listFilter) {
	h.mu.Lock()
	h.lists[c] = f
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.lists, c)
		h.mu.Unlock()
	}()
	c.send(listMessage(h.active(f)))
	c.writeLoop(ctx, nil)
}

func (h *Hub) serveSession(ctx context.Context, c *client, k sessionKey) {
	snap := h.subscribe(c, k)
	defer h.unsubscribe(c, k)
	if snap == nil && h.cfg.History != nil {
		hist, err := h.cfg.History(ctx, k.project, k.id)
		if err != nil {
			h.log.Warn("live: load history", "session", k.id, "err", err)
		}
		snap = hist
	}
	if !c.send(message{Type: "snapshot", Session: k.id, Events: snap}) {
		return
	}
	c.writeLoop(ctx, func() []json.RawMessage {
		snap := h.resync(c, k)
		if snap == nil && h.cfg.History != nil {
			snap, _ = h.cfg.History(ctx, k.project, k.id)
		}
		return snap
	})
}

// subscribe registers c as a viewer and returns the buffered snapshot, in
// one critical section so that no event falls between them.
func (h *Hub) subscribe(c *client, k sessionKey) []json.RawMessage {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.sessions[k]
	if s == nil {
		s = &session{Project: k.project, ID: k.id, seen: time.Now(), viewers: map[*client]struct{}{}}
		h.sessions[k] = s
	}
	s.viewers[c] = struct{}{}
	if !s.full {
		return nil
	}
	return append([]json.RawMessage(nil), s.buf...)
}

func (h *Hub) unsubscribe(c *client, k sessionKey) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s := h.sessions[k]; s != nil {
		delete(s.viewers, c)
	}
}

// resync drops what c has queued and returns a fresh snapshot, in one
// critical section with the hub's producers.
func (h *Hub) resync(c *client, k sessionKey) []json.RawMessage {
	h.mu.Lock()
	defer h.mu.Unlock()
	c.drain()
	if s := h.sessions[k]; s != nil && s.full {
		return append([]json.RawMessage(nil), s.buf...)
	}
	return nil
}
