package demo

import (
	"bufio"
	"bytes"
	"encoding/json"
	"image/jpeg"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-sourcemap/sourcemap"
)

// syncBuffer is a span sink the test can read while the shop writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// span is the part of a stdouttrace line the tests read.
type span struct {
	Name        string
	SpanKind    int
	SpanContext struct{ TraceID, SpanID string }
	Parent      struct{ TraceID, SpanID string }
	Status      struct{ Code string }
	Attributes  []struct {
		Key   string
		Value struct{ Value any }
	}
}

func readSpans(t *testing.T, b []byte) []span {
	t.Helper()
	var out []span
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var s span
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("span line %q: %v", sc.Text(), err)
		}
		out = append(out, s)
	}
	return out
}

func get(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", target, nil))
	return w
}

func manifestOf(t *testing.T) map[string]string {
	t.Helper()
	m, err := readManifest()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPages(t *testing.T) {
	h := Handler(Options{
		EdgeURL: "http://edge.test/", Key: "rvk_test", Release: "r1",
		RegionEdges: map[string]string{"eu": "http://eu.edge.test"},
		HeroDelay:   -1,
	})
	m := manifestOf(t)
	tests := []struct {
		name, target string
		status       int
		want         []string
		notWant      []string
	}{
		{"home", "/", 200, []string{
			`src="` + m["app.js"] + `"`, `href="` + m["app.css"] + `"`,
			`src="http://edge.test/sdk/v1.js"`, `rvk_test`, `r1`, `Rearview.init(cfg)`,
			`id="hero" src="img/hero.jpg"`, `id="recommend"`, `href="checkout"`,
			`src="img/categories/kitchen.jpg" width="160" height="160"`, `src="img/products/mug-01.jpg" width="400" height="400"`,
			`<span class="user" data-rv-mask>Signed in as ` + SignedInEmail + `</span>`,
		}, []string{".map"}},
		{"checkout", "/checkout", 200, []string{
			`id="checkout-form"`, `id="email"`, `id="card"`, `id="address"`, `id="place-order"`,
			`id="cart-list"`, `id="order-summary"`, `id="mini-cart"`, `data-rv-mask>We will call ` + SavedPhone,
		}, nil},
		{"region edge", "/?region=eu", 200, []string{`src="http://eu.edge.test/sdk/v1.js"`, `href="checkout?region=eu"`}, []string{"http://edge.test/"}},
		{"unknown region", "/?region=mars", 400, []string{`unknown region`}, nil},
		{"no such page", "/cart", 404, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := get(t, h, tt.target)
			if w.Code != tt.status {
				t.Fatalf("GET %s: %d, want %d: %s", tt.target, w.Code, tt.status, w.Body)
			}
			body := w.Body.String()
			for _, s := range tt.want {
				if !strings.Contains(body, s) {
					t.Errorf("GET %s lacks %q:\n%s", tt.target, s, body)
				}
			}
			for _, s := range tt.notWant {
				if strings.Contains(body, s) {
					t.Errorf("GET %s contains %q", tt.target, s)
				}
			}
		})
	}
	t.Run("with Sentry the pages run @sentry/browser alone", func(t *testing.T) {
		const dsn = "http://rvk_test@edge.test/2902921033"
		sh := Handler(Options{EdgeURL: "http://edge.test/", Key: "rvk_test", Release: "r1", HeroDelay: -1,
			Sentry: &Sentry{DSN: dsn, Script: []byte("var Sentry = {};"), MaskAllText: true}})
		body := get(t, sh, "/checkout").Body.String()
		for _, s := range []string{`<script src="sentry/sdk.js"></script>`, `"dsn":"` + dsn + `"`, `"release":"r1"`, `"maskAllText":true`,
			`Sentry.browserTracingIntegration()`, `Sentry.replayIntegration(`, `Sentry.init(cfg)`} {
			if !strings.Contains(body, s) {
				t.Errorf("page lacks %q:\n%s", s, body)
			}
		}
		if strings.Contains(body, "sdk/v1.js") || strings.Contains(body, "Rearview.init") {
			t.Errorf("a Sentry page loads Rearview's SDK:\n%s", body)
		}
		if w := get(t, sh, "/sentry/sdk.js"); w.Code != 200 || w.Body.String() != "var Sentry = {};" || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/javascript") {
			t.Errorf("GET /sentry/sdk.js: %d %q", w.Code, w.Body)
		}
	})
	t.Run("without an edge there is no SDK", func(t *testing.T) {
		w := get(t, Handler(Options{HeroDelay: -1}), "/")
		if w.Code != 200 || strings.Contains(w.Body.String(), "sdk/v1.js") || strings.Contains(w.Body.String(), "Rearview.init") {
			t.Fatalf("%d:\n%s", w.Code, w.Body)
		}
	})
}

