package issues

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// The hook's statements, prepared once: SQLite (modernc) otherwise parses
// every statement of every event again, which costs more than running it.
type stmtID int

const (
	stRulesVersion stmtID = iota
	stFindHash
	stCreateIssue
	stAddHash
	stProjectRelease
	stIssueRelease
	stIssueUser
	stHourly
	stUpdateIssue
	stRegress
	stCompareReleases
	stUpdateEvent
	numStmts
)

var queries = [numStmts]string{
	stRulesVersion: `SELECT version FROM grouping_rules WHERE project = ?`,
	stFindHash:     `SELECT issue_id FROM issue_hashes WHERE project = ? AND hash = ?`,
	stCreateIssue: `INSERT INTO issues (project, id, title, culprit, type, value, first_seen, last_seen, last_release, rule)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
	stAddHash: `INSERT INTO issue_hashes (project, hash, issue_id, variant) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
	stProjectRelease: `INSERT INTO project_releases (project, release, first_seen, seq)
SELECT ?1, ?2, CAST(?3 AS BIGINT), coalesce(max(seq), 0) + 1 FROM project_releases WHERE project = ?1 ON CONFLICT DO NOTHING`,
	stIssueRelease: `INSERT INTO issue_releases (project, issue_id, release, first_seen, last_seen, count) VALUES (?1, ?2, ?3, ?4, ?4, 1)
ON CONFLICT (project, issue_id, release) DO UPDATE SET count = issue_releases.count + 1,
	first_seen = min(issue_releases.first_seen, excluded.first_seen), last_seen = max(issue_releases.last_seen, excluded.last_seen)`,
	stIssueUser: `INSERT INTO issue_users (project, issue_id, user_key) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
	stHourly: `INSERT INTO issue_hourly (project, issue_id, hour, count) VALUES (?, ?, ?, 1)
ON CONFLICT (project, issue_id, hour) DO UPDATE SET count = issue_hourly.count + 1`,
	stUpdateIssue: `UPDATE issues SET count = count + 1, users = users + ?3,
	last_release = CASE WHEN ?4 != '' AND ?5 >= last_seen THEN ?4 ELSE last_release END,
	first_seen = min(first_seen, ?5), last_seen = max(last_seen, ?5)
WHERE project = ?1 AND id = ?2 RETURNING status, resolved_in, resolved_at`,
	stRegress: `UPDATE issues SET status = 'unresolved', substatus = 'regressed', regressed_at = ? WHERE project = ? AND id = ?`,
	stCompareReleases: `SELECT coalesce((SELECT seq FROM project_releases WHERE project = ?1 AND release = ?2), 0) >
	coalesce((SELECT seq FROM project_releases WHERE project = ?1 AND release = ?3), 0)`,
	stUpdateEvent: `UPDATE events SET issue_id = ?, payload = ? WHERE project = ? AND id = ?`,
}

// stmts holds the prepared statements and the current transaction's
// handles on them; hooks of one coordinator run one at a time, so one
// transaction's handles are kept.
type stmts struct {
	mu       sync.Mutex
	prepared [numStmts]*sql.Stmt
	tx       *sql.Tx
	inTx     [numStmts]*sql.Stmt
}

// get returns statement id bound to tx. database/sql reuses a statement
// already prepared on the transaction's connection.
func (s *Service) stmt(ctx context.Context, tx *sql.Tx, id stmtID) (*sql.Stmt, error) {
	st := &s.stmts
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.prepared[id] == nil {
		p, err := s.db.PrepareContext(ctx, queries[id])
		if err != nil {
			return nil, fmt.Errorf("prepare issues statement %d: %w", id, err)
		}
		st.prepared[id] = p
	}
	if st.tx != tx {
		st.tx, st.inTx = tx, [numStmts]*sql.Stmt{}
	}
	if st.inTx[id] == nil {
		st.inTx[id] = tx.StmtContext(ctx, st.prepared[id])
	}
	return st.inTx[id], nil
}

func (s *Service) exec(ctx context.Context, tx *sql.Tx, id stmtID, args ...any) (sql.Result, error) {
	st, err := s.stmt(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

type scanner interface{ Scan(dest ...any) error }

// errRow is a row whose Scan reports why the query could not run.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

func (s *Service) queryRow(ctx context.Context, tx *sql.Tx, id stmtID, args ...any) scanner {
	st, err := s.stmt(ctx, tx, id)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// Close releases the prepared statements.
func (s *Service) Close() error {
	st := &s.stmts
	st.mu.Lock()
	defer st.mu.Unlock()
	for i, p := range st.prepared {
		if p != nil {
			p.Close()
			st.prepared[i] = nil
		}
	}
	st.tx, st.inTx = nil, [numStmts]*sql.Stmt{}
	return nil
}
