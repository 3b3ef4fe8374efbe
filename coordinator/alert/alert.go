// Package alert evaluates alert rules every minute and notifies a webhook
// with a Slack-compatible payload: error-rate spikes on a page or an issue
// against their rolling 24-hour baseline, new issues, regressions, and a
// page's vital p75 over its threshold.
//
// Error counts per project, page and issue per minute are kept by a
// coordinator event hook inside the transaction that stores each new error
// event, so they are exact across redelivery and restarts. A notification
// is recorded in alert_history, together with a pending delivery, before it
// is sent: the cooldown and dedupe read that table, so a restart never
// fires the same alert twice. Delivery is at least once: a failed webhook
// (or a crash before sending) leaves the delivery pending, and later
// evaluations retry it with exponential backoff up to MaxAttempts. A crash
// between sending and recording the success sends that one notification
// again; receivers can dedupe on the payload's alert id.
package alert

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rearview-dev/rearview/coordinator"
	"github.com/rearview-dev/rearview/coordinator/lease"
	"github.com/rearview-dev/rearview/coordinator/route"
	"github.com/rearview-dev/rearview/coordinator/vitals"
	"github.com/rearview-dev/rearview/sdkproto"
)

// Issue is what new-issue and regression rules need to know of an issue.
type Issue struct {
	ID    string
	Title string
	// At is when it was first seen (new) or regressed (regression).
	At int64
}

// Issues is where new-issue and regression rules look. The issues package's
// table is read by SQLIssues; tests use fakes.
type Issues interface {
	NewIssues(ctx context.Context, project string, since, until int64) ([]Issue, error)
	Regressions(ctx context.Context, project string, since, until int64) ([]Issue, error)
}

// Vitals is what vital rules need; *vitals.Vitals implements it.
type Vitals interface {
	Breakdown(ctx context.Context, q vitals.Query, by vitals.Dimension, limit int) ([]vitals.Row, error)
}

// ProbeFailure is a synthetic check whose scheduled probes failed.
type ProbeFailure struct {
	Check     string
	URL       string
	Failures  int64
	Runs      int64
	LastError string
}

// Probes is where synthetic rules look; the cmd wires coordinator/synthetic's
// store in. Nil disables synthetic rules.
type Probes interface {
	ProbeFailures(ctx context.Context, project string, since, until int64) ([]ProbeFailure, error)
}

