package synthetic

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"github.com/rearview-dev/rearview/coordinator/lease"
)

// Store keeps results in the metadata database (table synthetic_runs).
type Store struct {
	db *sql.DB
}

// NewStore returns a store over db, which store.Open has migrated.
func NewStore(db *sql.DB) *Store { return &Store{db: db} }

type detail struct {
	Steps []Step `json:"steps,omitempty"`
}

// Save stores results of project, each once by its id, and reports how
// many were new. Results must have been validated. Under a lease's context
// (scheduled probes) the transaction is fenced.
func (s *Store) Save(ctx context.Context, project string, results []Result) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("save synthetic results: %w", err)
	}
	defer tx.Rollback()
	// A probe holder that lost its lease must not record what the next
	// holder records too (a no-op outside lease work).
	if err := lease.Fence(ctx, tx); err != nil {
		return 0, fmt.Errorf("save synthetic results: %w", err)
	}
	n := 0
	for _, r := range results {
		metrics, err := json.Marshal(r.Metrics)
		if err != nil {
			return 0, fmt.Errorf("save synthetic result %s: %w", r.ID, err)
		}
		if r.Metrics == nil {
			metrics = []byte("{}")
		}
		det, err := json.Marshal(detail{Steps: r.Steps})
		if err != nil {
			return 0, fmt.Errorf("save synthetic result %s: %w", r.ID, err)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO synthetic_runs (project, id, run_id, source, release, profile, check_name, kind, url, route, ts, passed, duration_ms, metrics, error, session_id, detail)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			project, r.ID, r.RunID, r.Source, r.Release, r.Profile, r.Check, r.Kind, r.URL, r.Route, r.TS, b2i(r.Passed), r.DurationMS, string(metrics), r.Error, r.SessionID, string(det))
		if err != nil {
			return 0, fmt.Errorf("save synthetic result %s: %w", r.ID, err)
		}
		k, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("save synthetic result %s: %w", r.ID, err)
		}
		n += int(k)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("save synthetic results: %w", err)
	}
	return n, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Filter selects results; zero fields select everything.
type Filter struct {
	Release string
	Source  string
	Check   string
	Since   int64
	Until   int64
	// Limit bounds Runs (newest first); zero means 200.
	Limit int
}

const runCols = `id, run_id, source, release, profile, check_name, kind, url, route, ts, passed, duration_ms, metrics, error, session_id, detail`

func scanRun(sc interface{ Scan(...any) error }) (Result, error) {
	var r Result
	var passed int64
	var metrics, det string
	if err := sc.Scan(&r.ID, &r.RunID, &r.Source, &r.Release, &r.Profile, &r.Check, &r.Kind, &r.URL, &r.Route, &r.TS, &passed, &r.DurationMS, &metrics, &r.Error, &r.SessionID, &det); err != nil {
		return r, err
	}
	r.Passed = passed != 0
	if err := json.Unmarshal([]byte(metrics), &r.Metrics); err != nil {
		return r, fmt.Errorf("result %s metrics: %w", r.ID, err)
	}
	var d detail
	if err := json.Unmarshal([]byte(det), &d); err != nil {
		return r, fmt.Errorf("result %s detail: %w", r.ID, err)
	}
	r.Steps = d.Steps
	return r, nil
}

