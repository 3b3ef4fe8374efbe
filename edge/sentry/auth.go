package sentry

import (
	"net/http"
	"net/url"
	"strings"
)

// Auth is the public key a request authenticates with, found the ways
// Sentry SDKs send it, and where it was found.
type Auth struct {
	Key    string
	Source string // "X-Sentry-Auth", "sentry_key" or "dsn"
	// ProjectID is the project id of the envelope header's DSN, to be
	// checked against the URL's; "" unless Source is "dsn".
	ProjectID string
}

// RequestAuth finds the key in the X-Sentry-Auth header (or an
// Authorization header in the same "Sentry sentry_key=…" form) or the
// sentry_key query parameter. ok is false when neither has one.
func RequestAuth(r *http.Request) (Auth, bool) {
	for _, h := range []string{"X-Sentry-Auth", "Authorization"} {
		if k := authKey(r.Header.Get(h)); k != "" {
			return Auth{Key: k, Source: "X-Sentry-Auth"}, true
		}
	}
	if k := r.URL.Query().Get("sentry_key"); k != "" {
		return Auth{Key: k, Source: "sentry_key"}, true
	}
	return Auth{}, false
}

// authKey returns sentry_key from `Sentry sentry_key=…, sentry_version=7, …`.
func authKey(h string) string {
	h = strings.TrimSpace(h)
	if len(h) < 7 || !strings.EqualFold(h[:7], "sentry ") {
		return ""
	}
	for _, part := range strings.Split(h[7:], ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && strings.TrimSpace(k) == "sentry_key" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// DSNAuth reads the public key and project id of a DSN
// ({scheme}://{key}@{host}{path}/{project id}), as an envelope header
// carries it.
func DSNAuth(dsn string) (Auth, bool) {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil || u.User.Username() == "" {
		return Auth{}, false
	}
	path := strings.TrimRight(u.Path, "/")
	id := path[strings.LastIndexByte(path, '/')+1:]
	if id == "" {
		return Auth{}, false
	}
	return Auth{Key: u.User.Username(), Source: "dsn", ProjectID: id}, true
}

// ValidProjectID reports whether id is a Sentry project id: 1 to 20 digits.
func ValidProjectID(id string) bool {
	if id == "" || len(id) > 20 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}
