package coordinator

import (
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/rearview-dev/rearview/coordinator/auth"
	"github.com/rearview-dev/rearview/coordinator/blob"
	"github.com/rearview-dev/rearview/coordinator/respond"
	"github.com/rearview-dev/rearview/coordinator/store"
	"github.com/rearview-dev/rearview/sdkproto"
)

// Handler returns the coordinator's HTTP API. Every /api/ route requires a
// token (Authorization: Bearer …): the admin token, or a project's API
// token, which reads only its own project. mount adds routes of other
// packages (issues, vitals, …) to the same authenticated mux.
func (c *Coordinator) Handler(mount ...func(*http.ServeMux)) http.Handler {
	api := http.NewServeMux()
	api.HandleFunc("GET /api/v1/projects", c.listProjects)
	api.HandleFunc("POST /api/v1/projects", c.createProject)
	api.HandleFunc("PATCH /api/v1/projects/{id}", c.patchProject)
	api.HandleFunc("GET /api/v1/events", c.listEvents)
	api.HandleFunc("GET /api/v1/events/{id}", c.getEvent)
	api.HandleFunc("GET /api/v1/sessions", c.listSessions)
	api.HandleFunc("GET /api/v1/sessions/{id}", c.getSession)
	api.HandleFunc("GET /api/v1/sessions/{id}/segments", c.listSegments)
	api.HandleFunc("GET /api/v1/sessions/{id}/segments/{n}", c.getSegment)
	api.HandleFunc("GET /api/v1/outcomes", c.listOutcomes)
	api.HandleFunc("GET /api/v1/me", c.me)
	api.HandleFunc("GET /api/v1/config", c.config)
	for _, m := range mount {
		m(api)
	}
	root := http.NewServeMux()
	root.Handle("/api/", c.authenticate(api))
	root.HandleFunc("POST /api/v1/login", c.login)
	root.HandleFunc("POST /api/v1/logout", c.logout)
	root.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	root.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := c.cfg.DB.PingContext(r.Context()); err != nil || !c.cfg.JetStream.Conn().IsConnected() {
			http.Error(w, "not ready\n", http.StatusServiceUnavailable)
			return
		}
		// Plain text stays "ready" for probes; JSON also says which
		// run-once leases this process holds, to find where work runs,
		// and how many messages the coordinators have yet to store
		// (the shared consumer's pending and unacknowledged ones).
		if strings.Contains(r.Header.Get("Accept"), "application/json") {
			leases := []string{}
			if c.cfg.Leases != nil {
				leases = append(leases, c.cfg.Leases()...)
			}
			out := map[string]any{"status": "ready", "leases": leases}
			if cons, err := c.cfg.JetStream.Consumer(r.Context(), sdkproto.StreamName, c.cfg.Consumer); err == nil {
				if info, err := cons.Info(r.Context()); err == nil {
					out["backlog"] = info.NumPending + uint64(info.NumAckPending)
				}
			}
			respond.JSON(w, http.StatusOK, out)
			return
		}
		w.Write([]byte("ready\n"))
	})
	return root
}

// Principal resolves a bearer token to who is calling.
func (c *Coordinator) Principal(r *http.Request) (auth.Principal, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return auth.Principal{}, false
	}
	if c.cfg.AdminToken != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(c.cfg.AdminToken)) == 1 {
		return auth.Principal{Admin: true}, true
	}
	p, err := store.ProjectByToken(r.Context(), c.cfg.DB, tok)
	if err != nil {
		return auth.Principal{}, false
	}
	return auth.Principal{Project: p.ID}, true
}

func (c *Coordinator) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := auth.From(r.Context())
		if !ok {
			p, ok = c.Principal(r)
		}
		if !ok && c.sessions != nil && c.sessions.Verify(r) {
			// A cookie rides along on any request the browser makes, so
			// a write must also come from our own origin (SameSite=Strict
			// already stops most cross-site requests; this covers the rest).
			if r.Method != http.MethodGet && r.Method != http.MethodHead && !sameOrigin(r) {
				respond.Error(w, http.StatusForbidden, "forbidden", "cross-origin request with a session cookie")
				return
			}
			p, ok = auth.Principal{Admin: true}, true
		}
		if !ok {
			respond.Error(w, http.StatusUnauthorized, "unauthorized", "a valid API token (Authorization: Bearer …) or a player sign-in is required")
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.With(r.Context(), p)))
	})
}

// sameOrigin reports whether a browser request comes from the page's own
// origin, by Sec-Fetch-Site or Origin.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin"
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not a browser cross-origin request
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == r.Host
}

