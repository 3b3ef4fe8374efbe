package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// pgConnector opens pgx connections that accept SQLite's placeholders:
// every statement is renumbered to Postgres's $N once and remembered.
type pgConnector struct {
	base  driver.Connector
	cache *sync.Map // query -> rebound query
}

func newPGConnector(cfg *pgx.ConnConfig) pgConnector {
	return pgConnector{base: stdlib.GetConnector(*cfg), cache: &sync.Map{}}
}

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &pgConn{Conn: conn.(*stdlib.Conn), cache: c.cache}, nil
}

func (c pgConnector) Driver() driver.Driver { return pgDriver{c.base.Driver()} }

// pgDriver marks a database as Postgres for DialectOf.
type pgDriver struct{ driver.Driver }

// pgConn is a pgx connection whose statements are rebound first. The
// embedded *stdlib.Conn keeps every optional interface database/sql looks
// for (BeginTx, Ping, ResetSession, CheckNamedValue).
type pgConn struct {
	*stdlib.Conn
	cache *sync.Map
}

func (c *pgConn) rebind(query string) string {
	if q, ok := c.cache.Load(query); ok {
		return q.(string)
	}
	q := Rebind(query)
	c.cache.Store(query, q)
	return q
}

func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.Conn.Prepare(c.rebind(query))
}

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(ctx, c.rebind(query))
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(ctx, c.rebind(query), args)
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.QueryContext(ctx, c.rebind(query), args)
}

// CheckNamedValue passes booleans as 0 and 1: the schema keeps SQLite's
// integer flags in both engines, and pgx will not encode a bool as BIGINT.
func (c *pgConn) CheckNamedValue(nv *driver.NamedValue) error {
	if b, ok := nv.Value.(bool); ok {
		nv.Value = int64(0)
		if b {
			nv.Value = int64(1)
		}
		return nil
	}
	return c.Conn.CheckNamedValue(nv)
}

// Rebind rewrites SQLite's placeholders (`?` and `?NNN`) as Postgres's
// `$N`, leaving string literals, quoted identifiers and comments alone. As in
// SQLite, a bare `?` takes the number after the largest one used so far.
func Rebind(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	largest := 0
	for i := 0; i < len(query); i++ {
		ch := query[i]
		switch ch {
		case '\'', '"':
			j := i + 1
			for j < len(query) {
				if query[j] == ch {
					if j+1 < len(query) && query[j+1] == ch { // doubled quote
						j += 2
						continue
					}
					break
				}
				j++
			}
			end := min(j+1, len(query))
			b.WriteString(query[i:end])
			i = end - 1
		case '-':
			if i+1 < len(query) && query[i+1] == '-' {
				j := strings.IndexByte(query[i:], '\n')
				if j < 0 {
					b.WriteString(query[i:])
					return b.String()
				}
				b.WriteString(query[i : i+j])
				i += j - 1
				continue
			}
			b.WriteByte(ch)
		case '?':
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			n := largest + 1
			if j > i+1 {
				n, _ = strconv.Atoi(query[i+1 : j])
			}
			largest = max(largest, n)
			fmt.Fprintf(&b, "$%d", n)
			i = j - 1
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}
