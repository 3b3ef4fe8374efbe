package coordinator

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/rearview-dev/rearview/coordinator/blob"
	"github.com/rearview-dev/rearview/coordinator/replayscan"
	"github.com/rearview-dev/rearview/coordinator/route"
	"github.com/rearview-dev/rearview/sdkproto"
)

// replayQuality is the brotli quality for stored segments. See BENCHMARKS.md
// for the measurement behind it.
const replayQuality = 6

// ReplayKey is where a replay segment is stored:
// replays/{project}/{yyyy}/{mm}/{dd}/{session}/{segment}.json.br, dated by
// the session's start (UTC) so that retention can delete whole days.
func ReplayKey(project, session string, startedAt int64, segment int) string {
	t := time.UnixMilli(startedAt).UTC()
	return fmt.Sprintf("replays/%s/%04d/%02d/%02d/%s/%d.json.br", project, t.Year(), int(t.Month()), t.Day(), session, segment)
}

// storeReplay writes a segment's rrweb events brotli-compressed to object
// storage and indexes it. The key is deterministic, so a redelivered
// segment overwrites the same object.
func (c *Coordinator) storeReplay(ctx context.Context, tx *sql.Tx, m *Message, ev *sdkproto.Event) error {
	r := ev.Replay
	var started int64
	if err := tx.QueryRowContext(ctx, `SELECT started_at FROM sessions WHERE project = ? AND id = ?`, m.Project, m.Batch.Session.ID).Scan(&started); err != nil {
		return fmt.Errorf("session start: %w", err)
	}
	// A segment stored before is not written again: once its session is
	// packed its own object is deleted, and a redelivery must not bring it
	// back as an object no row names.
	var stored int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM replay_segments WHERE project = ? AND session_id = ? AND segment = ?`, m.Project, m.Batch.Session.ID, r.Segment).Scan(&stored); err != nil {
		return fmt.Errorf("segment stored: %w", err)
	}
	if stored > 0 {
		return nil
	}
	key := ReplayKey(m.Project, m.Batch.Session.ID, started, r.Segment)
	var buf bytes.Buffer
	// A brotli writer's hash tables cost more to allocate and clear than
	// compressing a small segment does: the writers are reused.
	bw, _ := c.brotliWriters.Get().(*brotli.Writer)
	if bw == nil {
		bw = brotli.NewWriterLevel(&buf, replayQuality)
	} else {
		bw.Reset(&buf)
	}
	_, err := bw.Write(r.Events)
	if err == nil {
		err = bw.Close()
	}
	c.brotliWriters.Put(bw)
	if err != nil {
		return fmt.Errorf("compress segment: %w", err)
	}
	size := int64(buf.Len())
	if err := c.cfg.Blobs.Put(ctx, key, &buf, size); err != nil {
		return fmt.Errorf("store segment: %w", err)
	}
	end := r.EndTS
	if end == 0 {
		end = ev.TS
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO replay_segments (project, session_id, segment, event_id, ts, end_ts, from_buffer, blob_key, bytes, raw_bytes)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, m.Project, m.Batch.Session.ID, r.Segment, ev.ID, ev.TS, end, b2i(r.FromBuffer), key, size, len(r.Events))
	if err != nil {
		return fmt.Errorf("index segment: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		// The coordinator's clock, not the browser's: packing waits for the
		// session to go quiet here.
		due := time.Now().Add(c.cfg.ReplayPackAfter).UnixMilli()
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET segments = segments + 1, replay_bytes = replay_bytes + ?, replay_pack_due = ? WHERE project = ? AND id = ?`, size, due, m.Project, m.Batch.Session.ID); err != nil {
			return fmt.Errorf("count segment: %w", err)
		}
		return indexSegment(ctx, tx, m, r)
	}
	return nil
}

