package sentryapi

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/rearview-dev/rearview/coordinator/auth"
	"github.com/rearview-dev/rearview/coordinator/respond"
)

// Release is a release as Sentry's API returns it (the fields sentry-cli
// reads). A Sentry release belongs to an organization and lists projects;
// Rearview keeps one row per project and version and joins them here.
type Release struct {
	Version      string           `json:"version"`
	URL          *string          `json:"url"`
	DateCreated  time.Time        `json:"dateCreated"`
	DateStarted  *time.Time       `json:"dateStarted"`
	DateReleased *time.Time       `json:"dateReleased"`
	Projects     []ReleaseProject `json:"projects"`
}

// ReleaseProject names a project of a release; the slug is the Rearview
// project id.
type ReleaseProject struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// releaseRequest is the body of POST …/releases/ and PUT …/releases/{v}/.
// Commits, refs and status are accepted and not kept: Rearview does not
// track commits.
type releaseRequest struct {
	Version      string     `json:"version"`
	Projects     []string   `json:"projects"`
	URL          *string    `json:"url"`
	DateStarted  *time.Time `json:"dateStarted"`
	DateReleased *time.Time `json:"dateReleased"`
}

const maxReleaseBody = 1 << 20

func (s *Server) mountReleases(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/0/organizations/{org}/releases/{$}", s.handleNewRelease)
	mux.HandleFunc("GET /api/0/organizations/{org}/releases/{$}", s.handleListReleases)
	mux.HandleFunc("GET /api/0/projects/{org}/{project}/releases/{$}", s.handleListReleases)
	mux.HandleFunc("GET /api/0/organizations/{org}/releases/{version}/{$}", s.handleGetRelease)
	mux.HandleFunc("PUT /api/0/organizations/{org}/releases/{version}/{$}", s.handleUpdateRelease)
}

func decodeRelease(w http.ResponseWriter, r *http.Request) (releaseRequest, error) {
	var req releaseRequest
	body, err := readBody(w, r, maxReleaseBody)
	if err != nil {
		return req, err
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return req, badRequest(`body must be JSON {"version":…, "projects":[…], "dateReleased":…}: %v`, err)
	}
	if req.URL != nil && len(*req.URL) > 2048 {
		return req, badRequest("url is longer than 2048 bytes")
	}
	return req, nil
}

func checkVersion(v string) error {
	if v == "" {
		return badRequest("version is required")
	}
	if len(v) > 200 || strings.ContainsAny(v, "\x00\n\r\t/\\") || v == "." || v == ".." || v == "latest" {
		return badRequest("version %q is not a valid release name (at most 200 bytes, no slashes, newlines or tabs)", truncate(v, 64))
	}
	return nil
}

