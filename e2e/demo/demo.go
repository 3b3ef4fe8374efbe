// Package demo is the Rearview demo shop: a small storefront with the bugs
// real frontends have, and a Go backend for its API instrumented with
// OpenTelemetry through [tracecontext.Middleware].
//
// `rearview up` serves it at /demo/, the e2e tests run it as its own process
// (cmd/demoshop). Its bugs, each one of Rearview's features at work:
//
//   - Checkout: POST /api/checkout fails with 500 and a body without "items";
//     the page renders it anyway, so three components (cart list, order
//     summary, header mini-cart) each throw [CheckoutError]: one issue under a
//     custom grouping rule, three different original frames.
//   - A simulated browser extension's content script throws from
//     [ExtensionScriptURL] on every page: noise the edge drops.
//   - The hero image on the home page, between a row of category photos
//     and a grid of product photos, is served after [Options].HeroDelay
//     (LCP), and "Show recommendations" busy-loops about 300 ms (INP).
//     [Options].HeroRegression plants a release regression on top (no
//     fetchpriority, no dimensions: worse LCP and CLS) for synthetic checks.
//   - The checkout form takes an e-mail, a card number and an address, and
//     the pages show personal data under data-rv-mask ([DisplayedPII]): the
//     privacy proof checks none of it leaves the browser unmasked.
//
// The web bundle (web/, TypeScript) is built by esbuild into dist/ (embedded,
// minified, content-hashed, no sourceMappingURL) and maps/ (the source maps,
// never served: upload them with `rearview sourcemaps upload`).
package demo

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/rearview-dev/rearview/sdkproto/tracecontext"
)

// What the shop's bugs produce, for tests that look for them.
const (
	// CheckoutError is the message of the TypeError the checkout throws.
	CheckoutError = "Cannot read properties of undefined (reading 'map')"
	// ExtensionScriptURL is the URL of the frames of the simulated extension's error.
	ExtensionScriptURL = "chrome-extension://abcdefghijklmnop/content.js"
	// ServiceName is the service.name of the backend's spans.
	ServiceName = "demoshop"
)

// Personal data the pages display, each under data-rv-mask.
const (
	SignedInEmail = "jane.doe@example.com"
	SavedPhone    = "020 7946 0958"
)

// Values for tests to type into the checkout form (a valid Luhn test card).
const (
	SampleEmail   = "maria.kowalski@example.org"
	SampleCard    = "4242 4242 4242 4242"
	SampleAddress = "17 Rue des Lilas, 75019 Paris"
)

// DisplayedPII returns the personal data the pages display.
func DisplayedPII() []string { return []string{SignedInEmail, SavedPhone} }

// Options configure [Handler].
type Options struct {
	// EdgeURL is the base URL of the Rearview edge: the page loads the SDK
	// from EdgeURL+"/sdk/v1.js" and sends to it. Empty: no SDK.
	EdgeURL string
	// RegionEdges maps a region to its edge's base URL; a page opened with
	// ?region=NAME uses that edge instead of EdgeURL (links keep the query),
	// so one shop can send sessions through several regions.
	RegionEdges map[string]string
	// Key is the project's ingest key; Release and Environment go to
	// Rearview.init (Release must match the uploaded source maps).
	Key, Release, Environment string
	// Spans, when set, receives the backend's OpenTelemetry spans as JSON
	// lines (stdouttrace), each written when its span ends.
	Spans io.Writer
	// HeroDelay is how long GET /img/hero.jpg waits; 0 means 1.5 s, negative none.
	HeroDelay time.Duration
	// HeroRegression plants the regression a synthetic check must catch in
	// a second release: the hero image loses its fetchpriority and its
	// dimensions. No box is reserved, so the page shifts when it arrives
	// (CLS); and, the sixth image of the page, it starts Low and waits for
	// the first layout to be boosted, after the render-blocking scripts
	// and stylesheet, so it is requested later (LCP).
	HeroRegression bool
	// Logger gets request errors (never request bodies); default slog.Default().
	Logger *slog.Logger
	// Sentry, when set, instruments the pages with @sentry/browser instead
	// of Rearview's SDK, as a Sentry user's shop would be: only the DSN
	// points at Rearview. EdgeURL and RegionEdges are then unused.
	Sentry *Sentry
}

// Sentry configures the pages for @sentry/browser.
type Sentry struct {
	// DSN is the project's DSN (`rearview projects create` prints it).
	DSN string
	// Script is the bundle exposing the global Sentry (package
	// e2e/sentry/browser), served at /sentry/sdk.js.
	Script []byte
	// MaskAllText is replayIntegration's maskAllText (Sentry's default is
	// true). false records the page's text so that the edge's masking,
	// not the SDK's, is what keeps personal data out.
	MaskAllText bool
}

