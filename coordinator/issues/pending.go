package issues

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/rearview-dev/rearview/coordinator/fingerprint"
	"github.com/rearview-dev/rearview/coordinator/store"
)

// pending is what one transaction's events add to their issues: counted
// in memory as the events are grouped and written by Flush, once per issue
// and in issue order, just before the transaction commits. A batch of a
// thousand events of five issues then updates five issue rows, not a
// thousand, which on a server database saves a round trip per event and
// keeps the issue rows locked only for the end of the transaction, taken
// in one order by every coordinator.
type pending struct {
	issues map[issueKey]*issueDelta
	// releases are the projects' releases in the order they first came:
	// project_releases numbers them in that order.
	releases []issueKey         // {project, release}
	relSeen  map[issueKey]int64 // first time each was seen
	// owner is the issue of every hash this transaction has seen or added.
	owner map[hashKey]string
}

type issueKey struct{ project, id string }

type hashKey struct{ project, hash string }

// issueDelta is one issue's share of a transaction.
type issueDelta struct {
	events   []eventAt // in the order they were grouped
	users    []string  // distinct user keys
	userSeen map[string]bool
	hours    map[int64]int64
	releases map[string]*releaseDelta
	minAt    int64
	// cand is the release the issue's last_release becomes if candAt is
	// not older than the stored last_seen: the last event with a release
	// that was not older than every event before it (what applying the
	// events one by one would leave).
	cand    string
	candAt  int64
	running int64 // newest event time so far
}

type eventAt struct {
	at      int64
	release string
}

type releaseDelta struct {
	count       int64
	first, last int64
}

// pendingFor returns the counts of ctx's transaction.
func (s *Service) pendingFor(ctx context.Context) *pending { return &s.inTx(ctx).pend }

// add counts one new event of issue id.
func (p *pending) add(project, id, release, userKey string, at int64) {
	k := issueKey{project, id}
	d := p.issues[k]
	if d == nil {
		d = &issueDelta{userSeen: map[string]bool{}, hours: map[int64]int64{}, releases: map[string]*releaseDelta{}, minAt: at, running: at}
		p.issues[k] = d
	}
	d.events = append(d.events, eventAt{at, release})
	if !d.userSeen[userKey] {
		d.userSeen[userKey] = true
		d.users = append(d.users, userKey)
	}
	d.hours[at-at%3_600_000]++
	d.minAt = min(d.minAt, at)
	if release != "" {
		if rk := (issueKey{project, release}); !p.hasRelease(rk) {
			p.releases = append(p.releases, rk)
			p.relSeen[rk] = at
		}
		r := d.releases[release]
		if r == nil {
			r = &releaseDelta{first: at, last: at}
			d.releases[release] = r
		}
		r.count++
		r.first, r.last = min(r.first, at), max(r.last, at)
		if at >= d.running {
			d.cand, d.candAt = release, at
		}
	}
	d.running = max(d.running, at)
}

// known returns the issue of hashes[0] when the transaction knows the
// issue of every hash.
func (p *pending) known(project string, hashes []fingerprint.Hash) (string, bool) {
	for _, h := range hashes {
		if _, ok := p.owner[hashKey{project, h.Value}]; !ok {
			return "", false
		}
	}
	return p.owner[hashKey{project, hashes[0].Value}], true
}

func (p *pending) hasRelease(k issueKey) bool {
	_, ok := p.relSeen[k]
	return ok
}

