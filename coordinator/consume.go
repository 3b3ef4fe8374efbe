package coordinator

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/rearview-dev/rearview/coordinator/device"
	"github.com/rearview-dev/rearview/coordinator/route"
	"github.com/rearview-dev/rearview/coordinator/store"
	"github.com/rearview-dev/rearview/sdkproto"
)

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
	var wg sync.WaitGroup
	for range c.cfg.Workers {
		wg.Go(func() { c.consume(ctx, cons) })
	}
	wg.Wait()
	c.log.Info("consumer drained and stopped")
	return nil
}

// consume is one worker: it fetches messages and processes them in one
// transaction at a time until ctx ends.
func (c *Coordinator) consume(ctx context.Context, cons jetstream.Consumer) {
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
}

// process handles fetched messages in one transaction and acknowledges them
// after it commits. A transaction that lost a deadlock or a serialization
// conflict to another transaction is run again at once, holding its
// projects' locks (store.LockProjects): coordinators and their workers run
// optimistically in parallel, and one that conflicted queues behind the
// others instead of conflicting again. Any other failure naks them all for
// redelivery and is returned.
func (c *Coordinator) process(ctx context.Context, msgs []jetstream.Msg) error {
	in := make([]fetched, 0, len(msgs))
	var poison []jetstream.Msg
	for _, jm := range msgs {
		f, err := parse(jm)
		if err != nil {
			c.log.Error("dropping undecodable message", "subject", jm.Subject(), "err", err)
			poison = append(poison, jm)
			continue
		}
		in = append(in, f)
	}
	for attempt := 1; ; attempt++ {
		err := c.processOnce(ctx, in, attempt > 1)
		if err == nil {
			break
		}
		if store.Retryable(err) && attempt < maxAttempts {
			c.log.Debug("transaction conflict, retrying", "attempt", attempt, "err", err)
			continue
		}
		nakAll(msgs)
		return err
	}
	for _, jm := range poison {
		_ = jm.Term()
	}
	return nil
}

// maxAttempts bounds the immediate retries of a conflicting transaction.
const maxAttempts = 8

// fetched is one message, decoded before its transaction begins: a batch
// (m) or an outcome report (outcome).
type fetched struct {
	jm      jetstream.Msg
	m       *Message
	outcome *sdkproto.Outcome
	seq     uint64
}

// parse decodes a message; its errors are permanent (the message can never
// be processed).
func parse(jm jetstream.Msg) (fetched, error) {
	region, project, kind, err := sdkproto.ParseSubject(jm.Subject())
	if err != nil {
		return fetched{}, err
	}
	md, err := jm.Metadata()
	if err != nil {
		return fetched{}, fmt.Errorf("metadata: %w", err)
	}
	f := fetched{jm: jm, seq: md.Sequence.Stream}
	if kind == sdkproto.KindOutcome {
		var o sdkproto.Outcome
		if err := json.Unmarshal(jm.Data(), &o); err != nil {
			return fetched{}, fmt.Errorf("decode outcome: %w", err)
		}
		f.outcome = &o
		return f, nil
	}
	batch, _, err := sdkproto.Decode(jm.Data(), sdkproto.DefaultLimits())
	if err != nil {
		return fetched{}, fmt.Errorf("decode batch: %w", err)
	}
	h := jm.Headers()
	m := &Message{Project: project, Region: region, Kind: kind, StreamSeq: md.Sequence.Stream, Batch: batch, Country: h.Get(sdkproto.HeaderCountry)}
	m.ReceivedAt, _ = strconv.ParseInt(h.Get(sdkproto.HeaderReceivedAt), 10, 64)
	if m.ReceivedAt == 0 {
		m.ReceivedAt = md.Timestamp.UnixMilli()
	}
	f.m = m
	return f, nil
}