//go:embed dist
var distFS embed.FS

//go:embed pages/*.html
var pagesFS embed.FS

//go:embed maps
var mapsFS embed.FS

// SourceMap is one source map of the embedded bundle.
type SourceMap struct {
	Bundle string // the bundle's path under the shop's root, e.g. assets/app-X.js
	Data   []byte
}

// SourceMaps returns the source maps of the embedded bundle, which the shop
// never serves: `rearview up` uploads them so the demo's errors are
// symbolicated as a user's would be after `rearview sourcemaps upload`.
func SourceMaps() ([]SourceMap, error) {
	entries, err := fs.ReadDir(mapsFS, "maps")
	if err != nil {
		return nil, fmt.Errorf("demo source maps: %w", err)
	}
	var out []SourceMap
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".map") {
			continue
		}
		b, err := mapsFS.ReadFile("maps/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("demo source map %s: %w", e.Name(), err)
		}
		out = append(out, SourceMap{Bundle: "assets/" + strings.TrimSuffix(e.Name(), ".map"), Data: b})
	}
	return out, nil
}

type shop struct {
	opts   Options
	log    *slog.Logger
	pages  map[string]*template.Template
	js     string // assets/app-<hash>.js
	css    string
	tracer trace.Tracer // nil without Options.Spans
	hero   func() ([]byte, error)
	photos map[string]func() ([]byte, error) // by path under img/
}

// Handler returns the shop: pages at / and /checkout, its bundle under
// /assets/, the API under /api/ (wrapped with tracecontext.Middleware) and
// the slow hero image. All links are relative, so it can be mounted under a
// prefix with http.StripPrefix. It panics if the embedded build is broken,
// which the package's tests rule out.
func Handler(opts Options) http.Handler {
	s := &shop{opts: opts, log: opts.Logger, pages: map[string]*template.Template{}}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.opts.HeroDelay == 0 {
		s.opts.HeroDelay = 1500 * time.Millisecond
	}
	if s.opts.Environment == "" {
		s.opts.Environment = "demo"
	}
	manifest, err := readManifest()
	if err != nil {
		panic(err)
	}
	s.js, s.css = manifest["app.js"], manifest["app.css"]
	for _, page := range []string{"home", "checkout"} {
		s.pages[page] = template.Must(template.ParseFS(pagesFS, "pages/layout.html", "pages/"+page+".html"))
	}
	s.hero = sync.OnceValues(heroJPEG)
	s.photos = map[string]func() ([]byte, error){}
	for i, p := range catalog {
		s.photos["products/"+p.SKU+".jpg"] = sync.OnceValues(func() ([]byte, error) { return photoJPEG(i, productPhoto) })
	}
	for i, c := range categories {
		s.photos["categories/"+c.Slug+".jpg"] = sync.OnceValues(func() ([]byte, error) { return photoJPEG(len(catalog)+i, categoryPhoto) })
	}
	if opts.Spans != nil {
		exp, err := stdouttrace.New(stdouttrace.WithWriter(opts.Spans))
		if err != nil {
			panic(fmt.Errorf("span exporter: %w", err))
		}
		tp := sdktrace.NewTracerProvider(
			sdktrace.WithSyncer(exp),
			sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", ServiceName))),
		)
		s.tracer = tp.Tracer("github.com/rearview-dev/rearview/e2e/demo")
	}

	api := http.NewServeMux()
	api.HandleFunc("GET /api/cart", s.cart)
	api.HandleFunc("POST /api/checkout", s.checkout)
	for path, allow := range map[string]string{"/api/cart": "GET, HEAD", "/api/checkout": "POST"} {
		api.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method_not_allowed", "detail": "allowed: " + allow})
		})
	}
	api.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found", "detail": "no such API endpoint"})
	})

	assets, err := fs.Sub(distFS, "dist/assets")
	if err != nil {
		panic(err)
	}
	files := http.StripPrefix("/assets/", http.FileServerFS(assets))

	mux := http.NewServeMux()
	mux.Handle("/api/", tracecontext.Middleware(api, tracecontext.Options{Tracer: s.tracer}))
	mux.HandleFunc("GET /assets/{file}", func(w http.ResponseWriter, r *http.Request) {
		// Source maps are never in dist; refuse them anyway so a stray one
		// dropped there by hand is not served either.
		if strings.HasSuffix(r.PathValue("file"), ".map") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		files.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /img/hero.jpg", s.heroImage)
	mux.HandleFunc("GET /img/{dir}/{file}", s.photo)
	if opts.Sentry != nil {
		mux.HandleFunc("GET /sentry/sdk.js", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			_, _ = w.Write(opts.Sentry.Script)
		})
	}
	mux.HandleFunc("GET /{$}", s.page("home", "Home"))
	mux.HandleFunc("GET /checkout", s.page("checkout", "Checkout"))
	return mux
}

