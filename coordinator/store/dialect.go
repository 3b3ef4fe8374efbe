package store

import (
	"database/sql"
	"strings"
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
