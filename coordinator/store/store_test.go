package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/internal/testenv"
)

func TestRebind(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"none", `SELECT 1`, `SELECT 1`},
		{"bare", `SELECT * FROM t WHERE a = ? AND b = ?`, `SELECT * FROM t WHERE a = $1 AND b = $2`},
		{"numbered", `SELECT ?1, ?2, ?1`, `SELECT $1, $2, $1`},
		{"bare after numbered takes the next", `SELECT ?3, ?, ?1`, `SELECT $3, $4, $1`},
		{"string literal", `SELECT '?', 'it''s ?' || ?`, `SELECT '?', 'it''s ?' || $1`},
		{"quoted identifier", `SELECT "a?b" FROM t WHERE x = ?`, `SELECT "a?b" FROM t WHERE x = $1`},
		{"comment", "SELECT ? -- what?\nFROM t WHERE y = ?", "SELECT $1 -- what?\nFROM t WHERE y = $2"},
		{"comment at end", "SELECT ? -- what?", "SELECT $1 -- what?"},
		{"unterminated literal", `SELECT '?`, `SELECT '?`},
		{"minus", `SELECT ? - 1`, `SELECT $1 - 1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Rebind(tc.in); got != tc.want {
				t.Fatalf("Rebind(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func FuzzRebind(f *testing.F) {
	f.Add(`SELECT ?1, '?', "?" -- ?` + "\n?")
	f.Fuzz(func(t *testing.T, q string) {
		out := Rebind(q)
		if len(out) < len(q)-countQ(q) {
			t.Fatalf("Rebind lost bytes: %q -> %q", q, out)
		}
	})
}

func countQ(s string) (n int) {
	for i := range len(s) {
		if s[i] == '?' {
			n++
		}
	}
	return n
}

func TestDialectOf(t *testing.T) {
	db, err := Open(context.Background(), t.TempDir()+"/x.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if d := DialectOf(db); d != SQLite {
		t.Fatalf("DialectOf(sqlite) = %v", d)
	}
}

// Coordinators that start together on an older schema apply each pending
// migration once: the advisory lock queues them.
func TestPostgresMigratesOnceConcurrently(t *testing.T) {
	pg := testenv.StartPostgres(t)
	ctx := context.Background()
	url := pg.NewDatabase(t, t.Name())
	// An older schema: only the first migration.
	db, err := openPostgresAt(ctx, url, 1)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := Open(ctx, url)
			if err == nil {
				if d := DialectOf(db); d != Postgres {
					t.Errorf("DialectOf(postgres) = %v", d)
				}
				db.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("coordinator %d: %v", i, err)
		}
	}
	db, err = Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, versions int
	if err := db.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&n, &versions); err != nil {
		t.Fatal(err)
	}
	names, _ := migrations.ReadDir("migrations/postgres")
	if n != len(names) || versions != n {
		t.Fatalf("schema_migrations has %d rows (%d versions), want %d", n, versions, len(names))
	}
	// The migrated column is there.
	if _, err := db.ExecContext(ctx, `SELECT stored_at FROM events LIMIT 1`); err != nil {
		t.Fatal(err)
	}
}

// Both engines hold the same tables.
func TestSchemasMatch(t *testing.T) {
	ctx := context.Background()
	lite, err := Open(ctx, t.TempDir()+"/x.db")
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	pg := testenv.StartPostgres(t)
	pgdb, err := Open(ctx, pg.NewDatabase(t, t.Name()))
	if err != nil {
		t.Fatal(err)
	}
	defer pgdb.Close()
	want := columns(t, lite, `SELECT m.name || '.' || p.name FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'session_text_%' AND m.name NOT LIKE 'sqlite_%' ORDER BY 1`)
	got := columns(t, pgdb, `SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name NOT LIKE '%_tsv' ORDER BY 1`)
	if len(got) != len(want) {
		t.Errorf("postgres has %d columns, sqlite %d", len(got), len(want))
	}
	for c := range want {
		if !got[c] {
			t.Errorf("postgres lacks %s", c)
		}
	}
	for c := range got {
		if !want[c] {
			t.Errorf("sqlite lacks %s", c)
		}
	}
}

func columns(t *testing.T, db *sql.DB, q string) map[string]bool {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		out[c] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// A transaction holding a project's lock makes another that wants it wait
// until it ends; on SQLite LockProjects does nothing.
func TestLockProjects(t *testing.T) {
	pg := testenv.StartPostgres(t)
	ctx := context.Background()
	db, err := Open(ctx, pg.NewDatabase(t, t.Name()))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	first, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := Postgres.LockProjects(ctx, first, []string{"shop", "blog", "shop"}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		second, err := db.BeginTx(ctx, nil)
		if err != nil {
			done <- err
			return
		}
		defer second.Rollback()
		done <- Postgres.LockProjects(ctx, second, []string{"shop"})
	}()
	testenv.Eventually(t, 10*time.Second, func() error {
		var waiting int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`).Scan(&waiting); err != nil {
			return err
		}
		if waiting != 1 {
			return fmt.Errorf("%d transactions wait for a project lock, want 1", waiting)
		}
		return nil
	})
	select {
	case err := <-done:
		t.Fatalf("the second transaction got the lock while the first held it (%v)", err)
	default:
	}
	if err := first.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	lite, err := Open(ctx, t.TempDir()+"/x.db")
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	tx, err := lite.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := SQLite.LockProjects(ctx, tx, []string{"shop"}); err != nil {
		t.Fatal(err)
	}
}