func readManifest() (map[string]string, error) {
	b, err := distFS.ReadFile("dist/manifest.json")
	if err != nil {
		return nil, fmt.Errorf("demo bundle manifest: %w", err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("demo bundle manifest: %w", err)
	}
	if m["app.js"] == "" || m["app.css"] == "" {
		return nil, errors.New("demo bundle manifest: app.js or app.css missing")
	}
	return m, nil
}

type product struct{ SKU, Name, Price string }

// category is one chip of the home page's "shop by category" row.
type category struct{ Slug, Name string }

// The home page is a shop's: a row of category chips above the hero and a
// grid of product photos below it, so the hero (the page's LCP) shares
// the connection with a dozen images, as on a real storefront. The hero is
// the sixth image of the page: Chrome raises the first five to Medium on
// its own, so without fetchpriority the hero starts Low and waits for
// layout to be boosted (see Options.HeroRegression).
var categories = []category{
	{"kitchen", "Kitchen"}, {"bags", "Bags"}, {"lighting", "Lighting"}, {"knitwear", "Knitwear"}, {"outdoor", "Outdoor"},
}

// catalog is the home page's collection, in page order; the cart holds
// the first three.
var catalog = []product{
	{"mug-01", "Trail mug", "€18.00"},
	{"tote-02", "Canvas tote", "€24.00"},
	{"lamp-03", "Desk lamp", "€59.00"},
	{"scarf-04", "Wool scarf", "€35.00"},
	{"boots-05", "Hiking boots", "€129.00"},
	{"flask-06", "Steel flask", "€22.00"},
	{"beanie-07", "Knit beanie", "€19.00"},
	{"pack-08", "Day pack", "€74.00"},
}

type sdkConfig struct {
	Script string
	Init   map[string]any
}

// sentryConfig is what the layout passes to Sentry.init; the integrations
// are built in the page.
type sentryConfig struct {
	Init   map[string]any
	Replay map[string]any
}

func (s *shop) page(name, title string) http.HandlerFunc {
	products := catalog
	return func(w http.ResponseWriter, r *http.Request) {
		edge, query := s.opts.EdgeURL, ""
		if region := r.URL.Query().Get("region"); region != "" {
			u, ok := s.opts.RegionEdges[region]
			if !ok {
				http.Error(w, fmt.Sprintf("unknown region %q", region), http.StatusBadRequest)
				return
			}
			edge, query = u, "?"+url.Values{"region": {region}}.Encode()
		}
		var sdk *sdkConfig
		var sentry *sentryConfig
		if sc := s.opts.Sentry; sc != nil {
			sentry = &sentryConfig{Init: map[string]any{
				"dsn":                      sc.DSN,
				"release":                  s.opts.Release,
				"environment":              s.opts.Environment,
				"tracesSampleRate":         1,
				"replaysSessionSampleRate": 1,
				"replaysOnErrorSampleRate": 1,
			}, Replay: map[string]any{"maskAllText": sc.MaskAllText}}
		} else if edge != "" {
			edge = strings.TrimRight(edge, "/")
			sdk = &sdkConfig{Script: edge + "/sdk/v1.js", Init: map[string]any{
				"endpoint":    edge,
				"key":         s.opts.Key,
				"release":     s.opts.Release,
				"environment": s.opts.Environment,
				"replay":      map[string]any{"sessionSampleRate": 1, "onErrorSampleRate": 1},
			}}
		}
		data := map[string]any{
			"Title": title, "Page": name, "Query": query, "SDK": sdk, "Sentry": sentry,
			"JS": s.js, "CSS": s.css, "Email": SignedInEmail, "Phone": SavedPhone,
			"Products": products, "Categories": categories, "HeroRegression": s.opts.HeroRegression,
		}
		var buf bytes.Buffer
		if err := s.pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
			s.log.Error("demo page", "page", name, "err", err)
			http.Error(w, "page failed", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(buf.Bytes())
	}
}

type item struct {
	SKU   string `json:"sku"`
	Name  string `json:"name"`
	Qty   int    `json:"qty"`
	Price int    `json:"price"` // cents
}

func (s *shop) cart(w http.ResponseWriter, r *http.Request) {
	span := s.start(r, "load cart")
	items := []item{
		{"mug-01", "Trail mug", 2, 1800},
		{"tote-02", "Canvas tote", 1, 2400},
		{"lamp-03", "Desk lamp", 1, 5900},
	}
	total := 0
	for _, it := range items {
		total += it.Qty * it.Price
	}
	span.SetAttributes(attribute.Int("cart.items", len(items)))
	span.End()
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "total": total, "currency": "EUR"})
}