// sessionEnded makes a session that ended due for packing at once.
func (c *Coordinator) sessionEnded(ctx context.Context, tx *sql.Tx, m *Message, ev *sdkproto.Event) error {
	if ev.Session == nil || ev.Session.State != "end" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET replay_pack_due = ? WHERE project = ? AND id = ? AND segments > 0`, time.Now().UnixMilli(), m.Project, m.Batch.Session.ID); err != nil {
		return fmt.Errorf("session end: %w", err)
	}
	return nil
}

// indexSegment adds what the segment showed to the session index: text and
// selectors for search, clicks, rage clicks and pages.
func indexSegment(ctx context.Context, tx *sql.Tx, m *Message, r *sdkproto.Replay) error {
	sum, err := replayscan.Scan(r.Events)
	if err != nil {
		return nil // the segment is stored; it just adds nothing to search
	}
	sid := m.Batch.Session.ID
	if sum.Text != "" || len(sum.Selectors) > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO session_text (project, session_id, segment, text, selectors) VALUES (?, ?, ?, ?, ?)`,
			m.Project, sid, r.Segment, sum.Text, strings.Join(sum.Selectors, " ")); err != nil {
			return fmt.Errorf("index segment text: %w", err)
		}
	}
	for _, u := range sum.Pages {
		if err := addPage(ctx, tx, m.Project, sid, u, sum.FirstTS); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET clicks = clicks + ?, rage_clicks = rage_clicks + ? WHERE project = ? AND id = ?`,
		sum.Clicks, sum.RageClicks, m.Project, sid); err != nil {
		return fmt.Errorf("count clicks: %w", err)
	}
	return nil
}

// addPage records a page of a session once and keeps the session's count.
func addPage(ctx context.Context, tx *sql.Tx, project, session, url string, ts int64) error {
	if url == "" {
		return nil
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO session_pages (project, session_id, url, first_ts, route) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, project, session, url, ts, route.Normalise(url))
	if err != nil {
		return fmt.Errorf("add page: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET pages = pages + 1 WHERE project = ? AND id = ?`, project, session); err != nil {
			return fmt.Errorf("count pages: %w", err)
		}
	}
	return nil
}

// readSegment returns a stored segment's rrweb events, decompressed.
func (c *Coordinator) readSegment(ctx context.Context, key string) ([]byte, error) {
	rc, err := c.cfg.Blobs.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	out, err := io.ReadAll(io.LimitReader(brotli.NewReader(rc), 64<<20))
	if err != nil {
		return nil, fmt.Errorf("decompress %s: %w", key, err)
	}
	return out, nil
}

// ReplaySince returns a session's stored rrweb events from its latest full
// snapshot (and the Meta event before it) on, reading back at most 32
// segments. The live tail uses it to open a session it holds no buffer for.
// A segment object deleted under it (the session was packed meanwhile) is
// read again from the pack.
func (c *Coordinator) ReplaySince(ctx context.Context, project, session string) ([]json.RawMessage, error) {
	evs, err := c.replaySince(ctx, project, session)
	if errors.Is(err, blob.ErrNotFound) {
		return c.replaySince(ctx, project, session)
	}
	return evs, err
}

func (c *Coordinator) replaySince(ctx context.Context, project, session string) ([]json.RawMessage, error) {
	rows, err := c.cfg.DB.QueryContext(ctx, `SELECT blob_key, raw_offset, raw_bytes FROM replay_segments WHERE project = ? AND session_id = ? ORDER BY segment DESC LIMIT 32`, project, session)
	if err != nil {
		return nil, fmt.Errorf("replay since: %w", err)
	}
	type ref struct {
		key         string
		offset, raw int64
	}
	var keys []ref
	for rows.Next() {
		var k ref
		if err := rows.Scan(&k.key, &k.offset, &k.raw); err != nil {
			rows.Close()
			return nil, fmt.Errorf("replay since: %w", err)
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("replay since: %w", err)
	}
	// Newest segment first: collect until a segment holds a full snapshot.
	var segs [][]json.RawMessage
	for _, k := range keys {
		raw, err := c.segmentBytes(ctx, k.key, k.offset, k.raw)
		if err != nil {
			return nil, fmt.Errorf("replay since: %w", err)
		}
		var evs []json.RawMessage
		if err := json.Unmarshal(raw, &evs); err != nil {
			return nil, fmt.Errorf("replay since: segment %s: %w", k.key, err)
		}
		segs = append(segs, evs)
		if at := lastFullSnapshot(evs); at >= 0 {
			segs[len(segs)-1] = evs[at:]
			var out []json.RawMessage
			for i := len(segs) - 1; i >= 0; i-- {
				out = append(out, segs[i]...)
			}
			return out, nil
		}
	}
	return nil, nil // no full snapshot stored yet: nothing renders
}

// lastFullSnapshot returns the index where the last full snapshot of evs
// starts (at its Meta event when one precedes it), or -1.
func lastFullSnapshot(evs []json.RawMessage) int {
	for i := len(evs) - 1; i >= 0; i-- {
		var head struct {
			Type int `json:"type"`
		}
		if json.Unmarshal(evs[i], &head) == nil && head.Type == 2 {
			if i > 0 && json.Unmarshal(evs[i-1], &head) == nil && head.Type == 4 {
				return i - 1
			}
			return i
		}
	}
	return -1
}