// Flush writes what the transaction's events added to their issues: the
// coordinator's flush hook, run once before each commit. Each table gets
// one multi-row statement for all the transaction's issues (a chunk of
// them), rows in key order, so that a batch costs a few round trips
// whatever its number of issues, and concurrent transactions lock rows in
// one order. Each transaction has its own pending state
// (coordinator.TxLocal), used by the one goroutine that runs it, so it
// needs no lock.
func (s *Service) Flush(ctx context.Context, tx *sql.Tx) error {
	p := s.pendingFor(ctx)
	if len(p.issues) == 0 {
		return nil
	}
	for _, rk := range p.releases {
		if _, err := s.exec(ctx, tx, stProjectRelease, rk.project, rk.id, p.relSeen[rk]); err != nil {
			return fmt.Errorf("project release: %w", err)
		}
	}
	keys := slices.SortedFunc(maps.Keys(p.issues), compareIssue)
	// Postgres locks an UPDATE … FROM's rows in the join's order, which
	// the planner picks: take the issue rows in key order first.
	if s.dialect == store.Postgres {
		for chunk := range slices.Chunk(keys, maxRowsPerStatement) {
			args := make([]any, 0, 2*len(chunk))
			for _, k := range chunk {
				args = append(args, k.project, k.id)
			}
			rows, err := tx.QueryContext(ctx, `SELECT 1 FROM issues WHERE (project, id) IN (`+values(len(chunk), "(?, ?)")+`) ORDER BY project, id FOR UPDATE`, args...)
			if err != nil {
				return fmt.Errorf("lock issues: %w", err)
			}
			rows.Close()
		}
	}
	if err := s.flushReleases(ctx, tx, p, keys); err != nil {
		return err
	}
	newUsers, err := s.flushUsers(ctx, tx, p, keys)
	if err != nil {
		return err
	}
	if err := s.flushHours(ctx, tx, p, keys); err != nil {
		return err
	}
	return s.flushIssues(ctx, tx, p, keys, newUsers)
}

// maxRowsPerStatement bounds one multi-row statement: at most 8
// parameters a row stays well under either engine's limit.
const maxRowsPerStatement = 200

func compareIssue(a, b issueKey) int {
	return cmp.Or(strings.Compare(a.project, b.project), strings.Compare(a.id, b.id))
}

