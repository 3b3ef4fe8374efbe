package sentryapi_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/coordinator/auth"
	"github.com/rearview-dev/rearview/coordinator/blob"
	"github.com/rearview-dev/rearview/coordinator/sentryapi"
	"github.com/rearview-dev/rearview/coordinator/sourcemap"
	"github.com/rearview-dev/rearview/coordinator/store"
	"github.com/rearview-dev/rearview/coordinator/store/storetest"
)

const adminToken = "rva_test_admin"

type env struct {
	db     *sql.DB
	blobs  blob.Store
	maps   *sourcemap.Store
	api    *sentryapi.Server
	srv    *httptest.Server
	tokens map[string]string // project id → API token
	now    time.Time
}

// newEnv serves the Sentry routes behind the authentication the
// coordinator applies (admin token or a project's token; the coordinator's
// own middleware is tested end to end in e2e/sentry/cli).
func newEnv(t testing.TB) *env { return newEnvWith(t, nil) }

// newEnvWith is newEnv with the blob store wrapped by wrap.
func newEnvWith(t testing.TB, wrap func(blob.Store) blob.Store) *env {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t)
	dir, err := blob.NewDir(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	var blobs blob.Store = dir
	if wrap != nil {
		blobs = wrap(dir)
	}
	e := &env{db: db, blobs: blobs, tokens: map[string]string{}, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return e.now }
	if e.maps, err = sourcemap.New(sourcemap.Config{DB: db, Blobs: blobs, Now: clock}); err != nil {
		t.Fatal(err)
	}
	if e.api, err = sentryapi.New(sentryapi.Config{DB: db, Maps: e.maps, Blobs: blobs, MaxFileSize: 1 << 20, Now: clock}); err != nil {
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
	e.api.Mount(mux)
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		p := auth.Principal{Admin: true}
		if tok != adminToken {
			pr, err := store.ProjectByToken(r.Context(), db, tok)
			if err != nil {
				http.Error(w, `{"detail":"unauthorized"}`, http.StatusUnauthorized)
				return
			}
			p = auth.Principal{Project: pr.ID}
		}
		mux.ServeHTTP(w, r.WithContext(auth.With(r.Context(), p)))
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) do(t testing.TB, method, path, token, contentType string, body []byte, out any) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode, string(b)
}

func sha(b []byte) string {
	h := sha1.Sum(b)
	return hex.EncodeToString(h[:])
}

// split cuts data into chunks of size bytes, as sentry-cli does.
func split(data []byte, size int) (parts [][]byte, sums []string) {
	for len(data) > 0 {
		n := min(size, len(data))
		parts = append(parts, data[:n])
		sums = append(sums, sha(data[:n]))
		data = data[n:]
	}
	return parts, sums
}

