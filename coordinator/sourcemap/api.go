package sourcemap

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/rearview-dev/rearview/coordinator/auth"
	"github.com/rearview-dev/rearview/coordinator/respond"
)

// UploadRequest is the body of POST /api/v1/sourcemaps.
type UploadRequest struct {
	Release string      `json:"release"`
	Dist    string      `json:"dist,omitempty"`
	Maps    []UploadMap `json:"maps"`
}

// UploadMap is one map of an UploadRequest. Map is the source map itself:
// a JSON object is stored as sent; a JSON string holding the file is stored
// byte for byte, so its content hash equals the file's (what the CLI sends).
type UploadMap struct {
	Name    string          `json:"name"`
	URL     string          `json:"url,omitempty"`
	MapURL  string          `json:"map_url,omitempty"`
	DebugID string          `json:"debug_id,omitempty"`
	Map     json.RawMessage `json:"map"`
}

// UploadResult reports what happened to each map: Status is "created" or
// "skipped" (same content already stored).
type UploadResult struct {
	Map
	Status string `json:"status"`
}

// maxMapsPerRequest bounds one upload request's map count.
const maxMapsPerRequest = 1000

// Mount adds the source-map routes to the coordinator's authenticated API
// mux: upload (admin or the project's token), list and metadata. The
// content route is admin-only and refuses browsers.
func (s *Store) Mount(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/sourcemaps", s.handleUpload)
	mux.HandleFunc("GET /api/v1/sourcemaps", s.handleList)
	mux.HandleFunc("GET /api/v1/sourcemaps/{id}", s.handleGet)
	mux.HandleFunc("DELETE /api/v1/sourcemaps/{id}", s.handleDelete)
	mux.HandleFunc("GET /api/v1/sourcemaps/{id}/content", s.handleContent)
}

func (s *Store) internal(w http.ResponseWriter, err error) {
	respond.Internal(w, s.log, "sourcemap api", err)
}

func (s *Store) handleUpload(w http.ResponseWriter, r *http.Request) {
	project := auth.Project(w, r)
	if project == "" {
		return
	}
	// JSON escaping can grow a map; allow some slack over the per-map limit.
	limit := s.maxBytes*2 + 1<<20
	var req UploadRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			respond.Error(w, http.StatusRequestEntityTooLarge, "too_large", "request body is larger than "+strconv.FormatInt(limit, 10)+" bytes; upload fewer maps per request")
			return
		}
		respond.Error(w, http.StatusBadRequest, "bad_request", `body must be JSON {"release":…, "maps":[{"name":…, "url":…, "map":{…}}]}: `+err.Error())
		return
	}
	if len(req.Maps) == 0 {
		respond.Error(w, http.StatusBadRequest, "bad_request", `"maps" is empty`)
		return
	}
	if len(req.Maps) > maxMapsPerRequest {
		respond.Error(w, http.StatusBadRequest, "bad_request", "more than "+strconv.Itoa(maxMapsPerRequest)+" maps in one request")
		return
	}
	uploads := make([]Upload, len(req.Maps))
	var problems []string
	for i, m := range req.Maps {
		data := []byte(m.Map)
		if len(data) > 0 && data[0] == '"' {
			var str string
			if err := json.Unmarshal(data, &str); err == nil {
				data = []byte(str)
			}
		}
		name := m.Name
		if name == "" {
			name = "maps[" + strconv.Itoa(i) + "]"
		}
		uploads[i] = Upload{Release: req.Release, Dist: req.Dist, Name: name, URL: m.URL, MapURL: m.MapURL, DebugID: m.DebugID, Data: data}
		if _, err := s.Check(uploads[i]); err != nil {
			problems = append(problems, err.Error())
		}
	}
	// All or nothing: CI should fix the build, not half-upload a release.
	if len(problems) > 0 {
		respond.Error(w, http.StatusBadRequest, "invalid_sourcemap", strings.Join(problems, "; "))
		return
	}
	out := make([]UploadResult, 0, len(uploads))
	status := http.StatusOK
	for _, u := range uploads {
		m, created, err := s.Put(r.Context(), project, u)
		if err != nil {
			s.internal(w, err)
			return
		}
		res := UploadResult{Map: m, Status: "skipped"}
		if created {
			res.Status = "created"
			status = http.StatusCreated
		}
		out = append(out, res)
	}
	s.log.Info("source maps uploaded", "project", project, "release", req.Release, "maps", len(out))
	respond.JSON(w, status, map[string]any{"maps": out})
}

func (s *Store) handleList(w http.ResponseWriter, r *http.Request) {
	project := auth.Project(w, r)
	if project == "" {
		return
	}
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	maps, err := s.List(r.Context(), project, Filter{Release: q.Get("release"), Dist: q.Get("dist"), SHA256: q.Get("sha256"), Limit: limit})
	if err != nil {
		s.internal(w, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"sourcemaps": maps})
}

func (s *Store) handleGet(w http.ResponseWriter, r *http.Request) {
	project := auth.Project(w, r)
	if project == "" {
		return
	}
	m, err := s.Get(r.Context(), project, r.PathValue("id"))
	if errors.Is(err, ErrNotFound) {
		respond.Error(w, http.StatusNotFound, "not_found", "no source map "+r.PathValue("id"))
		return
	}
	if err != nil {
		s.internal(w, err)
		return
	}
	respond.JSON(w, http.StatusOK, m)
}

func (s *Store) handleDelete(w http.ResponseWriter, r *http.Request) {
	project := auth.Project(w, r)
	if project == "" {
		return
	}
	err := s.Delete(r.Context(), project, r.PathValue("id"))
	if errors.Is(err, ErrNotFound) {
		respond.Error(w, http.StatusNotFound, "not_found", "no source map "+r.PathValue("id"))
		return
	}
	if err != nil {
		s.internal(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleContent returns a map's bytes to an operator debugging
// symbolication. It demands the admin token itself in the Authorization
// header (a player session cookie is not enough) and refuses anything a
// browser sent, so a map can never reach a page even through an admin's
// logged-in browser.
func (s *Store) handleContent(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || s.admin == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(s.admin)) != 1 {
		respond.Error(w, http.StatusForbidden, "forbidden", "source maps are only returned to the admin token in an Authorization header")
		return
	}
	if fromBrowser(r) {
		respond.Error(w, http.StatusForbidden, "forbidden", "source maps are never served to browsers")
		return
	}
	project := auth.Project(w, r)
	if project == "" {
		return
	}
	m, err := s.Get(r.Context(), project, r.PathValue("id"))
	if errors.Is(err, ErrNotFound) {
		respond.Error(w, http.StatusNotFound, "not_found", "no source map "+r.PathValue("id"))
		return
	}
	if err != nil {
		s.internal(w, err)
		return
	}
	data, err := s.Read(r.Context(), m)
	if err != nil {
		s.internal(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+m.SHA256+`.map"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(data)
}

// fromBrowser reports whether r carries what browsers attach to every
// request (Fetch Metadata, Origin on cross-origin fetches) or the player's
// session cookie.
func fromBrowser(r *http.Request) bool {
	for _, h := range []string{"Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-Dest", "Origin"} {
		if r.Header.Get(h) != "" {
			return true
		}
	}
	_, err := r.Cookie("rv_session")
	return err == nil
}