// TestAssetsNeverServeMaps checks the bundle is served, carries no pointer to
// a source map, and that no .map is reachable — while every bundle has its
// map in maps/ for the upload, resolving to the TypeScript sources.
func TestAssetsNeverServeMaps(t *testing.T) {
	h := Handler(Options{HeroDelay: -1})
	m := manifestOf(t)
	for _, key := range []string{"app.js", "app.css"} {
		w := get(t, h, "/"+m[key])
		if w.Code != 200 || w.Body.Len() == 0 {
			t.Fatalf("GET /%s: %d", m[key], w.Code)
		}
		if bytes.Contains(w.Body.Bytes(), []byte("sourceMappingURL")) {
			t.Errorf("%s has a sourceMappingURL comment", m[key])
		}
		if w.Header().Get("Cache-Control") == "" {
			t.Errorf("%s: no Cache-Control", m[key])
		}
		if w := get(t, h, "/"+m[key]+".map"); w.Code != 404 {
			t.Errorf("GET /%s.map: %d, want 404", m[key], w.Code)
		}
	}
	if ct := get(t, h, "/"+m["app.js"]).Header().Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Errorf("bundle content type %q", ct)
	}
	for _, p := range []string{"/assets/", "/manifest.json", "/dist/manifest.json", "/assets/../manifest.json"} {
		if w := get(t, h, p); w.Code == 200 {
			t.Errorf("GET %s: 200, want an error", p)
		}
	}
	err := fs.WalkDir(distFS, "dist", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasSuffix(p, ".map") {
			t.Errorf("embedded %s: source maps must stay out of dist", p)
		}
		if !strings.HasPrefix(p, "dist/assets/") {
			return nil
		}
		mp := filepath.Join("maps", path.Base(p)+".map")
		b, err := os.ReadFile(mp)
		if err != nil {
			t.Errorf("%s has no map: %v", p, err)
			return nil
		}
		c, err := sourcemap.Parse("", b)
		if err != nil {
			t.Errorf("%s: %v", mp, err)
			return nil
		}
		if c.File() != path.Base(p) {
			t.Errorf("%s: file %q, want %q", mp, c.File(), path.Base(p))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCheckoutFailsWithTraceOfCaller(t *testing.T) {
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	tests := []struct {
		name, header, value string
	}{
		{"traceparent", "traceparent", "00-" + traceID + "-00f067aa0ba902b7-01"},
		{"x-trace-id", "X-Trace-ID", traceID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spans := &syncBuffer{}
			h := Handler(Options{Spans: spans, HeroDelay: -1})
			req := httptest.NewRequest("POST", "/api/checkout", strings.NewReader(`{"email":"`+SampleEmail+`","card":"`+SampleCard+`","address":"`+SampleAddress+`"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(tt.header, tt.value)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusInternalServerError {
				t.Fatalf("checkout: %d, want 500", w.Code)
			}
			var body map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if _, ok := body["items"]; ok {
				t.Fatalf("failed checkout has items: %v", body)
			}
			if body["trace_id"] != traceID {
				t.Errorf("body trace_id %v, want %s", body["trace_id"], traceID)
			}
			got := readSpans(t, spans.Bytes())
			names := map[string]span{}
			for _, s := range got {
				if s.SpanContext.TraceID != traceID {
					t.Errorf("span %q has trace %s, want %s", s.Name, s.SpanContext.TraceID, traceID)
				}
				names[s.Name] = s
			}
			server, ok := names["POST /api/checkout"]
			if !ok {
				t.Fatalf("no server span in %s", spans.Bytes())
			}
			if server.Status.Code != "Error" {
				t.Errorf("server span status %q, want Error", server.Status.Code)
			}
			if charge, ok := names["charge card"]; !ok || charge.Parent.SpanID != server.SpanContext.SpanID {
				t.Errorf("charge span %+v is not a child of the server span", charge)
			}
			// Spans must not carry what the user submitted.
			for _, pii := range []string{SampleEmail, SampleCard, SampleAddress} {
				if bytes.Contains(spans.Bytes(), []byte(pii)) {
					t.Errorf("spans contain %q", pii)
				}
			}
		})
	}
}

func TestAPI(t *testing.T) {
	h := Handler(Options{HeroDelay: -1})
	tests := []struct {
		name, method, target, body string
		status                     int
		want                       string
	}{
		{"cart", "GET", "/api/cart", "", 200, `"items":[{"sku":"mug-01"`},
		{"checkout malformed", "POST", "/api/checkout", `{"email":`, 400, `"bad_order"`},
		{"checkout unknown field", "POST", "/api/checkout", `{"email":"a@b.c","card":"1","address":"x","cvv":"1"}`, 400, `"bad_order"`},
		{"checkout missing fields", "POST", "/api/checkout", `{"email":"a@b.c"}`, 400, `required`},
		{"checkout too large", "POST", "/api/checkout", `{"address":"` + strings.Repeat("x", 20<<10) + `"}`, 400, `"bad_order"`},
		{"checkout wrong method", "GET", "/api/checkout", "", 405, `"method_not_allowed"`},
		{"cart wrong method", "DELETE", "/api/cart", "", 405, `"method_not_allowed"`},
		{"unknown endpoint", "GET", "/api/nope", "", 404, `"not_found"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body)))
			if w.Code != tt.status || !strings.Contains(w.Body.String(), tt.want) {
				t.Fatalf("%s %s: %d %s, want %d with %q", tt.method, tt.target, w.Code, w.Body, tt.status, tt.want)
			}
		})
	}
}

func TestHeroImage(t *testing.T) {
	w := get(t, Handler(Options{HeroDelay: -1}), "/img/hero.jpg")
	if w.Code != 200 || w.Header().Get("Content-Type") != "image/jpeg" {
		t.Fatalf("hero: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	cfg, err := jpeg.DecodeConfig(io.Reader(w.Body))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width != 1200 || cfg.Height != 500 {
		t.Fatalf("hero is %dx%d, the page reserves 1200x500", cfg.Width, cfg.Height)
	}
}

func TestPhotos(t *testing.T) {
	h := Handler(Options{HeroDelay: -1})
	var paths []string
	for _, p := range catalog {
		paths = append(paths, "/img/products/"+p.SKU+".jpg")
	}
	for _, c := range categories {
		paths = append(paths, "/img/categories/"+c.Slug+".jpg")
	}
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			w := get(t, h, p)
			if w.Code != 200 || w.Header().Get("Content-Type") != "image/jpeg" {
				t.Fatalf("%d %q", w.Code, w.Header().Get("Content-Type"))
			}
			// Grainy like a photo, so it competes with the hero for the
			// connection as a real one would: not a few hundred bytes.
			if n := w.Body.Len(); n < 4<<10 {
				t.Errorf("%d bytes", n)
			}
			cfg, err := jpeg.DecodeConfig(w.Body)
			if err != nil {
				t.Fatal(err)
			}
			want := productPhoto
			if strings.HasPrefix(p, "/img/categories/") {
				want = categoryPhoto
			}
			if cfg.Width != want || cfg.Height != want {
				t.Errorf("%dx%d, the page says %dx%d", cfg.Width, cfg.Height, want, want)
			}
		})
	}
	for _, p := range []string{"/img/products/nope.jpg", "/img/categories/mug-01.jpg", "/img/other/kitchen.jpg"} {
		if w := get(t, h, p); w.Code != 404 {
			t.Errorf("GET %s: %d, want 404", p, w.Code)
		}
	}
}

// The lab's LCP check (e2e.TestSyntheticReleases) relies on the hero being
// the sixth image: Chrome raises the first five images' priority to Medium
// by itself, so only a hero after them starts Low without fetchpriority.
func TestHeroIsSixthImage(t *testing.T) {
	for _, regress := range []bool{false, true} {
		body := get(t, Handler(Options{HeroDelay: -1, HeroRegression: regress}), "/").Body.String()
		before, _, ok := strings.Cut(body, `<img class="hero" id="hero"`)
		if n := strings.Count(before, "<img "); !ok || n != 5 {
			t.Errorf("regression %v: %d images before the hero (found %v), want 5", regress, n, ok)
		}
		if got := strings.Contains(body, `fetchpriority="high"`); got == regress {
			t.Errorf("regression %v: fetchpriority=high on the page: %v", regress, got)
		}
	}
}

func BenchmarkHomePage(b *testing.B) {
	h := Handler(Options{EdgeURL: "http://edge.test", Key: "rvk_bench", HeroDelay: -1})
	req := httptest.NewRequest("GET", "/", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}