// values is n copies of row, comma-separated.
func values(n int, row string) string {
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

// execRows runs head + one row per item + tail over chunks of rows.
func execRows[T any](ctx context.Context, tx *sql.Tx, items []T, head, row, tail string, args func(T) []any) error {
	for chunk := range slices.Chunk(items, maxRowsPerStatement) {
		var a []any
		for _, it := range chunk {
			a = append(a, args(it)...)
		}
		if _, err := tx.ExecContext(ctx, head+values(len(chunk), row)+tail, a...); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) flushReleases(ctx context.Context, tx *sql.Tx, p *pending, keys []issueKey) error {
	type rel struct {
		issueKey
		release string
		*releaseDelta
	}
	var rels []rel
	for _, k := range keys {
		d := p.issues[k]
		for _, r := range slices.Sorted(maps.Keys(d.releases)) {
			rels = append(rels, rel{k, r, d.releases[r]})
		}
	}
	err := execRows(ctx, tx, rels, `INSERT INTO issue_releases (project, issue_id, release, first_seen, last_seen, count) VALUES `, "(?, ?, ?, ?, ?, ?)", `
ON CONFLICT (project, issue_id, release) DO UPDATE SET count = issue_releases.count + excluded.count,
	first_seen = min(issue_releases.first_seen, excluded.first_seen), last_seen = max(issue_releases.last_seen, excluded.last_seen)`,
		func(r rel) []any { return []any{r.project, r.id, r.release, r.first, r.last, r.count} })
	if err != nil {
		return fmt.Errorf("issue releases: %w", err)
	}
	return nil
}

// flushUsers adds the issues' user keys and returns how many each issue
// did not have.
func (s *Service) flushUsers(ctx context.Context, tx *sql.Tx, p *pending, keys []issueKey) (map[issueKey]int64, error) {
	type user struct {
		issueKey
		user string
	}
	var users []user
	for _, k := range keys {
		for _, u := range slices.Sorted(slices.Values(p.issues[k].users)) {
			users = append(users, user{k, u})
		}
	}
	added := map[issueKey]int64{}
	for chunk := range slices.Chunk(users, maxRowsPerStatement) {
		args := make([]any, 0, 3*len(chunk))
		for _, u := range chunk {
			args = append(args, u.project, u.id, u.user)
		}
		rows, err := tx.QueryContext(ctx, `INSERT INTO issue_users (project, issue_id, user_key) VALUES `+values(len(chunk), "(?, ?, ?)")+` ON CONFLICT DO NOTHING RETURNING project, issue_id`, args...)
		if err != nil {
			return nil, fmt.Errorf("issue users: %w", err)
		}
		for rows.Next() {
			var k issueKey
			if err := rows.Scan(&k.project, &k.id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("issue users: %w", err)
			}
			added[k]++
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("issue users: %w", err)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("issue users: %w", err)
		}
	}
	return added, nil
}

func (s *Service) flushHours(ctx context.Context, tx *sql.Tx, p *pending, keys []issueKey) error {
	type hour struct {
		issueKey
		hour, count int64
	}
	var hours []hour
	for _, k := range keys {
		d := p.issues[k]
		for _, h := range slices.Sorted(maps.Keys(d.hours)) {
			hours = append(hours, hour{k, h, d.hours[h]})
		}
	}
	err := execRows(ctx, tx, hours, `INSERT INTO issue_hourly (project, issue_id, hour, count) VALUES `, "(?, ?, ?, ?)", `
ON CONFLICT (project, issue_id, hour) DO UPDATE SET count = issue_hourly.count + excluded.count`,
		func(h hour) []any { return []any{h.project, h.id, h.hour, h.count} })
	if err != nil {
		return fmt.Errorf("issue trend: %w", err)
	}
	return nil
}

// flushIssues adds the counts to the issue rows, then reopens the resolved
// issues an event regressed.
func (s *Service) flushIssues(ctx context.Context, tx *sql.Tx, p *pending, keys []issueKey, newUsers map[issueKey]int64) error {
	type resolved struct {
		issueKey
		resolvedIn string
		resolvedAt int64
	}
	var reopen []resolved
	for chunk := range slices.Chunk(keys, maxRowsPerStatement) {
		args := make([]any, 0, 8*len(chunk))
		for _, k := range chunk {
			d := p.issues[k]
			args = append(args, k.project, k.id, len(d.events), newUsers[k], d.cand, d.candAt, d.minAt, d.running)
		}
		// Columns: 3 events, 4 new users, 5 and 6 the last_release
		// candidate and its time, 7 and 8 the oldest and newest event
		// (see pending); SET reads the old row. Typed in every row:
		// Postgres reads an untyped parameter as text.
		rows, err := tx.QueryContext(ctx, `UPDATE issues SET count = count + v.column3, users = users + v.column4,
	last_release = CASE WHEN v.column5 != '' AND v.column6 >= last_seen THEN v.column5 ELSE last_release END,
	first_seen = min(first_seen, v.column7), last_seen = max(last_seen, v.column8)
FROM (VALUES `+values(len(chunk), "(?, ?, CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))")+`) AS v
WHERE issues.project = v.column1 AND issues.id = v.column2
RETURNING issues.project, issues.id, status, resolved_in, resolved_at`, args...)
		if err != nil {
			return fmt.Errorf("update %d issues: %w", len(chunk), err)
		}
		for rows.Next() {
			var r resolved
			var status string
			var at sql.NullInt64
			if err := rows.Scan(&r.project, &r.id, &status, &r.resolvedIn, &at); err != nil {
				rows.Close()
				return fmt.Errorf("update %d issues: %w", len(chunk), err)
			}
			if status == StatusResolved {
				r.resolvedAt = at.Int64
				reopen = append(reopen, r)
			}
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("update %d issues: %w", len(chunk), err)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("update %d issues: %w", len(chunk), err)
		}
	}
	slices.SortFunc(reopen, func(a, b resolved) int { return compareIssue(a.issueKey, b.issueKey) })
	for _, r := range reopen {
		if err := s.regress(ctx, tx, r.issueKey, p.issues[r.issueKey], r.resolvedIn, r.resolvedAt); err != nil {
			return err
		}
	}
	return nil
}

// regress reopens a resolved issue when one of the transaction's events,
// in the order they came, is of a release newer than the one it was
// resolved in; that event decides when it regressed.
func (s *Service) regress(ctx context.Context, tx *sql.Tx, k issueKey, d *issueDelta, resolvedIn string, resolvedAt int64) error {
	for _, e := range d.events {
		if e.at < resolvedAt {
			continue
		}
		newer, err := s.isNewer(ctx, tx, k.project, e.release, resolvedIn)
		if err != nil {
			return err
		}
		if newer {
			if _, err := s.exec(ctx, tx, stRegress, e.at, k.project, k.id); err != nil {
				return fmt.Errorf("reopen issue %s: %w", k.id, err)
			}
			s.log.Info("issue regressed", "project", k.project, "issue", k.id, "release", e.release, "resolved_in", resolvedIn)
			return nil
		}
	}
	return nil
}
