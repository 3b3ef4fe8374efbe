package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	_ "image/png" // screenshots
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/rearview-dev/rearview/coordinator/blob"
	"github.com/rearview-dev/rearview/coordinator/replaypack"
	"github.com/rearview-dev/rearview/e2e/demo"
	"github.com/rearview-dev/rearview/e2e/proc"
	"github.com/rearview-dev/rearview/internal/testenv"
	"github.com/rearview-dev/rearview/sdkproto"
)

// A desktop Chrome without "Headless" in it: the edge rightly drops
// headless browsers as bots, and these sessions play real users.
const (
	userUA    = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	crawlerUA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
	mobileUA  = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"
	release   = "e2e-3f9c2a1"
)

var buildDemoshop = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "rearview-e2e-demoshop")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "demoshop")
	cmd := exec.Command("go", "build", "-o", bin, "./e2e/demo/cmd/demoshop")
	cmd.Dir = testenv.RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build demoshop: %v: %s", err, out)
	}
	return bin, nil
})

// deployment is everything TestDemoShop runs, each its own process.
type deployment struct {
	bin, logDir      string
	natsURL, natsDir string
	dataDir          string
	minio            *testenv.MinIO
	bucket           string
	api              string
	admin            string
	project          string
	key              string
	edges            map[string]string // region → URL
	shop             string
	spans            string
}

func (d *deployment) cli(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(d.bin, args...)
	cmd.Env = append(os.Environ(), "REARVIEW_URL="+d.api, "REARVIEW_TOKEN="+d.admin, "REARVIEW_PROJECT="+d.project, "REARVIEW_NATS_URL="+d.natsURL)
	out, err := cmd.CombinedOutput()
	// CLI output is part of "every process's log" for the privacy proof.
	os.WriteFile(filepath.Join(d.logDir, fmt.Sprintf("cli-%d.log", time.Now().UnixNano())), out, 0o644)
	if err != nil {
		t.Fatalf("rearview %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// newDeployment starts a deployment's NATS server and MinIO, its processes
// to be started by the caller; a failed test prints the tail of every
// process's log.
func newDeployment(t *testing.T, admin, bucket string) *deployment {
	t.Helper()
	d := &deployment{bin: rearviewBin(t), logDir: t.TempDir(), dataDir: t.TempDir(), admin: admin, bucket: bucket, edges: map[string]string{}}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		logs, _ := filepath.Glob(filepath.Join(d.logDir, "*.log"))
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			if len(b) > 3000 {
				b = b[len(b)-3000:]
			}
			t.Logf("--- %s (tail) ---\n%s", filepath.Base(l), b)
		}
	})
	d.natsURL, d.natsDir = natsServer(t, d.logDir)
	d.minio = testenv.StartMinIO(t)
	return d
}

func startDeployment(t *testing.T) *deployment {
	t.Helper()
	d := newDeployment(t, "rva_e2e_shop_admin", "rearview-e2e")
	apiAddr := proc.Addr(t)
	proc.Start(t, d.logDir, "coordinator", d.bin, nil, "coordinator", "--nats-url", d.natsURL, "--listen", apiAddr,
		"--data-dir", d.dataDir, "--admin-token", d.admin, "--trace-url", "https://traces.example.com/trace/{trace_id}",
		"--s3-endpoint", d.minio.Endpoint, "--s3-bucket", d.bucket, "--s3-access-key", d.minio.AccessKey, "--s3-secret-key", d.minio.SecretKey,
		// Sessions are packed soon after they go quiet, so that the privacy
		// proof searches packs too.
		"--replay-pack-after", "2s")
	d.api = "http://" + apiAddr
	waitHTTP(t, d.api+"/readyz")

	var proj struct {
		ID        string `json:"id"`
		IngestKey string `json:"ingest_key"`
	}
	if st := api(t, "POST", d.api+"/api/v1/projects", d.admin, map[string]string{"name": "Shop"}, &proj); st != 201 {
		t.Fatalf("create project: %d", st)
	}
	d.project, d.key = proj.ID, proj.IngestKey

	// Policy: every session's replay kept (the default samples 10%), and
	// region eu strict: all text masked before it leaves the region.
	policy := filepath.Join(t.TempDir(), "policy.json")
	os.WriteFile(policy, []byte(`{"sampling":{"rate":1},"regions":{"eu":{"masking":{"strict":true}}}}`), 0o644)
	d.cli(t, "filter", "set-policy", d.project, policy)

	for _, region := range []string{"eu", "us"} {
		a := proc.Addr(t)
		proc.Start(t, d.logDir, "edge-"+region, d.bin, nil, "edge", "--region", region, "--nats-url", d.natsURL, "--listen", a, "--country-header", "CF-IPCountry")
		waitHTTP(t, "http://"+a+"/readyz")
		// Browsers reach each edge through a CDN that names the client's
		// country in a trusted header, as Cloudflare's CF-IPCountry does.
		d.edges[region] = cdn(t, "http://"+a, map[string]string{"eu": "DE", "us": "US"}[region])
	}

	// The shop's source maps go up like a CI step would send them, from a
	// copy of the build, stripped afterwards.
	build := t.TempDir()
	copyDir(t, filepath.Join(testenv.RepoRoot(), "e2e/demo/maps"), build)
	d.cli(t, "sourcemaps", "upload", "--release", release, "--url-prefix", "~/assets", "--strip", build)
	if left, _ := filepath.Glob(filepath.Join(build, "*.map")); len(left) != 0 {
		t.Fatalf("--strip left %v", left)
	}
	rules := filepath.Join(t.TempDir(), "rules.txt")
	os.WriteFile(rules, []byte(`error.type:"TypeError" error.value:"*reading 'map'*" -> checkout-map-undefined`+"\n"), 0o644)
	d.cli(t, "issues", "rules", "set", rules)

	d.spans = filepath.Join(t.TempDir(), "spans.jsonl")
	d.shop = d.startShop(t, "demoshop", release, "--spans", d.spans)
	return d
}

