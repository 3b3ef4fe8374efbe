package issues

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/rearview-dev/rearview/coordinator/auth"
	"github.com/rearview-dev/rearview/coordinator/fingerprint"
)

// Issue statuses.
const (
	StatusUnresolved = "unresolved"
	StatusResolved   = "resolved"
	StatusIgnored    = "ignored"
)

// Issue is an issue as the API returns it. Times are Unix milliseconds.
type Issue struct {
	ID      string `json:"id"`
	Project string `json:"project"`
	Title   string `json:"title"`
	Culprit string `json:"culprit"`
	Type    string `json:"type"`
	Value   string `json:"value"`
	Status  string `json:"status"`
	// Substatus is "regressed" for an issue that reopened after it was
	// resolved.
	Substatus   string   `json:"substatus,omitempty"`
	Regressed   bool     `json:"regressed"`
	Count       int64    `json:"count"`
	Users       int64    `json:"users"`
	FirstSeen   int64    `json:"first_seen"`
	LastSeen    int64    `json:"last_seen"`
	LastRelease string   `json:"last_release,omitempty"`
	ResolvedIn  string   `json:"resolved_in,omitempty"`
	Rule        string   `json:"rule,omitempty"`
	Releases    []string `json:"releases"`
	// Trend is events per hour for the last 24 hours, oldest first.
	Trend []int64 `json:"trend"`
}

// Event is one event of an issue; Payload is the stored event JSON with its
// stack symbolicated.
type Event struct {
	ID         string          `json:"id"`
	TS         int64           `json:"ts"`
	ReceivedAt int64           `json:"received_at"`
	SessionID  string          `json:"session_id"`
	TraceID    string          `json:"trace_id,omitempty"`
	Payload    json.RawMessage `json:"payload"`
}

// Mount adds the issues and grouping-rules routes to the coordinator's
// authenticated API mux.
func (s *Service) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/issues", s.listIssues)
	mux.HandleFunc("GET /api/v1/issues/{id}", s.getIssue)
	mux.HandleFunc("PATCH /api/v1/issues/{id}", s.patchIssue)
	mux.HandleFunc("GET /api/v1/issues/{id}/events", s.issueEvents)
	mux.HandleFunc("GET /api/v1/projects/{id}/grouping", s.getGrouping)
	mux.HandleFunc("PUT /api/v1/projects/{id}/grouping", s.putGrouping)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // rules contain "->"; the API is JSON, never HTML
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, detail string) {
	writeJSON(w, status, map[string]string{"error": code, "detail": detail})
}

func (s *Service) internal(w http.ResponseWriter, err error) {
	s.log.Error("api", "err", err)
	writeError(w, http.StatusInternalServerError, "internal", "internal error")
}

const issueCols = `project, id, title, culprit, type, value, status, substatus, count, users, first_seen, last_seen, last_release, resolved_in, rule`

func scanIssue(sc interface{ Scan(...any) error }) (Issue, error) {
	var x Issue
	err := sc.Scan(&x.Project, &x.ID, &x.Title, &x.Culprit, &x.Type, &x.Value, &x.Status, &x.Substatus, &x.Count, &x.Users, &x.FirstSeen, &x.LastSeen, &x.LastRelease, &x.ResolvedIn, &x.Rule)
	x.Regressed = x.Substatus == "regressed"
	x.Releases = []string{}
	x.Trend = make([]int64, 24)
	return x, err
}

func (s *Service) listIssues(w http.ResponseWriter, r *http.Request) {
	project := auth.Project(w, r)
	if project == "" {
		return
	}
	q := r.URL.Query()
	where := []string{"project = ?"}
	args := []any{project}
	switch st := q.Get("status"); st {
	case "":
	case StatusUnresolved, StatusResolved, StatusIgnored:
		where = append(where, "status = ?")
		args = append(args, st)
	default:
		writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("unknown status %q (want unresolved, resolved or ignored)", st))
		return
	}
	if text := strings.TrimSpace(q.Get("q")); text != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(text) + "%"
		where = append(where, `(title LIKE ? ESCAPE '\' OR culprit LIKE ? ESCAPE '\' OR id = ?)`)
		args = append(args, like, like, text)
	}
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			writeError(w, http.StatusBadRequest, "bad_request", "limit must be a positive integer")
			return
		}
		limit = min(n, 500)
	}
	args = append(args, limit)
	rows, err := s.db.QueryContext(r.Context(), `SELECT `+issueCols+` FROM issues WHERE `+strings.Join(where, " AND ")+` ORDER BY last_seen DESC, id LIMIT ?`, args...)
	if err != nil {
		s.internal(w, err)
		return
	}
	out := []Issue{}
	for rows.Next() {
		x, err := scanIssue(rows)
		if err != nil {
			rows.Close()
			s.internal(w, err)
			return
		}
		out = append(out, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		s.internal(w, err)
		return
	}
	if err := s.decorate(r.Context(), project, out); err != nil {
		s.internal(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"issues": out})
}

