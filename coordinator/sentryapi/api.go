package sentryapi

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/rearview-dev/rearview/coordinator/auth"
	"github.com/rearview-dev/rearview/coordinator/blob"
	"github.com/rearview-dev/rearview/coordinator/respond"
	"github.com/rearview-dev/rearview/coordinator/sourcemap"
)

// The chunk-upload options Rearview announces. sentry-cli splits the
// bundle into ChunkSize pieces, sends up to ChunksPerRequest of them (at
// most MaxRequestSize bytes) per request.
const (
	ChunkSize          = 8 << 20
	ChunksPerRequest   = 64
	MaxRequestSize     = 32 << 20
	DefaultMaxFileSize = 256 << 20
	// concurrency is how many chunk requests sentry-cli runs at once.
	concurrency = 4
	// maxAssembleBody bounds an assemble request's JSON: 40-byte checksums
	// for every chunk of the largest file fit many times over.
	maxAssembleBody = 1 << 20
	// maxChunksPerFile bounds an assemble request's chunk list: sentry-cli
	// cuts a file at ChunkSize, so 256 MiB is 32 chunks; smaller chunks
	// are allowed, the joined size is bounded anyway.
	maxChunksPerFile = 4096
)

// Config configures a Server.
type Config struct {
	DB    *sql.DB          // the coordinator database: projects, releases
	Maps  *sourcemap.Store // where assembled bundles' maps go
	Blobs blob.Store       // where chunks wait for their assemble request
	// MaxFileSize bounds one assembled bundle; 0 means DefaultMaxFileSize.
	MaxFileSize int64
	// Limits bound what one bundle may hold; zero means DefaultLimits.
	Limits Limits
	// TempDir holds a bundle while it is read; "" is the system default.
	TempDir string
	Logger  *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Server answers the part of Sentry's web API that sentry-cli calls to
// upload source maps and manage releases.
type Server struct {
	db      *sql.DB
	maps    *sourcemap.Store
	chunks  chunks
	maxFile int64
	lim     Limits
	tmp     string
	log     *slog.Logger
	now     func() time.Time
}

// New returns a Server over cfg.
func New(cfg Config) (*Server, error) {
	if cfg.DB == nil || cfg.Maps == nil || cfg.Blobs == nil {
		return nil, errors.New("sentry api: DB, Maps and Blobs are required")
	}
	if cfg.MaxFileSize <= 0 {
		cfg.MaxFileSize = DefaultMaxFileSize
	}
	if cfg.Limits == (Limits{}) {
		cfg.Limits = DefaultLimits
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Server{db: cfg.DB, maps: cfg.Maps, chunks: chunks{blobs: cfg.Blobs, now: cfg.Now},
		maxFile: cfg.MaxFileSize, lim: cfg.Limits, tmp: cfg.TempDir, log: cfg.Logger, now: cfg.Now}, nil
}

// Mount adds the routes under /api/0/ to the coordinator's authenticated
// API mux: a Sentry auth token is a Rearview API token (a project's, or
// the admin token). Any organization slug is accepted; project slugs are
// Rearview project ids.
func (s *Server) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/0/{$}", s.handleRoot)
	mux.HandleFunc("GET /api/0/organizations/{org}/chunk-upload/{$}", s.handleChunkOptions)
	mux.HandleFunc("POST /api/0/organizations/{org}/chunk-upload/{$}", s.handleChunkUpload)
	mux.HandleFunc("POST /api/0/organizations/{org}/artifactbundle/assemble/{$}", s.handleAssemble)
	s.mountReleases(mux)
	s.mountOrgs(mux)
	// Anything else of Sentry's API: say so in Sentry's error shape, so
	// sentry-cli prints what is missing instead of "not a JSON response".
	mux.HandleFunc("/api/0/", func(w http.ResponseWriter, r *http.Request) {
		writeDetail(w, http.StatusNotFound, "Rearview does not implement "+r.Method+" "+r.URL.Path+" of Sentry's API (see Coming from Sentry in the README for what it does)")
	})
}

// Run sweeps stale chunks every interval until ctx ends. It belongs to
// the source-map retention lease: one coordinator at a time.
func (s *Server) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := s.chunks.sweep(ctx); err != nil {
			s.log.Warn("sweep sentry chunks", "err", err)
		} else if n > 0 {
			s.log.Info("swept sentry chunks", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SweepChunks deletes chunks older than ChunkTTL and returns how many.
func (s *Server) SweepChunks(ctx context.Context) (int, error) { return s.chunks.sweep(ctx) }

// writeDetail answers an error the way Sentry does: {"detail": "..."},
// which sentry-cli prints.
func writeDetail(w http.ResponseWriter, status int, detail string) {
	respond.JSON(w, status, map[string]string{"detail": detail})
}

func (s *Server) internal(w http.ResponseWriter, err error) {
	s.log.Error("sentry api", "err", err)
	writeDetail(w, http.StatusInternalServerError, "internal error")
}

// clientError answers a decoding error with its status, or 500.
func (s *Server) clientError(w http.ResponseWriter, err error) {
	var bad errBadRequest
	var big errTooLarge
	switch {
	case errors.As(err, &bad):
		writeDetail(w, http.StatusBadRequest, bad.msg)
	case errors.As(err, &big):
		writeDetail(w, http.StatusRequestEntityTooLarge, big.msg)
	default:
		s.internal(w, err)
	}
}

// namespace is where a caller's chunks live: its project, or the admin's.
func namespace(p auth.Principal) string {
	if p.Admin {
		return "_admin"
	}
	return p.Project
}

// handleRoot is sentry-cli's token check (`sentry-cli info`).
func (s *Server) handleRoot(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.From(r.Context())
	scopes := []string{"project:read", "project:releases", "project:write"}
	if p.Admin {
		scopes = append(scopes, "org:read")
	}
	respond.JSON(w, http.StatusOK, map[string]any{"version": "0", "auth": map[string]any{"scopes": scopes}, "user": nil})
}

// ChunkOptions is the answer of GET …/chunk-upload/ (the fields sentry-cli
// reads). URL is relative: sentry-cli puts it after its own --url, so it
// holds behind any proxy.
type ChunkOptions struct {
	URL              string   `json:"url"`
	ChunkSize        int64    `json:"chunkSize"`
	ChunksPerRequest int      `json:"chunksPerRequest"`
	MaxRequestSize   int64    `json:"maxRequestSize"`
	MaxFileSize      int64    `json:"maxFileSize"`
	Concurrency      int      `json:"concurrency"`
	HashAlgorithm    string   `json:"hashAlgorithm"`
	Compression      []string `json:"compression"`
	Accept           []string `json:"accept"`
}

func (s *Server) handleChunkOptions(w http.ResponseWriter, r *http.Request) {
	respond.JSON(w, http.StatusOK, ChunkOptions{
		URL:              "/api/0/organizations/" + r.PathValue("org") + "/chunk-upload/",
		ChunkSize:        ChunkSize,
		ChunksPerRequest: ChunksPerRequest,
		MaxRequestSize:   MaxRequestSize,
		MaxFileSize:      s.maxFile,
		Concurrency:      concurrency,
		HashAlgorithm:    "sha1",
		Compression:      []string{"gzip"},
		Accept:           []string{"artifact_bundles"},
	})
}

func (s *Server) handleChunkUpload(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.From(r.Context())
	// Room for the multipart framing and gzip's worst case over raw data.
	r.Body = http.MaxBytesReader(w, r.Body, MaxRequestSize+MaxRequestSize/8+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		writeDetail(w, http.StatusBadRequest, "body must be multipart/form-data with the chunks as \"file_gzip\" or \"file\" parts: "+err.Error())
		return
	}
	ns := namespace(p)
	n, err := ReadChunks(mr, ChunkSize, ChunksPerRequest, func(c Chunk) error { return s.chunks.put(r.Context(), ns, c) })
	if err != nil {
		s.clientError(w, err)
		return
	}
	s.log.Debug("sentry chunks uploaded", "namespace", ns, "chunks", n)
	respond.JSON(w, http.StatusOK, map[string]int{"chunks": n})
}

// AssembleRequest is the body of POST …/artifactbundle/assemble/.
type AssembleRequest struct {
	Checksum string   `json:"checksum"`
	Chunks   []string `json:"chunks"`
	Projects []string `json:"projects"`
	Version  string   `json:"version"`
	Dist     string   `json:"dist"`
}

// AssembleResponse is Sentry's answer: State is "not_found" (with the
// chunks to upload), "ok" or "error" (with Detail). Rearview assembles
// within the request, so it never answers "created" or "assembling": when
// it says "ok" the maps are stored.
type AssembleResponse struct {
	State         string   `json:"state"`
	MissingChunks []string `json:"missingChunks"`
	Detail        *string  `json:"detail"`
}

// DecodeAssemble parses and checks an assemble request: a SHA-1 checksum,
// 1 to maxChunks chunk checksums, at least one project.
func DecodeAssemble(body []byte, maxChunks int) (AssembleRequest, error) {
	var req AssembleRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return req, badRequest(`body must be JSON {"checksum":…, "chunks":[…], "projects":[…], "version":…}: %v`, err)
	}
	req.Checksum = strings.ToLower(req.Checksum)
	if !isSHA1(req.Checksum) {
		return req, badRequest("checksum %q is not a SHA-1 checksum", truncate(req.Checksum, 64))
	}
	if len(req.Chunks) == 0 {
		return req, badRequest("chunks is empty")
	}
	if len(req.Chunks) > maxChunks {
		return req, errTooLarge{fmt.Sprintf("%d chunks: a file has at most %d", len(req.Chunks), maxChunks)}
	}
	for i, c := range req.Chunks {
		req.Chunks[i] = strings.ToLower(c)
		if !isSHA1(req.Chunks[i]) {
			return req, badRequest("chunks[%d] %q is not a SHA-1 checksum", i, truncate(c, 64))
		}
	}
	if len(req.Projects) == 0 {
		return req, badRequest("projects is empty: pass --project (the Rearview project id)")
	}
	for _, f := range []struct{ what, v string }{{"version", req.Version}, {"dist", req.Dist}} {
		if len(f.v) > 2048 || strings.ContainsAny(f.v, "\x00\n\r") {
			return req, badRequest("%s is longer than 2048 bytes or has control characters", f.what)
		}
	}
	return req, nil
}

// projectsFor checks that every named project exists and p may write to
// it; it answers and returns false otherwise. An unknown project in a
// request body is a 400: sentry-cli turns a 404 there into "Release not
// found" and drops the detail.
func (s *Server) projectsFor(w http.ResponseWriter, r *http.Request, p auth.Principal, projects []string) bool {
	return s.projectsStatus(w, r, p, projects, http.StatusBadRequest)
}

func (s *Server) projectsStatus(w http.ResponseWriter, r *http.Request, p auth.Principal, projects []string, notFound int) bool {
	for _, id := range projects {
		if !p.CanRead(id) {
			writeDetail(w, http.StatusForbidden, "this token is not valid for project "+truncate(id, 64))
			return false
		}
		var n int
		if err := s.db.QueryRowContext(r.Context(), `SELECT count(*) FROM projects WHERE id = ?`, id).Scan(&n); err != nil {
			s.internal(w, err)
			return false
		}
		if n == 0 {
			writeDetail(w, notFound, "no project "+truncate(id, 64)+": the project slug is the Rearview project id")
			return false
		}
	}
	return true
}

func (s *Server) handleAssemble(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.From(r.Context())
	body, err := readBody(w, r, maxAssembleBody)
	if err != nil {
		s.clientError(w, err)
		return
	}
	req, err := DecodeAssemble(body, maxChunksPerFile)
	if err != nil {
		s.clientError(w, err)
		return
	}
	if !s.projectsFor(w, r, p, req.Projects) {
		return
	}
	ns := namespace(p)
	missing, err := s.chunks.missing(r.Context(), ns, req.Chunks)
	if err != nil {
		s.internal(w, err)
		return
	}
	if len(missing) > 0 {
		respond.JSON(w, http.StatusOK, AssembleResponse{State: "not_found", MissingChunks: missing})
		return
	}
	n, err := s.assemble(r.Context(), ns, req)
	var gone errChunkGone
	if errors.As(err, &gone) {
		respond.JSON(w, http.StatusOK, AssembleResponse{State: "not_found", MissingChunks: []string{gone.sum}})
		return
	}
	if err != nil {
		var bad errBadRequest
		var big errTooLarge
		status := http.StatusBadRequest
		switch {
		case errors.As(err, &big):
			status = http.StatusRequestEntityTooLarge
		case !errors.As(err, &bad):
			s.internal(w, err)
			return
		}
		// Sentry's shape with a 4xx: sentry-cli prints the detail either way.
		d := err.Error()
		respond.JSON(w, status, AssembleResponse{State: "error", MissingChunks: []string{}, Detail: &d})
		return
	}
	s.log.Info("sentry artifact bundle assembled", "projects", req.Projects, "release", req.Version, "maps", n)
	respond.JSON(w, http.StatusOK, AssembleResponse{State: "ok", MissingChunks: []string{}})
}

// assemble joins the chunks, checks the checksum, reads the bundle and
// stores its maps for every project: all maps are checked before any is
// stored, as with `rearview sourcemaps upload`.
func (s *Server) assemble(ctx context.Context, ns string, req AssembleRequest) (int, error) {
	f, size, sum, err := s.chunks.join(ctx, ns, req.Chunks, s.maxFile, s.tmp)
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if sum != req.Checksum {
		return 0, badRequest("checksum mismatch: the chunks join to a file with SHA-1 %s, the request says %s", sum, req.Checksum)
	}
	b, err := OpenBundle(f, size, s.lim)
	if err != nil {
		return 0, badRequest("artifact bundle: %v", err)
	}
	release, dist := req.Version, req.Dist
	if release == "" {
		release = b.Release
	}
	if dist == "" {
		dist = b.Dist
	}
	// Two passes, one map in memory at a time: check them all, then store.
	var problems []string
	for i := range b.Maps {
		b.Maps[i].Release, b.Maps[i].Dist = release, dist
		u := b.Maps[i]
		if u.Data, err = b.Load(i); err != nil {
			return 0, badRequest("artifact bundle: %v", err)
		}
		if _, err := s.maps.Check(u); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return 0, badRequest("invalid source map: %s", strings.Join(problems, "; "))
	}
	for i := range b.Maps {
		u := b.Maps[i]
		if u.Data, err = b.Load(i); err != nil {
			return 0, badRequest("artifact bundle: %v", err)
		}
		for _, project := range req.Projects {
			if _, _, err := s.maps.Put(ctx, project, u); err != nil {
				return 0, err
			}
		}
	}
	return len(b.Maps), nil
}

// readBody reads at most limit bytes of r's body.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return nil, bodyError("body", err)
	}
	return b, nil
}