// multipartOf encodes chunks as sentry-cli does: "file_gzip" parts named
// by their SHA-1 (field "file" and no compression when gz is false).
func multipartOf(t testing.TB, gz bool, names []string, parts [][]byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for i, p := range parts {
		field := "file"
		if gz {
			field = "file_gzip"
		}
		w, err := mw.CreateFormFile(field, names[i])
		if err != nil {
			t.Fatal(err)
		}
		if gz {
			zw := gzip.NewWriter(w)
			zw.Write(p)
			zw.Close()
		} else {
			w.Write(p)
		}
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

func assembleBody(checksum string, chunks []string, projects ...string) []byte {
	b, _ := json.Marshal(map[string]any{"checksum": checksum, "chunks": chunks, "projects": projects, "version": "r1"})
	return b
}

// TestUploadProtocol walks sentry-cli's sequence: options, assemble (which
// chunks are missing), chunk upload, assemble again; the maps land in the
// store as `rearview sourcemaps upload` would put them.
func TestUploadProtocol(t *testing.T) {
	e := newEnv(t)
	tok := e.tokens["shop"]
	var opts sentryapi.ChunkOptions
	if st, body := e.do(t, "GET", "/api/0/organizations/acme/chunk-upload/", tok, "", nil, &opts); st != 200 {
		t.Fatalf("options: %d %s", st, body)
	}
	if opts.URL != "/api/0/organizations/acme/chunk-upload/" || opts.HashAlgorithm != "sha1" || opts.ChunkSize != sentryapi.ChunkSize || opts.MaxFileSize != 1<<20 || len(opts.Compression) != 1 || opts.Compression[0] != "gzip" {
		t.Fatalf("options %+v", opts)
	}

	zip := bundleOf(t, scriptAndMap(), "files/_/_/assets/app.js", "x()", "files/_/_/assets/app.js.map", testMap)
	parts, sums := split(zip, 300) // several chunks, the last one short
	req := assembleBody(sha(zip), sums, "shop")
	var res sentryapi.AssembleResponse
	if st, body := e.do(t, "POST", "/api/0/organizations/acme/artifactbundle/assemble/", tok, "application/json", req, &res); st != 200 {
		t.Fatalf("assemble: %d %s", st, body)
	}
	if res.State != "not_found" || len(res.MissingChunks) != len(sums) {
		t.Fatalf("first assemble: %+v, want not_found with %d chunks", res, len(sums))
	}
	body, ct := multipartOf(t, true, sums, parts)
	if st, b := e.do(t, "POST", opts.URL, tok, ct, body, nil); st != 200 {
		t.Fatalf("chunk upload: %d %s", st, b)
	}
	if st, b := e.do(t, "POST", "/api/0/organizations/acme/artifactbundle/assemble/", tok, "application/json", req, &res); st != 200 || res.State != "ok" {
		t.Fatalf("second assemble: %d %s", st, b)
	}
	maps, err := e.maps.List(context.Background(), "shop", sourcemap.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(maps) != 1 {
		t.Fatalf("%d maps stored, want 1", len(maps))
	}
	m := maps[0]
	if m.Release != "r1" || m.URL != "~/assets/app.js" || m.MapURL != "~/assets/app.js.map" || m.DebugID != debugID || m.Size != int64(len(testMap)) {
		t.Fatalf("stored %+v", m)
	}
	if got, _ := e.maps.ByDebugID(context.Background(), "shop", debugID); got.ID != m.ID {
		t.Fatalf("map not found by its Debug ID")
	}
	data, err := e.maps.Read(context.Background(), m)
	if err != nil || string(data) != testMap {
		t.Fatalf("stored bytes %q, %v", data, err)
	}
	// Uploading again: the chunks are still there, nothing to send; the
	// map's retention is renewed, not duplicated.
	e.now = e.now.Add(time.Hour)
	if st, b := e.do(t, "POST", "/api/0/organizations/acme/artifactbundle/assemble/", tok, "application/json", req, &res); st != 200 || res.State != "ok" {
		t.Fatalf("repeated assemble: %d %s", st, b)
	}
	again, _ := e.maps.List(context.Background(), "shop", sourcemap.Filter{})
	if len(again) != 1 || again[0].ExpiresAt <= m.ExpiresAt {
		t.Fatalf("after a repeated upload: %+v", again)
	}
	// The project's chunks are not another project's.
	other := assembleBody(sha(zip), sums, "blog")
	if st, b := e.do(t, "POST", "/api/0/organizations/acme/artifactbundle/assemble/", e.tokens["blog"], "application/json", other, &res); st != 200 || res.State != "not_found" {
		t.Fatalf("another project's token sees the chunks: %d %s", st, b)
	}
	// Chunks outlive the assembly by ChunkTTL, then the sweep removes
	// them (blob.Dir stamps objects with the real clock).
	e.now = time.Now()
	if n, err := e.api.SweepChunks(context.Background()); err != nil || n != 0 {
		t.Fatalf("swept %d fresh chunks (%v)", n, err)
	}
	e.now = time.Now().Add(sentryapi.ChunkTTL + time.Minute)
	n, err := e.api.SweepChunks(context.Background())
	if err != nil || n != len(sums) {
		t.Fatalf("swept %d chunks (%v), want %d", n, err, len(sums))
	}
	if st, b := e.do(t, "POST", "/api/0/organizations/acme/artifactbundle/assemble/", tok, "application/json", req, &res); st != 200 || res.State != "not_found" {
		t.Fatalf("assemble after the sweep: %d %s", st, b)
	}
}

// TestBadInput: every malformed request gets a precise 4xx with Sentry's
// {"detail": …} naming the problem, and nothing is stored.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	tok := e.tokens["shop"]
	const chunkURL = "/api/0/organizations/acme/chunk-upload/"
	const assembleURL = "/api/0/organizations/acme/artifactbundle/assemble/"

	upload := func(t *testing.T, zip []byte) (string, []string) {
		parts, sums := split(zip, 1<<16)
		body, ct := multipartOf(t, true, sums, parts)
		if st, b := e.do(t, "POST", chunkURL, tok, ct, body, nil); st != 200 {
			t.Fatalf("chunk upload: %d %s", st, b)
		}
		return sha(zip), sums
	}
	invalidMap := bundleOf(t, scriptAndMap(), "files/_/_/assets/app.js.map", `{"version":3,"sources":["a"],"mappings":"!!"}`)
	good := bundleOf(t, scriptAndMap(), "files/_/_/assets/app.js.map", testMap)
	one := []byte("one chunk")
	gzBad, ct := multipartOf(t, false, []string{sha(one)}, [][]byte{one})
	gzBad = bytes.Replace(gzBad, []byte(`name="file"`), []byte(`name="file_gzip"`), 1)
	misnamed, ct2 := multipartOf(t, true, []string{sha([]byte("other"))}, [][]byte{one})
	notSHA, ct3 := multipartOf(t, true, []string{"app.js"}, [][]byte{one})
	big := bytes.Repeat([]byte{'x'}, sentryapi.ChunkSize+1)
	tooBig, ct4 := multipartOf(t, true, []string{sha(big)}, [][]byte{big})

	for _, c := range []struct {
		name        string
		method, url string
		token, ct   string
		body        func(t *testing.T) []byte
		status      int
		detail      string
	}{
		{"chunk upload not multipart", "POST", chunkURL, tok, "application/json", func(*testing.T) []byte { return []byte("{}") }, 400, "multipart/form-data"},
		{"chunk not gzip", "POST", chunkURL, tok, ct, func(*testing.T) []byte { return gzBad }, 400, "not gzip"},
		{"chunk checksum mismatch", "POST", chunkURL, tok, ct2, func(*testing.T) []byte { return misnamed }, 400, "chunk checksum mismatch"},
		{"chunk named by no checksum", "POST", chunkURL, tok, ct3, func(*testing.T) []byte { return notSHA }, 400, "is not a SHA-1"},
		{"chunk over the chunk size", "POST", chunkURL, tok, ct4, func(*testing.T) []byte { return tooBig }, 413, "larger than the chunk size"},
		{"assemble not JSON", "POST", assembleURL, tok, "application/json", func(*testing.T) []byte { return []byte("checksum=1") }, 400, "body must be JSON"},
		{"assemble bad checksum", "POST", assembleURL, tok, "application/json", func(*testing.T) []byte { return assembleBody("xyz", []string{sha(one)}, "shop") }, 400, "not a SHA-1"},
		{"assemble no chunks", "POST", assembleURL, tok, "application/json", func(*testing.T) []byte { return assembleBody(sha(one), nil, "shop") }, 400, "chunks is empty"},
		{"assemble no projects", "POST", assembleURL, tok, "application/json", func(*testing.T) []byte { return assembleBody(sha(one), []string{sha(one)}) }, 400, "projects is empty"},
		{"assemble another project", "POST", assembleURL, tok, "application/json", func(*testing.T) []byte { return assembleBody(sha(one), []string{sha(one)}, "blog") }, 403, "not valid for project blog"},
		{"assemble unknown project", "POST", assembleURL, adminToken, "application/json", func(*testing.T) []byte { return assembleBody(sha(one), []string{sha(one)}, "nope") }, 400, "no project nope"},
		{"assemble more chunks than a file has", "POST", assembleURL, tok, "application/json", func(*testing.T) []byte {
			return assembleBody(sha(one), strings.Split(strings.Repeat(sha(one)+",", 3), ",")[:3], "shop")
		}, 200, "not_found"}, // within the bound: fine
		{"assemble checksum mismatch", "POST", assembleURL, tok, "application/json", func(t *testing.T) []byte {
			_, sums := upload(t, good)
			return assembleBody(sha([]byte("something else")), sums, "shop")
		}, 400, "checksum mismatch"},
		{"assemble not a zip", "POST", assembleURL, tok, "application/json", func(t *testing.T) []byte {
			sum, sums := upload(t, []byte("just some text"))
			return assembleBody(sum, sums, "shop")
		}, 400, "not a zip archive"},
		{"assemble invalid source map", "POST", assembleURL, tok, "application/json", func(t *testing.T) []byte {
			sum, sums := upload(t, invalidMap)
			return assembleBody(sum, sums, "shop")
		}, 400, "invalid source map: ~/assets/app.js.map: mappings"},
		{"assemble over the file size", "POST", assembleURL, tok, "application/json", func(t *testing.T) []byte {
			big := bytes.Repeat([]byte("y"), 1<<20+1)
			sum, sums := upload(t, big)
			return assembleBody(sum, sums, "shop")
		}, 413, "larger than the limit"},
		{"unimplemented Sentry route", "GET", "/api/0/organizations/acme/repos/", tok, "", func(*testing.T) []byte { return nil }, 404, "does not implement GET /api/0/organizations/acme/repos/"},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, body := e.do(t, c.method, c.url, c.token, c.ct, c.body(t), nil)
			if st != c.status || !strings.Contains(body, c.detail) {
				t.Fatalf("%d %s; want %d with %q", st, body, c.status, c.detail)
			}
			if st >= 400 {
				var d struct {
					Detail string `json:"detail"`
				}
				if json.Unmarshal([]byte(body), &d) != nil || d.Detail == "" {
					t.Errorf("error body %s has no detail", body)
				}
			}
		})
	}
	if maps, _ := e.maps.List(context.Background(), "shop", sourcemap.Filter{}); len(maps) != 0 {
		t.Fatalf("bad uploads stored %d maps", len(maps))
	}
}