// decorate fills releases and trends of issues of one project.
func (s *Service) decorate(ctx context.Context, project string, issues []Issue) error {
	if len(issues) == 0 {
		return nil
	}
	byID := make(map[string]*Issue, len(issues))
	in := strings.Repeat(", ?", len(issues))[2:]
	args := []any{project}
	for i := range issues {
		byID[issues[i].ID] = &issues[i]
		args = append(args, issues[i].ID)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT issue_id, release FROM issue_releases WHERE project = ? AND issue_id IN (`+in+`) ORDER BY first_seen, release`, args...)
	if err != nil {
		return fmt.Errorf("issue releases: %w", err)
	}
	for rows.Next() {
		var id, rel string
		if err := rows.Scan(&id, &rel); err != nil {
			rows.Close()
			return fmt.Errorf("issue releases: %w", err)
		}
		byID[id].Releases = append(byID[id].Releases, rel)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("issue releases: %w", err)
	}
	now := s.now().UnixMilli()
	last := now - now%3_600_000
	first := last - 23*3_600_000
	rows, err = s.db.QueryContext(ctx, `SELECT issue_id, hour, count FROM issue_hourly WHERE project = ? AND issue_id IN (`+in+`) AND hour >= ? AND hour <= ?`, append(args, first, last)...)
	if err != nil {
		return fmt.Errorf("issue trend: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var hour, n int64
		if err := rows.Scan(&id, &hour, &n); err != nil {
			return fmt.Errorf("issue trend: %w", err)
		}
		byID[id].Trend[(hour-first)/3_600_000] += n
	}
	return rows.Err()
}

// issue loads the issue named in the path, checking the caller may read
// it. An admin may omit ?project=. It writes the error response and
// returns false when the request may not proceed.
func (s *Service) issue(w http.ResponseWriter, r *http.Request) (Issue, bool) {
	id := r.PathValue("id")
	p, _ := auth.From(r.Context())
	var row *sql.Row
	if p.Admin && r.URL.Query().Get("project") == "" {
		row = s.db.QueryRowContext(r.Context(), `SELECT `+issueCols+` FROM issues WHERE id = ? ORDER BY project LIMIT 1`, id)
	} else {
		project := auth.Project(w, r)
		if project == "" {
			return Issue{}, false
		}
		row = s.db.QueryRowContext(r.Context(), `SELECT `+issueCols+` FROM issues WHERE project = ? AND id = ?`, project, id)
	}
	x, err := scanIssue(row)
	if errors.Is(err, sql.ErrNoRows) {
		writeError(w, http.StatusNotFound, "not_found", "no issue "+id)
		return Issue{}, false
	}
	if err != nil {
		s.internal(w, err)
		return Issue{}, false
	}
	one := []Issue{x}
	if err := s.decorate(r.Context(), x.Project, one); err != nil {
		s.internal(w, err)
		return Issue{}, false
	}
	return one[0], true
}

func (s *Service) getIssue(w http.ResponseWriter, r *http.Request) {
	x, ok := s.issue(w, r)
	if !ok {
		return
	}
	evs, err := s.events(r.Context(), x.Project, x.ID, 0, 1)
	if err != nil {
		s.internal(w, err)
		return
	}
	out := map[string]any{"issue": x, "latest_event": nil}
	if len(evs) > 0 {
		out["latest_event"] = evs[0]
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Service) events(ctx context.Context, project, id string, before int64, limit int) ([]Event, error) {
	q := `SELECT id, ts, received_at, session_id, coalesce(trace_id, ''), payload FROM events WHERE project = ? AND issue_id = ?`
	args := []any{project, id}
	if before > 0 {
		q += ` AND ts < ?`
		args = append(args, before)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY ts DESC, id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("events of issue %s: %w", id, err)
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		var payload string
		if err := rows.Scan(&e.ID, &e.TS, &e.ReceivedAt, &e.SessionID, &e.TraceID, &payload); err != nil {
			return nil, fmt.Errorf("events of issue %s: %w", id, err)
		}
		e.Payload = json.RawMessage(payload)
		out = append(out, e)
	}
	return out, rows.Err()
}

func (s *Service) issueEvents(w http.ResponseWriter, r *http.Request) {
	x, ok := s.issue(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			writeError(w, http.StatusBadRequest, "bad_request", "limit must be a positive integer")
			return
		}
		limit = min(n, 500)
	}
	var before int64
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", "before must be a Unix time in milliseconds")
			return
		}
		before = n
	}
	evs, err := s.events(r.Context(), x.Project, x.ID, before, limit)
	if err != nil {
		s.internal(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": evs})
}

// StatusChange is the body of PATCH /api/v1/issues/{id}.
type StatusChange struct {
	Status string `json:"status"`
	// Release, for status resolved, is the release the fix is in: events
	// of this and older releases do not reopen the issue. Default: the
	// newest release the project has seen.
	Release string `json:"release,omitempty"`
}

func (s *Service) patchIssue(w http.ResponseWriter, r *http.Request) {
	var req StatusChange
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", `body must be JSON {"status": "resolved"|"unresolved"|"ignored"}: `+err.Error())
		return
	}
	switch req.Status {
	case StatusUnresolved, StatusResolved, StatusIgnored:
	default:
		writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("unknown status %q (want unresolved, resolved or ignored)", req.Status))
		return
	}
	if req.Release != "" && req.Status != StatusResolved {
		writeError(w, http.StatusBadRequest, "bad_request", "release is only meaningful with status resolved")
		return
	}
	x, ok := s.issue(w, r)
	if !ok {
		return
	}
	if err := s.SetStatus(r.Context(), x.Project, x.ID, req); err != nil {
		s.internal(w, err)
		return
	}
	if x, ok = s.issue(w, r); ok {
		writeJSON(w, http.StatusOK, x)
	}
}

// SetStatus changes an issue's status. Resolving records the release the
// fix is in, so that only a newer release reopens the issue.
func (s *Service) SetStatus(ctx context.Context, project, id string, c StatusChange) error {
	now := s.now().UnixMilli()
	var err error
	switch c.Status {
	case StatusResolved:
		rel := c.Release
		if rel == "" {
			err = s.db.QueryRowContext(ctx, `SELECT coalesce((SELECT release FROM project_releases WHERE project = ? ORDER BY seq DESC LIMIT 1), '')`, project).Scan(&rel)
			if err != nil {
				return fmt.Errorf("newest release of %s: %w", project, err)
			}
		} else if _, err := s.db.ExecContext(ctx, `INSERT INTO project_releases (project, release, first_seen, seq)
SELECT ?, ?, CAST(? AS BIGINT), coalesce(max(seq), 0) + 1 FROM project_releases WHERE project = ? ON CONFLICT DO NOTHING`, project, rel, now, project); err != nil {
			return fmt.Errorf("record release %s: %w", rel, err)
		}
		_, err = s.db.ExecContext(ctx, `UPDATE issues SET status = 'resolved', substatus = '', resolved_in = ?, resolved_at = ? WHERE project = ? AND id = ?`, rel, now, project, id)
	default:
		_, err = s.db.ExecContext(ctx, `UPDATE issues SET status = ?, substatus = '', resolved_in = '', resolved_at = NULL WHERE project = ? AND id = ?`, c.Status, project, id)
	}
	if err != nil {
		return fmt.Errorf("set status of issue %s: %w", id, err)
	}
	return nil
}

// grouping checks the caller may act on the project in the path and that
// it exists.
func (s *Service) groupingProject(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	p, _ := auth.From(r.Context())
	if !p.CanRead(id) {
		writeError(w, http.StatusForbidden, "forbidden", "token is not valid for project "+id)
		return "", false
	}
	var n int
	if err := s.db.QueryRowContext(r.Context(), `SELECT count(*) FROM projects WHERE id = ?`, id).Scan(&n); err != nil {
		s.internal(w, err)
		return "", false
	}
	if n == 0 {
		writeError(w, http.StatusNotFound, "not_found", "no project "+id)
		return "", false
	}
	return id, true
}

func (s *Service) getGrouping(w http.ResponseWriter, r *http.Request) {
	project, ok := s.groupingProject(w, r)
	if !ok {
		return
	}
	out, err := s.GetRules(r.Context(), project)
	if err != nil {
		s.internal(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// putGrouping takes {"rules": "…"} or, with Content-Type text/plain, the
// rules text itself.
func (s *Service) putGrouping(w http.ResponseWriter, r *http.Request) {
	project, ok := s.groupingProject(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, fingerprint.MaxRulesBytes+4096))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("rules must be at most %d bytes", fingerprint.MaxRulesBytes))
		return
	}
	text := string(body)
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
		var req struct {
			Rules *string `json:"rules"`
		}
		dec := json.NewDecoder(strings.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil || req.Rules == nil {
			detail := `body must be JSON {"rules": "…"} or text/plain rules`
			if err != nil {
				detail += ": " + err.Error()
			}
			writeError(w, http.StatusBadRequest, "bad_request", detail)
			return
		}
		text = *req.Rules
	}
	out, err := s.SetRules(r.Context(), project, text)
	var se *fingerprint.SyntaxError
	if errors.As(err, &se) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_rules", "detail": se.Error(), "line": se.Line, "column": se.Column})
		return
	}
	if err != nil {
		s.internal(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
