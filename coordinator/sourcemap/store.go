package sourcemap

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/rearview-dev/rearview/coordinator/blob"
)

// MinRetention is the shortest time an uploaded map is kept: errors from
// an old release keep arriving long after it shipped.
const MinRetention = 90 * 24 * time.Hour

// DefaultMaxMapBytes bounds one uploaded map.
const DefaultMaxMapBytes = 64 << 20

// ErrNotFound is returned when no map matches a lookup.
var ErrNotFound = errors.New("source map not found")

// Config configures a Store.
type Config struct {
	DB    *sql.DB    // the coordinator database (migration 003 applied)
	Blobs blob.Store // where map bytes go
	// AdminToken gates the only route that returns a map's bytes.
	AdminToken string
	// Retention is how long a map is kept after its last upload; 0 means
	// MinRetention, less than MinRetention is an error.
	Retention time.Duration
	// MaxMapBytes bounds one map; 0 means DefaultMaxMapBytes.
	MaxMapBytes int64
	Logger      *slog.Logger
	// Now is the clock; nil means time.Now. Tests move it to expire maps.
	Now func() time.Time
}

// Store keeps uploaded source maps: metadata in the database, bytes in
// object storage.
type Store struct {
	db        *sql.DB
	blobs     blob.Store
	admin     string
	retention time.Duration
	maxBytes  int64
	log       *slog.Logger
	now       func() time.Time
}