func FuzzDecodeAssemble(f *testing.F) {
	for _, s := range []string{
		`{"checksum":"f35ab0d91acd864507d10733f5fa604c6f0916f5","chunks":["f35ab0d91acd864507d10733f5fa604c6f0916f5"],"projects":["demo"],"version":"r1"}`,
		`{"checksum":"F35AB0D91ACD864507D10733F5FA604C6F0916F5","chunks":[],"projects":[]}`,
		`{"checksum":1}`, `[]`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := sentryapi.DecodeAssemble(body, 8)
		if err != nil {
			return
		}
		if len(req.Chunks) == 0 || len(req.Chunks) > 8 || len(req.Projects) == 0 || len(req.Checksum) != 40 {
			t.Fatalf("accepted %+v", req)
		}
		for _, c := range req.Chunks {
			if len(c) != 40 || strings.ToLower(c) != c {
				t.Fatalf("accepted chunk %q", c)
			}
		}
	})
}

func FuzzReadChunks(f *testing.F) {
	one := []byte("one chunk")
	good, _ := multipartOf(f, true, []string{sha(one)}, [][]byte{one})
	raw, _ := multipartOf(f, false, []string{sha(one), sha(one)}, [][]byte{one, one})
	f.Add(good)
	f.Add(raw)
	f.Add([]byte("--x\r\n\r\n--x--"))
	f.Fuzz(func(t *testing.T, body []byte) {
		// The writer's boundary is random: read whatever the body declares.
		i := bytes.Index(body, []byte("\r\n"))
		if i < 3 || body[0] != '-' || body[1] != '-' {
			return
		}
		mr := multipart.NewReader(bytes.NewReader(body), string(body[2:i]))
		_, _ = sentryapi.ReadChunks(mr, 64, 4, func(c sentryapi.Chunk) error {
			if len(c.Data) > 64 || sha(c.Data) != c.SHA1 {
				t.Fatalf("accepted chunk %s of %d bytes that hashes to %s", c.SHA1, len(c.Data), sha(c.Data))
			}
			return nil
		})
	})
}

