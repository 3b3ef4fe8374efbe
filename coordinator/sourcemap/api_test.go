package sourcemap_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/coordinator/auth"
	"github.com/rearview-dev/rearview/coordinator/blob"
	"github.com/rearview-dev/rearview/coordinator/sourcemap"
	"github.com/rearview-dev/rearview/coordinator/store"
	"github.com/rearview-dev/rearview/coordinator/store/storetest"
	"github.com/rearview-dev/rearview/internal/testenv"
)

const adminToken = "rva_test_admin"

type env struct {
	db     *sql.DB
	blobs  blob.Store
	maps   *sourcemap.Store
	srv    *httptest.Server
	tokens map[string]string // project id → API token
	now    time.Time
}

// newEnv serves the source-map routes behind the same authentication the
// coordinator applies: admin token, project tokens from the projects table,
// or a player session (simulated as an admin principal without a bearer).
func newEnv(t *testing.T, blobs blob.Store) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db := storetest.Open(t)
	var err error
	if blobs == nil {
		if blobs, err = blob.NewDir(filepath.Join(dir, "blobs")); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{db: db, blobs: blobs, tokens: map[string]string{}, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	e.maps, err = sourcemap.New(sourcemap.Config{DB: db, Blobs: blobs, AdminToken: adminToken, Now: func() time.Time { return e.now }})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"shop", "blog"} {
		p, tok, err := store.CreateProject(ctx, db, name, "")
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[p.ID] = tok
	}
	mux := http.NewServeMux()
	e.maps.Mount(mux)
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p auth.Principal
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		switch {
		case tok == adminToken:
			p = auth.Principal{Admin: true}
		case tok != "":
			pr, err := store.ProjectByToken(r.Context(), db, tok)
			if err != nil {
				http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
				return
			}
			p = auth.Principal{Project: pr.ID}
		default:
			if c, err := r.Cookie("rv_session"); err == nil && c.Value == "admin-session" {
				p = auth.Principal{Admin: true}
			} else {
				http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
				return
			}
		}
		mux.ServeHTTP(w, r.WithContext(auth.With(r.Context(), p)))
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) do(t *testing.T, method, path, token string, body any, hdr ...string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Cookie" {
			req.AddCookie(&http.Cookie{Name: "rv_session", Value: hdr[i+1]})
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func fixtureMap(t *testing.T) json.RawMessage {
	b, err := os.ReadFile("testdata/main.js.map")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type uploadResp struct {
	Maps []sourcemap.UploadResult `json:"maps"`
}

func (e *env) upload(t *testing.T, token, query string, req sourcemap.UploadRequest) (int, uploadResp, []byte) {
	t.Helper()
	code, body := e.do(t, "POST", "/api/v1/sourcemaps"+query, token, req)
	var r uploadResp
	_ = json.Unmarshal(body, &r)
	return code, r, body
}

func countBlobs(t *testing.T, b blob.Store) int {
	n := 0
	if err := b.List(context.Background(), "sourcemaps/", func(blob.Info) bool { n++; return true }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestUploadListAndSkip(t *testing.T) {
	e := newEnv(t, nil)
	req := sourcemap.UploadRequest{Release: "abc123", Maps: []sourcemap.UploadMap{{Name: "static/js/main.js.map", URL: "~/static/js/main.js", Map: fixtureMap(t)}}}

	code, r, body := e.upload(t, e.tokens["shop"], "", req)
	if code != http.StatusCreated || len(r.Maps) != 1 || r.Maps[0].Status != "created" {
		t.Fatalf("upload: %d %s", code, body)
	}
	first := r.Maps[0]
	if first.Sources != 3 || first.Release != "abc123" || first.URL != "~/static/js/main.js" || len(first.SHA256) != 64 {
		t.Errorf("metadata %+v", first)
	}
	if want := e.now.Add(sourcemap.MinRetention).UnixMilli(); first.ExpiresAt != want {
		t.Errorf("expires_at %d, want %d", first.ExpiresAt, want)
	}

	// Same content again, later: skipped, nothing stored twice, retention renewed.
	e.now = e.now.Add(24 * time.Hour)
	code, r, body = e.upload(t, e.tokens["shop"], "", req)
	if code != http.StatusOK || r.Maps[0].Status != "skipped" || r.Maps[0].ID != first.ID {
		t.Fatalf("re-upload: %d %s", code, body)
	}
	if r.Maps[0].ExpiresAt <= first.ExpiresAt {
		t.Error("re-upload did not renew retention")
	}
	if n := countBlobs(t, e.blobs); n != 1 {
		t.Errorf("%d blobs after duplicate upload", n)
	}

	// Admin uploads the same map for another release: new row, same blob.
	req.Release = "def456"
	if code, _, body := e.upload(t, adminToken, "?project=shop", req); code != http.StatusCreated {
		t.Fatalf("admin upload: %d %s", code, body)
	}
	if n := countBlobs(t, e.blobs); n != 1 {
		t.Errorf("%d blobs for identical content", n)
	}

	code, body = e.do(t, "GET", "/api/v1/sourcemaps?release=abc123", e.tokens["shop"], nil)
	var list struct{ Sourcemaps []sourcemap.Map }
	if err := json.Unmarshal(body, &list); err != nil || code != 200 || len(list.Sourcemaps) != 1 {
		t.Fatalf("list: %d %s", code, body)
	}
	// Metadata only: no sources, no mappings in any answer.
	for _, leak := range []string{"mappings", "sourcesContent", "fetchProducts"} {
		if bytes.Contains(body, []byte(leak)) {
			t.Errorf("list answer contains %q", leak)
		}
	}
	code, body = e.do(t, "GET", "/api/v1/sourcemaps/"+first.ID, e.tokens["shop"], nil)
	if code != 200 || bytes.Contains(body, []byte("mappings")) {
		t.Errorf("get: %d %s", code, body)
	}
	if code, _ = e.do(t, "GET", "/api/v1/sourcemaps?project=shop", adminToken, nil); code != 200 {
		t.Errorf("admin list: %d", code)
	}
}

func TestUploadRejectsBrokenMaps(t *testing.T) {
	e := newEnv(t, nil)
	cases := []struct {
		name   string
		mapRaw string
		detail string
	}{
		{"bad vlq", `{"version":3,"sources":["a.js"],"mappings":"AAAA;AA!A"}`, "broken.js.map: mappings: invalid base64 VLQ character '!' at offset 7 (generated line 2)"},
		{"wrong version", `{"version":2,"sources":["a.js"],"mappings":"AAAA"}`, `broken.js.map: unsupported "version" 2 (want 3)`},
		{"truncated as string", `"{\"version\":3,\"sources\":[\"a.js\"],\"mappi"`, "broken.js.map: truncated JSON"},
		{"index out of range", `{"version":3,"sources":["a.js"],"mappings":"AAAA,AgBAA"}`, "broken.js.map: mappings: source index 16 out of range (1 sources)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := sourcemap.UploadRequest{Release: "r1", Maps: []sourcemap.UploadMap{
				{Name: "good.js.map", URL: "~/good.js", Map: fixtureMap(t)},
				{Name: "broken.js.map", URL: "~/broken.js", Map: json.RawMessage(c.mapRaw)},
			}}
			code, _, body := e.upload(t, e.tokens["shop"], "", req)
			if code != http.StatusBadRequest {
				t.Fatalf("status %d: %s", code, body)
			}
			var er struct{ Error, Detail string }
			json.Unmarshal(body, &er)
			if er.Error != "invalid_sourcemap" || !strings.Contains(er.Detail, c.detail) {
				t.Errorf("got %s, want detail containing %q", body, c.detail)
			}
			// All or nothing: the good map of the request is not stored.
			if n := countBlobs(t, e.blobs); n != 0 {
				t.Errorf("%d blobs stored from a rejected request", n)
			}
		})
	}
	t.Run("not json", func(t *testing.T) {
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/sourcemaps", strings.NewReader("{nope"))
		req.Header.Set("Authorization", "Bearer "+e.tokens["shop"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
}

func TestMapsAreNeverServedWithoutAdmin(t *testing.T) {
	e := newEnv(t, nil)
	// As a JSON string, the way the CLI sends it: stored byte for byte.
	asString, _ := json.Marshal(string(fixtureMap(t)))
	_, r, body := e.upload(t, e.tokens["shop"], "", sourcemap.UploadRequest{Release: "r1", Maps: []sourcemap.UploadMap{{Name: "main.js.map", URL: "~/main.js", Map: asString}}})
	if len(r.Maps) != 1 {
		t.Fatalf("upload: %s", body)
	}
	content := "/api/v1/sourcemaps/" + r.Maps[0].ID + "/content?project=shop"
	cases := []struct {
		name  string
		token string
		hdr   []string
		want  int
	}{
		{"no credentials", "", nil, http.StatusUnauthorized},
		{"bad token", "rvt_wrong", nil, http.StatusUnauthorized},
		{"own project token", e.tokens["shop"], nil, http.StatusForbidden},
		{"other project token", e.tokens["blog"], nil, http.StatusForbidden},
		{"admin session cookie in a browser", "", []string{"Cookie", "admin-session"}, http.StatusForbidden},
		{"admin token from a page (fetch metadata)", adminToken, []string{"Sec-Fetch-Mode", "cors", "Sec-Fetch-Site", "same-origin"}, http.StatusForbidden},
		{"admin token with Origin", adminToken, []string{"Origin", "https://evil.example"}, http.StatusForbidden},
		{"admin token plus cookie", adminToken, []string{"Cookie", "admin-session"}, http.StatusForbidden},
		{"admin token from a tool", adminToken, nil, http.StatusOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := e.do(t, "GET", content, c.token, nil, c.hdr...)
			if code != c.want {
				t.Fatalf("status %d, want %d: %s", code, c.want, body)
			}
			if code == http.StatusOK {
				if !bytes.Equal(body, fixtureMap(t)) {
					t.Error("content differs from upload")
				}
			} else if bytes.Contains(body, []byte("mappings")) || bytes.Contains(body, []byte("fetchProducts")) {
				t.Error("refusal leaked map content")
			}
		})
	}
}

func TestProjectTokenIsolation(t *testing.T) {
	e := newEnv(t, nil)
	_, r, body := e.upload(t, e.tokens["shop"], "", sourcemap.UploadRequest{Release: "r1", Maps: []sourcemap.UploadMap{{Name: "main.js.map", URL: "~/main.js", Map: fixtureMap(t)}}})
	if len(r.Maps) != 1 {
		t.Fatalf("upload: %s", body)
	}
	id := r.Maps[0].ID
	blog := e.tokens["blog"]
	cases := []struct {
		name, method, path string
		body               any
		want               int
	}{
		{"list other project", "GET", "/api/v1/sourcemaps?project=shop", nil, http.StatusForbidden},
		{"get by id", "GET", "/api/v1/sourcemaps/" + id, nil, http.StatusNotFound},
		{"get by id naming the project", "GET", "/api/v1/sourcemaps/" + id + "?project=shop", nil, http.StatusForbidden},
		{"delete", "DELETE", "/api/v1/sourcemaps/" + id, nil, http.StatusNotFound},
		{"upload into other project", "POST", "/api/v1/sourcemaps?project=shop", sourcemap.UploadRequest{Release: "r1", Maps: []sourcemap.UploadMap{{Name: "x.map", Map: fixtureMap(t)}}}, http.StatusForbidden},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if code, body := e.do(t, c.method, c.path, blog, c.body); code != c.want {
				t.Errorf("status %d, want %d: %s", code, c.want, body)
			}
		})
	}
	code, body := e.do(t, "GET", "/api/v1/sourcemaps", blog, nil)
	if code != 200 || strings.Contains(string(body), id) {
		t.Errorf("blog's own list: %d %s", code, body)
	}
	if code, _ := e.do(t, "DELETE", "/api/v1/sourcemaps/"+id, e.tokens["shop"], nil); code != http.StatusNoContent {
		t.Errorf("owner delete: %d", code)
	}
	if n := countBlobs(t, e.blobs); n != 0 {
		t.Errorf("%d blobs after delete", n)
	}
}

func TestRetention(t *testing.T) {
	t.Run("never below 90 days", func(t *testing.T) {
		_, err := sourcemap.New(sourcemap.Config{DB: &sql.DB{}, Blobs: &blob.Dir{}, Retention: 30 * 24 * time.Hour})
		if err == nil || !strings.Contains(err.Error(), "below the minimum") {
			t.Fatalf("err = %v", err)
		}
	})
	e := newEnv(t, nil)
	ctx := context.Background()
	put := func(release string) sourcemap.Map {
		m, _, err := e.maps.Put(ctx, "shop", sourcemap.Upload{Release: release, Name: "main.js.map", URL: "~/main.js", Data: fixtureMap(t)})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	put("old")
	e.now = e.now.Add(60 * 24 * time.Hour)
	put("new")
	e.now = e.now.Add(31 * 24 * time.Hour) // "old" is 91 days old, "new" 31
	n, err := e.maps.Sweep(ctx)
	if err != nil || n != 1 {
		t.Fatalf("sweep deleted %d, %v", n, err)
	}
	if _, err := e.maps.ByURL(ctx, "shop", "old", "", []string{"~/main.js"}); err != sourcemap.ErrNotFound {
		t.Errorf("expired map still found: %v", err)
	}
	m, err := e.maps.ByURL(ctx, "shop", "new", "", []string{"~/main.js"})
	if err != nil {
		t.Fatal(err)
	}
	if countBlobs(t, e.blobs) != 1 {
		t.Error("shared blob deleted while a live map uses it")
	}
	e.now = e.now.Add(60 * 24 * time.Hour)
	if n, err := e.maps.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("second sweep %d %v", n, err)
	}
	if countBlobs(t, e.blobs) != 0 {
		t.Error("blob kept after its last map expired")
	}
	if _, err := e.maps.Read(ctx, m); err == nil {
		t.Error("expired map still readable")
	}
}

// TestMinIOStorage runs upload, symbolicator read and retention against a
// real MinIO server.
func TestMinIOStorage(t *testing.T) {
	m := testenv.StartMinIO(t)
	ctx := context.Background()
	s3, err := blob.NewS3(ctx, blob.S3Config{Endpoint: m.Endpoint, Bucket: "maps", AccessKey: m.AccessKey, SecretKey: m.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, s3)
	asString, _ := json.Marshal(string(fixtureMap(t)))
	req := sourcemap.UploadRequest{Release: "r1", Maps: []sourcemap.UploadMap{{Name: "main.js.map", URL: "~/main.js", Map: asString}}}
	code, r, body := e.upload(t, e.tokens["shop"], "", req)
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, body)
	}
	sum := sha256.Sum256(fixtureMap(t))
	if r.Maps[0].SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("sha256 %s is not the file's", r.Maps[0].SHA256)
	}
	if code, r, _ = e.upload(t, e.tokens["shop"], "", req); code != http.StatusOK || r.Maps[0].Status != "skipped" {
		t.Errorf("duplicate: %d %+v", code, r)
	}
	got, err := e.maps.ByURL(ctx, "shop", "r1", "", []string{"~/main.js"})
	if err != nil {
		t.Fatal(err)
	}
	data, err := e.maps.Read(ctx, got)
	if err != nil || !bytes.Equal(data, fixtureMap(t)) {
		t.Fatalf("read back from MinIO: %v", err)
	}
	e.now = e.now.Add(sourcemap.MinRetention + time.Hour)
	if n, err := e.maps.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	if n := countBlobs(t, s3); n != 0 {
		t.Errorf("%d objects left in MinIO after expiry", n)
	}
}
