package coordinator

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/rearview-dev/rearview/coordinator/auth"
	"github.com/rearview-dev/rearview/coordinator/blob"
	"github.com/rearview-dev/rearview/coordinator/respond"
)

// Swept counts what one retention pass deleted.
type Swept struct {
	Segments int `json:"segments"`
	Events   int `json:"events"`
	Sessions int `json:"sessions"`
}

// sweepChunk bounds how much one transaction deletes, so that ingestion is
// never held up for long behind a large expiry.
const sweepChunk = 500

// Sweep deletes, for every project, replay segments (their objects first,
// then their index rows and screen text) older than its replay retention,
// and events and sessions older than its event retention. Deleting the
// object before the row means a crash in between leaves a row pointing at
// nothing, which the next pass removes; never an object nobody can find.
func (c *Coordinator) Sweep(ctx context.Context, now time.Time) (Swept, error) {
	var total Swept
	rows, err := c.cfg.DB.QueryContext(ctx, `SELECT id, replay_retention_days, event_retention_days FROM projects`)
	if err != nil {
		return total, fmt.Errorf("sweep: %w", err)
	}
	type policy struct {
		project      string
		replays, evs time.Duration
	}
	var ps []policy
	for rows.Next() {
		var p policy
		var rd, ed int
		if err := rows.Scan(&p.project, &rd, &ed); err != nil {
			rows.Close()
			return total, fmt.Errorf("sweep: %w", err)
		}
		p.replays, p.evs = c.cfg.ReplayRetention, c.cfg.EventRetention
		if rd > 0 {
			p.replays = time.Duration(rd) * 24 * time.Hour
		}
		if ed > 0 {
			p.evs = time.Duration(ed) * 24 * time.Hour
		}
		ps = append(ps, p)
	}
	rows.Close()
	for _, p := range ps {
		n, err := c.sweepReplays(ctx, p.project, now.Add(-p.replays).UnixMilli())
		total.Segments += n
		if err != nil {
			return total, err
		}
		e, s, err := c.sweepEvents(ctx, p.project, now.Add(-p.evs).UnixMilli())
		total.Events += e
		total.Sessions += s
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (c *Coordinator) sweepReplays(ctx context.Context, project string, cutoff int64) (int, error) {
	deleted := 0
	for {
		type seg struct {
			session string
			n       int
			key     string
			bytes   int64
		}
		// The segments of a pack share its object: they expire with the
		// last of them.
		rows, err := c.cfg.DB.QueryContext(ctx, `SELECT session_id, segment, blob_key, bytes FROM replay_segments r WHERE project = ? AND end_ts < ?
AND NOT EXISTS (SELECT 1 FROM replay_segments n WHERE n.project = r.project AND n.session_id = r.session_id AND n.blob_key = r.blob_key AND n.end_ts >= ?) LIMIT ?`, project, cutoff, cutoff, sweepChunk)
		if err != nil {
			return deleted, fmt.Errorf("sweep replays: %w", err)
		}
		var segs []seg
		for rows.Next() {
			var s seg
			if err := rows.Scan(&s.session, &s.n, &s.key, &s.bytes); err != nil {
				rows.Close()
				return deleted, fmt.Errorf("sweep replays: %w", err)
			}
			segs = append(segs, s)
		}
		rows.Close()
		if len(segs) == 0 {
			return deleted, nil
		}
		for _, s := range segs {
			if err := c.cfg.Blobs.Delete(ctx, s.key); err != nil && !errors.Is(err, blob.ErrNotFound) {
				return deleted, fmt.Errorf("sweep replays: delete %s: %w", s.key, err)
			}
		}
		tx, err := c.cfg.DB.BeginTx(ctx, nil)
		if err != nil {
			return deleted, fmt.Errorf("sweep replays: %w", err)
		}
		for _, s := range segs {
			if _, err := tx.ExecContext(ctx, `DELETE FROM replay_segments WHERE project = ? AND session_id = ? AND segment = ?`, project, s.session, s.n); err != nil {
				tx.Rollback()
				return deleted, fmt.Errorf("sweep replays: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM session_text WHERE project = ? AND session_id = ? AND segment = ?`, project, s.session, s.n); err != nil {
				tx.Rollback()
				return deleted, fmt.Errorf("sweep replays: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE sessions SET segments = max(segments - 1, 0), replay_bytes = max(replay_bytes - ?, 0) WHERE project = ? AND id = ?`, s.bytes, project, s.session); err != nil {
				tx.Rollback()
				return deleted, fmt.Errorf("sweep replays: %w", err)
			}
		}
		if err := tx.Commit(); err != nil {
			return deleted, fmt.Errorf("sweep replays: %w", err)
		}
		deleted += len(segs)
	}
}

func (c *Coordinator) sweepEvents(ctx context.Context, project string, cutoff int64) (events, sessions int, err error) {
	for {
		res, err := c.cfg.DB.ExecContext(ctx, `DELETE FROM events WHERE (project, id) IN (SELECT project, id FROM events WHERE project = ? AND received_at < ? LIMIT ?)`, project, cutoff, sweepChunk)
		if err != nil {
			return events, sessions, fmt.Errorf("sweep events: %w", err)
		}
		n, _ := res.RowsAffected()
		events += int(n)
		if n < sweepChunk {
			break
		}
	}
	// Events expire by when they arrived, not by the client's clock. A
	// session goes with its last event, once its replay is gone too: a session
	// with neither is only an index row pointing at nothing.
	rows, err := c.cfg.DB.QueryContext(ctx, `SELECT id FROM sessions s WHERE project = ? AND segments = 0
AND NOT EXISTS (SELECT 1 FROM events e WHERE e.project = s.project AND e.session_id = s.id)`, project)
	if err != nil {
		return events, sessions, fmt.Errorf("sweep sessions: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return events, sessions, fmt.Errorf("sweep sessions: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		tx, err := c.cfg.DB.BeginTx(ctx, nil)
		if err != nil {
			return events, sessions, fmt.Errorf("sweep sessions: %w", err)
		}
		for _, q := range []string{
			`DELETE FROM session_pages WHERE project = ? AND session_id = ?`,
			`DELETE FROM session_text WHERE project = ? AND session_id = ?`,
			`DELETE FROM sessions WHERE project = ? AND id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, project, id); err != nil {
				tx.Rollback()
				return events, sessions, fmt.Errorf("sweep sessions: %w", err)
			}
		}
		if err := tx.Commit(); err != nil {
			return events, sessions, fmt.Errorf("sweep sessions: %w", err)
		}
		sessions++
	}
	return events, sessions, nil
}

// RunRetention sweeps every interval (zero means hourly) until ctx is done.
func (c *Coordinator) RunRetention(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = time.Hour
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if s, err := c.Sweep(ctx, time.Now()); err != nil {
			if ctx.Err() != nil {
				return
			}
			c.log.Warn("retention sweep", "err", err)
		} else if s != (Swept{}) {
			c.log.Info("retention sweep", "segments", s.Segments, "events", s.Events, "sessions", s.Sessions)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// MaxRetentionDays bounds a project's retention override: ten years is
// longer than anyone should keep session recordings, and a typo such as
// 30000 should be refused rather than keep data forever.
const MaxRetentionDays = 3650

// ErrNoProject is returned for a project id that does not exist.
var ErrNoProject = errors.New("no such project")

// Retention is a project's retention override in whole days; 0 means the
// coordinator's default (Config.ReplayRetention, Config.EventRetention).
type Retention struct {
	Project    string `json:"id"`
	ReplayDays int    `json:"replay_retention_days"`
	EventDays  int    `json:"event_retention_days"`
}

// SetRetention sets project's replay and event retention overrides; a nil
// one is left as it is. It returns the project's retention afterwards.
func (c *Coordinator) SetRetention(ctx context.Context, project string, replayDays, eventDays *int) (Retention, error) {
	for _, d := range []*int{replayDays, eventDays} {
		if d != nil && (*d < 1 || *d > MaxRetentionDays) {
			return Retention{}, fmt.Errorf("retention of %s: %d days is outside [1, %d]", project, *d, MaxRetentionDays)
		}
	}
	// coalesce keeps the column when its override is not given.
	r := Retention{Project: project}
	err := c.cfg.DB.QueryRowContext(ctx, `UPDATE projects SET
	replay_retention_days = coalesce(?, replay_retention_days),
	event_retention_days = coalesce(?, event_retention_days)
WHERE id = ? RETURNING replay_retention_days, event_retention_days`, replayDays, eventDays, project).Scan(&r.ReplayDays, &r.EventDays)
	if errors.Is(err, sql.ErrNoRows) {
		return Retention{}, fmt.Errorf("retention of %s: %w", project, ErrNoProject)
	}
	if err != nil {
		return Retention{}, fmt.Errorf("retention of %s: %w", project, err)
	}
	c.log.Info("project retention set", "project", project, "replay_days", r.ReplayDays, "event_days", r.EventDays)
	return r, nil
}

// patchProject sets a project's retention overrides (admin only):
// {"replay_retention_days": N, "event_retention_days": N}, either or both.
func (c *Coordinator) patchProject(w http.ResponseWriter, r *http.Request) {
	if p, _ := auth.From(r.Context()); !p.Admin {
		respond.Error(w, http.StatusForbidden, "forbidden", "changing a project needs the admin token")
		return
	}
	var req struct {
		ReplayDays *int `json:"replay_retention_days"`
		EventDays  *int `json:"event_retention_days"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		respond.Error(w, http.StatusBadRequest, "bad_request", `body must be JSON {"replay_retention_days": N, "event_retention_days": N}: `+err.Error())
		return
	}
	if req.ReplayDays == nil && req.EventDays == nil {
		respond.Error(w, http.StatusBadRequest, "bad_request", "set replay_retention_days, event_retention_days or both")
		return
	}
	for _, f := range []struct {
		name string
		d    *int
	}{{"replay_retention_days", req.ReplayDays}, {"event_retention_days", req.EventDays}} {
		if d := f.d; d != nil && (*d < 1 || *d > MaxRetentionDays) {
			respond.Error(w, http.StatusBadRequest, "bad_retention", fmt.Sprintf("%s must be a whole number of days from 1 to %d", f.name, MaxRetentionDays))
			return
		}
	}
	ret, err := c.SetRetention(r.Context(), r.PathValue("id"), req.ReplayDays, req.EventDays)
	if errors.Is(err, ErrNoProject) {
		respond.Error(w, http.StatusNotFound, "not_found", "no project "+r.PathValue("id"))
		return
	}
	if err != nil {
		c.internal(w, err)
		return
	}
	respond.JSON(w, http.StatusOK, ret)
}
