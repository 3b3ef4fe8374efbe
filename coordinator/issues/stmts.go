package issues

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
)

// The hook's statements, prepared once: SQLite (modernc) otherwise parses
// every statement of every event again, which costs more than running it.
type stmtID int

const (
	stRulesVersion stmtID = iota
	stCreateIssue
	stProjectRelease
	stRegress
	stCompareReleases
	numStmts
)

var queries = [numStmts]string{
	stRulesVersion: `SELECT version FROM grouping_rules WHERE project = ?`,
	stCreateIssue: `INSERT INTO issues (project, id, title, culprit, type, value, first_seen, last_seen, last_release, rule)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
	stProjectRelease: `INSERT INTO project_releases (project, release, first_seen, seq)
SELECT ?1, ?2, CAST(?3 AS BIGINT), coalesce(max(seq), 0) + 1 FROM project_releases WHERE project = ?1 ON CONFLICT DO NOTHING`,
	stRegress: `UPDATE issues SET status = 'unresolved', substatus = 'regressed', regressed_at = ? WHERE project = ? AND id = ?`,
	stCompareReleases: `SELECT coalesce((SELECT seq FROM project_releases WHERE project = ?1 AND release = ?2), 0) >
	coalesce((SELECT seq FROM project_releases WHERE project = ?1 AND release = ?3), 0)`,
}

// stmts holds the prepared statements by query text (a few queries are
// built for the number of hashes an event has); each transaction keeps its
// own handles on them (txState).
type stmts struct {
	mu       sync.Mutex
	prepared map[string]*sql.Stmt
}

// stmt returns statement id bound to tx.
func (s *Service) stmt(ctx context.Context, tx *sql.Tx, id stmtID) (*sql.Stmt, error) {
	return s.stmtQ(ctx, tx, queries[id])
}

// stmtQ returns query prepared and bound to tx. database/sql reuses a
// statement already prepared on the transaction's connection.
func (s *Service) stmtQ(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	st := &s.stmts
	st.mu.Lock()
	if st.prepared == nil {
		st.prepared = map[string]*sql.Stmt{}
	}
	p := st.prepared[query]
	if p == nil {
		var err error
		if p, err = s.db.PrepareContext(ctx, query); err != nil {
			st.mu.Unlock()
			return nil, fmt.Errorf("prepare issues statement: %w", err)
		}
		st.prepared[query] = p
	}
	st.mu.Unlock()
	in := s.inTx(ctx).stmts
	if in[query] == nil {
		in[query] = tx.StmtContext(ctx, p)
	}
	return in[query], nil
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
	for _, p := range st.prepared {
		p.Close()
	}
	st.prepared = nil
	return nil
}

// findHashesQuery looks up n hashes at once; addHashesQuery inserts n.
func findHashesQuery(n int) string {
	return `SELECT hash, issue_id FROM issue_hashes WHERE project = ? AND hash IN (?` + strings.Repeat(", ?", n-1) + `)`
}

func addHashesQuery(n int) string {
	return `INSERT INTO issue_hashes (project, hash, issue_id, variant) VALUES (?, ?, ?, ?)` + strings.Repeat(", (?, ?, ?, ?)", n-1) + ` ON CONFLICT DO NOTHING`
}