// TestReleases: `releases new` creates a release per project, again is
// 208, finalize sets the release date, and a project token sees only its
// own project's rows.
func TestReleases(t *testing.T) {
	e := newEnv(t)
	const base = "/api/0/organizations/acme/releases/"
	type release struct {
		Version      string     `json:"version"`
		URL          *string    `json:"url"`
		DateCreated  time.Time  `json:"dateCreated"`
		DateReleased *time.Time `json:"dateReleased"`
		Projects     []struct {
			Slug string `json:"slug"`
		} `json:"projects"`
	}
	body := func(v any) []byte { b, _ := json.Marshal(v); return b }
	var rel release
	if st, b := e.do(t, "POST", base, adminToken, "application/json", body(map[string]any{"version": "v1.2", "projects": []string{"shop", "blog"}, "dateStarted": e.now}), &rel); st != 201 {
		t.Fatalf("new: %d %s", st, b)
	}
	if rel.Version != "v1.2" || len(rel.Projects) != 2 || rel.DateReleased != nil || !rel.DateCreated.Equal(e.now) {
		t.Fatalf("new release %+v", rel)
	}
	if st, b := e.do(t, "POST", base, e.tokens["shop"], "application/json", body(map[string]any{"version": "v1.2", "projects": []string{"shop"}}), &rel); st != 208 {
		t.Fatalf("new again: %d %s", st, b)
	}
	released := e.now.Add(time.Hour)
	if st, b := e.do(t, "PUT", base+"v1.2/", e.tokens["shop"], "application/json", body(map[string]any{"dateReleased": released, "url": "https://shop.example.com"}), &rel); st != 200 {
		t.Fatalf("finalize: %d %s", st, b)
	}
	if rel.DateReleased == nil || !rel.DateReleased.Equal(released) || rel.URL == nil || *rel.URL != "https://shop.example.com" || len(rel.Projects) != 1 || rel.Projects[0].Slug != "shop" {
		t.Fatalf("finalized as the shop's token: %+v", rel)
	}
	// The blog's row was not finalized by the shop's token.
	var all release
	if st, b := e.do(t, "GET", base+"v1.2/", adminToken, "", nil, &all); st != 200 || len(all.Projects) != 2 {
		t.Fatalf("get: %d %s", st, b)
	}
	var blog []release
	if st, b := e.do(t, "GET", "/api/0/projects/acme/blog/releases/", adminToken, "", nil, &blog); st != 200 || len(blog) != 1 || blog[0].DateReleased != nil {
		t.Fatalf("blog's releases: %d %s", st, b)
	}
	for _, c := range []struct {
		name, method, path, token string
		body                      any
		status                    int
		detail                    string
	}{
		{"finalize unknown", "PUT", base + "v9/", adminToken, map[string]any{"dateReleased": released}, 404, "release v9 not found"},
		{"get unknown", "GET", base + "v9/", adminToken, nil, 404, "release v9 not found"},
		{"another project's release", "GET", base + "v1.2/", e.tokens["blog"], nil, 200, `"slug":"blog"`},
		{"no version", "POST", base, adminToken, map[string]any{"projects": []string{"shop"}}, 400, "version is required"},
		{"bad version", "POST", base, adminToken, map[string]any{"version": "a/b", "projects": []string{"shop"}}, 400, "not a valid release name"},
		{"no projects", "POST", base, adminToken, map[string]any{"version": "v2"}, 400, "projects is empty"},
		{"someone else's project", "POST", base, e.tokens["blog"], map[string]any{"version": "v2", "projects": []string{"shop"}}, 403, "not valid for project shop"},
		{"not JSON", "POST", base, adminToken, "x", 400, "body must be JSON"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b []byte
			if c.body != nil {
				b = body(c.body)
			}
			st, got := e.do(t, c.method, c.path, c.token, "application/json", b, nil)
			if st != c.status || !strings.Contains(got, c.detail) {
				t.Fatalf("%d %s; want %d with %q", st, got, c.status, c.detail)
			}
		})
	}
}