func (c *Coordinator) processOnce(ctx context.Context, in []fetched, lock bool) error {
	ctx = WithTx(ctx)
	tx, err := c.cfg.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if lock {
		var projects []string
		for _, f := range in {
			if f.m != nil {
				projects = append(projects, f.m.Project)
			} else {
				projects = append(projects, f.outcome.Project)
			}
		}
		if err := c.dialect.LockProjects(ctx, tx, projects); err != nil {
			tx.Rollback()
			return fmt.Errorf("lock projects: %w", err)
		}
	}
	var ms []*Message
	for _, f := range in {
		if f.outcome != nil {
			if err := storeOutcome(ctx, tx, f.seq, f.outcome); err != nil {
				tx.Rollback()
				return err
			}
			continue
		}
		f.m.issues = nil // what an attempt that rolled back grouped
		ms = append(ms, f.m)
	}
	fresh, err := c.storeMessages(ctx, tx, ms)
	if err != nil {
		tx.Rollback()
		return err
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
	for _, f := range in {
		if err := f.jm.Ack(); err != nil {
			c.log.Warn("ack", "err", err)
		}
	}
	for i, m := range ms {
		for _, h := range c.after {
			h(m, fresh[i])
		}
	}
	return nil
}

func nakAll(msgs []jetstream.Msg) {
	for _, m := range msgs {
		_ = m.NakWithDelay(2 * time.Second)
	}
}

// storeMessages writes the messages' sessions, pages and events inside tx, runs
// the hooks of the events that were new, and returns those events per
// message. Each step is one multi-row statement for all the messages (a
// few round trips a transaction on a server database, not a few per
// event), with rows in key order so that concurrent transactions lock
// them in the same order.
func (c *Coordinator) storeMessages(ctx context.Context, tx *sql.Tx, ms []*Message) ([][]sdkproto.Event, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	if err := upsertSessions(ctx, tx, ms); err != nil {
		return nil, err
	}
	counts := map[sessionKey]*sessionCounts{}
	countOf := func(m *Message) *sessionCounts {
		k := sessionKey{m.Project, m.Batch.Session.ID}
		if counts[k] == nil {
			counts[k] = &sessionCounts{}
		}
		return counts[k]
	}
	newPages, err := addPages(ctx, tx, ms)
	if err != nil {
		return nil, err
	}
	for k, n := range newPages {
		counts[k] = &sessionCounts{pages: n}
	}
	var rows []eventRow
	for _, m := range ms {
		for i := range m.Batch.Events {
			r, err := c.eventRow(ctx, tx, m, &m.Batch.Events[i])
			if err != nil {
				return nil, err
			}
			rows = append(rows, r)
		}
	}
	inserted, err := insertEvents(ctx, tx, rows)
	if err != nil {
		return nil, err
	}
	fresh := make([][]sdkproto.Event, len(ms))
	for i, m := range ms {
		for j := range m.Batch.Events {
			ev := &m.Batch.Events[j]
			k := eventKey{m.Project, ev.ID}
			// An id twice in one batch, or in two messages of the
			// transaction, is stored and counted once.
			if !inserted[k] {
				continue
			}
			delete(inserted, k)
			for _, hook := range c.hooks[ev.Kind] {
				if err := hook(ctx, tx, m, ev); err != nil {
					return nil, fmt.Errorf("%s hook for event %s: %w", ev.Kind, ev.ID, err)
				}
			}
			sc := countOf(m)
			sc.events++
			if ev.Kind == sdkproto.KindError {
				sc.errors++
			}
			fresh[i] = append(fresh[i], *ev)
		}
	}
	if err := countSessions(ctx, tx, counts); err != nil {
		return nil, err
	}
	return fresh, nil
}

type sessionKey struct{ project, id string }

type eventKey struct{ project, id string }

// sessionCounts is what a transaction adds to a session's counters.
type sessionCounts struct{ events, errors, pages int64 }

func compareSession(a, b sessionKey) int {
	return cmp.Or(strings.Compare(a.project, b.project), strings.Compare(a.id, b.id))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// maxSessionRows bounds one multi-row session upsert (17 parameters a row).
const maxSessionRows = 100

// upsertSessions creates or updates the messages' sessions. One statement
// cannot update a row twice, so a session's second message in the
// transaction goes in a second round, and so on: each round keeps the
// messages' order, which decides the session's last URL.
func upsertSessions(ctx context.Context, tx *sql.Tx, ms []*Message) error {
	seen := map[sessionKey]int{}
	var rounds [][]*Message
	for _, m := range ms {
		k := sessionKey{m.Project, m.Batch.Session.ID}
		r := seen[k]
		seen[k]++
		if r == len(rounds) {
			rounds = append(rounds, nil)
		}
		rounds[r] = append(rounds[r], m)
	}
	for _, round := range rounds {
		slices.SortFunc(round, func(a, b *Message) int {
			return compareSession(sessionKey{a.Project, a.Batch.Session.ID}, sessionKey{b.Project, b.Batch.Session.ID})
		})
		for chunk := range slices.Chunk(round, maxSessionRows) {
			if err := upsertSessionRows(ctx, tx, chunk); err != nil {
				return err
			}
		}
	}
	return nil
}

func upsertSessionRows(ctx context.Context, tx *sql.Tx, ms []*Message) error {
	var q strings.Builder
	q.WriteString(`INSERT INTO sessions (project, id, started_at, last_seen, user_id, first_url, last_url, ua, viewport_w, viewport_h, region, country, flag_error, flag_support, device_class, browser, os) VALUES `)
	args := make([]any, 0, 17*len(ms))
	for i, m := range ms {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
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
		args = append(args, m.Project, b.Session.ID, started, last, b.Session.UserID, b.Page.URL, b.Page.URL, b.Device.UA,
			b.Device.Viewport.W, b.Device.Viewport.H, m.Region, m.Country, b2i(b.Session.Flags.Error), b2i(b.Session.Flags.Support),
			dev.Class, dev.Browser, dev.OS)
	}
	q.WriteString(`
ON CONFLICT (project, id) DO UPDATE SET
	last_seen = max(sessions.last_seen, excluded.last_seen),
	last_url = CASE WHEN excluded.last_seen >= sessions.last_seen THEN excluded.last_url ELSE sessions.last_url END,
	user_id = CASE WHEN excluded.user_id != '' THEN excluded.user_id ELSE sessions.user_id END,
	country = CASE WHEN excluded.country != '' THEN excluded.country ELSE sessions.country END,
	flag_error = max(sessions.flag_error, excluded.flag_error),
	flag_support = max(sessions.flag_support, excluded.flag_support)`)
	if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("upsert %d sessions: %w", len(ms), err)
	}
	return nil
}

// maxPageRows bounds one multi-row insert of session pages.
const maxPageRows = 500

// addPages records the messages' pages, each once per session, and returns
// how many each session gained.
func addPages(ctx context.Context, tx *sql.Tx, ms []*Message) (map[sessionKey]int64, error) {
	type page struct {
		sessionKey
		url string
		ts  int64
	}
	byKey := map[page]bool{}
	var pages []page
	for _, m := range ms {
		if m.Batch.Page.URL == "" {
			continue
		}
		p := page{sessionKey{m.Project, m.Batch.Session.ID}, m.Batch.Page.URL, m.Batch.SentAt}
		k := p
		k.ts = 0
		if byKey[k] {
			continue // the first message that shows it dates it
		}
		byKey[k] = true
		pages = append(pages, p)
	}
	slices.SortFunc(pages, func(a, b page) int {
		return cmp.Or(compareSession(a.sessionKey, b.sessionKey), strings.Compare(a.url, b.url))
	})
	added := map[sessionKey]int64{}
	for chunk := range slices.Chunk(pages, maxPageRows) {
		var q strings.Builder
		q.WriteString(`INSERT INTO session_pages (project, session_id, url, first_ts, route) VALUES `)
		args := make([]any, 0, 5*len(chunk))
		for i, p := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?)")
			args = append(args, p.project, p.id, p.url, p.ts, route.Normalise(p.url))
		}
		q.WriteString(" ON CONFLICT DO NOTHING RETURNING project, session_id")
		if err := scanKeys(ctx, tx, q.String(), args, func(k sessionKey) { added[k]++ }); err != nil {
			return nil, fmt.Errorf("add %d pages: %w", len(chunk), err)
		}
	}
	return added, nil
}