// Runs returns project's results matching f, newest first.
func (s *Store) Runs(ctx context.Context, project string, f Filter) ([]Result, error) {
	where, args := "project = ?", []any{project}
	for _, c := range []struct{ col, v string }{{"release", f.Release}, {"source", f.Source}, {"check_name", f.Check}} {
		if c.v != "" {
			where += " AND " + c.col + " = ?"
			args = append(args, c.v)
		}
	}
	if f.Since > 0 {
		where += " AND ts >= ?"
		args = append(args, f.Since)
	}
	if f.Until > 0 {
		where += " AND ts < ?"
		args = append(args, f.Until)
	}
	if f.Limit <= 0 {
		f.Limit = 200
	}
	args = append(args, f.Limit)
	rows, err := s.db.QueryContext(ctx, `SELECT `+runCols+` FROM synthetic_runs WHERE `+where+` ORDER BY ts DESC, id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("synthetic runs: %w", err)
	}
	defer rows.Close()
	var out []Result
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("synthetic runs: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Release is one release that has synthetic results.
type Release struct {
	Release   string `json:"release"`
	FirstSeen int64  `json:"first_seen"`
	LastSeen  int64  `json:"last_seen"`
	Results   int    `json:"results"`
	Failed    int    `json:"failed"`
}

// Releases lists project's releases with CI results (probes run against
// whatever is deployed), oldest first: "previous" means first checked
// earlier, since a git SHA has no order of its own.
func (s *Store) Releases(ctx context.Context, project string) ([]Release, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT release, min(ts), max(ts), count(*), sum(1 - passed) FROM synthetic_runs
WHERE project = ? AND source = ? AND release != '' GROUP BY release ORDER BY min(ts), release`, project, SourceCI)
	if err != nil {
		return nil, fmt.Errorf("synthetic releases: %w", err)
	}
	defer rows.Close()
	var out []Release
	for rows.Next() {
		var r Release
		if err := rows.Scan(&r.Release, &r.FirstSeen, &r.LastSeen, &r.Results, &r.Failed); err != nil {
			return nil, fmt.Errorf("synthetic releases: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Previous returns the release checked before release ("" if none): the
// one first seen just before it, or the newest when release has no results
// yet (a CI run compares before it uploads).
func (s *Store) Previous(ctx context.Context, project, release string) (string, error) {
	rs, err := s.Releases(ctx, project)
	if err != nil {
		return "", err
	}
	prev := ""
	for _, r := range rs {
		if r.Release == release {
			return prev, nil
		}
		prev = r.Release
	}
	return prev, nil
}

// SummaryRow is the median of one metric over a release's lab runs of one
// route and profile.
type SummaryRow struct {
	Route   string  `json:"route"`
	Profile string  `json:"profile"`
	Kind    string  `json:"kind"`
	Metric  string  `json:"metric"`
	Median  float64 `json:"median"`
	N       int     `json:"n"`
}

// Summary returns the medians of every metric of release's CI results per
// route, profile and kind (journeys: their duration), sorted. An empty
// release summarises the probes of the last day instead.
func (s *Store) Summary(ctx context.Context, project, release string, now int64) ([]SummaryRow, error) {
	f := Filter{Release: release, Source: SourceCI, Limit: 10_000}
	if release == "" {
		f = Filter{Source: SourceProbe, Since: now - 24*3600*1000, Limit: 10_000}
	}
	runs, err := s.Runs(ctx, project, f)
	if err != nil {
		return nil, err
	}
	return Summarize(runs), nil
}

// Summarize folds results into medians per route, profile, kind and
// metric. Failed Lighthouse runs have no numbers and are left out; a
// journey counts its duration whether it passed or not.
func Summarize(runs []Result) []SummaryRow {
	type key struct{ route, profile, kind, metric string }
	vals := map[key][]float64{}
	for _, r := range runs {
		switch r.Kind {
		case KindLighthouse:
			if !r.Passed {
				continue
			}
			for m, v := range r.Metrics {
				k := key{r.Route, r.Profile, r.Kind, m}
				vals[k] = append(vals[k], v)
			}
		case KindJourney:
			k := key{r.Route, r.Profile, r.Kind, Duration}
			vals[k] = append(vals[k], r.DurationMS)
		}
	}
	out := make([]SummaryRow, 0, len(vals))
	for k, v := range vals {
		out = append(out, SummaryRow{Route: k.route, Profile: k.profile, Kind: k.kind, Metric: k.metric, Median: median(v), N: len(v)})
	}
	slices.SortFunc(out, func(a, b SummaryRow) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Route, b.Route), cmp.Compare(a.Profile, b.Profile), cmp.Compare(metricOrder(a.Metric), metricOrder(b.Metric)))
	})
	return out
}

func metricOrder(m string) int {
	for i, x := range Metrics() {
		if x == m {
			return i
		}
	}
	return len(Metrics())
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Comparison is one metric of one route and profile in two releases.
type Comparison struct {
	Route   string   `json:"route"`
	Profile string   `json:"profile"`
	Kind    string   `json:"kind"`
	Metric  string   `json:"metric"`
	Base    *float64 `json:"base"`
	Head    *float64 `json:"head"`
	// Change is (head − base) / base; nil without both or with base 0.
	Change *float64 `json:"change"`
}

// Compare lines up two summaries (the lab side of "did anything change
// between releases?").
func Compare(base, head []SummaryRow) []Comparison {
	type key struct{ route, profile, kind, metric string }
	idx := map[key]*Comparison{}
	var keys []key
	add := func(rows []SummaryRow, head bool) {
		for _, r := range rows {
			k := key{r.Route, r.Profile, r.Kind, r.Metric}
			c, ok := idx[k]
			if !ok {
				c = &Comparison{Route: r.Route, Profile: r.Profile, Kind: r.Kind, Metric: r.Metric}
				idx[k] = c
				keys = append(keys, k)
			}
			v := r.Median
			if head {
				c.Head = &v
			} else {
				c.Base = &v
			}
		}
	}
	add(base, false)
	add(head, true)
	out := make([]Comparison, 0, len(keys))
	for _, k := range keys {
		c := idx[k]
		if c.Base != nil && c.Head != nil && *c.Base != 0 {
			ch := (*c.Head - *c.Base) / *c.Base
			c.Change = &ch
		}
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b Comparison) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Route, b.Route), cmp.Compare(a.Profile, b.Profile), cmp.Compare(metricOrder(a.Metric), metricOrder(b.Metric)))
	})
	return out
}