// startShop runs a demo shop of release sending to the deployment's edges
// and returns its URL.
func (d *deployment) startShop(t *testing.T, name, release string, extra ...string) string {
	t.Helper()
	shopBin, err := buildDemoshop()
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--addr", "127.0.0.1:0", "--edge", d.edges["us"], "--key", d.key,
		"--release", release, "--region-edge", "eu=" + d.edges["eu"], "--region-edge", "us=" + d.edges["us"]}, extra...)
	shop := proc.Start(t, d.logDir, name, shopBin, nil, args...)
	re := regexp.MustCompile(`demoshop listening on (http://\S+)`)
	var u string
	testenv.Eventually(t, 20*time.Second, func() error {
		b, _ := os.ReadFile(shop.Log)
		if m := re.FindSubmatch(b); m != nil {
			u = string(m[1])
			return nil
		}
		return fmt.Errorf("demoshop not listening yet")
	})
	return u
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		os.MkdirAll(filepath.Dir(filepath.Join(to, rel)), 0o755)
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// cdn is a reverse proxy in front of an edge that adds the client's
// country the way a CDN does.
func cdn(t *testing.T, edge, country string) string {
	t.Helper()
	u, _ := url.Parse(edge)
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("CF-IPCountry", country)
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// tab opens a browser tab that presents ua.
func tab(t *testing.T, browser context.Context, ua string) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	err := chromedp.Do(ctx, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua})
		return chromedp.Void{}, err
	})
	if err != nil {
		t.Fatalf("open tab: %v", err)
	}
	return ctx
}

