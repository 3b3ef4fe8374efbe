// Package player serves Rearview's web viewer: a single-page app (issues,
// stacks, session replay, live tail, vitals) built from the TypeScript in
// src/ into dist/ and embedded in the binary.
//
// Mount Handler at /player/ beside the coordinator's API on the same origin:
// the app calls /api/v1/... with the session cookie set by sign-in. The
// package imports neither the edge nor the coordinator.
package player

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed all:dist
var dist embed.FS

// Prefix is the path Handler expects to be mounted at.
const Prefix = "/player/"

// csp lets the app load only its own scripts and talk only to its own
// origin. Replayed pages need their recorded images, fonts and inline styles,
// which may come from the recorded site's origin; recorded scripts never run
// (rrweb's iframe is sandboxed without allow-scripts).
const csp = "default-src 'self'; script-src 'self'; worker-src 'self' blob:; connect-src 'self'; " +
	"img-src * data: blob:; font-src * data:; style-src 'self' 'unsafe-inline' *; media-src * blob:; " +
	"frame-src 'self' blob: about:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"

type asset struct {
	body  []byte
	gz    []byte // nil when compression does not pay
	ctype string
	etag  string
	// immutable assets carry a content hash in their name.
	immutable bool
}

// Handler serves the player under /player/. Files in dist/assets are
// content-hashed and cached for a year; every other path that is not a file
// is a client-side route and gets index.html, which is never cached, so a
// new release is picked up on the next load.
func Handler() http.Handler {
	assets := map[string]*asset{}
	err := fs.WalkDir(dist, "dist", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := dist.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "dist/")
		sum := sha256.Sum256(b)
		a := &asset{
			body:      b,
			ctype:     contentType(name),
			etag:      `"` + hex.EncodeToString(sum[:8]) + `"`,
			immutable: strings.HasPrefix(name, "assets/"),
		}
		if compressible(a.ctype) && len(b) > 1024 {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			zw.Write(b)
			zw.Close()
			if buf.Len() < len(b)*9/10 {
				a.gz = buf.Bytes()
			}
		}
		assets[name] = a
		return nil
	})
	if err != nil {
		// The embedded tree is fixed at build time; failing to read it is a
		// broken binary, not a runtime condition.
		panic("player: read embedded dist: " + err.Error())
	}
	index := assets["index.html"]
	if index == nil {
		panic("player: dist/index.html missing; run `go tool task player:build`")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path == strings.TrimSuffix(Prefix, "/") {
			http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
			return
		}
		rel, ok := strings.CutPrefix(r.URL.Path, Prefix)
		if !ok {
			http.NotFound(w, r)
			return
		}
		rel = strings.TrimPrefix(path.Clean("/"+rel), "/")
		a := assets[rel]
		if a == nil {
			// A missing file with an extension (a stale hashed asset, a
			// typo) is a real 404; anything else is an app route.
			if strings.HasPrefix(rel, "assets/") || path.Ext(rel) != "" {
				http.NotFound(w, r)
				return
			}
			a = index
		}
		serve(w, r, a)
	})
}

func serve(w http.ResponseWriter, r *http.Request, a *asset) {
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("ETag", a.etag)
	h.Add("Vary", "Accept-Encoding")
	if a.immutable {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Frame-Options", "DENY")
	}
	body := a.body
	if a.gz != nil && acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		body = a.gz
	}
	// ServeContent handles If-None-Match, Range and HEAD.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.TrimSpace(q) != "q=0" {
			return true
		}
	}
	return false
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".html":
		return "text/html; charset=utf-8"
	case ".map", ".json":
		return "application/json"
	case ".svg":
		return "image/svg+xml"
	case ".txt":
		return "text/plain; charset=utf-8"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.HasPrefix(ctype, "application/json") || ctype == "image/svg+xml"
}
