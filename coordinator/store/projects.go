package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Project is a tracked application.
type Project struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	IngestKey string `json:"ingest_key"`
	CreatedAt int64  `json:"created_at"`
}

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// HashToken returns the stored form of an API token: tokens are never
// stored in the clear.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

// NewToken returns a fresh secret API token.
func NewToken() string { return "rvt_" + randomHex(24) }

// slug turns a name into a NATS-subject-safe project id.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) > 24 {
		s = strings.Trim(s[:24], "-")
	}
	if s == "" {
		s = "project"
	}
	return s
}

// CreateProject creates a project named name and returns it with its secret
// API token, which is shown once and stored only as a hash. When ingestKey is
// empty a random one is made.
func CreateProject(ctx context.Context, db *sql.DB, name, ingestKey string) (Project, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return Project{}, "", errors.New("create project: name must be 1 to 200 characters")
	}
	if ingestKey == "" {
		ingestKey = "rvk_" + randomHex(12)
	}
	token := NewToken()
	base := slug(name)
	for i := 0; i < 100; i++ {
		id := base
		if i > 0 {
			id = fmt.Sprintf("%s-%d", base, i+1)
		}
		p := Project{ID: id, Name: name, IngestKey: ingestKey, CreatedAt: time.Now().UnixMilli()}
		res, err := db.ExecContext(ctx, `INSERT INTO projects (id, name, ingest_key, token_hash, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			p.ID, p.Name, p.IngestKey, HashToken(token), p.CreatedAt)
		if err != nil {
			return Project{}, "", fmt.Errorf("create project %s: %w", name, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return p, token, nil
		}
		var taken int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM projects WHERE ingest_key = ?`, ingestKey).Scan(&taken); err == nil && taken > 0 {
			return Project{}, "", fmt.Errorf("create project %s: ingest key already in use", name)
		}
	}
	return Project{}, "", fmt.Errorf("create project %s: no free id", name)
}

// Projects lists every project.
func Projects(ctx context.Context, db *sql.DB) ([]Project, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, name, ingest_key, created_at FROM projects ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	defer rows.Close()
	var out []Project
	for rows.Next() {
		var p Project
		if err := rows.Scan(&p.ID, &p.Name, &p.IngestKey, &p.CreatedAt); err != nil {
			return nil, fmt.Errorf("list projects: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ProjectByToken returns the project whose API token is token.
func ProjectByToken(ctx context.Context, db *sql.DB, token string) (Project, error) {
	var p Project
	err := db.QueryRowContext(ctx, `SELECT id, name, ingest_key, created_at FROM projects WHERE token_hash = ?`, HashToken(token)).
		Scan(&p.ID, &p.Name, &p.IngestKey, &p.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Project{}, ErrNotFound
	}
	if err != nil {
		return Project{}, fmt.Errorf("look up token: %w", err)
	}
	return p, nil
}