// ProbeFailure is a check whose probes failed within a window.
type ProbeFailure struct {
	Check     string
	URL       string
	Failures  int64
	Runs      int64
	LastError string
	LastAt    int64
}

// ProbeFailures returns project's probe checks that failed at least once
// in [since, until), with the latest failure's error.
func (s *Store) ProbeFailures(ctx context.Context, project string, since, until int64) ([]ProbeFailure, error) {
	runs, err := s.Runs(ctx, project, Filter{Source: SourceProbe, Since: since, Until: until, Limit: 10_000})
	if err != nil {
		return nil, err
	}
	by := map[string]*ProbeFailure{}
	var order []string
	for _, r := range runs { // newest first
		f, ok := by[r.Check]
		if !ok {
			f = &ProbeFailure{Check: r.Check, URL: r.URL}
			by[r.Check] = f
			order = append(order, r.Check)
		}
		f.Runs++
		if !r.Passed {
			if f.Failures == 0 {
				f.LastError, f.LastAt, f.URL = r.Error, r.TS, r.URL
			}
			f.Failures++
		}
	}
	var out []ProbeFailure
	sort.Strings(order)
	for _, c := range order {
		if by[c].Failures > 0 {
			out = append(out, *by[c])
		}
	}
	return out, nil
}

// SyntheticIssue is an issue that a synthetic session's errors fell into.
type SyntheticIssue struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Events   int64  `json:"events"`
	LastSeen int64  `json:"last_seen"`
	// Session is the newest synthetic session with the issue: its replay.
	Session string `json:"session"`
}

// Issues lists the issues synthetic sessions' errors were grouped into,
// newest first.
func (s *Store) Issues(ctx context.Context, project string, limit int) ([]SyntheticIssue, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, `SELECT e.issue_id, i.title, count(*), max(e.ts),
	(SELECT e2.session_id FROM events e2 JOIN sessions s2 ON s2.project = e2.project AND s2.id = e2.session_id
	 WHERE e2.project = ? AND e2.issue_id = e.issue_id AND s2.flag_synthetic = 1 ORDER BY e2.ts DESC, e2.id LIMIT 1)
FROM events e JOIN sessions s ON s.project = e.project AND s.id = e.session_id
JOIN issues i ON i.project = e.project AND i.id = e.issue_id
WHERE e.project = ? AND e.kind = 'error' AND s.flag_synthetic = 1 AND e.issue_id IS NOT NULL
GROUP BY e.issue_id, i.title ORDER BY max(e.ts) DESC LIMIT ?`, project, project, limit)
	if err != nil {
		return nil, fmt.Errorf("synthetic issues: %w", err)
	}
	defer rows.Close()
	var out []SyntheticIssue
	for rows.Next() {
		var i SyntheticIssue
		if err := rows.Scan(&i.ID, &i.Title, &i.Events, &i.LastSeen, &i.Session); err != nil {
			return nil, fmt.Errorf("synthetic issues: %w", err)
		}
		out = append(out, i)
	}
	return out, rows.Err()
}
