// Package respond writes the coordinator API's JSON answers in the one
// shape every route uses: a body, or {"error": code, "detail": message}.
package respond

import (
	"encoding/json"
	"log/slog"
	"net/http"
)

// JSON writes v as the answer with status; answers are never cached.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Error writes an error answer: code is the machine-readable reason
// (e.g. "bad_request"), detail says what was wrong for a person.
func Error(w http.ResponseWriter, status int, code, detail string) {
	JSON(w, status, map[string]string{"error": code, "detail": detail})
}

// Internal logs err, which may name internals (queries, keys, paths), and
// answers 500 without any of it.
func Internal(w http.ResponseWriter, log *slog.Logger, msg string, err error) {
	log.Error(msg, "err", err)
	Error(w, http.StatusInternalServerError, "internal", "internal error")
}