// shopSession browses the shop like a customer through one region: the
// home page (slow hero image, a long task), then checkout, typing personal
// data and placing an order that breaks.
func shopSession(t *testing.T, ctx context.Context, d *deployment, region string) {
	t.Helper()
	q := "?region=" + region
	step := func(what string, a ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, a...); err != nil {
			t.Fatalf("%s session: %s: %v", region, what, err)
		}
	}
	// Arrive from a link that carries personal data in the query, encoded
	// as search forms and mail links write it, under neutral names: the
	// edge must find it decoded and mask it in its encoded bytes (the
	// page URL, the session's events, the replay's meta event).
	step("open the shop", chromedp.Navigate(d.shop+"/"+q+piiQuery), chromedp.WaitVisible(`body[data-ready="true"]`))
	lookAtHero(t, ctx, region)
	step("show recommendations", chromedp.Click(`#recommend`), chromedp.WaitVisible(`#recommended li`))
	waitTimed(t, ctx, region)
	step("go to checkout", chromedp.Click(`#to-checkout`), chromedp.WaitVisible(`body[data-ready="true"]`))
	step("type personal data",
		chromedp.SendKeys(`#email`, demo.SampleEmail),
		chromedp.SendKeys(`#card`, demo.SampleCard),
		chromedp.SendKeys(`#address`, demo.SampleAddress))
	// The control for the privacy proof: the data really was on the page.
	typed, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#email').value + '|' + document.querySelector('#card').value`))
	if err != nil || typed != demo.SampleEmail+"|"+demo.SampleCard {
		t.Fatalf("typed %q (%v)", typed, err)
	}
	step("place the order", chromedp.Click(`#place-order`), chromedp.WaitVisible(`#checkout-status`))
	time.Sleep(500 * time.Millisecond) // let the three components throw
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`Rearview.flush().then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatalf("%s session: flush: %v", region, err)
	}
	// Leaving the page reports the last vitals (LCP, INP, CLS) on pagehide.
	step("leave", chromedp.Navigate("about:blank"))
}

// heroPainted resolves once the browser has painted the hero image as the
// page's largest contentful paint.
const heroPainted = `new Promise((resolve) => new PerformanceObserver((list, o) => {
  if (list.getEntries().some((e) => e.element && e.element.id === "hero")) { o.disconnect(); resolve(true); }
}).observe({ type: "largest-contentful-paint", buffered: true }))`

// interactionTimed resolves once the browser has timed an interaction
// (an event timing entry with an interaction id), which it does only after
// the frame that follows it is painted, and once web-vitals has processed
// it: its observer, registered before this one, is called first with the
// same entries and processes them in an idle callback of at most a second,
// which this waits behind.
const interactionTimed = `new Promise((resolve) => new PerformanceObserver((list, o) => {
  if (list.getEntries().some((e) => e.interactionId > 0)) {
    o.disconnect();
    requestIdleCallback(() => setTimeout(() => resolve(true)), { timeout: 1500 });
  }
}).observe({ type: "event", buffered: true, durationThreshold: 16 }))`

// waitTimed waits until the last interaction has been timed: a page left
// before that, on a busy machine, reports no INP for it.
func waitTimed(t *testing.T, ctx context.Context, who string) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Run(wctx, chromedp.Evaluate[bool](interactionTimed, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatalf("%s session: the interaction was never timed: %v", who, err)
	}
}

// lookAtHero waits, as a customer would, until the slow hero image is on
// screen: input before it is painted ends LCP measurement without it (and
// the replay's first full snapshot, taken at load, can hold the paint back
// while the click is already queued).
func lookAtHero(t *testing.T, ctx context.Context, who string) {
	t.Helper()
	hctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Run(hctx, chromedp.Evaluate[bool](heroPainted, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatalf("%s session: hero image never painted as LCP: %v", who, err)
	}
}

// mobileSession visits the home page on a phone: the slow hero image
// (LCP) and the recommendations, then leaves.
func mobileSession(t *testing.T, browser context.Context, d *deployment) {
	t.Helper()
	ctx := tab(t, browser, mobileUA)
	err := chromedp.Do(ctx, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: 390, Height: 844, DeviceScaleFactor: 3, Mobile: true})
		return chromedp.Void{}, err
	})
	if err != nil {
		t.Fatalf("mobile viewport: %v", err)
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, chromedp.Navigate(d.shop+"/?region=us"), chromedp.WaitVisible(`body[data-ready="true"]`)); err != nil {
		t.Fatalf("mobile session: open the shop: %v", err)
	}
	lookAtHero(t, sctx, "mobile")
	if err := chromedp.Do(sctx, chromedp.Click(`#recommend`), chromedp.WaitVisible(`#recommended li`), chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("mobile session: %v", err)
	}
}

