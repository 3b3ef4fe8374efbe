// Package storetest gives tests a fresh metadata database of either engine,
// so that every test that stores something runs against SQLite and against
// Postgres: `go tool task test` runs the database packages a second time
// with REARVIEW_TEST_DATABASE=postgres.
//
// In Postgres mode each test gets its own database, in a throwaway cluster
// that the package's TestMain (see Main) starts once, or on the server that
// REARVIEW_TEST_POSTGRES_URL names.
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/rearview-dev/rearview/coordinator/store"
	"github.com/rearview-dev/rearview/internal/testenv"
)

const (
	modeEnv = "REARVIEW_TEST_DATABASE"     // "postgres" selects Postgres
	urlEnv  = "REARVIEW_TEST_POSTGRES_URL" // a server to create test databases on
)

// Postgres reports whether tests run against Postgres.
func Postgres() bool { return os.Getenv(modeEnv) == "postgres" }

// Main runs a package's tests. In Postgres mode without
// REARVIEW_TEST_POSTGRES_URL it starts a throwaway cluster first and
// removes it after; use it as `func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }`.
func Main(m *testing.M) int {
	if !Postgres() || os.Getenv(urlEnv) != "" {
		return m.Run()
	}
	bin := testenv.PostgresBin()
	if bin == "" {
		fmt.Fprintln(os.Stderr, "storetest: REARVIEW_TEST_DATABASE=postgres but no PostgreSQL server binaries (run `go tool task tools`)")
		return 1
	}
	port, err := freePort()
	if err != nil {
		fmt.Fprintln(os.Stderr, "storetest:", err)
		return 1
	}
	pg, err := testenv.NewPostgres(bin, port)
	if err != nil {
		fmt.Fprintln(os.Stderr, "storetest:", err)
		return 1
	}
	defer pg.Remove()
	if err := pg.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "storetest:", err)
		return 1
	}
	// The URL travels in the environment, which the tests read: no
	// package state.
	os.Setenv(urlEnv, pg.URL())
	return m.Run()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// DSN returns what store.Open takes for a new, empty database of this
// run's engine: a file in the test's temp dir, or a fresh Postgres
// database. Open it as often as the test needs (a restart reopens it).
func DSN(tb testing.TB) string {
	tb.Helper()
	if !Postgres() {
		return filepath.Join(tb.TempDir(), "rearview.db")
	}
	server := os.Getenv(urlEnv)
	if server == "" {
		tb.Fatalf("%s=postgres needs storetest.Main in the package's TestMain, or %s", modeEnv, urlEnv)
	}
	u, err := testenv.CreateDatabase(server, tb.Name())
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// Open opens a new, migrated database (see DSN), closed when the test ends.
func Open(tb testing.TB) *sql.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), DSN(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}