func ms(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

// handleNewRelease is `sentry-cli releases new` (and `releases finalize`
// when it names a new version): it creates the release in each project, or
// updates the URL and dates of one that exists.
func (s *Server) handleNewRelease(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.From(r.Context())
	req, err := decodeRelease(w, r)
	if err == nil {
		err = checkVersion(req.Version)
	}
	if err == nil && len(req.Projects) == 0 {
		err = badRequest("projects is empty: pass --project (the Rearview project id)")
	}
	if err != nil {
		s.clientError(w, err)
		return
	}
	if !s.projectsFor(w, r, p, req.Projects) {
		return
	}
	now := s.now().UnixMilli()
	created := false
	for _, project := range req.Projects {
		url := ""
		if req.URL != nil {
			url = *req.URL
		}
		res, err := s.db.ExecContext(r.Context(), `INSERT INTO releases (project, version, url, created_at, started_at, released_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (project, version) DO NOTHING`,
			project, req.Version, url, now, ms(req.DateStarted), ms(req.DateReleased))
		if err != nil {
			s.internal(w, fmt.Errorf("create release %s: %w", req.Version, err))
			return
		}
		if n, _ := res.RowsAffected(); n == 1 {
			created = true
			continue
		}
		if err := s.updateRelease(r.Context(), project, req.Version, req); err != nil {
			s.internal(w, err)
			return
		}
	}
	rel, err := s.release(r.Context(), p, req.Version, req.Projects)
	if err != nil {
		s.internal(w, err)
		return
	}
	// Sentry answers 208 for a release that already existed.
	status := http.StatusCreated
	if !created {
		status = http.StatusAlreadyReported
	}
	s.log.Info("sentry release", "version", req.Version, "projects", req.Projects, "created", created)
	respond.JSON(w, status, rel)
}

func (s *Server) updateRelease(ctx context.Context, project, version string, req releaseRequest) error {
	_, err := s.db.ExecContext(ctx, `UPDATE releases SET
		url = coalesce(?, url), started_at = coalesce(?, started_at), released_at = coalesce(?, released_at)
		WHERE project = ? AND version = ?`, req.URL, ms(req.DateStarted), ms(req.DateReleased), project, version)
	if err != nil {
		return fmt.Errorf("update release %s: %w", version, err)
	}
	return nil
}

// handleUpdateRelease is `sentry-cli releases finalize`: it sets the
// release date (and URL) of the release in the named projects, or in every
// project the token may see when none is named.
func (s *Server) handleUpdateRelease(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.From(r.Context())
	version := r.PathValue("version")
	req, err := decodeRelease(w, r)
	if err != nil {
		s.clientError(w, err)
		return
	}
	if len(req.Projects) > 0 && !s.projectsFor(w, r, p, req.Projects) {
		return
	}
	rel, err := s.release(r.Context(), p, version, req.Projects)
	if errors.Is(err, errNoRelease) {
		writeDetail(w, http.StatusNotFound, "release "+truncate(version, 64)+" not found: create it with sentry-cli releases new")
		return
	}
	if err != nil {
		s.internal(w, err)
		return
	}
	for _, pr := range rel.Projects {
		if err := s.updateRelease(r.Context(), pr.Slug, version, req); err != nil {
			s.internal(w, err)
			return
		}
	}
	if rel, err = s.release(r.Context(), p, version, req.Projects); err != nil {
		s.internal(w, err)
		return
	}
	respond.JSON(w, http.StatusOK, rel)
}

func (s *Server) handleGetRelease(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.From(r.Context())
	rel, err := s.release(r.Context(), p, r.PathValue("version"), nil)
	if errors.Is(err, errNoRelease) {
		writeDetail(w, http.StatusNotFound, "release "+truncate(r.PathValue("version"), 64)+" not found")
		return
	}
	if err != nil {
		s.internal(w, err)
		return
	}
	respond.JSON(w, http.StatusOK, rel)
}

func (s *Server) handleListReleases(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.From(r.Context())
	var only []string
	if project := r.PathValue("project"); project != "" {
		if !s.projectsStatus(w, r, p, []string{project}, http.StatusNotFound) {
			return
		}
		only = []string{project}
	}
	rels, err := s.releases(r.Context(), p, "", only)
	if err != nil {
		s.internal(w, err)
		return
	}
	respond.JSON(w, http.StatusOK, rels)
}

var errNoRelease = errors.New("no such release")

// release returns version as p sees it, in projects (every project p may
// read when empty), or errNoRelease.
func (s *Server) release(ctx context.Context, p auth.Principal, version string, projects []string) (Release, error) {
	rels, err := s.releases(ctx, p, version, projects)
	if err != nil {
		return Release{}, err
	}
	if len(rels) == 0 {
		return Release{}, errNoRelease
	}
	return rels[0], nil
}

// releases lists releases p may read (one version when version is set),
// newest first, at most 1000.
func (s *Server) releases(ctx context.Context, p auth.Principal, version string, projects []string) ([]Release, error) {
	q := `SELECT r.project, coalesce(pr.name, r.project), r.version, r.url, r.created_at, r.started_at, r.released_at
		FROM releases r LEFT JOIN projects pr ON pr.id = r.project WHERE 1 = 1`
	var args []any
	if version != "" {
		q += ` AND r.version = ?`
		args = append(args, version)
	}
	if !p.Admin {
		q += ` AND r.project = ?`
		args = append(args, p.Project)
	}
	if len(projects) > 0 {
		q += ` AND r.project IN (?` + strings.Repeat(", ?", len(projects)-1) + `)`
		for _, pr := range projects {
			args = append(args, pr)
		}
	}
	q += ` ORDER BY r.created_at DESC, r.version, r.project LIMIT 10000`
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	defer rows.Close()
	byVersion := map[string]*Release{}
	var order []string
	for rows.Next() {
		var (
			project, name, v, url string
			created               int64
			started, released     sql.NullInt64
		)
		if err := rows.Scan(&project, &name, &v, &url, &created, &started, &released); err != nil {
			return nil, fmt.Errorf("list releases: %w", err)
		}
		rel, ok := byVersion[v]
		if !ok {
			rel = &Release{Version: v, DateCreated: time.UnixMilli(created).UTC()}
			byVersion[v] = rel
			order = append(order, v)
		}
		if url != "" && rel.URL == nil {
			rel.URL = &url
		}
		if c := time.UnixMilli(created).UTC(); c.Before(rel.DateCreated) {
			rel.DateCreated = c
		}
		if started.Valid {
			t := time.UnixMilli(started.Int64).UTC()
			if rel.DateStarted == nil || t.Before(*rel.DateStarted) {
				rel.DateStarted = &t
			}
		}
		if released.Valid {
			t := time.UnixMilli(released.Int64).UTC()
			if rel.DateReleased == nil || t.After(*rel.DateReleased) {
				rel.DateReleased = &t
			}
		}
		rel.Projects = append(rel.Projects, ReleaseProject{Slug: project, Name: name})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	out := make([]Release, 0, len(order))
	for _, v := range order {
		rel := byVersion[v]
		sort.Slice(rel.Projects, func(i, j int) bool { return rel.Projects[i].Slug < rel.Projects[j].Slug })
		out = append(out, *rel)
		if len(out) == 1000 {
			break
		}
	}
	return out, nil
}