// checkout validates the order and then fails the way a payment outage does:
// 500 with an error body, which has no "items" for the page to render.
func (s *shop) checkout(w http.ResponseWriter, r *http.Request) {
	var order struct {
		Email   string `json:"email"`
		Card    string `json:"card"`
		Address string `json:"address"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&order); err != nil {
		// The error names the problem, never the submitted values.
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad_order", "detail": "the body must be a JSON object with email, card and address"})
		return
	}
	if order.Email == "" || order.Card == "" || order.Address == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad_order", "detail": "email, card and address are required"})
		return
	}
	span := s.start(r, "charge card")
	span.SetAttributes(attribute.String("payment.provider", "acme-pay"))
	span.SetStatus(codes.Error, "payment provider unavailable")
	span.End()
	writeJSON(w, http.StatusInternalServerError, map[string]string{
		"error":    "payment_unavailable",
		"detail":   "the payment provider did not answer",
		"trace_id": trace.SpanContextFromContext(r.Context()).TraceID().String(),
	})
}

// start starts a child span of the request's server span (a no-op span
// when the shop exports none).
func (s *shop) start(r *http.Request, name string) trace.Span {
	if s.tracer == nil {
		return trace.SpanFromContext(r.Context())
	}
	_, span := s.tracer.Start(r.Context(), name)
	return span
}

func (s *shop) heroImage(w http.ResponseWriter, r *http.Request) {
	if d := s.opts.HeroDelay; d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
	}
	b, err := s.hero()
	if err != nil {
		s.log.Error("hero image", "err", err)
		http.Error(w, "image failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	// Every visit pays the delay, so every session has a poor LCP to show.
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}

// photo serves a product's or a category's photo, cacheable as a
// storefront's images are (every Lighthouse run starts with an empty cache).
func (s *shop) photo(w http.ResponseWriter, r *http.Request) {
	draw, ok := s.photos[r.PathValue("dir")+"/"+r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	b, err := draw()
	if err != nil {
		s.log.Error("photo", "path", r.URL.Path, "err", err)
		http.Error(w, "image failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, _ = w.Write(b)
}

// Photo sizes in pixels, square; the pages' width and height attributes
// say the same.
const (
	productPhoto  = 400
	categoryPhoto = 160
)

// photoJPEG draws photo i: a coloured disc on a fabric-like background,
// grainy so that it weighs what a photo of its size does (a smooth
// gradient would compress to almost nothing).
func photoJPEG(i, size int) ([]byte, error) {
	rng := rand.New(rand.NewPCG(uint64(i), 7))
	base := color.RGBA{uint8(90 + 37*i%150), uint8(60 + 53*i%170), uint8(120 + 29*i%120), 255}
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for y := range size {
		for x := range size {
			c := color.RGBA{232, 226, 216, 255}
			if dx, dy := x-size/2, y-size/2; dx*dx+dy*dy < size*size*3/20 {
				c = base
			}
			n := rng.IntN(32) - 16
			img.Set(x, y, color.RGBA{clamp(int(c.R) + n), clamp(int(c.G) + n), clamp(int(c.B) + n), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		return nil, fmt.Errorf("encode photo %d: %w", i, err)
	}
	return buf.Bytes(), nil
}

func clamp(v int) uint8 { return uint8(min(max(v, 0), 255)) }

// heroJPEG draws the hero image: a warm gradient with a few hills.
func heroJPEG() ([]byte, error) {
	const w, h = 1200, 500
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{uint8(240 - y/5), uint8(150 + x/20), uint8(90 + y/4), 255}
			if hill := h - 120 - (x%400-200)*(x%400-200)/600; y > hill {
				c = color.RGBA{uint8(60 + x/40), uint8(90 + y/10), 70, 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		return nil, fmt.Errorf("encode hero image: %w", err)
	}
	return buf.Bytes(), nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
