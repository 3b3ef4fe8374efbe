// Package auth carries who is calling the coordinator's API through a
// request's context. The API router authenticates (project API token, admin
// token or the player's session cookie) and handlers read the Principal.
package auth

import (
	"context"
	"net/http"
)

// Principal is an authenticated caller. Admin callers may act on every
// project; a project token acts on its own project only.
type Principal struct {
	Admin   bool
	Project string // set for project tokens; "" for admins
}

// CanRead reports whether p may read project's data.
func (p Principal) CanRead(project string) bool { return p.Admin || p.Project == project }

type ctxKey struct{}

// With returns ctx carrying p.
func With(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// From returns the Principal in ctx and whether there is one.
func From(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}

// Project resolves which project a request is about: the "project" query
// parameter (required for admins), or the token's own project. It writes a
// 400/403 response and returns "" when the request may not proceed.
func Project(w http.ResponseWriter, r *http.Request) string {
	p, ok := From(r.Context())
	if !ok {
		http.Error(w, `{"error":"unauthorized","detail":"missing credentials"}`, http.StatusUnauthorized)
		return ""
	}
	want := r.URL.Query().Get("project")
	if want == "" {
		want = p.Project
	}
	if want == "" {
		http.Error(w, `{"error":"bad_request","detail":"query parameter project is required"}`, http.StatusBadRequest)
		return ""
	}
	if !p.CanRead(want) {
		http.Error(w, `{"error":"forbidden","detail":"token is not valid for project `+want+`"}`, http.StatusForbidden)
		return ""
	}
	return want
}
