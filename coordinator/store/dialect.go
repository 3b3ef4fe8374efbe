package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Dialect names the SQL engine behind a database opened with Open. The
// coordinator's statements are written once, in SQLite's flavour kept to
// what Postgres also understands (ON CONFLICT upserts, RETURNING, `?`
// placeholders that the Postgres driver renumbers, and two-argument
// max/min and instr, which the Postgres schema defines); only full-text
// search differs, and asks Dialect which to use.
type Dialect int

const (
	// SQLite is the embedded default (modernc.org/sqlite).
	SQLite Dialect = iota
	// Postgres is a server database reached through pgx.
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// DialectOf reports which engine db was opened on.
func DialectOf(db *sql.DB) Dialect {
	if _, ok := db.Driver().(pgDriver); ok {
		return Postgres
	}
	return SQLite
}

// IsPostgresURL reports whether dsn names a Postgres database rather than a
// SQLite file.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Lock keys for LockTx, one per kind of work that must not run twice at
// once across coordinators.
const (
	LockVitalsFold int64 = 0x52565f666f6c64 // "RV_fold"
)

// LockTx serialises transactions that hold the same key, across every
// coordinator on the database, until tx ends: a Postgres advisory
// transaction lock. SQLite needs none: its transactions here begin
// IMMEDIATE, so writers already run one at a time.
func (d Dialect) LockTx(ctx context.Context, tx *sql.Tx, key int64) error {
	if d != Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, key); err != nil {
		return fmt.Errorf("lock %x: %w", key, err)
	}
	return nil
}

// LockProjects takes, on Postgres, a transaction lock per project in a
// fixed order: transactions that hold them cannot deadlock with one another
// on a project's rows, which all carry the project in their keys.
func (d Dialect) LockProjects(ctx context.Context, tx *sql.Tx, projects []string) error {
	if d != Postgres {
		return nil
	}
	keys := make([]int64, 0, len(projects))
	for _, p := range projects {
		h := fnv.New64a()
		h.Write([]byte("rv-project\x00" + p))
		keys = append(keys, int64(h.Sum64()))
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i > 0 && k == keys[i-1] {
			continue
		}
		if err := d.LockTx(ctx, tx, k); err != nil {
			return err
		}
	}
	return nil
}

// Retryable reports whether err is a transaction that lost a deadlock or a
// serialization conflict to a concurrent one, and may simply run again.
func Retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// ReadSnapshot is the options of a read-only transaction whose statements
// all see one snapshot: SQLite's read transactions do; Postgres's default
// (read committed) gives each statement its own, so it asks for repeatable
// read. A query that reads an outbox and what it is folded into needs it.
func (d Dialect) ReadSnapshot() *sql.TxOptions {
	if d == Postgres {
		return &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead}
	}
	return &sql.TxOptions{ReadOnly: true}
}
