package coordinator

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/rearview-dev/rearview/coordinator/device"
	"github.com/rearview-dev/rearview/coordinator/store"
	"github.com/rearview-dev/rearview/sdkproto"
)

// permanentError marks a message that can never be processed (it does not
// decode); it is terminated instead of redelivered forever.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Run consumes the stream until ctx ends. On cancellation it finishes the
// messages it already fetched, commits and acknowledges them, then returns:
// a graceful shutdown drains.
func (c *Coordinator) Run(ctx context.Context) error {
	cons, err := c.cfg.JetStream.CreateOrUpdateConsumer(ctx, sdkproto.StreamName, jetstream.ConsumerConfig{
		Durable:   c.cfg.Consumer,
		AckPolicy: jetstream.AckExplicitPolicy,
		// A crashed coordinator's unacknowledged messages come back after
		// AckWait; a batch takes well under a second to process.
		AckWait:       10 * time.Second,
		MaxAckPending: 20000,
		FilterSubject: sdkproto.SubjectAll,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return fmt.Errorf("create consumer: %w", err)
	}
	// Processing must not be cut short by shutdown: the messages in hand
	// are finished and acknowledged first.
	work := context.WithoutCancel(ctx)
	var backoff time.Duration
	for ctx.Err() == nil {
		batch, err := cons.Fetch(c.cfg.FetchBatch, jetstream.FetchMaxWait(500*time.Millisecond))
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			c.log.Warn("fetch", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		var msgs []jetstream.Msg
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			c.log.Warn("fetch batch", "err", err)
		}
		if len(msgs) == 0 {
			continue
		}
		if err := c.process(work, msgs); err != nil {
			// The database is away (or refuses): nothing is acknowledged,
			// the messages wait in JetStream, and one line per pause says so.
			backoff = min(max(2*backoff, time.Second), 10*time.Second)
			c.log.Error("store batch failed; not acknowledging, JetStream keeps the messages", "messages", len(msgs), "retry_in", backoff, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			continue
		}
		backoff = 0
	}
	c.log.Info("consumer drained and stopped")
	return nil
}

// process handles fetched messages in one transaction and acknowledges them
// after it commits. A transaction that lost a deadlock or a serialization
// conflict to another coordinator is run again at once, holding its
// projects' locks (store.LockProjects): coordinators run optimistically in
// parallel, and one that conflicted queues behind the others instead of
// conflicting again. Any other failure naks them all for redelivery and is
// returned.
func (c *Coordinator) process(ctx context.Context, msgs []jetstream.Msg) error {
	for attempt := 1; ; attempt++ {
		err := c.processOnce(ctx, msgs, attempt > 1)
		if err == nil {
			return nil
		}
		if store.Retryable(err) && attempt < maxAttempts {
			c.log.Debug("transaction conflict, retrying", "attempt", attempt, "err", err)
			continue
		}
		nakAll(msgs)
		return err
	}
}

// maxAttempts bounds the immediate retries of a conflicting transaction.
const maxAttempts = 8

func (c *Coordinator) processOnce(ctx context.Context, msgs []jetstream.Msg, lock bool) error {
	tx, err := c.cfg.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if lock {
		var projects []string
		for _, jm := range msgs {
			if _, p, _, err := sdkproto.ParseSubject(jm.Subject()); err == nil {
				projects = append(projects, p)
			}
		}
		if err := c.dialect.LockProjects(ctx, tx, projects); err != nil {
			tx.Rollback()
			return fmt.Errorf("lock projects: %w", err)
		}
	}
	type done struct {
		m     *Message
		fresh []sdkproto.Event
	}
	var ok []done
	var poison []jetstream.Msg
	var good []jetstream.Msg
	for _, jm := range msgs {
		m, fresh, err := c.handle(ctx, tx, jm)
		var pe *permanentError
		switch {
		case errors.As(err, &pe):
			c.log.Error("dropping undecodable message", "subject", jm.Subject(), "err", err)
			poison = append(poison, jm)
		case err != nil:
			tx.Rollback()
			return fmt.Errorf("process %s: %w", jm.Subject(), err)
		default:
			good = append(good, jm)
			if m != nil {
				ok = append(ok, done{m, fresh})
			}
		}
	}
	for _, f := range c.flush {
		if err := f(ctx, tx); err != nil {
			tx.Rollback()
			return fmt.Errorf("flush: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	for _, jm := range good {
		if err := jm.Ack(); err != nil {
			c.log.Warn("ack", "err", err)
		}
	}
	for _, jm := range poison {
		_ = jm.Term()
	}
	for _, d := range ok {
		for _, h := range c.after {
			h(d.m, d.fresh)
		}
	}
	return nil
}

func nakAll(msgs []jetstream.Msg) {
	for _, m := range msgs {
		_ = m.NakWithDelay(2 * time.Second)
	}
}

// handle stores one message's events inside tx and returns the events that
// were new.
func (c *Coordinator) handle(ctx context.Context, tx *sql.Tx, jm jetstream.Msg) (*Message, []sdkproto.Event, error) {
	region, project, kind, err := sdkproto.ParseSubject(jm.Subject())
	if err != nil {
		return nil, nil, &permanentError{err}
	}
	md, err := jm.Metadata()
	if err != nil {
		return nil, nil, &permanentError{fmt.Errorf("metadata: %w", err)}
	}
	if kind == sdkproto.KindOutcome {
		return nil, nil, c.storeOutcome(ctx, tx, md.Sequence.Stream, jm.Data())
	}
	batch, _, err := sdkproto.Decode(jm.Data(), sdkproto.DefaultLimits())
	if err != nil {
		return nil, nil, &permanentError{fmt.Errorf("decode batch: %w", err)}
	}
	h := jm.Headers()
	m := &Message{Project: project, Region: region, Kind: kind, StreamSeq: md.Sequence.Stream, Batch: batch, Country: h.Get(sdkproto.HeaderCountry)}
	m.Synthetic = h.Get(sdkproto.HeaderSynthetic) == "1" || batch.Session.Flags.Synthetic
	if m.Synthetic {
		markSynthetic(batch)
	}
	m.ReceivedAt, _ = strconv.ParseInt(h.Get(sdkproto.HeaderReceivedAt), 10, 64)
	if m.ReceivedAt == 0 {
		m.ReceivedAt = md.Timestamp.UnixMilli()
	}
	if err := upsertSession(ctx, tx, m); err != nil {
		return nil, nil, err
	}
	if err := addPage(ctx, tx, project, batch.Session.ID, batch.Page.URL, batch.SentAt); err != nil {
		return nil, nil, err
	}
	var fresh []sdkproto.Event
	var nErrors int
	for i := range batch.Events {
		ev := &batch.Events[i]
		isNew, err := insertEvent(ctx, tx, m, ev)
		if err != nil {
			return nil, nil, err
		}
		if !isNew {
			continue
		}
		for _, hook := range c.hooks[ev.Kind] {
			if err := hook(ctx, tx, m, ev); err != nil {
				return nil, nil, fmt.Errorf("%s hook for event %s: %w", ev.Kind, ev.ID, err)
			}
		}
		if ev.Kind == sdkproto.KindError {
			nErrors++
		}
		fresh = append(fresh, *ev)
	}
	if len(fresh) > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET events = events + ?, errors = errors + ? WHERE project = ? AND id = ?`,
			len(fresh), nErrors, project, batch.Session.ID); err != nil {
			return nil, nil, fmt.Errorf("count session events: %w", err)
		}
	}
	return m, fresh, nil
}

// markSynthetic tags a synthetic check's errors source=synthetic before
// any hook sees them, so the issues they group into show where they came
// from and the stored events say so.
func markSynthetic(b *sdkproto.Batch) {
	b.Session.Flags.Synthetic = true
	for i := range b.Events {
		e := b.Events[i].Error
		if e == nil {
			continue
		}
		tags := make(map[string]string, len(e.Tags)+1)
		for k, v := range e.Tags {
			tags[k] = v
		}
		tags["source"] = "synthetic"
		e.Tags = tags
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func upsertSession(ctx context.Context, tx *sql.Tx, m *Message) error {
	b := m.Batch
	last := b.SentAt
	for _, ev := range b.Events {
		last = max(last, ev.TS)
	}
	dev := device.Parse(b.Device.UA)
	started := b.Session.StartedAt
	if started == 0 {
		started = last
	}
	_, err := tx.ExecContext(ctx, `
INSERT INTO sessions (project, id, started_at, last_seen, user_id, first_url, last_url, ua, viewport_w, viewport_h, region, country, flag_error, flag_support, device_class, browser, os, flag_synthetic)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (project, id) DO UPDATE SET
	last_seen = max(sessions.last_seen, excluded.last_seen),
	last_url = CASE WHEN excluded.last_seen >= sessions.last_seen THEN excluded.last_url ELSE sessions.last_url END,
	user_id = CASE WHEN excluded.user_id != '' THEN excluded.user_id ELSE sessions.user_id END,
	country = CASE WHEN excluded.country != '' THEN excluded.country ELSE sessions.country END,
	flag_error = max(sessions.flag_error, excluded.flag_error),
	flag_support = max(sessions.flag_support, excluded.flag_support),
	flag_synthetic = max(sessions.flag_synthetic, excluded.flag_synthetic)`,
		m.Project, b.Session.ID, started, last, b.Session.UserID, b.Page.URL, b.Page.URL, b.Device.UA,
		b.Device.Viewport.W, b.Device.Viewport.H, m.Region, m.Country, b2i(b.Session.Flags.Error), b2i(b.Session.Flags.Support),
		dev.Class, dev.Browser, dev.OS, b2i(m.Synthetic))
	if err != nil {
		return fmt.Errorf("upsert session %s: %w", b.Session.ID, err)
	}
	return nil
}

// insertEvent stores the event unless its id is already stored and reports
// whether it was new. Replay events are stored without their rrweb payload,
// which lives in object storage.
func insertEvent(ctx context.Context, tx *sql.Tx, m *Message, ev *sdkproto.Event) (bool, error) {
	stored := *ev
	var traceID any
	url := m.Batch.Page.URL
	switch {
	case ev.Replay != nil:
		r := *ev.Replay
		r.Events = nil
		stored.Replay = &r
	case ev.Error != nil:
		if ev.Error.TraceID != "" {
			traceID = ev.Error.TraceID
		}
		if ev.Error.URL != "" {
			url = ev.Error.URL
		}
	case ev.Vital != nil && ev.Vital.URL != "":
		url = ev.Vital.URL
	}
	payload, err := json.Marshal(stored)
	if err != nil {
		return false, fmt.Errorf("encode event %s: %w", ev.ID, err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO events (project, id, session_id, kind, ts, received_at, region, country, url, trace_id, payload, stored_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		m.Project, ev.ID, m.Batch.Session.ID, string(ev.Kind), ev.TS, m.ReceivedAt, m.Region, m.Country, url, traceID, string(payload), time.Now().UnixMilli())
	if err != nil {
		return false, fmt.Errorf("insert event %s: %w", ev.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("insert event %s: %w", ev.ID, err)
	}
	return n == 1, nil
}

func (c *Coordinator) storeOutcome(ctx context.Context, tx *sql.Tx, seq uint64, data []byte) error {
	var o sdkproto.Outcome
	if err := json.Unmarshal(data, &o); err != nil {
		return &permanentError{fmt.Errorf("decode outcome: %w", err)}
	}
	for reason, n := range o.Dropped {
		if _, err := tx.ExecContext(ctx, `INSERT INTO outcome_reasons (stream_seq, project, region, ts, reason, count) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			seq, o.Project, o.Region, o.TS, reason, n); err != nil {
			return fmt.Errorf("store outcome: %w", err)
		}
	}
	return nil
}
