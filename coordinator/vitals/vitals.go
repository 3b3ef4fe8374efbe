// Package vitals aggregates Core Web Vitals (LCP, INP, CLS, FCP, TTFB) into
// mergeable DDSketches keyed by project, route, device class, country,
// browser family and release, in minute, hour and day buckets, and answers
// percentile, rating-share, breakdown and worst-cut queries over any cut and
// time range.
//
// Exactly-once without double counting across crashes: the coordinator runs
// the event hook inside the transaction that first stores a vital event, and
// the hook appends the classified sample to the vital_samples outbox in that
// same transaction. A background folder merges outbox rows into the stored
// sketches and deletes them in one transaction. Every sample is therefore
// either in the outbox or in the sketches, never both and never neither, and
// queries read both in one snapshot, so results are exact-to-the-sketch and
// fresh even before a fold. Redelivered events never reach the hook.
//
// Routes of vitals that come without their page's URL: Sentry's browser SDK
// sends LCP, CLS and INP when the page is hidden, in an envelope that names
// the page's pageload span (sdkproto.AttrPageSpan) but not its URL. The hooks
// remember the route of every page span that a page view
// (sdkproto.SentryPageViewID) or a vital came with a URL for (vital_pages),
// and a vital without a URL takes its page span's route. One
// whose page is not known yet (its pageload still on the way, or in another
// coordinator's open transaction) is recorded in the outbox all the same, so
// it counts at once, under a guess (the session's latest page) and marked
// with its page span: the folder leaves it there until the page's route is
// known, sets that route, and folds it, or folds it under the guess after
// Options.PageWait. Only the route of an outbox row ever changes, never its
// count, so exactly-once counting is untouched.
package vitals

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/rearview-dev/rearview/coordinator"
	"github.com/rearview-dev/rearview/coordinator/device"
	"github.com/rearview-dev/rearview/coordinator/route"
	"github.com/rearview-dev/rearview/coordinator/store"
	"github.com/rearview-dev/rearview/sdkproto"
)

// Bucket resolutions in milliseconds.
const (
	Minute = int64(time.Minute / time.Millisecond)
	Hour   = int64(time.Hour / time.Millisecond)
	Day    = 24 * Hour
)

var resolutions = []int64{Minute, Hour, Day}