// countSessions adds a transaction's counts to its sessions, in one
// statement per chunk (UPDATE … FROM, which both engines have).
func countSessions(ctx context.Context, tx *sql.Tx, counts map[sessionKey]*sessionCounts) error {
	keys := slices.SortedFunc(maps.Keys(counts), compareSession)
	for chunk := range slices.Chunk(keys, maxPageRows) {
		var q strings.Builder
		q.WriteString(`UPDATE sessions SET events = events + v.column3, errors = errors + v.column4, pages = pages + v.column5 FROM (VALUES `)
		args := make([]any, 0, 5*len(chunk))
		for i, k := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			// Typed in every row: Postgres reads an untyped parameter as text.
			q.WriteString("(?, ?, CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))")
			sc := counts[k]
			args = append(args, k.project, k.id, sc.events, sc.errors, sc.pages)
		}
		q.WriteString(`) AS v WHERE sessions.project = v.column1 AND sessions.id = v.column2`)
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("count %d sessions: %w", len(chunk), err)
		}
	}
	return nil
}

// scanKeys runs a statement that returns (project, id) rows and hands each
// to f.
func scanKeys(ctx context.Context, tx *sql.Tx, query string, args []any, f func(sessionKey)) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k sessionKey
		if err := rows.Scan(&k.project, &k.id); err != nil {
			return err
		}
		f(k)
	}
	return rows.Err()
}

