package testenv

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// A committed row survives a restart of the throwaway cluster, which is what
// the fault harness relies on.
func TestPostgresRestartKeepsData(t *testing.T) {
	pg := StartPostgres(t)
	url := pg.NewDatabase(t, t.Name())
	ctx := context.Background()
	exec := func(sql string, args ...any) {
		t.Helper()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`CREATE TABLE t (k text PRIMARY KEY)`)
	exec(`INSERT INTO t VALUES ($1)`, "kept")
	pg.Stop(t)
	pg.Start(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var k string
	if err := conn.QueryRow(ctx, `SELECT k FROM t`).Scan(&k); err != nil || k != "kept" {
		t.Fatalf("after restart: %q, %v", k, err)
	}
}