// Options configures alerting.
type Options struct {
	// Interval between evaluations; zero means one minute. Negative
	// disables the background loop (tests call Evaluate).
	Interval time.Duration
	// Webhook is the default notification URL for rules without their own.
	Webhook string
	// Issues backs new-issue and regression rules; nil reads the issues
	// table when it exists (SQLIssues).
	Issues Issues
	// Vitals backs vital rules; nil disables them.
	Vitals Vitals
	// Probes backs synthetic rules; nil disables them.
	Probes Probes
	// HTTPClient sends webhooks; nil means a client with a 10 s timeout.
	HTTPClient *http.Client
	// MaxAttempts bounds the webhook deliveries of one notification, the
	// first included; zero means 5.
	MaxAttempts int
	// RetryBackoff is the wait after the first failed delivery, doubled
	// after each further failure up to 32×; zero means one minute. Retries
	// run on evaluations, so the wait is in effect rounded up to Interval.
	RetryBackoff time.Duration
	// NoEvaluator leaves evaluation and delivery to the caller, who runs
	// Run where it holds the alerting lease, so that several coordinators
	// on one database neither fire nor deliver twice. Register then starts
	// no loop.
	NoEvaluator bool
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Alerts is the running alerting: rules, hook, evaluator, API.
type Alerts struct {
	db   *sql.DB
	opts Options
	log  *slog.Logger

	evalMu sync.Mutex
	stop   context.CancelFunc
	done   chan struct{}
}

// Register adds the error-counting hook to c and, unless opts.NoEvaluator,
// starts the evaluator; call
// it before c.Run, after the issues package registered its hook (so that an
// error's issue id is already set when it is counted), and Close it on
// shutdown.
func Register(c *coordinator.Coordinator, opts Options) (*Alerts, error) {
	a, err := New(c.DB(), opts)
	if err != nil {
		return nil, err
	}
	c.OnEvent(sdkproto.KindError, a.Hook)
	c.OnFlush(a.Flush)
	if opts.NoEvaluator {
		return a, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.stop, a.done = cancel, make(chan struct{})
	go func() {
		defer close(a.done)
		a.Run(ctx)
	}()
	return a, nil
}

// New returns alerting over db without hook or loop.
func New(db *sql.DB, opts Options) (*Alerts, error) {
	if opts.Interval == 0 {
		opts.Interval = time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 5
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = time.Minute
	}
	if opts.Issues == nil {
		opts.Issues = &SQLIssues{DB: db}
	}
	if err := db.QueryRow(`SELECT count(*) FROM alert_rules`).Scan(new(int)); err != nil {
		return nil, fmt.Errorf("alerts: is migration 006_alerts applied? %w", err)
	}
	return &Alerts{db: db, opts: opts, log: opts.Logger.With("component", "alert")}, nil
}

// Close stops the evaluator Register started.
func (a *Alerts) Close() error {
	if a.stop != nil {
		a.stop()
		<-a.done
		a.stop = nil
	}
	return nil
}

// Run evaluates every Interval (and so sends due notifications) until ctx
// is done; with a negative Interval it only waits for ctx. Only one Run
// should evaluate a database at a time (see Options.NoEvaluator).
func (a *Alerts) Run(ctx context.Context) {
	if a.opts.Interval < 0 {
		<-ctx.Done()
		return
	}
	t := time.NewTicker(a.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := a.Evaluate(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("evaluate", "err", err)
		}
	}
}

// countsRetention is how long per-minute error counts are kept: the 24 h
// baseline plus the longest window.
const countsRetention = 24*hour + 6*hour + hour

// maxSkew is how far an error's browser timestamp may be from when the edge
// received it before the receive time is used instead.
const maxSkew = 2 * day

// Hook counts a new error event by page and by issue for its transaction;
// Flush writes the counts before it commits.
//
// A synthetic check's errors are not counted: a probe failing every few
// minutes must not become the page's baseline (its failures alert through
// synthetic rules instead).
func (a *Alerts) Hook(ctx context.Context, tx *sql.Tx, m *coordinator.Message, ev *sdkproto.Event) error {
	if ev.Error == nil || m.Synthetic {
		return nil
	}
	ts := ev.TS
	if m.ReceivedAt != 0 && (ts < m.ReceivedAt-maxSkew || ts > m.ReceivedAt+5*minute) {
		ts = m.ReceivedAt
	}
	u := ev.Error.URL
	if u == "" {
		u = m.Batch.Page.URL
	}
	bucket := ts - ts%minute
	pc := a.pendingFor(ctx)
	pc.counts[countKey{m.Project, ScopePage, route.Normalise(u), bucket}]++
	// The issues store hook grouped the event before it was stored.
	if issue := m.IssueOf(ev.ID); issue != "" {
		pc.counts[countKey{m.Project, ScopeIssue, issue, bucket}]++
	}
	return nil
}

// pendingCounts are a transaction's error counts, written by Flush once
// per (project, scope, key, minute), in that order, before it commits.
type pendingCounts struct {
	counts map[countKey]int64
}

type countKey struct {
	project, scope, key string
	minute              int64
}

// pendKey is the service's key in its transactions' storage.
type pendKey struct{ a *Alerts }

// pendingFor returns the counts of ctx's transaction
// (coordinator.TxLocal): each transaction its own.
func (a *Alerts) pendingFor(ctx context.Context) *pendingCounts {
	return coordinator.TxLocal(ctx, pendKey{a}, func() *pendingCounts {
		return &pendingCounts{counts: map[countKey]int64{}}
	})
}

// Flush writes the transaction's error counts: the coordinator's flush hook.
func (a *Alerts) Flush(ctx context.Context, tx *sql.Tx) error {
	pc := a.pendingFor(ctx)
	if len(pc.counts) == 0 {
		return nil
	}
	keys := slices.SortedFunc(maps.Keys(pc.counts), func(x, y countKey) int {
		return cmp.Or(strings.Compare(x.project, y.project), strings.Compare(x.scope, y.scope), strings.Compare(x.key, y.key), cmp.Compare(x.minute, y.minute))
	})
	// One multi-row upsert per chunk of keys, in key order: a round trip
	// per transaction, not per page and issue.
	for chunk := range slices.Chunk(keys, maxCountRows) {
		args := make([]any, 0, 5*len(chunk))
		for _, k := range chunk {
			args = append(args, k.project, k.scope, k.key, k.minute, pc.counts[k])
		}
		q := `INSERT INTO alert_counts (project, scope, key, minute, count) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", len(chunk)), ", ") + `
ON CONFLICT (project, scope, key, minute) DO UPDATE SET count = alert_counts.count + excluded.count`
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("count errors: %w", err)
		}
	}
	return nil
}

// maxCountRows bounds one multi-row upsert of alert counts.
const maxCountRows = 200

// Firing is one alert to send.
type Firing struct {
	Rule     Rule
	Key      string
	Value    float64
	Baseline float64
	Message  string
}

// Evaluate checks every rule once at the clock's now, records what fires,
// sends due notifications (new ones and retries), and prunes old counts.
func (a *Alerts) Evaluate(ctx context.Context) error {
	a.evalMu.Lock()
	defer a.evalMu.Unlock()
	now := a.opts.Now().UnixMilli()
	rules, err := a.Rules(ctx, "")
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range rules {
		fs, err := a.check(ctx, r, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("rule %s: %w", r.ID, err))
			continue
		}
		for _, f := range fs {
			if err := a.fire(ctx, f, now); err != nil {
				errs = append(errs, err)
			}
		}
	}
	// Deliver after recording this evaluation's firings: new notifications
	// get their first attempt now, earlier failures their due retries.
	if err := a.deliver(ctx, now); err != nil {
		errs = append(errs, err)
	}
	if _, err := a.db.ExecContext(ctx, `DELETE FROM alert_counts WHERE minute < ?`, now-countsRetention); err != nil {
		errs = append(errs, fmt.Errorf("prune alert counts: %w", err))
	}
	return errors.Join(errs...)
}

func (a *Alerts) check(ctx context.Context, r Rule, now int64) ([]Firing, error) {
	switch r.Kind {
	case ErrorRate:
		return a.checkErrorRate(ctx, r, now)
	case NewIssue, Regression:
		since := max(r.CreatedAt, now-day)
		var is []Issue
		var err error
		if r.Kind == NewIssue {
			is, err = a.opts.Issues.NewIssues(ctx, r.Project, since, now)
		} else {
			is, err = a.opts.Issues.Regressions(ctx, r.Project, since, now)
		}
		if err != nil {
			return nil, err
		}
		var out []Firing
		for _, i := range is {
			if r.Target != "" && r.Target != i.ID {
				continue
			}
			what := "New issue"
			key := i.ID
			if r.Kind == Regression {
				what = "Regression"
				key = fmt.Sprintf("%s@%d", i.ID, i.At)
			}
			out = append(out, Firing{Rule: r, Key: key, Value: float64(i.At), Message: fmt.Sprintf("%s in %s: %s (%s)", what, r.Project, i.Title, i.ID)})
		}
		return out, nil
	case VitalP75:
		return a.checkVital(ctx, r, now)
	case SyntheticFailure:
		return a.checkProbes(ctx, r, now)
	}
	return nil, fmt.Errorf("unknown kind %q", r.Kind)
}

func (a *Alerts) checkErrorRate(ctx context.Context, r Rule, now int64) ([]Firing, error) {
	// The window ends with the current (partial) minute.
	end := now - now%minute + minute
	start := end - r.WindowMS
	args := []any{start, start, r.Project, r.Scope, start - day, end}
	where := ""
	if r.Target != "" {
		where = " AND key = ?"
		args = append(args, r.Target)
	}
	rows, err := a.db.QueryContext(ctx, `SELECT key,
	coalesce(sum(CASE WHEN minute >= ? THEN count END), 0),
	coalesce(sum(CASE WHEN minute < ? THEN count END), 0)
FROM alert_counts WHERE project = ? AND scope = ? AND minute >= ? AND minute < ?`+where+` GROUP BY key`, args...)
	if err != nil {
		return nil, fmt.Errorf("error counts: %w", err)
	}
	defer rows.Close()
	windows := float64(day) / float64(r.WindowMS)
	var out []Firing
	for rows.Next() {
		var key string
		var cur, base int64
		if err := rows.Scan(&key, &cur, &base); err != nil {
			return nil, fmt.Errorf("error counts: %w", err)
		}
		baseline := float64(base) / windows
		if cur < r.MinCount || float64(cur) < r.Factor*baseline {
			continue
		}
		what := "page " + key
		if r.Scope == ScopeIssue {
			what = "issue " + key
		}
		ratio := "new errors, no baseline"
		if baseline > 0 {
			ratio = fmt.Sprintf("%.1f× the 24 h baseline of %.1f", float64(cur)/baseline, baseline)
		}
		out = append(out, Firing{Rule: r, Key: key, Value: float64(cur), Baseline: baseline,
			Message: fmt.Sprintf("Error spike on %s in %s: %d errors in the last %s (%s)", what, r.Project, cur, time.Duration(r.WindowMS)*time.Millisecond, ratio)})
	}
	return out, rows.Err()
}

func (a *Alerts) checkVital(ctx context.Context, r Rule, now int64) ([]Firing, error) {
	if a.opts.Vitals == nil {
		return nil, nil
	}
	q := vitals.Query{Project: r.Project, Metric: vitals.Metric(r.Metric), From: now - r.WindowMS, To: now}
	q.Filter.Route = r.Target
	rows, err := a.opts.Vitals.Breakdown(ctx, q, vitals.ByRoute, 0)
	if err != nil {
		return nil, err
	}
	var out []Firing
	for _, row := range rows {
		if row.Count < r.MinCount || row.P75 <= r.Threshold {
			continue
		}
		out = append(out, Firing{Rule: r, Key: row.Key, Value: row.P75, Baseline: r.Threshold,
			Message: fmt.Sprintf("%s p75 on page %s in %s is %s, over the %s threshold (%d samples in %s)",
				r.Metric, row.Key, r.Project, fmtVital(r.Metric, row.P75), fmtVital(r.Metric, r.Threshold), row.Count, time.Duration(r.WindowMS)*time.Millisecond)})
	}
	return out, nil
}

func (a *Alerts) checkProbes(ctx context.Context, r Rule, now int64) ([]Firing, error) {
	if a.opts.Probes == nil {
		return nil, nil
	}
	fs, err := a.opts.Probes.ProbeFailures(ctx, r.Project, now-r.WindowMS, now+1)
	if err != nil {
		return nil, err
	}
	var out []Firing
	for _, f := range fs {
		if (r.Target != "" && r.Target != f.Check) || f.Failures < r.MinCount {
			continue
		}
		out = append(out, Firing{Rule: r, Key: f.Check, Value: float64(f.Failures), Baseline: float64(f.Runs),
			Message: fmt.Sprintf("Synthetic check %s failed in %s: %d of %d probes in the last %s (%s): %s",
				f.Check, r.Project, f.Failures, f.Runs, time.Duration(r.WindowMS)*time.Millisecond, f.URL, f.LastError)})
	}
	return out, nil
}

func fmtVital(metric string, v float64) string {
	if metric == string(vitals.CLS) {
		return fmt.Sprintf("%.3f", v)
	}
	if v >= 1000 {
		return fmt.Sprintf("%.2f s", v/1000)
	}
	return fmt.Sprintf("%.0f ms", v)
}

// fire records f with a pending delivery unless the same rule and key
// fired within the cooldown (new issues and regressions: ever). Sending is
// left to deliver, so that a first attempt and a retry take one path.
func (a *Alerts) fire(ctx context.Context, f Firing, now int64) error {
	since := now - f.Rule.CooldownMS
	if f.Rule.Kind == NewIssue || f.Rule.Kind == Regression {
		since = 0
	}
	var n int
	if err := a.db.QueryRowContext(ctx, `SELECT count(*) FROM alert_history WHERE rule_id = ? AND key = ? AND fired_at >= ?`, f.Rule.ID, f.Key, since).Scan(&n); err != nil {
		return fmt.Errorf("alert dedupe %s %s: %w", f.Rule.ID, f.Key, err)
	}
	if n > 0 {
		return nil
	}
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record alert %s %s: %w", f.Rule.ID, f.Key, err)
	}
	defer tx.Rollback()
	// A holder that lost its lease must not record what a later holder
	// evaluates too.
	if err := lease.Fence(ctx, tx); err != nil {
		return fmt.Errorf("record alert %s %s: %w", f.Rule.ID, f.Key, err)
	}
	// RETURNING rather than LastInsertId, which Postgres's driver lacks.
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO alert_history (rule_id, project, kind, key, fired_at, value, baseline, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		f.Rule.ID, f.Rule.Project, string(f.Rule.Kind), f.Key, now, f.Value, f.Baseline, f.Message).Scan(&id); err != nil {
		return fmt.Errorf("record alert %s %s: %w", f.Rule.ID, f.Key, err)
	}
	// Without any webhook there is nothing to deliver: the history row is
	// the whole notification.
	if a.webhookOf(f.Rule) != "" {
		if _, err := tx.ExecContext(ctx, `INSERT INTO alert_deliveries (history_id, attempts, next_at) VALUES (?, 0, ?)`, id, now); err != nil {
			return fmt.Errorf("record alert %s %s: delivery: %w", f.Rule.ID, f.Key, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record alert %s %s: %w", f.Rule.ID, f.Key, err)
	}
	a.log.Info("alert fired", "rule", f.Rule.ID, "project", f.Rule.Project, "kind", f.Rule.Kind, "key", f.Key)
	return nil
}

func (a *Alerts) webhookOf(r Rule) string {
	if r.Webhook != "" {
		return r.Webhook
	}
	return a.opts.Webhook
}

// SQLIssues reads the issues table the issues package writes (id, project,
// title, first_seen, regressed_at, …), which the store's migrations create
// in every database.
type SQLIssues struct {
	DB *sql.DB
}

func (s *SQLIssues) query(ctx context.Context, col, project string, since, until int64) ([]Issue, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT id, title, `+col+` FROM issues WHERE project = ? AND `+col+` > ? AND `+col+` <= ? ORDER BY `+col+` LIMIT 100`, project, since, until)
	if err != nil {
		return nil, fmt.Errorf("read issues: %w", err)
	}
	defer rows.Close()
	var out []Issue
	for rows.Next() {
		var i Issue
		if err := rows.Scan(&i.ID, &i.Title, &i.At); err != nil {
			return nil, fmt.Errorf("read issues: %w", err)
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// NewIssues returns issues first seen in (since, until].
func (s *SQLIssues) NewIssues(ctx context.Context, project string, since, until int64) ([]Issue, error) {
	return s.query(ctx, "first_seen", project, since, until)
}

// Regressions returns issues that regressed in (since, until].
func (s *SQLIssues) Regressions(ctx context.Context, project string, since, until int64) ([]Issue, error) {
	return s.query(ctx, "regressed_at", project, since, until)
}