// TestLookups: what `sentry-cli info`, `organizations list` and `projects
// list` read; a project token sees its own project only.
func TestLookups(t *testing.T) {
	e := newEnv(t)
	var info struct {
		Auth struct {
			Scopes []string `json:"scopes"`
		} `json:"auth"`
	}
	if st, b := e.do(t, "GET", "/api/0/", e.tokens["shop"], "", nil, &info); st != 200 || len(info.Auth.Scopes) == 0 {
		t.Fatalf("GET /api/0/: %d %s", st, b)
	}
	var orgs []sentryapi.Organization
	if st, b := e.do(t, "GET", "/api/0/organizations/", adminToken, "", nil, &orgs); st != 200 || len(orgs) != 1 || orgs[0].Slug != "rearview" || orgs[0].DateCreated.IsZero() {
		t.Fatalf("organizations: %d %s", st, b)
	}
	for _, c := range []struct {
		token string
		want  []string
	}{{adminToken, []string{"blog", "shop"}}, {e.tokens["shop"], []string{"shop"}}} {
		var ps []sentryapi.Project
		if st, b := e.do(t, "GET", "/api/0/organizations/any-slug/projects/", c.token, "", nil, &ps); st != 200 {
			t.Fatalf("projects: %d %s", st, b)
		}
		var got []string
		for _, p := range ps {
			if p.ID != p.Slug || p.Name == "" {
				t.Errorf("project %+v", p)
			}
			got = append(got, p.Slug)
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("projects %v, want %v", got, c.want)
		}
	}
}