// Options configures the aggregation.
type Options struct {
	// FoldInterval is how often the outbox is folded into sketches; zero
	// means 2 s. Folding is an optimisation: queries see unfolded samples.
	FoldInterval time.Duration
	// FoldBatch bounds the samples one fold transaction moves; zero means
	// 20000, which keeps the write lock short for the ingest path.
	FoldBatch int
	// Retention per resolution; zero means 48 h of minutes, 35 d of hours,
	// 400 d of days.
	MinuteRetention, HourRetention, DayRetention time.Duration
	// NoFolder leaves folding to the caller, who runs Run where it holds
	// the fold lease: folds on several coordinators are safe (they take
	// turns on a lock) but one folder is enough, and the others would only
	// wait on the lock. Register then starts no folder and Close folds
	// nothing.
	NoFolder bool
	// PageWait is how long a sample whose page span's route is not known
	// yet waits for it in the outbox before it is folded under its guessed
	// route; zero means 10 minutes. Its page's own vitals normally come
	// before it or within seconds.
	PageWait time.Duration
	// PageRetention is how long a page span's route is remembered for the
	// vitals that come later without a URL; zero means 48 h.
	PageRetention time.Duration
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Vitals is the registered aggregation: hook, folder and API.
type Vitals struct {
	db   *sql.DB
	opts Options
	log  *slog.Logger
	ins  *sql.Stmt
	// Page routes (see the package comment).
	pageIns, pageSel, latestPage *sql.Stmt

	mu  sync.Mutex // guards uas
	uas map[string]device.Info

	foldMu sync.Mutex // one fold at a time
	stop   context.CancelFunc
	done   chan struct{}
}

// maxCachedUAs bounds the User-Agent classification cache.
const maxCachedUAs = 4096

// Register adds the vital hook to c and, unless opts.NoFolder, starts the
// background folder; call it before c.Run and Close it on shutdown.
func Register(c *coordinator.Coordinator, opts Options) (*Vitals, error) {
	v, err := New(c.DB(), opts)
	if err != nil {
		return nil, err
	}
	c.OnEvent(sdkproto.KindVital, v.Hook)
	c.OnEvent(sdkproto.KindSession, v.PageHook)
	if opts.NoFolder {
		return v, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	v.stop, v.done = cancel, make(chan struct{})
	go func() {
		defer close(v.done)
		v.Run(ctx)
		// The only folder of its database may fold what is pending.
		if _, err := v.Fold(context.WithoutCancel(ctx)); err != nil {
			v.log.Warn("final fold", "err", err)
		}
	}()
	return v, nil
}

// New returns the aggregation over db without a coordinator or folder, for
// tests and tools; Register is what a coordinator uses.
func New(db *sql.DB, opts Options) (*Vitals, error) {
	if opts.FoldInterval == 0 {
		opts.FoldInterval = 2 * time.Second
	}
	if opts.FoldBatch == 0 {
		opts.FoldBatch = 20000
	}
	if opts.MinuteRetention == 0 {
		opts.MinuteRetention = 48 * time.Hour
	}
	if opts.HourRetention == 0 {
		opts.HourRetention = 35 * 24 * time.Hour
	}
	if opts.DayRetention == 0 {
		opts.DayRetention = 400 * 24 * time.Hour
	}
	if opts.PageWait == 0 {
		opts.PageWait = 10 * time.Minute
	}
	if opts.PageRetention == 0 {
		opts.PageRetention = 48 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	v := &Vitals{db: db, opts: opts, log: opts.Logger.With("component", "vitals"), uas: map[string]device.Info{}}
	for _, p := range []struct {
		dst *(*sql.Stmt)
		sql string
	}{
		{&v.ins, `INSERT INTO vital_samples (project, metric, ts, route, device, country, browser, release, value, page_span, held_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&v.pageIns, `INSERT INTO vital_pages (project, span_id, route, ts) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`},
		{&v.pageSel, `SELECT route FROM vital_pages WHERE project = ? AND span_id = ?`},
		{&v.latestPage, `SELECT url FROM session_pages WHERE project = ? AND session_id = ? ORDER BY first_ts DESC, url LIMIT 1`},
	} {
		st, err := db.Prepare(p.sql)
		if err != nil {
			v.closeStmts()
			return nil, fmt.Errorf("register vitals: prepare (are migrations 005_vitals and 015_vital_pages applied?): %w", err)
		}
		*p.dst = st
	}
	return v, nil
}

func (v *Vitals) closeStmts() error {
	var errs []error
	for _, st := range []*sql.Stmt{v.ins, v.pageIns, v.pageSel, v.latestPage} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// Close stops the folder Register started, after a last fold.
func (v *Vitals) Close() error {
	if v.stop != nil {
		v.stop()
		<-v.done
	}
	return v.closeStmts()
}

// Run folds the outbox every FoldInterval and prunes old buckets until ctx
// is done; one Run per database is enough (see Options.NoFolder). It folds
// nothing after ctx is done: what is pending stays in the outbox, where
// queries see it, for the next folder.
func (v *Vitals) Run(ctx context.Context) {
	t := time.NewTicker(v.opts.FoldInterval)
	defer t.Stop()
	lastPrune := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for {
			n, err := v.Fold(ctx)
			if err != nil {
				if ctx.Err() == nil {
					v.log.Warn("fold", "err", err)
				}
				break
			}
			if n > 0 {
				v.log.Debug("folded vitals", "samples", n)
			}
			if n < v.opts.FoldBatch {
				break
			}
		}
		if now := v.opts.Now(); now.Sub(lastPrune) > 10*time.Minute {
			if err := v.Prune(ctx); err != nil {
				v.log.Warn("prune", "err", err)
			}
			lastPrune = now
		}
	}
}

func (v *Vitals) classify(ua string) device.Info {
	v.mu.Lock()
	defer v.mu.Unlock()
	if d, ok := v.uas[ua]; ok {
		return d
	}
	d := device.Parse(ua)
	if len(v.uas) >= maxCachedUAs {
		clear(v.uas)
	}
	v.uas[ua] = d
	return d
}

// Sample is one classified measurement.
type Sample struct {
	Project string
	Metric  Metric
	TS      int64
	Dims    Dims
	Value   float64
	// PageSpan, when set, names the page view (sdkproto.AttrPageSpan)
	// whose route Dims.Route only guesses: the folder holds the sample
	// until that page's route is known or Options.PageWait has passed.
	PageSpan string
}

// maxSkew is how far an event's own timestamp may be from when the edge
// received it before the receive time is used instead: browser clocks lie.
const maxSkew = int64(24 * time.Hour / time.Millisecond)

// SampleOf classifies a vital event of message m. ok is false for events
// that never count: bots, synthetic checks (their lab numbers are kept by
// coordinator/synthetic), unknown metrics, implausible values.
func (v *Vitals) SampleOf(m *coordinator.Message, ev *sdkproto.Event) (Sample, bool) {
	vt := ev.Vital
	if vt == nil || m.Synthetic {
		return Sample{}, false
	}
	metric := Metric(vt.Name)
	if _, ok := thresholds[metric]; !ok || !validValue(metric, vt.Value) {
		return Sample{}, false
	}
	d := v.classify(m.Batch.Device.UA)
	if d.IsBot() {
		return Sample{}, false
	}
	u := vt.URL
	if u == "" {
		u = m.Batch.Page.URL
	}
	ts := ev.TS
	if m.ReceivedAt != 0 && (ts < m.ReceivedAt-maxSkew || ts > m.ReceivedAt+5*Minute) {
		ts = m.ReceivedAt
	}
	country := strings.ToUpper(m.Country)
	if len(country) != 2 {
		country = "--"
	}
	return Sample{
		Project: m.Project,
		Metric:  metric,
		TS:      ts,
		Dims: Dims{
			Route:   route.Normalise(u),
			Device:  d.Class,
			Country: country,
			Browser: d.Browser,
			Release: release(vt),
		},
		Value: vt.Value,
	}, true
}

// release is the page's release as the SDK reports it in the vital's
// attribution; vitals carry no release field of their own.
func release(vt *sdkproto.Vital) string {
	r := vt.Attribution["release"]
	if len(r) > 64 {
		r = r[:64]
	}
	return r
}

// Hook is the coordinator event hook: it appends the sample to the outbox in
// the event's own transaction.
func (v *Vitals) Hook(ctx context.Context, tx *sql.Tx, m *coordinator.Message, ev *sdkproto.Event) error {
	s, ok := v.SampleOf(m, ev)
	if !ok {
		return nil
	}
	if err := v.pageRoute(ctx, tx, m, ev.Vital, &s); err != nil {
		return err
	}
	return v.Record(ctx, tx, s)
}

// PageHook is the coordinator event hook for session events: a page view
// the edge made of a Sentry pageload or navigation span
// (sdkproto.SentryPageViewID) records that span's route, for the vitals
// that name the span later without a URL — a navigation span carries no
// vital of its own to learn it from.
func (v *Vitals) PageHook(ctx context.Context, tx *sql.Tx, m *coordinator.Message, ev *sdkproto.Event) error {
	se := ev.Session
	if se == nil || se.State != "page_view" || se.URL == "" || m.Synthetic {
		return nil
	}
	span, ok := sdkproto.SentryPageSpan(ev.ID)
	if !ok || span == "" || len(span) > 64 {
		return nil
	}
	if _, err := tx.StmtContext(ctx, v.pageIns).ExecContext(ctx, m.Project, span, route.Normalise(se.URL), v.opts.Now().UnixMilli()); err != nil {
		return fmt.Errorf("record page view: %w", err)
	}
	return nil
}

// pageRoute remembers the route of a vital's page span when the vital came
// with its URL, and gives a vital without one its page span's route — or,
// while that is unknown, the session's latest page as a guess, marking the
// sample to wait for it (see the package comment).
func (v *Vitals) pageRoute(ctx context.Context, tx *sql.Tx, m *coordinator.Message, vt *sdkproto.Vital, s *Sample) error {
	span := vt.Attribution[sdkproto.AttrPageSpan]
	if span == "" || len(span) > 64 {
		return nil
	}
	if vt.URL != "" {
		if _, err := tx.StmtContext(ctx, v.pageIns).ExecContext(ctx, s.Project, span, s.Dims.Route, v.opts.Now().UnixMilli()); err != nil {
			return fmt.Errorf("record vital page: %w", err)
		}
		return nil
	}
	var r string
	err := tx.StmtContext(ctx, v.pageSel).QueryRowContext(ctx, s.Project, span).Scan(&r)
	switch {
	case err == nil:
		s.Dims.Route = r
		return nil
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("read vital page: %w", err)
	}
	s.PageSpan = span
	if m.Batch.Page.URL != "" {
		return nil // SampleOf's route is the batch's page
	}
	var u string
	err = tx.StmtContext(ctx, v.latestPage).QueryRowContext(ctx, m.Project, m.Batch.Session.ID).Scan(&u)
	switch {
	case err == nil:
		s.Dims.Route = route.Normalise(u)
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("read session page: %w", err)
	}
	return nil
}

// Record appends s to the outbox inside tx.
func (v *Vitals) Record(ctx context.Context, tx *sql.Tx, s Sample) error {
	d := s.Dims
	var held int64
	if s.PageSpan != "" {
		held = v.opts.Now().Add(v.opts.PageWait).UnixMilli()
	}
	if _, err := tx.StmtContext(ctx, v.ins).ExecContext(ctx, s.Project, string(s.Metric), s.TS, d.Route, d.Device, d.Country, d.Browser, d.Release, s.Value, s.PageSpan, held); err != nil {
		return fmt.Errorf("record vital: %w", err)
	}
	return nil
}

// Fold moves up to FoldBatch outbox samples into the stored sketches, at
// every resolution, in one transaction, and returns how many it moved.
func (v *Vitals) Fold(ctx context.Context) (int, error) {
	v.foldMu.Lock()
	defer v.foldMu.Unlock()
	tx, err := v.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("fold vitals: %w", err)
	}
	defer tx.Rollback()
	// Folders on other coordinators wait here, then read an outbox this one
	// has emptied: a sample is never folded twice.
	if err := store.DialectOf(v.db).LockTx(ctx, tx, store.LockVitalsFold); err != nil {
		return 0, fmt.Errorf("fold vitals: %w", err)
	}
	// Samples waiting for their page's route get it once it is known. Under
	// the fold lock, after both transactions committed: a page and a sample
	// stored at once by two coordinators, neither seeing the other, meet
	// here.
	if _, err := tx.ExecContext(ctx, `UPDATE vital_samples SET page_span = '', held_until = 0,
	route = (SELECT p.route FROM vital_pages p WHERE p.project = vital_samples.project AND p.span_id = vital_samples.page_span)
WHERE page_span != '' AND EXISTS (SELECT 1 FROM vital_pages p WHERE p.project = vital_samples.project AND p.span_id = vital_samples.page_span)`); err != nil {
		return 0, fmt.Errorf("fold vitals: resolve page routes: %w", err)
	}
	// The outbox rows are taken by deleting them: what is folded is exactly
	// what was deleted. Reading and then deleting up to the last sequence
	// read would drop a sample that another transaction, holding a lower
	// sequence number, committed in between. A sample still waiting for its
	// page's route stays until PageWait has passed.
	rows, err := tx.QueryContext(ctx, `DELETE FROM vital_samples WHERE seq IN (SELECT seq FROM vital_samples WHERE held_until <= ? ORDER BY seq LIMIT ?)
RETURNING seq, project, metric, ts, route, device, country, browser, release, value`, v.opts.Now().UnixMilli(), v.opts.FoldBatch)
	if err != nil {
		return 0, fmt.Errorf("fold vitals: read outbox: %w", err)
	}
	agg := NewAggregator(Minute)
	var n int
	for rows.Next() {
		var s Sample
		var metric string
		var seq int64
		if err := rows.Scan(&seq, &s.Project, &metric, &s.TS, &s.Dims.Route, &s.Dims.Device, &s.Dims.Country, &s.Dims.Browser, &s.Dims.Release, &s.Value); err != nil {
			rows.Close()
			return 0, fmt.Errorf("fold vitals: read outbox: %w", err)
		}
		agg.Add(s.Project, Metric(metric), s.TS, s.Dims, s.Value)
		n++
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("fold vitals: read outbox: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	// Roll minute cells up into hour and day cells before touching the
	// database: one read-modify-write per stored sketch.
	all := make(map[cellKey]*cell, len(agg.cells)*3)
	for k, c := range agg.cells {
		all[k] = c
		for _, res := range resolutions[1:] {
			rk := k
			rk.res, rk.bucket = res, floor(k.bucket, res)
			rc := all[rk]
			if rc == nil {
				rc = newCell()
				all[rk] = rc
			}
			if err := rc.merge(c); err != nil {
				return 0, fmt.Errorf("fold vitals: %w", err)
			}
		}
	}
	if err := writeCells(ctx, tx, all); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("fold vitals: commit: %w", err)
	}
	return n, nil
}

func writeCells(ctx context.Context, tx *sql.Tx, cells map[cellKey]*cell) error {
	sel, err := tx.PrepareContext(ctx, `SELECT good, ni, poor, sketch FROM vital_sketches WHERE project = ? AND metric = ? AND res = ? AND bucket = ? AND route = ? AND device = ? AND country = ? AND browser = ? AND release = ?`)
	if err != nil {
		return fmt.Errorf("fold vitals: %w", err)
	}
	defer sel.Close()
	put, err := tx.PrepareContext(ctx, `INSERT INTO vital_sketches (project, metric, res, bucket, route, device, country, browser, release, good, ni, poor, sketch) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (project, metric, res, bucket, route, device, country, browser, release) DO UPDATE SET good = excluded.good, ni = excluded.ni, poor = excluded.poor, sketch = excluded.sketch`)
	if err != nil {
		return fmt.Errorf("fold vitals: %w", err)
	}
	defer put.Close()
	for k, c := range cells {
		d := k.dims
		var good, ni, poor int64
		var b []byte
		err := sel.QueryRowContext(ctx, k.project, string(k.metric), k.res, k.bucket, d.Route, d.Device, d.Country, d.Browser, d.Release).Scan(&good, &ni, &poor, &b)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("fold vitals: read sketch: %w", err)
		default:
			if err := c.mergeEncoded(b, good, ni, poor); err != nil {
				return fmt.Errorf("fold vitals: %w", err)
			}
		}
		if _, err := put.ExecContext(ctx, k.project, string(k.metric), k.res, k.bucket, d.Route, d.Device, d.Country, d.Browser, d.Release, c.good, c.ni, c.poor, c.encode()); err != nil {
			return fmt.Errorf("fold vitals: write sketch: %w", err)
		}
	}
	return nil
}

// Prune deletes buckets older than their resolution's retention.
func (v *Vitals) Prune(ctx context.Context) error {
	now := v.opts.Now().UnixMilli()
	for _, r := range []struct {
		res int64
		ret time.Duration
	}{{Minute, v.opts.MinuteRetention}, {Hour, v.opts.HourRetention}, {Day, v.opts.DayRetention}} {
		if _, err := v.db.ExecContext(ctx, `DELETE FROM vital_sketches WHERE res = ? AND bucket < ?`, r.res, now-r.ret.Milliseconds()); err != nil {
			return fmt.Errorf("prune vitals: %w", err)
		}
	}
	if _, err := v.db.ExecContext(ctx, `DELETE FROM vital_pages WHERE ts < ?`, now-v.opts.PageRetention.Milliseconds()); err != nil {
		return fmt.Errorf("prune vital pages: %w", err)
	}
	return nil
}

// DB returns the database the aggregation writes to.
func (v *Vitals) DB() *sql.DB { return v.db }
