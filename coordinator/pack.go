package coordinator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rearview-dev/rearview/coordinator/blob"
	"github.com/rearview-dev/rearview/coordinator/lease"
	"github.com/rearview-dev/rearview/coordinator/replaypack"
)

// DefaultReplayPackAfter is how long a session's replay goes without a new
// segment before it is packed, unless Config.ReplayPackAfter says otherwise.
const DefaultReplayPackAfter = 5 * time.Minute

// PackKey is where a session's packed replay is stored, beside its
// segments: replays/{project}/{yyyy}/{mm}/{dd}/{session}/pack-{last}-{n}.rvp
// for n segments up to segment last. Segments never change once stored,
// so the name fixes the content: packing the same segments twice (a
// retry, two coordinators) writes the same object.
func PackKey(project, session string, startedAt int64, last, n int) string {
	t := time.UnixMilli(startedAt).UTC()
	return fmt.Sprintf("replays/%s/%04d/%02d/%02d/%s/pack-%d-%d.rvp", project, t.Year(), int(t.Month()), t.Day(), session, last, n)
}

// packStep names the points between the steps of packing, where a test
// may stop the work as a crash would (Coordinator.packFault).
type packStep string

const (
	stepPacked   packStep = "packed"   // the new object is written, no row names it yet
	stepSwitched packStep = "switched" // the rows name the new object, the old ones still exist
	stepDeleted  packStep = "deleted"  // one old object is deleted, the others not yet
)

// storedSegment is a segment's index row as packing reads it.
type storedSegment struct {
	n         int
	key       string
	offset    int64 // -1: key is the segment's own object
	raw, size int64
}

// PackSession packs the replay segments of a session into one object
// (replaypack) and points their rows into it: write the new object,
// switch the rows in one transaction that also lists the objects they
// named as garbage, then delete those. A crash between any two steps
// leaves every segment readable: before the switch the rows still name
// the old objects, after it the new one, and garbage left undeleted is
// deleted by the next pass. It reports whether it packed anything; a
// session whose rows all name one pack already is left as it is.
func (c *Coordinator) PackSession(ctx context.Context, project, session string) (bool, error) {
	var started, due int64
	err := c.cfg.DB.QueryRowContext(ctx, `SELECT started_at, replay_pack_due FROM sessions WHERE project = ? AND id = ?`, project, session).Scan(&started, &due)
	if err != nil {
		return false, fmt.Errorf("pack %s: session: %w", session, err)
	}
	segs, err := c.storedSegments(ctx, project, session)
	if err != nil {
		return false, fmt.Errorf("pack %s: %w", session, err)
	}
	if len(segs) == 0 || packed(segs) {
		return false, c.packDone(ctx, project, session, due)
	}
	raws := make([][]byte, len(segs))
	var old int64
	for i, s := range segs {
		if raws[i], err = c.segmentBytes(ctx, s.key, s.offset, s.raw); err != nil {
			return false, fmt.Errorf("pack %s: segment %d: %w", session, s.n, err)
		}
		old += s.size
	}
	obj, spans, err := replaypack.Pack(raws)
	if err != nil {
		return false, fmt.Errorf("pack %s: %w", session, err)
	}
	key := PackKey(project, session, started, segs[len(segs)-1].n, len(segs))
	if err := c.cfg.Blobs.Put(ctx, key, bytes.NewReader(obj), int64(len(obj))); err != nil {
		return false, fmt.Errorf("pack %s: store: %w", session, err)
	}
	if err := c.packFault(stepPacked); err != nil {
		return false, err
	}
	if err := c.switchToPack(ctx, project, session, key, obj, segs, spans, old, due); err != nil {
		return false, fmt.Errorf("pack %s: %w", session, err)
	}
	if err := c.packFault(stepSwitched); err != nil {
		return false, err
	}
	if _, err := c.CollectReplayGarbage(ctx); err != nil {
		return true, fmt.Errorf("pack %s: %w", session, err)
	}
	c.log.Debug("replay packed", "project", project, "session", session, "segments", len(segs), "bytes", len(obj), "before", old)
	return true, nil
}

// packed reports whether every segment lies in one pack already.
func packed(segs []storedSegment) bool {
	for _, s := range segs {
		if s.offset < 0 || s.key != segs[0].key {
			return false
		}
	}
	return true
}

