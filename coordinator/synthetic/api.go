package synthetic

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/rearview-dev/rearview/coordinator/auth"
	"github.com/rearview-dev/rearview/coordinator/respond"
)

// API serves synthetic results over a Store.
type API struct {
	store *Store
	log   *slog.Logger
	now   func() time.Time
}

// NewAPI returns the HTTP API of s; log gets internal errors.
func NewAPI(s *Store, log *slog.Logger) *API {
	if log == nil {
		log = slog.Default()
	}
	return &API{store: s, log: log.With("component", "synthetic"), now: time.Now}
}

// Mount adds the routes to the coordinator's authenticated API mux:
//
//	POST /api/v1/synthetic/runs              {"results": [...]} → 201 {"stored": n, "duplicates": m}
//	GET  /api/v1/synthetic/runs?release&source&check&limit
//	GET  /api/v1/synthetic/releases          oldest first
//	GET  /api/v1/synthetic/summary?release   (or previous_of=R: the release before R)
//	GET  /api/v1/synthetic/compare?base&head (default: the newest release and the one before)
//	GET  /api/v1/synthetic/issues            issues that synthetic sessions' errors fell into
func (a *API) Mount(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/synthetic/runs", a.postRuns)
	mux.HandleFunc("GET /api/v1/synthetic/runs", a.getRuns)
	mux.HandleFunc("GET /api/v1/synthetic/releases", a.getReleases)
	mux.HandleFunc("GET /api/v1/synthetic/summary", a.getSummary)
	mux.HandleFunc("GET /api/v1/synthetic/compare", a.getCompare)
	mux.HandleFunc("GET /api/v1/synthetic/issues", a.getIssues)
}

func (a *API) internal(w http.ResponseWriter, err error) {
	respond.Internal(w, a.log, "synthetic api", err)
}

func (a *API) postRuns(w http.ResponseWriter, r *http.Request) {
	project := auth.Project(w, r)
	if project == "" {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxUploadSize+1))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe) || len(body) > MaxUploadSize:
		respond.Error(w, http.StatusRequestEntityTooLarge, "too_large", "upload over "+strconv.Itoa(MaxUploadSize)+" bytes")
		return
	case err != nil:
		respond.Error(w, http.StatusBadRequest, "bad_request", "read body: "+err.Error())
		return
	}
	up, err := DecodeUpload(body)
	if err != nil {
		respond.Error(w, http.StatusBadRequest, "bad_results", err.Error())
		return
	}
	n, err := a.store.Save(r.Context(), project, up.Results)
	if err != nil {
		a.internal(w, err)
		return
	}
	respond.JSON(w, http.StatusCreated, map[string]int{"stored": n, "duplicates": len(up.Results) - n})
}

func (a *API) getRuns(w http.ResponseWriter, r *http.Request) {
	project := auth.Project(w, r)
	if project == "" {
		return
	}
	q := r.URL.Query()
	f := Filter{Release: q.Get("release"), Source: q.Get("source"), Check: q.Get("check"), Limit: 100}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			respond.Error(w, http.StatusBadRequest, "bad_limit", "limit must be an integer in [1, 1000]")
			return
		}
		f.Limit = n
	}
	if f.Source != "" && f.Source != SourceCI && f.Source != SourceProbe {
		respond.Error(w, http.StatusBadRequest, "bad_source", "source must be ci or probe")
		return
	}
	runs, err := a.store.Runs(r.Context(), project, f)
	if err != nil {
		a.internal(w, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"results": nonNil(runs)})
}

func (a *API) getReleases(w http.ResponseWriter, r *http.Request) {
	project := auth.Project(w, r)
	if project == "" {
		return
	}
	rs, err := a.store.Releases(r.Context(), project)
	if err != nil {
		a.internal(w, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"releases": nonNil(rs)})
}

func (a *API) getSummary(w http.ResponseWriter, r *http.Request) {
	project := auth.Project(w, r)
	if project == "" {
		return
	}
	q := r.URL.Query()
	release := q.Get("release")
	if of := q.Get("previous_of"); of != "" {
		if release != "" {
			respond.Error(w, http.StatusBadRequest, "bad_request", "give release or previous_of, not both")
			return
		}
		prev, err := a.store.Previous(r.Context(), project, of)
		if err != nil {
			a.internal(w, err)
			return
		}
		if prev == "" {
			respond.JSON(w, http.StatusOK, map[string]any{"release": "", "rows": []SummaryRow{}})
			return
		}
		release = prev
	}
	rows, err := a.store.Summary(r.Context(), project, release, a.now().UnixMilli())
	if err != nil {
		a.internal(w, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"release": release, "rows": nonNil(rows)})
}

func (a *API) getCompare(w http.ResponseWriter, r *http.Request) {
	project := auth.Project(w, r)
	if project == "" {
		return
	}
	q := r.URL.Query()
	base, head := q.Get("base"), q.Get("head")
	if head == "" {
		rs, err := a.store.Releases(r.Context(), project)
		if err != nil {
			a.internal(w, err)
			return
		}
		if len(rs) > 0 {
			head = rs[len(rs)-1].Release
		}
	}
	if base == "" && head != "" {
		prev, err := a.store.Previous(r.Context(), project, head)
		if err != nil {
			a.internal(w, err)
			return
		}
		base = prev
	}
	var sums [2][]SummaryRow
	for i, rel := range []string{base, head} {
		if rel == "" {
			continue
		}
		s, err := a.store.Summary(r.Context(), project, rel, a.now().UnixMilli())
		if err != nil {
			a.internal(w, err)
			return
		}
		sums[i] = s
	}
	respond.JSON(w, http.StatusOK, map[string]any{"base": base, "head": head, "rows": nonNil(Compare(sums[0], sums[1]))})
}

func (a *API) getIssues(w http.ResponseWriter, r *http.Request) {
	project := auth.Project(w, r)
	if project == "" {
		return
	}
	is, err := a.store.Issues(r.Context(), project, 100)
	if err != nil {
		a.internal(w, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"issues": nonNil(is)})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