func TestDemoShop(t *testing.T) {
	d := startDeployment(t)

	// Watch the stream and the live tail from the start: the live list
	// must show a session within 1 s of its first event on NATS.
	nc, err := nats.Connect(d.natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var mu sync.Mutex
	firstOnNATS, firstLive := map[string]time.Time{}, map[string]time.Time{}
	sub, err := nc.Subscribe(sdkproto.SubjectAll, func(m *nats.Msg) {
		var b struct {
			Session struct{ ID string } `json:"session"`
		}
		if json.Unmarshal(m.Data, &b) == nil && b.Session.ID != "" {
			mu.Lock()
			if _, ok := firstOnNATS[b.Session.ID]; !ok {
				firstOnNATS[b.Session.ID] = time.Now()
			}
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(d.api, "http")+"/api/v1/live?project="+d.project, http.Header{"Authorization": {"Bearer " + d.admin}})
	if err != nil {
		t.Fatalf("live tail: %v", err)
	}
	defer ws.Close()
	go func() {
		for {
			var m struct {
				Type     string `json:"type"`
				Sessions []struct {
					ID string `json:"id"`
				} `json:"sessions"`
			}
			if err := ws.ReadJSON(&m); err != nil {
				return
			}
			now := time.Now()
			mu.Lock()
			for _, s := range m.Sessions {
				if _, ok := firstLive[s.ID]; !ok {
					firstLive[s.ID] = now
				}
			}
			mu.Unlock()
		}
	}()

	// The browser's own user agent too: beacons sent after a page is gone
	// carry it, not a tab's override.
	browser := testenv.Browser(t, chromedp.UserAgent(userUA))
	shopSession(t, tab(t, browser, userUA), d, "us")
	shopSession(t, tab(t, browser, userUA), d, "eu")
	crawler := tab(t, browser, crawlerUA)
	if err := chromedp.Do(crawler, chromedp.Navigate(d.shop+"/?region=us"), chromedp.WaitVisible(`body[data-ready="true"]`)); err != nil {
		t.Fatalf("crawler: %v", err)
	}
	chromedp.Run(crawler, chromedp.Evaluate[bool](`Rearview.flush().then(() => true)`, chromedp.EvalAwaitPromise))

	// Sessions by region, as the coordinator indexed them.
	type session struct {
		ID          string `json:"id"`
		Region      string `json:"region"`
		Country     string `json:"country"`
		DeviceClass string `json:"device_class"`
		Segments    int    `json:"segments"`
		Errors      int    `json:"errors"`
	}
	byRegion := map[string]session{}
	testenv.Eventually(t, 60*time.Second, func() error {
		var out struct{ Sessions []session }
		if st := api(t, "GET", d.api+"/api/v1/sessions?project="+d.project, d.admin, nil, &out); st != 200 {
			return fmt.Errorf("sessions: %d", st)
		}
		for _, s := range out.Sessions {
			byRegion[s.Region] = s
		}
		for _, r := range []string{"eu", "us"} {
			if s := byRegion[r]; s.Segments == 0 || s.Errors == 0 {
				return fmt.Errorf("region %s: %+v, want replay segments and errors", r, s)
			}
		}
		if len(out.Sessions) != 2 {
			return fmt.Errorf("%d sessions, want 2 (the crawler's is dropped)", len(out.Sessions))
		}
		return nil
	})
	us, eu := byRegion["us"], byRegion["eu"]
	if us.Country != "US" || eu.Country != "DE" || us.DeviceClass != "desktop" {
		t.Errorf("sessions: us %+v, eu %+v", us, eu)
	}

	t.Run("live tail within 1 s", func(t *testing.T) {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range []session{us, eu} {
			first, live := firstOnNATS[s.ID], firstLive[s.ID]
			if first.IsZero() || live.IsZero() {
				t.Fatalf("session %s: first on NATS %v, in the live list %v", s.ID, first, live)
			}
			if lag := live.Sub(first); lag > time.Second {
				t.Errorf("session %s showed in the live list %v after its first event", s.ID, lag)
			}
		}
	})

	var issue struct {
		Issue struct {
			ID     string `json:"id"`
			Title  string `json:"title"`
			Count  int    `json:"count"`
			Status string `json:"status"`
			Rule   string `json:"rule"`
		} `json:"issue"`
		LatestEvent struct {
			ID      string          `json:"id"`
			TraceID string          `json:"trace_id"`
			Payload json.RawMessage `json:"payload"`
		} `json:"latest_event"`
	}
	t.Run("checkout error is one symbolicated issue", func(t *testing.T) {
		var list struct {
			Issues []struct {
				ID    string `json:"id"`
				Title string `json:"title"`
				Count int    `json:"count"`
			} `json:"issues"`
		}
		testenv.Eventually(t, 30*time.Second, func() error {
			if st := api(t, "GET", d.api+"/api/v1/issues?project="+d.project, d.admin, nil, &list); st != 200 {
				return fmt.Errorf("issues: %d", st)
			}
			n := 0
			for _, is := range list.Issues {
				if strings.Contains(is.Title, "reading 'map'") {
					n++
				}
			}
			if n != 1 {
				return fmt.Errorf("%d checkout issues, want 1: %+v", n, list.Issues)
			}
			return nil
		})
		for _, is := range list.Issues {
			if strings.Contains(is.Title, "chrome-extension") {
				t.Errorf("the extension's error became an issue: %+v", is)
			}
			if strings.Contains(is.Title, "reading 'map'") {
				if is.Count < 6 {
					t.Errorf("checkout issue counts %d events, want the 3 components × 2 sessions", is.Count)
				}
				if st := api(t, "GET", d.api+"/api/v1/issues/"+is.ID+"?project="+d.project, d.admin, nil, &issue); st != 200 {
					t.Fatalf("issue: %d", st)
				}
				// The three components' stacks differ: only the custom
				// rule makes them one issue.
				if !strings.HasSuffix(issue.Issue.Rule, `-> "checkout-map-undefined"`) {
					t.Errorf("checkout issue grouped by rule %q, want the checkout-map-undefined rule", issue.Issue.Rule)
				}
			}
		}
		var ev struct {
			Error struct {
				Stack []struct {
					URL      string `json:"url"`
					InApp    bool   `json:"in_app"`
					Original *struct {
						Source   string `json:"source"`
						Function string `json:"function"`
						Line     int    `json:"line"`
					} `json:"original"`
					UnresolvedReason string `json:"unresolved_reason"`
				} `json:"stack"`
			} `json:"error"`
		}
		if err := json.Unmarshal(issue.LatestEvent.Payload, &ev); err != nil || len(ev.Error.Stack) == 0 {
			t.Fatalf("latest event payload: %v: %s", err, issue.LatestEvent.Payload)
		}
		top := ev.Error.Stack[0]
		if top.Original == nil {
			t.Fatalf("top frame unresolved: %+v", top)
		}
		// The line in the TypeScript source that reads cart.items.map(.
		src := filepath.Join(testenv.RepoRoot(), "e2e/demo/web", strings.TrimLeft(strings.ReplaceAll(top.Original.Source, "../", ""), "/"))
		want := lineOf(t, src, "items.map(")
		if !strings.HasPrefix(top.Original.Source, "src/components/") && !strings.Contains(top.Original.Source, "/components/") {
			t.Errorf("top frame source %q, want a component's TypeScript file", top.Original.Source)
		}
		if top.Original.Line != want || top.Original.Function == "" {
			t.Errorf("top frame %s:%d %s, want line %d with its function", top.Original.Source, top.Original.Line, top.Original.Function, want)
		}
	})

	t.Run("trace id joins browser and backend", func(t *testing.T) {
		tid := issue.LatestEvent.TraceID
		if len(tid) != 32 {
			t.Fatalf("error event trace id %q", tid)
		}
		spans, err := os.ReadFile(d.spans)
		if err != nil || !bytes.Contains(spans, []byte(tid)) {
			t.Fatalf("the backend recorded no span with trace id %s (%v)", tid, err)
		}
		var found struct {
			Events []struct {
				ID string `json:"id"`
			} `json:"events"`
		}
		if st := api(t, "GET", d.api+"/api/v1/events?project="+d.project+"&trace_id="+tid, d.admin, nil, &found); st != 200 || len(found.Events) == 0 {
			t.Fatalf("events by trace id: %d %+v", st, found)
		}
	})

	t.Run("noise dropped and counted by reason", func(t *testing.T) {
		testenv.Eventually(t, 20*time.Second, func() error {
			got := outcomes(t, d)
			if got["browser-extensions"] == 0 || got["web-crawlers"] == 0 {
				return fmt.Errorf("outcomes %v, want browser-extensions and web-crawlers", got)
			}
			return nil
		})
	})

	s3, err := blob.NewS3(context.Background(), blob.S3Config{Endpoint: d.minio.Endpoint, Bucket: d.bucket, AccessKey: d.minio.AccessKey, SecretKey: d.minio.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("replays in MinIO; eu masked whole", func(t *testing.T) {
		for _, s := range []session{us, eu} {
			text := replayText(t, d, s.ID)
			n := 0
			s3.List(context.Background(), "replays/"+d.project+"/", func(i blob.Info) bool {
				if strings.Contains(i.Key, "/"+s.ID+"/") {
					n++
				}
				return true
			})
			if n == 0 {
				t.Errorf("no replay object of session %s in MinIO", s.ID)
			}
			hasWords := regexp.MustCompile(`[A-Za-z]{3,}`).MatchString(text)
			switch s.Region {
			case "us":
				if !strings.Contains(text, "Rearview Outfitters") {
					t.Errorf("us replay does not show the shop's text")
				}
			case "eu":
				if hasWords {
					t.Errorf("eu replay (strict) shows words: %.200q", text)
				}
			}
		}
	})

	t.Run("replay plays in the player", func(t *testing.T) {
		ctx := tab(t, browser, userUA)
		sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		// The replayed checkout form: layout there, typed values masked.
		playReplay(t, sctx, d, us.ID, 20*time.Second, false)
		shot, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(testenv.RepoRoot(), "e2e/screenshots"), 0o755); err == nil {
			os.WriteFile(filepath.Join(testenv.RepoRoot(), "e2e/screenshots/replay.png"), shot, 0o644)
		}
		if colours := distinctColours(t, shot); colours < 8 {
			t.Errorf("replay screenshot has %d colours: blank", colours)
		}
	})

	t.Run("player pages", func(t *testing.T) {
		// Signed in by the replay step: the cookie lives in the browser.
		ctx := tab(t, browser, userUA)
		pages := []struct{ name, path, ready string }{
			{"issue", "/player/issues/" + issue.Issue.ID + "?project=" + d.project, `.frame`},
			{"issues", "/player/issues?project=" + d.project, `table.data tbody tr`},
			{"live", "/player/live?project=" + d.project, `tr[data-href^="/player/live/"]`},
			{"vitals", "/player/vitals?project=" + d.project, `table.data tbody tr`},
		}
		os.MkdirAll(filepath.Join(testenv.RepoRoot(), "e2e/screenshots"), 0o755)
		for _, p := range pages {
			sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			err := chromedp.Do(sctx, chromedp.Navigate(d.api+p.path), chromedp.WaitVisible(p.ready))
			if err == nil {
				time.Sleep(time.Second) // let charts and lists settle
				var shot []byte
				if shot, err = chromedp.Run(sctx, chromedp.FullScreenshot(100)); err == nil {
					err = os.WriteFile(filepath.Join(testenv.RepoRoot(), "e2e/screenshots", p.name+".png"), shot, 0o644)
				}
			}
			cancel()
			if err != nil {
				t.Errorf("%s page: %v", p.name, err)
			}
		}
	})

	t.Run("vitals by device class", func(t *testing.T) {
		// What was stored, for a failure to show.
		storedVitals := func() string {
			var evs struct {
				Events []struct {
					URL       string `json:"url"`
					SessionID string `json:"session_id"`
					Event     struct {
						Vital struct {
							Name  string  `json:"name"`
							Value float64 `json:"value"`
						} `json:"vital"`
					} `json:"event"`
				} `json:"events"`
			}
			api(t, "GET", d.api+"/api/v1/events?project="+d.project+"&kind=vital", d.admin, nil, &evs)
			var seen []string
			for _, e := range evs.Events {
				seen = append(seen, fmt.Sprintf("%s %s %s=%v", e.SessionID, e.URL, e.Event.Vital.Name, e.Event.Vital.Value))
			}
			var bd json.RawMessage
			api(t, "GET", d.api+"/api/v1/vitals/breakdown?project="+d.project+"&metric=LCP&by=device", d.admin, nil, &bd)
			return strings.Join(seen, "; ") + "; by device: " + string(bd)
		}
		mobileSession(t, browser, d)
		testenv.Eventually(t, 20*time.Second, func() error {
			var v struct {
				Count int     `json:"count"`
				P75   float64 `json:"p75"`
			}
			if st := api(t, "GET", d.api+"/api/v1/vitals?project="+d.project+"&metric=LCP&device=desktop", d.admin, nil, &v); st != 200 || v.Count == 0 {
				return fmt.Errorf("LCP for desktop: %d %+v", st, v)
			}
			// The home page's hero image arrives after 1.5 s: a poor LCP
			// on route "/".
			var home struct {
				Count int     `json:"count"`
				P75   float64 `json:"p75"`
			}
			api(t, "GET", d.api+"/api/v1/vitals?project="+d.project+"&metric=LCP&route=/", d.admin, nil, &home)
			if home.Count == 0 || home.P75 < 1000 {
				return fmt.Errorf("LCP of the home page: %+v, want the slow hero image; vitals stored: %s", home, storedVitals())
			}
			// Only the phone's session counts as mobile; the
			// recommendations button (a ~300 ms long task) is the home
			// page's INP.
			for _, c := range []struct {
				query            string
				minCount, maxCnt int
				minP75           float64
			}{
				{"metric=LCP&device=mobile", 1, 1, 1000},
				{"metric=INP&device=desktop&route=/", 1, 2, 200},
			} {
				var got struct {
					Count int     `json:"count"`
					P75   float64 `json:"p75"`
				}
				api(t, "GET", d.api+"/api/v1/vitals?project="+d.project+"&"+c.query, d.admin, nil, &got)
				if got.Count < c.minCount || got.Count > c.maxCnt || got.P75 < c.minP75 {
					var ss struct {
						Sessions []session `json:"sessions"`
					}
					api(t, "GET", d.api+"/api/v1/sessions?project="+d.project, d.admin, nil, &ss)
					return fmt.Errorf("%s: %+v, want %d to %d samples with p75 ≥ %v; sessions: %+v; vitals stored: %s", c.query, got, c.minCount, c.maxCnt, c.minP75, ss.Sessions, storedVitals())
				}
			}
			return nil
		})
	})

	t.Run("issues from the command line", func(t *testing.T) {
		id := issue.Issue.ID
		if out := d.cli(t, "issues", "list"); !strings.Contains(out, id) || !strings.Contains(out, "reading 'map'") {
			t.Errorf("issues list:\n%s", out)
		}
		// The stack as the CLI prints it is the original TypeScript.
		if out := d.cli(t, "issues", "show", id); !strings.Contains(out, "src/components/") || !strings.Contains(out, "checkout-map-undefined") {
			t.Errorf("issues show:\n%s", out)
		}
		if out := d.cli(t, "issues", "resolve", id, "--release", release); !strings.Contains(out, id+" resolved in release "+release) {
			t.Errorf("issues resolve:\n%s", out)
		}
		if out := d.cli(t, "issues", "list"); strings.Contains(out, id) {
			t.Errorf("a resolved issue is listed as unresolved:\n%s", out)
		}
		if out := d.cli(t, "issues", "list", "--status", "resolved"); !strings.Contains(out, id) {
			t.Errorf("issues list --status resolved:\n%s", out)
		}
		d.cli(t, "issues", "reopen", id)
		if out := d.cli(t, "issues", "list"); !strings.Contains(out, id) {
			t.Errorf("a reopened issue is not listed:\n%s", out)
		}
	})

	t.Run("privacy proof", func(t *testing.T) {
		// By now each replayed session has been packed (2 s after its last
		// segment): the proof searches the packs too.
		testenv.Eventually(t, 60*time.Second, func() error {
			for _, sess := range []session{us, eu} {
				packs := 0
				s3.List(context.Background(), "replays/"+d.project+"/", func(i blob.Info) bool {
					if strings.Contains(i.Key, "/"+sess.ID+"/") && strings.HasSuffix(i.Key, ".rvp") {
						packs++
					}
					return true
				})
				if packs == 0 {
					return fmt.Errorf("session %s not packed yet", sess.ID)
				}
			}
			return nil
		})
		// The control for the URL the shopper arrived by: each of its
		// query's parameters reached the stream, masked in its encoded
		// bytes with its layout kept (the stream's JSON escapes the '&'
		// between them).
		checkNoPII(t, d, nc, s3, strings.Split(strings.TrimPrefix(piiQueryMasked, "&"), "&")...)
	})
}

// outcomes returns what the edges dropped for the deployment's project, by
// reason.
func outcomes(t *testing.T, d *deployment) map[string]int {
	t.Helper()
	var out struct {
		Outcomes []struct {
			Reason string `json:"reason"`
			Count  int    `json:"count"`
		} `json:"outcomes"`
	}
	api(t, "GET", d.api+"/api/v1/outcomes?project="+d.project, d.admin, nil, &out)
	got := map[string]int{}
	for _, o := range out.Outcomes {
		got[o.Reason] += o.Count
	}
	return got
}

// playReplay opens a session's replay in the player (signing in as admin),
// steps it until the replayed page shows the shop (and a form, with
// inputs), and checks that nothing of piiStrings is shown in its text or
// its inputs. The tab stays on the replay.
func playReplay(t *testing.T, ctx context.Context, d *deployment, session string, wait time.Duration, inputs bool) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(d.api+"/player/replay/"+session+"?project="+d.project),
		chromedp.WaitVisible(`#token`),
		chromedp.SendKeys(`#token`, d.admin),
		chromedp.Click(`form.signin button[type=submit]`),
		chromedp.WaitVisible(`.stage[data-ready="true"]`),
	)
	if err != nil {
		t.Fatalf("open replay: %v", err)
	}
	var state struct {
		Inputs []string `json:"inputs"`
		Text   string   `json:"text"`
	}
	testenv.Eventually(t, wait, func() error {
		chromedp.Do(ctx, chromedp.KeyEvent("→"))
		st, err := chromedp.Run(ctx, chromedp.Evaluate[json.RawMessage](`(() => {
			const f = document.querySelector('.stage iframe'); const doc = f && f.contentDocument;
			if (!doc || !doc.body) return {inputs: [], text: ''};
			return {inputs: [...doc.querySelectorAll('input')].map(i => i.value), text: doc.body.textContent};
		})()`))
		if err != nil {
			return err
		}
		json.Unmarshal(st, &state)
		if !strings.Contains(state.Text, "Rearview Outfitters") || (inputs && len(state.Inputs) == 0) {
			return fmt.Errorf("replayed page: text %.100q, %d inputs", state.Text, len(state.Inputs))
		}
		return nil
	})
	all := strings.Join(state.Inputs, "|") + state.Text
	for _, pii := range piiStrings() {
		if strings.Contains(all, pii) {
			t.Errorf("the replay shows %q", pii)
		}
	}
}

// checkNoPII is the privacy proof: none of piiStrings is in any message of
// the NATS stream (data and headers) or NATS's files, in any MinIO object
// (brotli objects decompressed), in the data dir (the SQLite file and its
// WAL) or in any process's log. Each of controls, the masked forms the
// caller expects, must be on the stream: what was masked still arrived.
func checkNoPII(t *testing.T, d *deployment, nc *nats.Conn, s3 *blob.S3, controls ...string) {
	t.Helper()
	pii := piiStrings()
	seen := map[string]bool{}
	check := func(where string, b []byte) {
		for _, p := range pii {
			if bytes.Contains(b, []byte(p)) {
				t.Errorf("%q found in %s", p, where)
			}
		}
	}
	// The NATS stream, read back raw: every message and its headers.
	js, _ := jetstream.New(nc)
	cons, err := js.OrderedConsumer(context.Background(), sdkproto.StreamName, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	info, _ := js.Stream(context.Background(), sdkproto.StreamName)
	total := info.CachedInfo().State.Msgs
	read := uint64(0)
	for read < total {
		batch, err := cons.Fetch(500, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			check("NATS message "+m.Subject(), m.Data())
			for _, c := range controls {
				if bytes.Contains(m.Data(), []byte(c)) {
					seen[c] = true
				}
			}
			for k, v := range m.Headers() {
				check("NATS header "+k, []byte(strings.Join(v, ",")))
			}
		}
		if n == 0 {
			break
		}
		read += uint64(n)
	}
	if read == 0 || read < total {
		t.Fatalf("read %d of %d stream messages", read, total)
	}
	if len(seen) != len(controls) {
		t.Errorf("the stream holds %v of the masked forms %q", seen, controls)
	}
	walkFiles(t, d.natsDir, check)

	// Every MinIO object, decompressed.
	objects := 0
	s3.List(context.Background(), "", func(i blob.Info) bool {
		rc, err := s3.Get(context.Background(), i.Key)
		if err != nil {
			t.Errorf("get %s: %v", i.Key, err)
			return true
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		check("MinIO "+i.Key, b)
		if strings.HasSuffix(i.Key, ".br") {
			raw, err := io.ReadAll(brotli.NewReader(bytes.NewReader(b)))
			if err != nil {
				t.Errorf("decompress %s: %v", i.Key, err)
			}
			check("MinIO "+i.Key+" (decompressed)", raw)
		}
		if strings.HasSuffix(i.Key, ".rvp") {
			raw, err := replaypack.Unpack(bytes.NewReader(b))
			if err != nil {
				t.Errorf("unpack %s: %v", i.Key, err)
			}
			check("MinIO "+i.Key+" (unpacked)", raw)
		}
		objects++
		return true
	})
	if objects == 0 {
		t.Fatal("no objects in MinIO to check")
	}
	// The SQLite file (and its WAL) and every process's log.
	walkFiles(t, d.dataDir, check)
	walkFiles(t, d.logDir, check)
}

// piiQuery is the query of the link a customer arrives by (see
// shopSession): a card number '+'-encoded, a phone number with its '+' as
// %2B and spaces as %20, an e-mail address with %40.
const piiQuery = "&q=4242+4242+4242+4242&note=%2B33%201%2023%2045%2067%2089&from=maria.kowalski%40example.org"

// piiQueryMasked is piiQuery as the edge forwards it.
const piiQueryMasked = "&q=****+****+****+****&note=*****%20*%20**%20**%20**%20**&from=****************************"

func piiStrings() []string {
	return append([]string{
		demo.SampleEmail, demo.SampleCard, strings.ReplaceAll(demo.SampleCard, " ", ""), demo.SampleAddress, "Rue des Lilas",
		// piiQuery's values as the browser sends them, and decoded.
		"4242+4242+4242+4242", "%2B33%201%2023%2045%2067%2089", "2045%2067%2089", "+33 1 23 45 67 89", "maria.kowalski%40example.org",
	}, demo.DisplayedPII()...)
}

func walkFiles(t *testing.T, dir string, check func(string, []byte)) {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err == nil {
			check(p, b)
			n++
		}
		return nil
	})
	if n == 0 {
		t.Errorf("no files under %s to check", dir)
	}
}

// replayText returns the text nodes of a session's stored replay (not CSS),
// read back through the API.
func replayText(t *testing.T, d *deployment, session string) string {
	t.Helper()
	var segs struct {
		Segments []struct {
			Segment int `json:"segment"`
		} `json:"segments"`
	}
	if st := api(t, "GET", d.api+"/api/v1/sessions/"+session+"/segments?project="+d.project, d.admin, nil, &segs); st != 200 || len(segs.Segments) == 0 {
		t.Fatalf("segments of %s: %d", session, st)
	}
	var text strings.Builder
	for _, s := range segs.Segments {
		var evs []json.RawMessage
		api(t, "GET", fmt.Sprintf("%s/api/v1/sessions/%s/segments/%d?project=%s", d.api, session, s.Segment, d.project), d.admin, nil, &evs)
		for _, e := range evs {
			collectText(e, &text)
		}
	}
	return text.String()
}

// collectText walks an rrweb event's snapshot nodes and mutation adds and
// collects text outside <style> and <script>.
func collectText(raw json.RawMessage, out *strings.Builder) {
	var walk func(v any, inStyle bool)
	walk = func(v any, inStyle bool) {
		switch n := v.(type) {
		case map[string]any:
			tag, _ := n["tagName"].(string)
			style := inStyle || tag == "style" || tag == "script"
			if tc, ok := n["textContent"].(string); ok && !style {
				if isStyle, _ := n["isStyle"].(bool); !isStyle {
					out.WriteString(tc)
					out.WriteByte(' ')
				}
			}
			for k, c := range n {
				if k != "attributes" {
					walk(c, style)
				}
			}
		case []any:
			for _, c := range n {
				walk(c, inStyle)
			}
		}
	}
	var v any
	if json.Unmarshal(raw, &v) == nil {
		walk(v, false)
	}
}

func lineOf(t *testing.T, path, marker string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("source of the top frame: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if strings.Contains(sc.Text(), marker) {
			return n
		}
	}
	t.Fatalf("%s has no line with %q", path, marker)
	return 0
}

func distinctColours(t *testing.T, png []byte) int {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(png))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	seen := map[[3]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 4 {
		for x := b.Min.X; x < b.Max.X; x += 4 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[[3]uint32{r >> 12, g >> 12, bl >> 12}] = true
		}
	}
	return len(seen)
}