func (c *Coordinator) storedSegments(ctx context.Context, project, session string) ([]storedSegment, error) {
	rows, err := c.cfg.DB.QueryContext(ctx, `SELECT segment, blob_key, raw_offset, raw_bytes, bytes FROM replay_segments WHERE project = ? AND session_id = ? ORDER BY segment`, project, session)
	if err != nil {
		return nil, fmt.Errorf("segments: %w", err)
	}
	defer rows.Close()
	var out []storedSegment
	for rows.Next() {
		var s storedSegment
		if err := rows.Scan(&s.n, &s.key, &s.offset, &s.raw, &s.size); err != nil {
			return nil, fmt.Errorf("segments: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("segments: %w", err)
	}
	return out, nil
}

// switchToPack points the rows at the pack, each with its share of the
// object's size (so the session's replay_bytes stays their sum), and lists
// the objects they named as garbage. A row changed since it was read (a
// pack by another coordinator) rolls it all back.
func (c *Coordinator) switchToPack(ctx context.Context, project, session, key string, obj []byte, segs []storedSegment, spans []replaypack.Span, old, due int64) error {
	tx, err := c.cfg.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("switch: %w", err)
	}
	defer tx.Rollback()
	if err := lease.Fence(ctx, tx); err != nil {
		return fmt.Errorf("switch: %w", err)
	}
	total, raw := int64(len(obj)), spans[len(spans)-1].Offset+spans[len(spans)-1].Len
	var given int64
	garbage := map[string]bool{}
	for i, s := range segs {
		share := total - given
		if i < len(segs)-1 && raw > 0 {
			share = total * (spans[i].Offset + spans[i].Len) / raw
			share -= given
		}
		given += share
		res, err := tx.ExecContext(ctx, `UPDATE replay_segments SET blob_key = ?, raw_offset = ?, bytes = ? WHERE project = ? AND session_id = ? AND segment = ? AND blob_key = ? AND raw_offset = ?`,
			key, spans[i].Offset, share, project, session, s.n, s.key, s.offset)
		if err != nil {
			return fmt.Errorf("switch segment %d: %w", s.n, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("switch segment %d: changed since read", s.n)
		}
		if s.key != key {
			garbage[s.key] = true
		}
	}
	now := time.Now().UnixMilli()
	for k := range garbage {
		if _, err := tx.ExecContext(ctx, `INSERT INTO replay_garbage (blob_key, project, session_id, since) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, k, project, session, now); err != nil {
			return fmt.Errorf("switch: garbage: %w", err)
		}
	}
	// A segment stored meanwhile moved the due time on: then it stays due.
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET replay_bytes = max(replay_bytes - ? + ?, 0), replay_pack_due = CASE WHEN replay_pack_due = ? THEN 0 ELSE replay_pack_due END WHERE project = ? AND id = ?`,
		old, total, due, project, session); err != nil {
		return fmt.Errorf("switch: session: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("switch: %w", err)
	}
	return nil
}

// packDone clears a session's due time unless a segment moved it on.
func (c *Coordinator) packDone(ctx context.Context, project, session string, due int64) error {
	if due == 0 {
		return nil
	}
	if _, err := c.cfg.DB.ExecContext(ctx, `UPDATE sessions SET replay_pack_due = 0 WHERE project = ? AND id = ? AND replay_pack_due = ?`, project, session, due); err != nil {
		return fmt.Errorf("pack %s: %w", session, err)
	}
	return nil
}

// CollectReplayGarbage deletes the objects packs replaced, then their
// garbage rows, and returns how many it deleted. A key some row names again
// is only forgotten: packing the same segments twice writes one key.
func (c *Coordinator) CollectReplayGarbage(ctx context.Context) (int, error) {
	rows, err := c.cfg.DB.QueryContext(ctx, `SELECT blob_key FROM replay_garbage g
WHERE NOT EXISTS (SELECT 1 FROM replay_segments s WHERE s.project = g.project AND s.session_id = g.session_id AND s.blob_key = g.blob_key) ORDER BY blob_key LIMIT 1000`)
	if err != nil {
		return 0, fmt.Errorf("replay garbage: %w", err)
	}
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return 0, fmt.Errorf("replay garbage: %w", err)
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("replay garbage: %w", err)
	}
	for i, k := range keys {
		if err := c.cfg.Blobs.Delete(ctx, k); err != nil && !errors.Is(err, blob.ErrNotFound) {
			return i, fmt.Errorf("replay garbage: delete %s: %w", k, err)
		}
		if err := c.packFault(stepDeleted); err != nil {
			return i, err
		}
		if _, err := c.cfg.DB.ExecContext(ctx, `DELETE FROM replay_garbage WHERE blob_key = ?`, k); err != nil {
			return i, fmt.Errorf("replay garbage: %w", err)
		}
	}
	if _, err := c.cfg.DB.ExecContext(ctx, `DELETE FROM replay_garbage WHERE EXISTS (SELECT 1 FROM replay_segments s
WHERE s.project = replay_garbage.project AND s.session_id = replay_garbage.session_id AND s.blob_key = replay_garbage.blob_key)`); err != nil {
		return len(keys), fmt.Errorf("replay garbage: %w", err)
	}
	return len(keys), nil
}

// PackDue packs every session whose replay is due at now (idle for
// Config.ReplayPackAfter, or ended), at most limit of them, oldest due
// first, and returns how many it packed. A session that fails is logged and
// due again one ReplayPackAfter later.
func (c *Coordinator) PackDue(ctx context.Context, now time.Time, limit int) (int, error) {
	if _, err := c.CollectReplayGarbage(ctx); err != nil {
		return 0, err
	}
	rows, err := c.cfg.DB.QueryContext(ctx, `SELECT project, id FROM sessions WHERE replay_pack_due > 0 AND replay_pack_due <= ? ORDER BY replay_pack_due LIMIT ?`, now.UnixMilli(), limit)
	if err != nil {
		return 0, fmt.Errorf("pack due: %w", err)
	}
	type sess struct{ project, id string }
	var due []sess
	for rows.Next() {
		var s sess
		if err := rows.Scan(&s.project, &s.id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("pack due: %w", err)
		}
		due = append(due, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("pack due: %w", err)
	}
	n := 0
	for _, s := range due {
		ok, err := c.PackSession(ctx, s.project, s.id)
		if err != nil {
			if ctx.Err() != nil {
				return n, err
			}
			// One session that cannot be packed now (an object store
			// error, a segment retention took meanwhile) must not hold up
			// the others: it is tried again after another interval.
			c.log.Warn("replay packing", "project", s.project, "session", s.id, "err", err)
			if _, err := c.cfg.DB.ExecContext(ctx, `UPDATE sessions SET replay_pack_due = ? WHERE project = ? AND id = ? AND replay_pack_due > 0`,
				now.Add(c.cfg.ReplayPackAfter).UnixMilli(), s.project, s.id); err != nil {
				return n, fmt.Errorf("pack due: %w", err)
			}
			continue
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// RunPacking packs due sessions every interval (zero means 10 s) until ctx
// is done. Run it under a lease: one coordinator packs at a time, and the
// lease fence refuses the switch of one that lost its lease.
func (c *Coordinator) RunPacking(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = 10 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for {
			n, err := c.PackDue(ctx, time.Now(), 50)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				c.log.Warn("replay packing", "err", err)
				break
			}
			if n > 0 {
				c.log.Info("replay packing", "sessions", n)
			}
			if n < 50 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// segment returns segment n of a session as the player reads it. Its
// object may be deleted between reading its row and reading it, when the
// session is packed just then: the row names the pack by then, so it is
// read once more.
func (c *Coordinator) segment(ctx context.Context, project, session, n string) ([]byte, error) {
	for try := 0; ; try++ {
		var key string
		var offset, raw int64
		err := c.cfg.DB.QueryRowContext(ctx, `SELECT blob_key, raw_offset, raw_bytes FROM replay_segments WHERE project = ? AND session_id = ? AND segment = ?`, project, session, n).Scan(&key, &offset, &raw)
		if err != nil {
			return nil, err
		}
		data, err := c.segmentBytes(ctx, key, offset, raw)
		if errors.Is(err, blob.ErrNotFound) && try == 0 {
			continue
		}
		return data, err
	}
}

// segmentBytes returns a segment's rrweb events: its own object
// decompressed, or its span of a pack.
func (c *Coordinator) segmentBytes(ctx context.Context, key string, offset, n int64) ([]byte, error) {
	if offset < 0 {
		return c.readSegment(ctx, key)
	}
	all, err := c.packs.get(ctx, c.cfg.Blobs, key)
	if err != nil {
		return nil, err
	}
	return replaypack.Slice(all, replaypack.Span{Offset: offset, Len: n})
}

// packCache keeps the last pack read unpacked: the player asks for a
// session's segments one after another, and each lies in the same pack.
type packCache struct {
	mu   sync.Mutex
	key  string
	data []byte
}

func (p *packCache) get(ctx context.Context, blobs blob.Store, key string) ([]byte, error) {
	p.mu.Lock()
	if p.key == key {
		d := p.data
		p.mu.Unlock()
		return d, nil
	}
	p.mu.Unlock()
	rc, err := blobs.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	d, err := replaypack.Unpack(rc)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	p.mu.Lock()
	p.key, p.data = key, d
	p.mu.Unlock()
	return d, nil
}