// login exchanges the admin token for the player's session cookie.
func (c *Coordinator) login(w http.ResponseWriter, r *http.Request) {
	if c.sessions == nil {
		respond.Error(w, http.StatusNotFound, "not_found", "sign-in is disabled: the coordinator has no admin token")
		return
	}
	var body struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&body); err != nil {
		respond.Error(w, http.StatusBadRequest, "bad_request", "body must be JSON {\"token\": \"…\"}")
		return
	}
	if subtle.ConstantTimeCompare([]byte(body.Token), []byte(c.cfg.AdminToken)) != 1 {
		c.log.Warn("player sign-in refused")
		respond.Error(w, http.StatusUnauthorized, "unauthorized", "wrong admin token")
		return
	}
	if err := c.sessions.Issue(w, c.cfg.SecureCookies); err != nil {
		c.internal(w, fmt.Errorf("issue session cookie: %w", err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (c *Coordinator) logout(w http.ResponseWriter, r *http.Request) {
	if c.sessions != nil {
		c.sessions.Clear(w)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (c *Coordinator) me(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.From(r.Context())
	respond.JSON(w, http.StatusOK, map[string]any{"admin": p.Admin, "project": p.Project})
}

// config is what the player needs to know about this deployment.
func (c *Coordinator) config(w http.ResponseWriter, r *http.Request) {
	respond.JSON(w, http.StatusOK, map[string]any{"trace_url_template": c.cfg.TraceURLTemplate})
}

func (c *Coordinator) internal(w http.ResponseWriter, err error) {
	respond.Internal(w, c.log, "api", err)
}

func (c *Coordinator) listProjects(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.From(r.Context())
	ps, err := store.Projects(r.Context(), c.cfg.DB)
	if err != nil {
		c.internal(w, err)
		return
	}
	out := []ProjectView{}
	for _, x := range ps {
		if p.CanRead(x.ID) {
			out = append(out, c.projectView(x))
		}
	}
	respond.JSON(w, http.StatusOK, map[string]any{"projects": out})
}

// CreatedProject is the answer to project creation; Token is shown once.
type CreatedProject struct {
	ProjectView
	Token string `json:"api_token"`
}

// ProjectView is a project as the API shows it: with the project id Sentry
// SDKs see in its DSN and, when the coordinator knows an edge's URL, the DSN.
type ProjectView struct {
	store.Project
	SentryProjectID string `json:"sentry_project_id"`
	DSN             string `json:"dsn,omitempty"`
}

func (c *Coordinator) projectView(p store.Project) ProjectView {
	v := ProjectView{Project: p, SentryProjectID: sdkproto.SentryProjectID(p.ID)}
	if c.cfg.EdgeURL != "" {
		v.DSN = sdkproto.SentryDSN(c.cfg.EdgeURL, p.IngestKey, p.ID)
	}
	return v
}

func (c *Coordinator) createProject(w http.ResponseWriter, r *http.Request) {
	if p, _ := auth.From(r.Context()); !p.Admin {
		respond.Error(w, http.StatusForbidden, "forbidden", "creating projects needs the admin token")
		return
	}
	var req struct {
		Name      string `json:"name"`
		IngestKey string `json:"ingest_key"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
		respond.Error(w, http.StatusBadRequest, "bad_request", "body must be JSON {\"name\": …}: "+err.Error())
		return
	}
	p, tok, err := c.CreateProject(r.Context(), req.Name, req.IngestKey)
	if err != nil {
		respond.Error(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	respond.JSON(w, http.StatusCreated, CreatedProject{ProjectView: c.projectView(p), Token: tok})
}

func limitParam(r *http.Request, def, max int) int {
	n, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || n <= 0 {
		return def
	}
	return min(n, max)
}

// Event is an event as the API returns it.
type Event struct {
	ID         string `json:"id"`
	Session    string `json:"session_id"`
	Kind       string `json:"kind"`
	TS         int64  `json:"ts"`
	ReceivedAt int64  `json:"received_at"`
	// StoredAt is when the coordinator stored the event (0 for events
	// stored before the column existed); StoredAt-ReceivedAt is the
	// pipeline's latency.
	StoredAt int64           `json:"stored_at"`
	Region   string          `json:"region"`
	Country  string          `json:"country,omitempty"`
	URL      string          `json:"url,omitempty"`
	TraceID  string          `json:"trace_id,omitempty"`
	IssueID  string          `json:"issue_id,omitempty"`
	Payload  json.RawMessage `json:"event"`
}

const eventCols = `id, session_id, kind, ts, received_at, stored_at, region, country, url, coalesce(trace_id, ''), coalesce(issue_id, ''), payload`

func scanEvent(s interface{ Scan(...any) error }) (Event, error) {
	var e Event
	var payload string
	err := s.Scan(&e.ID, &e.Session, &e.Kind, &e.TS, &e.ReceivedAt, &e.StoredAt, &e.Region, &e.Country, &e.URL, &e.TraceID, &e.IssueID, &payload)
	e.Payload = json.RawMessage(payload)
	return e, err
}

func (c *Coordinator) listEvents(w http.ResponseWriter, r *http.Request) {
	project := auth.Project(w, r)
	if project == "" {
		return
	}
	q := r.URL.Query()
	where := []string{"project = ?"}
	args := []any{project}
	for _, f := range []struct{ param, col string }{{"kind", "kind"}, {"session", "session_id"}, {"trace_id", "trace_id"}, {"issue", "issue_id"}} {
		if v := q.Get(f.param); v != "" {
			where = append(where, f.col+" = ?")
			args = append(args, v)
		}
	}
	if v, err := strconv.ParseInt(q.Get("before"), 10, 64); err == nil {
		where = append(where, "ts < ?")
		args = append(args, v)
	}
	args = append(args, limitParam(r, 100, 1000))
	rows, err := c.cfg.DB.QueryContext(r.Context(), `SELECT `+eventCols+` FROM events WHERE `+strings.Join(where, " AND ")+` ORDER BY ts DESC, id LIMIT ?`, args...)
	if err != nil {
		c.internal(w, err)
		return
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			c.internal(w, err)
			return
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		c.internal(w, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"events": out})
}

func (c *Coordinator) getEvent(w http.ResponseWriter, r *http.Request) {
	project := auth.Project(w, r)
	if project == "" {
		return
	}
	e, err := scanEvent(c.cfg.DB.QueryRowContext(r.Context(), `SELECT `+eventCols+` FROM events WHERE project = ? AND id = ?`, project, r.PathValue("id")))
	if errors.Is(err, sql.ErrNoRows) {
		respond.Error(w, http.StatusNotFound, "not_found", "no event "+r.PathValue("id"))
		return
	}
	if err != nil {
		c.internal(w, err)
		return
	}
	respond.JSON(w, http.StatusOK, e)
}

// Session is a session as the API returns it.
type Session struct {
	ID          string `json:"id"`
	StartedAt   int64  `json:"started_at"`
	LastSeen    int64  `json:"last_seen"`
	UserID      string `json:"user_id,omitempty"`
	FirstURL    string `json:"first_url"`
	LastURL     string `json:"last_url"`
	UA          string `json:"ua"`
	ViewportW   int    `json:"viewport_w"`
	ViewportH   int    `json:"viewport_h"`
	Region      string `json:"region"`
	Country     string `json:"country,omitempty"`
	FlagError   bool   `json:"flag_error"`
	FlagSupport bool   `json:"flag_support"`
	// FlagSynthetic marks a synthetic check's session.
	FlagSynthetic bool   `json:"flag_synthetic,omitempty"`
	Events        int    `json:"events"`
	Errors        int    `json:"errors"`
	Segments      int    `json:"segments"`
	ReplayBytes   int64  `json:"replay_bytes"`
	DeviceClass   string `json:"device_class,omitempty"`
	Browser       string `json:"browser,omitempty"`
	OS            string `json:"os,omitempty"`
	Pages         int    `json:"pages"`
	Clicks        int    `json:"clicks"`
	RageClicks    int    `json:"rage_clicks"`
	DurationMS    int64  `json:"duration_ms"`
}

const sessionCols = `id, started_at, last_seen, user_id, first_url, last_url, ua, viewport_w, viewport_h, region, country, flag_error, flag_support, events, errors, segments, replay_bytes, device_class, browser, os, pages, clicks, rage_clicks, flag_synthetic`

func scanSession(s interface{ Scan(...any) error }) (Session, error) {
	var x Session
	err := s.Scan(&x.ID, &x.StartedAt, &x.LastSeen, &x.UserID, &x.FirstURL, &x.LastURL, &x.UA, &x.ViewportW, &x.ViewportH, &x.Region, &x.Country, &x.FlagError, &x.FlagSupport, &x.Events, &x.Errors, &x.Segments, &x.ReplayBytes, &x.DeviceClass, &x.Browser, &x.OS, &x.Pages, &x.Clicks, &x.RageClicks, &x.FlagSynthetic)
	x.DurationMS = x.LastSeen - x.StartedAt
	return x, err
}

func (c *Coordinator) listSessions(w http.ResponseWriter, r *http.Request) {
	project := auth.Project(w, r)
	if project == "" {
		return
	}
	sq, err := ParseSessionQuery(r.URL.Query().Get("q"))
	if err != nil {
		respond.Error(w, http.StatusBadRequest, "bad_query", err.Error())
		return
	}
	where, args := sq.where(c.dialect, project)
	if v, err := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64); err == nil {
		where += " AND last_seen < ?"
		args = append(args, v)
	}
	args = append(args, limitParam(r, 50, 500))
	rows, err := c.cfg.DB.QueryContext(r.Context(), `SELECT `+sessionCols+` FROM sessions WHERE `+where+` ORDER BY last_seen DESC LIMIT ?`, args...)
	if err != nil {
		c.internal(w, err)
		return
	}
	defer rows.Close()
	out := []Session{}
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			c.internal(w, err)
			return
		}
		out = append(out, s)
	}
	respond.JSON(w, http.StatusOK, map[string]any{"sessions": out})
}

func (c *Coordinator) getSession(w http.ResponseWriter, r *http.Request) {
	project := auth.Project(w, r)
	if project == "" {
		return
	}
	s, err := scanSession(c.cfg.DB.QueryRowContext(r.Context(), `SELECT `+sessionCols+` FROM sessions WHERE project = ? AND id = ?`, project, r.PathValue("id")))
	if errors.Is(err, sql.ErrNoRows) {
		respond.Error(w, http.StatusNotFound, "not_found", "no session "+r.PathValue("id"))
		return
	}
	if err != nil {
		c.internal(w, err)
		return
	}
	respond.JSON(w, http.StatusOK, s)
}

// Segment describes a stored replay segment.
type Segment struct {
	Segment    int    `json:"segment"`
	EventID    string `json:"event_id"`
	TS         int64  `json:"ts"`
	EndTS      int64  `json:"end_ts"`
	FromBuffer bool   `json:"from_buffer"`
	Bytes      int64  `json:"bytes"`
	RawBytes   int64  `json:"raw_bytes"`
}

func (c *Coordinator) listSegments(w http.ResponseWriter, r *http.Request) {
	project := auth.Project(w, r)
	if project == "" {
		return
	}
	rows, err := c.cfg.DB.QueryContext(r.Context(), `SELECT segment, event_id, ts, end_ts, from_buffer, bytes, raw_bytes FROM replay_segments WHERE project = ? AND session_id = ? ORDER BY segment`, project, r.PathValue("id"))
	if err != nil {
		c.internal(w, err)
		return
	}
	defer rows.Close()
	out := []Segment{}
	for rows.Next() {
		var s Segment
		if err := rows.Scan(&s.Segment, &s.EventID, &s.TS, &s.EndTS, &s.FromBuffer, &s.Bytes, &s.RawBytes); err != nil {
			c.internal(w, err)
			return
		}
		out = append(out, s)
	}
	respond.JSON(w, http.StatusOK, map[string]any{"segments": out})
}

func (c *Coordinator) getSegment(w http.ResponseWriter, r *http.Request) {
	project := auth.Project(w, r)
	if project == "" {
		return
	}
	data, err := c.segment(r.Context(), project, r.PathValue("id"), r.PathValue("n"))
	if errors.Is(err, sql.ErrNoRows) {
		respond.Error(w, http.StatusNotFound, "not_found", "no such segment")
		return
	}
	if errors.Is(err, blob.ErrNotFound) {
		respond.Error(w, http.StatusNotFound, "not_found", "segment expired")
		return
	}
	if err != nil {
		c.internal(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	w.Write(data)
}

func (c *Coordinator) listOutcomes(w http.ResponseWriter, r *http.Request) {
	project := auth.Project(w, r)
	if project == "" {
		return
	}
	since, _ := strconv.ParseInt(r.URL.Query().Get("since"), 10, 64)
	rows, err := c.cfg.DB.QueryContext(r.Context(), `SELECT region, reason, sum(count) FROM outcome_reasons WHERE project = ? AND ts >= ? GROUP BY region, reason ORDER BY region, reason`, project, since)
	if err != nil {
		c.internal(w, err)
		return
	}
	defer rows.Close()
	type row struct {
		Region string `json:"region"`
		Reason string `json:"reason"`
		Count  int64  `json:"count"`
	}
	out := []row{}
	for rows.Next() {
		var x row
		if err := rows.Scan(&x.Region, &x.Reason, &x.Count); err != nil {
			c.internal(w, err)
			return
		}
		out = append(out, x)
	}
	respond.JSON(w, http.StatusOK, map[string]any{"outcomes": out})
}