// New returns a Store over cfg's database and blob store.
func New(cfg Config) (*Store, error) {
	if cfg.DB == nil || cfg.Blobs == nil {
		return nil, errors.New("sourcemap store: DB and Blobs are required")
	}
	if cfg.Retention == 0 {
		cfg.Retention = MinRetention
	}
	if cfg.Retention < MinRetention {
		return nil, fmt.Errorf("sourcemap store: retention %s is below the minimum of %s (90 days)", cfg.Retention, MinRetention)
	}
	if cfg.MaxMapBytes <= 0 {
		cfg.MaxMapBytes = DefaultMaxMapBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Store{db: cfg.DB, blobs: cfg.Blobs, admin: cfg.AdminToken, retention: cfg.Retention,
		maxBytes: cfg.MaxMapBytes, log: cfg.Logger, now: cfg.Now}, nil
}

// Map is the metadata of one uploaded map. Times are Unix milliseconds.
type Map struct {
	ID         string `json:"id"`
	Project    string `json:"project"`
	SHA256     string `json:"sha256"`
	Release    string `json:"release,omitempty"`
	Dist       string `json:"dist,omitempty"`
	URL        string `json:"url,omitempty"`
	MapURL     string `json:"map_url,omitempty"`
	Name       string `json:"name,omitempty"`
	DebugID    string `json:"debug_id,omitempty"`
	Size       int64  `json:"size"`
	Sources    int    `json:"sources"`
	UploadedAt int64  `json:"uploaded_at"`
	ExpiresAt  int64  `json:"expires_at"`

	blobKey string
}

// Upload is one map to store.
type Upload struct {
	Release string
	Dist    string
	Name    string // file name, for messages
	URL     string // the bundle's URL or ~/path
	MapURL  string // the bundle's sourceMappingURL resolved to a URL or ~/path
	DebugID string // the bundle's Debug ID; the map's own debug_id wins when both are set
	Data    []byte
}

const maxField = 2048

func checkField(what, v string) error {
	if len(v) > maxField {
		return fmt.Errorf("%s is longer than %d bytes", what, maxField)
	}
	if strings.ContainsAny(v, "\x00\n\r") {
		return fmt.Errorf("%s contains control characters", what)
	}
	return nil
}

// Check validates u without storing it; the error names u.Name.
func (s *Store) Check(u Upload) (Summary, error) {
	name := u.Name
	if name == "" {
		name = "(unnamed map)"
	}
	for _, f := range []struct{ what, v string }{{"release", u.Release}, {"dist", u.Dist}, {"name", u.Name}, {"url", u.URL}, {"map_url", u.MapURL}, {"debug_id", u.DebugID}} {
		if err := checkField(f.what, f.v); err != nil {
			return Summary{}, fmt.Errorf("%s: %w", name, err)
		}
	}
	sum, err := Validate(u.Data, s.maxBytes)
	if err != nil {
		return Summary{}, fmt.Errorf("%s: %w", name, err)
	}
	if sum.DebugID == "" && u.DebugID != "" {
		id, err := normalizeDebugID(u.DebugID)
		if err != nil {
			return Summary{}, fmt.Errorf("%s: %w", name, err)
		}
		sum.DebugID = id
	}
	return sum, nil
}

// Put validates and stores u for project. It reports created=false when
// the same content was already stored for the same release, dist and URL;
// then only the retention is renewed.
func (s *Store) Put(ctx context.Context, project string, u Upload) (m Map, created bool, err error) {
	sum, err := s.Check(u)
	if err != nil {
		return Map{}, false, err
	}
	h := sha256.Sum256(u.Data)
	m = Map{
		Project: project, SHA256: hex.EncodeToString(h[:]), Release: u.Release, Dist: u.Dist,
		URL: u.URL, MapURL: u.MapURL, Name: u.Name, DebugID: sum.DebugID,
		Size: int64(len(u.Data)), Sources: sum.Sources,
	}
	id := sha256.Sum256([]byte(strings.Join([]string{m.Release, m.Dist, m.URL, m.MapURL, m.DebugID, m.SHA256}, "\x00")))
	m.ID = hex.EncodeToString(id[:12])
	m.blobKey = "sourcemaps/" + project + "/" + m.SHA256 + ".map"
	now := s.now()
	m.UploadedAt = now.UnixMilli()
	m.ExpiresAt = now.Add(s.retention).UnixMilli()

	if old, err := s.byID(ctx, project, m.ID); err == nil {
		// Same content for the same bundle: renew retention, keep the blob.
		if _, err := s.db.ExecContext(ctx, `UPDATE sourcemaps SET expires_at = ? WHERE project = ? AND id = ?`, m.ExpiresAt, project, m.ID); err != nil {
			return Map{}, false, fmt.Errorf("renew source map %s: %w", u.Name, err)
		}
		old.ExpiresAt = m.ExpiresAt
		if _, err := s.blobs.Stat(ctx, old.blobKey); err == nil {
			return old, false, nil
		}
		// The blob vanished (manual cleanup, lost bucket): store it again.
		m = old
	} else if !errors.Is(err, ErrNotFound) {
		return Map{}, false, err
	}
	if _, err := s.blobs.Stat(ctx, m.blobKey); errors.Is(err, blob.ErrNotFound) {
		if err := s.blobs.Put(ctx, m.blobKey, bytes.NewReader(u.Data), int64(len(u.Data))); err != nil {
			return Map{}, false, fmt.Errorf("store source map %s: %w", u.Name, err)
		}
	} else if err != nil {
		return Map{}, false, fmt.Errorf("store source map %s: %w", u.Name, err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO sourcemaps (project, id, sha256, release, dist, url, map_url, name, debug_id, size, sources, blob_key, uploaded_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (project, id) DO UPDATE SET expires_at = excluded.expires_at`,
		project, m.ID, m.SHA256, m.Release, m.Dist, m.URL, m.MapURL, m.Name, m.DebugID, m.Size, m.Sources, m.blobKey, m.UploadedAt, m.ExpiresAt)
	if err != nil {
		return Map{}, false, fmt.Errorf("record source map %s: %w", u.Name, err)
	}
	return m, true, nil
}

func normalizeDebugID(id string) (string, error) {
	v, err := parseUUID(id)
	if err != nil {
		return "", fmt.Errorf("debug id %q is not a UUID", truncate(id, 64))
	}
	return v, nil
}

const mapCols = `id, project, sha256, release, dist, url, map_url, name, debug_id, size, sources, blob_key, uploaded_at, expires_at`

func scanMap(r interface{ Scan(...any) error }) (Map, error) {
	var m Map
	err := r.Scan(&m.ID, &m.Project, &m.SHA256, &m.Release, &m.Dist, &m.URL, &m.MapURL, &m.Name, &m.DebugID, &m.Size, &m.Sources, &m.blobKey, &m.UploadedAt, &m.ExpiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Map{}, ErrNotFound
	}
	return m, err
}

func (s *Store) byID(ctx context.Context, project, id string) (Map, error) {
	return scanMap(s.db.QueryRowContext(ctx, `SELECT `+mapCols+` FROM sourcemaps WHERE project = ? AND id = ?`, project, id))
}

// Get returns the metadata of map id of project.
func (s *Store) Get(ctx context.Context, project, id string) (Map, error) {
	return s.byID(ctx, project, id)
}

// ByDebugID returns the newest map of project with the Debug ID.
func (s *Store) ByDebugID(ctx context.Context, project, debugID string) (Map, error) {
	id, err := normalizeDebugID(debugID)
	if err != nil {
		return Map{}, ErrNotFound
	}
	return scanMap(s.db.QueryRowContext(ctx, `SELECT `+mapCols+` FROM sourcemaps WHERE project = ? AND debug_id = ? ORDER BY uploaded_at DESC LIMIT 1`, project, id))
}

// ByURL returns the newest map of project uploaded for release and dist
// whose bundle URL is one of urls; earlier URLs win.
func (s *Store) ByURL(ctx context.Context, project, release, dist string, urls []string) (Map, error) {
	return s.byColumn(ctx, "url", project, release, dist, urls)
}

// ByMapURL is ByURL for the URL a bundle's sourceMappingURL points to.
func (s *Store) ByMapURL(ctx context.Context, project, release, dist string, urls []string) (Map, error) {
	return s.byColumn(ctx, "map_url", project, release, dist, urls)
}

// RecordedMapURL returns where the newest upload of project for a bundle
// whose URL is one of urls said the bundle's sourceMappingURL points, in any
// release: a bundle path keeps its map location across releases, so a
// release whose maps were uploaded without their bundles (map_url only) is
// still found from an earlier upload that had both. Earlier URLs win.
//
// No index leads with (project, url): this scans the project's rows, so
// callers ask only after the indexed lookups failed, and cache the answer.
func (s *Store) RecordedMapURL(ctx context.Context, project string, urls []string) (string, error) {
	for _, u := range urls {
		if u == "" {
			continue
		}
		var mapURL string
		err := s.db.QueryRowContext(ctx, `SELECT map_url FROM sourcemaps WHERE project = ? AND url = ? AND map_url != '' ORDER BY uploaded_at DESC LIMIT 1`, project, u).Scan(&mapURL)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("recorded sourceMappingURL of %s: %w", u, err)
		}
		return mapURL, nil
	}
	return "", ErrNotFound
}

func (s *Store) byColumn(ctx context.Context, col, project, release, dist string, urls []string) (Map, error) {
	for _, u := range urls {
		if u == "" {
			continue
		}
		m, err := scanMap(s.db.QueryRowContext(ctx, `SELECT `+mapCols+` FROM sourcemaps WHERE project = ? AND release = ? AND dist = ? AND `+col+` = ? ORDER BY uploaded_at DESC LIMIT 1`, project, release, dist, u))
		if !errors.Is(err, ErrNotFound) {
			return m, err
		}
	}
	return Map{}, ErrNotFound
}

// Read returns the bytes of m. It is for the symbolicator and the admin
// route only.
func (s *Store) Read(ctx context.Context, m Map) ([]byte, error) {
	if m.blobKey == "" {
		return nil, fmt.Errorf("read source map %s: no blob key", m.ID)
	}
	rc, err := s.blobs.Get(ctx, m.blobKey)
	if err != nil {
		return nil, fmt.Errorf("read source map %s: %w", m.ID, err)
	}
	defer rc.Close()
	// ReadFrom grows the buffer unless MinRead bytes are free after the
	// content: room for them saves a copy of a multi-megabyte map.
	buf := bytes.NewBuffer(make([]byte, 0, min(m.Size, s.maxBytes)+bytes.MinRead))
	_, err = buf.ReadFrom(io.LimitReader(rc, s.maxBytes+1))
	data := buf.Bytes()
	if err != nil {
		return nil, fmt.Errorf("read source map %s: %w", m.ID, err)
	}
	if int64(len(data)) > s.maxBytes {
		return nil, fmt.Errorf("read source map %s: larger than %d bytes", m.ID, s.maxBytes)
	}
	return data, nil
}

// Filter selects maps in List.
type Filter struct {
	Release string
	Dist    string
	SHA256  string
	Limit   int // 0 means 1000
}

// List returns the metadata of project's maps, newest first.
func (s *Store) List(ctx context.Context, project string, f Filter) ([]Map, error) {
	where := []string{"project = ?"}
	args := []any{project}
	for _, c := range []struct{ col, v string }{{"release", f.Release}, {"dist", f.Dist}, {"sha256", f.SHA256}} {
		if c.v != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	if f.Limit <= 0 || f.Limit > 10000 {
		f.Limit = 1000
	}
	args = append(args, f.Limit)
	rows, err := s.db.QueryContext(ctx, `SELECT `+mapCols+` FROM sourcemaps WHERE `+strings.Join(where, " AND ")+` ORDER BY uploaded_at DESC, id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("list source maps: %w", err)
	}
	defer rows.Close()
	out := []Map{}
	for rows.Next() {
		m, err := scanMap(rows)
		if err != nil {
			return nil, fmt.Errorf("list source maps: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Delete removes map id of project, and its blob when no other row uses it.
// The blob goes first: when deleting it fails, the row stays and the delete
// can be retried, where the other order would leave an object no row names
// and nothing would ever remove.
func (s *Store) Delete(ctx context.Context, project, id string) error {
	m, err := s.byID(ctx, project, id)
	if err != nil {
		return err
	}
	var others int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sourcemaps WHERE blob_key = ? AND NOT (project = ? AND id = ?)`, m.blobKey, project, id).Scan(&others); err != nil {
		return fmt.Errorf("delete source map %s: %w", id, err)
	}
	if others == 0 {
		if err := s.deleteBlob(ctx, m.blobKey); err != nil {
			return fmt.Errorf("delete source map %s: %w", id, err)
		}
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sourcemaps WHERE project = ? AND id = ?`, project, id); err != nil {
		return fmt.Errorf("delete source map %s: %w", id, err)
	}
	return nil
}

// deleteBlob deletes the object under key; one already gone is fine.
func (s *Store) deleteBlob(ctx context.Context, key string) error {
	if err := s.blobs.Delete(ctx, key); err != nil && !errors.Is(err, blob.ErrNotFound) {
		return fmt.Errorf("delete blob %s: %w", key, err)
	}
	return nil
}

// Sweep deletes maps whose retention has passed, and their blobs once no
// map references them. It returns how many maps it deleted. As in Delete,
// a blob goes before the rows that reference it: the rows of a blob that
// could not be deleted stay for the next sweep to retry.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	now := s.now().UnixMilli()
	// For each blob with expired rows: whether a live row still uses it.
	rows, err := s.db.QueryContext(ctx, `SELECT e.blob_key, EXISTS (SELECT 1 FROM sourcemaps l WHERE l.blob_key = e.blob_key AND l.expires_at >= ?)
		FROM (SELECT DISTINCT blob_key FROM sourcemaps WHERE expires_at < ?) e`, now, now)
	if err != nil {
		return 0, fmt.Errorf("sweep source maps: %w", err)
	}
	type expired struct {
		key  string
		used bool
	}
	var keys []expired
	for rows.Next() {
		var k expired
		if err := rows.Scan(&k.key, &k.used); err != nil {
			rows.Close()
			return 0, fmt.Errorf("sweep source maps: %w", err)
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("sweep source maps: %w", err)
	}
	deleted := 0
	var errs []error
	for _, k := range keys {
		if !k.used {
			if err := s.deleteBlob(ctx, k.key); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		res, err := s.db.ExecContext(ctx, `DELETE FROM sourcemaps WHERE blob_key = ? AND expires_at < ?`, k.key, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("delete rows of blob %s: %w", k.key, err))
			continue
		}
		n, _ := res.RowsAffected()
		deleted += int(n)
	}
	if err := errors.Join(errs...); err != nil {
		return deleted, fmt.Errorf("sweep source maps: %w", err)
	}
	return deleted, nil
}

// Run sweeps expired maps every interval until ctx ends.
func (s *Store) Run(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		every = time.Hour
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := s.Sweep(ctx); err != nil {
			s.log.Warn("source map retention", "err", err)
		} else if n > 0 {
			s.log.Info("source map retention", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