// sweptStore loses chunk objects between Stat and Get, as a sweep running
// at that moment would.
type sweptStore struct{ blob.Store }

func (s sweptStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if strings.HasPrefix(key, "sentry-chunks/") {
		return nil, blob.ErrNotFound
	}
	return s.Store.Get(ctx, key)
}

// TestChunkSweptDuringAssemble: the chunk is asked for again, as Sentry
// answers when chunks expire, instead of failing the upload.
func TestChunkSweptDuringAssemble(t *testing.T) {
	e := newEnvWith(t, func(b blob.Store) blob.Store { return sweptStore{b} })
	tok := e.tokens["shop"]
	zip := bundleOf(t, scriptAndMap(), "files/_/_/assets/app.js.map", testMap)
	parts, sums := split(zip, 1<<16)
	body, ct := multipartOf(t, true, sums, parts)
	if st, b := e.do(t, "POST", "/api/0/organizations/acme/chunk-upload/", tok, ct, body, nil); st != 200 {
		t.Fatalf("chunk upload: %d %s", st, b)
	}
	var res sentryapi.AssembleResponse
	st, b := e.do(t, "POST", "/api/0/organizations/acme/artifactbundle/assemble/", tok, "application/json", assembleBody(sha(zip), sums, "shop"), &res)
	if st != 200 || res.State != "not_found" || len(res.MissingChunks) != 1 || res.MissingChunks[0] != sums[0] {
		t.Fatalf("assemble with a swept chunk: %d %s", st, b)
	}
}
