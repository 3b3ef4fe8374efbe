package sentryapi

import (
	"net/http"
	"time"

	"github.com/rearview-dev/rearview/coordinator/auth"
	"github.com/rearview-dev/rearview/coordinator/respond"
	"github.com/rearview-dev/rearview/coordinator/store"
)

// Rearview has no organizations: every slug names the one installation.
// These lookups let `sentry-cli organizations list` and `projects list`
// check a token and find the project slugs.

// Organization is the one organization Rearview lists.
type Organization struct {
	ID                       string    `json:"id"`
	Slug                     string    `json:"slug"`
	Name                     string    `json:"name"`
	DateCreated              time.Time `json:"dateCreated"`
	IsEarlyAdopter           bool      `json:"isEarlyAdopter"`
	Require2FA               bool      `json:"require2FA"`
	RequireEmailVerification bool      `json:"requireEmailVerification"`
	Features                 []string  `json:"features"`
}

// Project is a Rearview project as Sentry lists one: slug and id are the
// project id.
type Project struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
	Name string `json:"name"`
	Team *struct {
		Slug string `json:"slug"`
	} `json:"team"`
}

func (s *Server) mountOrgs(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/0/organizations/{$}", s.handleOrganizations)
	mux.HandleFunc("GET /api/0/organizations/{org}/projects/{$}", s.handleProjects)
}

// visible lists the projects p may read.
func (s *Server) visible(r *http.Request, p auth.Principal) ([]store.Project, error) {
	all, err := store.Projects(r.Context(), s.db)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, pr := range all {
		if p.CanRead(pr.ID) {
			out = append(out, pr)
		}
	}
	return out, nil
}

func (s *Server) handleOrganizations(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.From(r.Context())
	projects, err := s.visible(r, p)
	if err != nil {
		s.internal(w, err)
		return
	}
	// The installation is as old as its first project.
	created := s.now()
	for _, pr := range projects {
		if t := time.UnixMilli(pr.CreatedAt); t.Before(created) {
			created = t
		}
	}
	respond.JSON(w, http.StatusOK, []Organization{{ID: "rearview", Slug: "rearview", Name: "Rearview", DateCreated: created.UTC(), Features: []string{}}})
}

func (s *Server) handleProjects(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.From(r.Context())
	projects, err := s.visible(r, p)
	if err != nil {
		s.internal(w, err)
		return
	}
	out := make([]Project, 0, len(projects))
	for _, pr := range projects {
		out = append(out, Project{ID: pr.ID, Slug: pr.ID, Name: pr.Name})
	}
	respond.JSON(w, http.StatusOK, out)
}
