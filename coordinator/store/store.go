// Package store is the coordinator's metadata database: embedded SQLite
// (modernc.org/sqlite, pure Go) in WAL mode by default, or Postgres (pgx) as
// a server database that several coordinators share. Each engine has its own
// versioned migrations, embedded in the binary. Other coordinator packages
// keep their tables in the same database; this package owns projects,
// events, sessions, replay segments and edge outcomes.
package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// Open opens the database that dsn names, creating it if needed, and
// applies pending migrations: a postgres:// (or postgresql://) URL selects
// Postgres, anything else is the path of a SQLite file.
//
// SQLite writes use BEGIN IMMEDIATE so that concurrent writers queue on
// busy_timeout instead of failing to upgrade a read lock, and
// synchronous=FULL so that a committed (and so acknowledged) event survives
// a machine crash, not only a process crash.
func Open(ctx context.Context, dsn string) (*sql.DB, error) {
	if IsPostgresURL(dsn) {
		return openPostgresAt(ctx, dsn, 0)
	}
	path := dsn
	dsn = "file:" + path + "?_txlock=immediate" +
		"&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
		"&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db.SetMaxOpenConns(8)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := migrate(ctx, db, SQLite, 0); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// openPostgresAt opens a Postgres database migrated up to version upTo
// (all when zero).
func openPostgresAt(ctx context.Context, url string, upTo int) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open database: parse postgres url: %w", err)
	}
	where := fmt.Sprintf("postgres %s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
	// A plan cached while a table is new (no statistics yet) can scan a
	// weaker index for every later execution: on a fresh database the
	// event update by primary key went through (project, kind, ts), 2 ms
	// each at 2,000 rows. Planning each execution with its values costs
	// tens of microseconds and follows the table as it grows.
	if _, ok := cfg.RuntimeParams["plan_cache_mode"]; !ok {
		cfg.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	db := sql.OpenDB(newPGConnector(cfg))
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", where, err)
	}
	if err := migrate(ctx, db, Postgres, upTo); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", where, err)
	}
	return db, nil
}

// migrationLock is the Postgres advisory lock that makes coordinators
// starting together apply each migration once, one after the other.
const migrationLock = 0x52565f6d6967 // "RV_mig"

// migrate applies the dialect's migrations up to version upTo (all when
// zero), each in its own transaction with its version recorded.
func migrate(ctx context.Context, db *sql.DB, d Dialect, upTo int) error {
	dir := "migrations/" + d.String()
	names, err := fs.Glob(migrations, dir+"/*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		base := strings.TrimPrefix(name, dir+"/")
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migrate: bad migration name %s", base)
		}
		if upTo > 0 && v > upTo {
			break
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if err := applyMigration(ctx, db, d, v, base, string(body)); err != nil {
			return fmt.Errorf("migrate %s: %w", base, err)
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, d Dialect, v int, name, body string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if d == Postgres {
		// Taken before the bookkeeping table exists: concurrent CREATE TABLE
		// IF NOT EXISTS can still collide in Postgres's catalog.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, migrationLock); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
		return err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, v).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES (?, ?)`, v, name); err != nil {
		return err
	}
	return tx.Commit()
}