// eventRow is one event's row of the events table.
type eventRow struct {
	m             *Message
	id, kind, url string
	ts            int64
	traceID       any
	issueID       any
	payload       string
}

// eventRow decides how ev is stored: through its kind's store hook when it
// has one. Replay events are stored without their rrweb payload, which
// lives in object storage.
func (c *Coordinator) eventRow(ctx context.Context, tx *sql.Tx, m *Message, ev *sdkproto.Event) (eventRow, error) {
	r := eventRow{m: m, id: ev.ID, kind: string(ev.Kind), url: m.Batch.Page.URL, ts: ev.TS}
	stored := *ev
	switch {
	case ev.Replay != nil:
		rp := *ev.Replay
		rp.Events = nil
		stored.Replay = &rp
	case ev.Error != nil:
		if ev.Error.TraceID != "" {
			r.traceID = ev.Error.TraceID
		}
		if ev.Error.URL != "" {
			r.url = ev.Error.URL
		}
	case ev.Vital != nil && ev.Vital.URL != "":
		r.url = ev.Vital.URL
	}
	if h := c.store[ev.Kind]; h != nil {
		st, err := h(ctx, tx, m, ev)
		if err != nil {
			return r, fmt.Errorf("%s store hook for event %s: %w", ev.Kind, ev.ID, err)
		}
		if st.IssueID != "" {
			r.issueID = st.IssueID
			m.SetIssue(ev.ID, st.IssueID)
		}
		if st.Payload != nil {
			r.payload = string(st.Payload)
			return r, nil
		}
	}
	payload, err := json.Marshal(stored)
	if err != nil {
		return r, fmt.Errorf("encode event %s: %w", ev.ID, err)
	}
	r.payload = string(payload)
	return r, nil
}

// maxEventRows bounds one multi-row insert: 13 parameters a row stays well
// under either engine's limit on parameters per statement.
const maxEventRows = 200

// insertEvents stores the rows whose ids are not stored yet, in multi-row
// inserts, and returns the ones it stored.
func insertEvents(ctx context.Context, tx *sql.Tx, rows []eventRow) (map[eventKey]bool, error) {
	inserted := make(map[eventKey]bool, len(rows))
	now := time.Now().UnixMilli()
	for chunk := range slices.Chunk(rows, maxEventRows) {
		var q strings.Builder
		q.WriteString(`INSERT INTO events (project, id, session_id, kind, ts, received_at, region, country, url, trace_id, issue_id, payload, stored_at) VALUES `)
		args := make([]any, 0, 13*len(chunk))
		for i, r := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			m := r.m
			args = append(args, m.Project, r.id, m.Batch.Session.ID, r.kind, r.ts, m.ReceivedAt, m.Region, m.Country, r.url, r.traceID, r.issueID, r.payload, now)
		}
		q.WriteString(" ON CONFLICT DO NOTHING RETURNING project, id")
		if err := scanKeys(ctx, tx, q.String(), args, func(k sessionKey) { inserted[eventKey(k)] = true }); err != nil {
			return nil, fmt.Errorf("insert %d events: %w", len(chunk), err)
		}
	}
	return inserted, nil
}

func storeOutcome(ctx context.Context, tx *sql.Tx, seq uint64, o *sdkproto.Outcome) error {
	for reason, n := range o.Dropped {
		if _, err := tx.ExecContext(ctx, `INSERT INTO outcome_reasons (stream_seq, project, region, ts, reason, count) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			seq, o.Project, o.Region, o.TS, reason, n); err != nil {
			return fmt.Errorf("store outcome: %w", err)
		}
	}
	return nil
}
