package alert

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/rearview-dev/rearview/coordinator/auth"
	"github.com/rearview-dev/rearview/coordinator/respond"
)

// Mount adds the alert routes to the coordinator's authenticated API mux:
//
//	GET    /api/v1/alerts/rules?project
//	POST   /api/v1/alerts/rules          (a Rule; its project defaults to the caller's)
//	DELETE /api/v1/alerts/rules/{id}?project
//	GET    /api/v1/alerts/history?project&before&limit
func (a *Alerts) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/alerts/rules", a.listRules)
	mux.HandleFunc("POST /api/v1/alerts/rules", a.postRule)
	mux.HandleFunc("DELETE /api/v1/alerts/rules/{id}", a.deleteRule)
	mux.HandleFunc("GET /api/v1/alerts/history", a.listHistory)
}

func (a *Alerts) internal(w http.ResponseWriter, err error) {
	respond.Internal(w, a.log, "api", err)
}

func (a *Alerts) listRules(w http.ResponseWriter, r *http.Request) {
	project := auth.Project(w, r)
	if project == "" {
		return
	}
	rules, err := a.Rules(r.Context(), project)
	if err != nil {
		a.internal(w, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"rules": rules})
}

func (a *Alerts) postRule(w http.ResponseWriter, r *http.Request) {
	var rule Rule
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rule); err != nil {
		respond.Error(w, http.StatusBadRequest, "bad_request", "body must be a JSON alert rule: "+err.Error())
		return
	}
	p, _ := auth.From(r.Context())
	if rule.Project == "" {
		rule.Project = p.Project
	}
	if rule.Project == "" {
		rule.Project = r.URL.Query().Get("project")
	}
	if rule.Project == "" {
		respond.Error(w, http.StatusBadRequest, "bad_request", "project is required")
		return
	}
	if !p.CanRead(rule.Project) {
		respond.Error(w, http.StatusForbidden, "forbidden", "token is not valid for project "+rule.Project)
		return
	}
	if err := rule.Normalize(); err != nil {
		respond.Error(w, http.StatusBadRequest, "bad_rule", err.Error())
		return
	}
	saved, err := a.PutRule(r.Context(), rule)
	if errors.Is(err, ErrOtherProject) {
		// PutRule's error names the owning project, which this caller
		// may not be allowed to see.
		respond.Error(w, http.StatusConflict, "conflict", "rule id "+rule.ID+" belongs to another project")
		return
	}
	if err != nil {
		a.internal(w, err)
		return
	}
	respond.JSON(w, http.StatusCreated, saved)
}

func (a *Alerts) deleteRule(w http.ResponseWriter, r *http.Request) {
	project := auth.Project(w, r)
	if project == "" {
		return
	}
	err := a.DeleteRule(r.Context(), project, r.PathValue("id"))
	if errors.Is(err, ErrNotFound) {
		respond.Error(w, http.StatusNotFound, "not_found", "no alert rule "+r.PathValue("id")+" in project "+project)
		return
	}
	if err != nil {
		a.internal(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *Alerts) listHistory(w http.ResponseWriter, r *http.Request) {
	project := auth.Project(w, r)
	if project == "" {
		return
	}
	q := r.URL.Query()
	limit := 100
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			respond.Error(w, http.StatusBadRequest, "bad_limit", "limit must be an integer in [1, 1000]")
			return
		}
		limit = n
	}
	var before int64
	if s := q.Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			respond.Error(w, http.StatusBadRequest, "bad_time", "before must be Unix milliseconds")
			return
		}
		before = n
	}
	h, err := a.History(r.Context(), project, before, limit)
	if err != nil {
		a.internal(w, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"history": h})
}
