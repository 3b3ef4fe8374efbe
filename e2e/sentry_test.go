package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/nats-io/nats.go"

	"github.com/rearview-dev/rearview/coordinator/blob"
	"github.com/rearview-dev/rearview/e2e/demo"
	"github.com/rearview-dev/rearview/e2e/proc"
	"github.com/rearview-dev/rearview/internal/testenv"
)

// startSentryDeployment runs NATS, MinIO, a coordinator and one edge as
// processes, creates a project with the CLI (which prints its DSN), uploads
// the shop's maps with `rearview sourcemaps upload` and starts the demo shop
// instrumented with @sentry/browser, its DSN the only thing pointing at
// Rearview. It returns the deployment and the DSN.
func startSentryDeployment(t *testing.T) (*deployment, string) {
	t.Helper()
	d := newDeployment(t, "rva_e2e_sentry_admin", "rearview-e2e-sentry")
	apiAddr, edgeAddr := proc.Addr(t), proc.Addr(t)
	edgeURL := "http://" + edgeAddr
	proc.Start(t, d.logDir, "coordinator", d.bin, nil, "coordinator", "--nats-url", d.natsURL, "--listen", apiAddr,
		"--data-dir", d.dataDir, "--admin-token", d.admin, "--edge-url", edgeURL,
		"--s3-endpoint", d.minio.Endpoint, "--s3-bucket", d.bucket, "--s3-access-key", d.minio.AccessKey, "--s3-secret-key", d.minio.SecretKey)
	d.api = "http://" + apiAddr
	waitHTTP(t, d.api+"/readyz")
	// Debug logs name every envelope's items and answer; the privacy
	// proof searches them too.
	proc.Start(t, d.logDir, "edge", d.bin, []string{"REARVIEW_LOG_LEVEL=debug"}, "edge", "--region", "eu", "--nats-url", d.natsURL, "--listen", edgeAddr)
	waitHTTP(t, edgeURL+"/readyz")
	d.edges["eu"] = edgeURL

	out := d.cli(t, "projects", "create", "Sentry shop")
	field := func(name string) string {
		m := regexp.MustCompile(`(?m)^` + name + `\s+(\S+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("projects create printed no %s:\n%s", name, out)
		}
		return m[1]
	}
	d.project, d.key = field("project"), field("ingest key")
	dsn := field("sentry dsn")
	if !regexp.MustCompile(`^http://` + regexp.QuoteMeta(d.key) + `@` + regexp.QuoteMeta(edgeAddr) + `/\d+$`).MatchString(dsn) {
		t.Fatalf("DSN %q: want http://<ingest key>@<edge>/<numeric project id>", dsn)
	}

	policy := filepath.Join(t.TempDir(), "policy.json")
	os.WriteFile(policy, []byte(`{"sampling":{"rate":1}}`), 0o644)
	d.cli(t, "filter", "set-policy", d.project, policy)
	build := t.TempDir()
	copyDir(t, filepath.Join(testenv.RepoRoot(), "e2e/demo/maps"), build)
	d.cli(t, "sourcemaps", "upload", "--release", release, "--url-prefix", "~/assets", "--strip", build)

	shopBin, err := buildDemoshop()
	if err != nil {
		t.Fatal(err)
	}
	d.spans = filepath.Join(t.TempDir(), "spans.jsonl")
	// --sentry-record-text: replayIntegration({maskAllText: false}), so
	// the page's text, personal data included, leaves the browser and
	// only the edge's masking keeps it out of the system.
	shop := proc.Start(t, d.logDir, "demoshop", shopBin, nil, "--addr", "127.0.0.1:0", "--sentry-dsn", dsn, "--sentry-record-text",
		"--release", release, "--spans", d.spans)
	re := regexp.MustCompile(`demoshop listening on (http://\S+)`)
	testenv.Eventually(t, 20*time.Second, func() error {
		b, _ := os.ReadFile(shop.Log)
		if m := re.FindSubmatch(b); m != nil {
			d.shop = string(m[1])
			return nil
		}
		return fmt.Errorf("demoshop not listening yet")
	})
	return d, dsn
}

// sentryShopSession browses the shop as shopSession does, on pages that run
// @sentry/browser with browserTracingIntegration and replayIntegration.
func sentryShopSession(t *testing.T, ctx context.Context, d *deployment) {
	t.Helper()
	step := func(what string, a ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, a...); err != nil {
			t.Fatalf("sentry session: %s: %v", what, err)
		}
	}
	opened := time.Now()
	step("open the shop", chromedp.Navigate(d.shop+"/"), chromedp.WaitVisible(`body[data-ready="true"]`))
	if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof Sentry === "object" && typeof Rearview === "undefined"`)); err != nil || !ok {
		t.Fatalf("the page does not run @sentry/browser alone (%v)", err)
	}
	lookAtHero(t, ctx, "sentry")
	step("show recommendations", chromedp.Click(`#recommend`), chromedp.WaitVisible(`#recommended li`))
	waitTimed(t, ctx, "sentry")
	step("go to checkout", chromedp.Click(`#to-checkout`), chromedp.WaitVisible(`body[data-ready="true"]`))
	step("type personal data",
		chromedp.SendKeys(`#email`, demo.SampleEmail),
		chromedp.SendKeys(`#card`, demo.SampleCard),
		chromedp.SendKeys(`#address`, demo.SampleAddress))
	step("place the order", chromedp.Click(`#place-order`), chromedp.WaitVisible(`#checkout-status`))
	// The control for the privacy proof: the data really was on the page.
	typed, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#email').value + '|' + document.querySelector('#card').value`))
	if err != nil || typed != demo.SampleEmail+"|"+demo.SampleCard {
		t.Fatalf("typed %q (%v)", typed, err)
	}
	// The three components throw at once; the replay SDK sends nothing of
	// a replay shorter than its minReplayDuration (5 s): let it be longer,
	// then flush the replay and the transport.
	time.Sleep(max(500*time.Millisecond, 6*time.Second-time.Since(opened)))
	flush := `Promise.resolve(Sentry.getReplay() && Sentry.getReplay().flush()).then(() => Sentry.flush(5000))`
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](flush, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatalf("sentry session: flush: %v", err)
	}
	// Leaving the page sends the last web vitals (LCP, CLS, INP).
	step("leave", chromedp.Navigate("about:blank"))
}

// TestSentryBrowser runs the demo shop on @sentry/browser 11.12.0 against
// Rearview: its errors become one symbolicated issue whose trace id is the
// backend span's, its replay is a session that plays in the player and is
// found by search, its web vitals show, the extension noise is dropped by
// the edge's policy module, and the privacy proof holds.
func TestSentryBrowser(t *testing.T) {
	d, dsn := startSentryDeployment(t)
	nc, err := nats.Connect(d.natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()

	var projects struct {
		Projects []struct {
			ID  string `json:"id"`
			DSN string `json:"dsn"`
		} `json:"projects"`
	}
	if st := api(t, "GET", d.api+"/api/v1/projects", d.admin, nil, &projects); st != 200 || len(projects.Projects) != 1 || projects.Projects[0].DSN != dsn {
		t.Errorf("projects API: %d %+v, want the DSN %s", st, projects, dsn)
	}

	browser := testenv.Browser(t, chromedp.UserAgent(userUA))
	sentryShopSession(t, tab(t, browser, userUA), d)

	type session struct {
		ID       string `json:"id"`
		Segments int    `json:"segments"`
		Errors   int    `json:"errors"`
	}
	var sess session
	testenv.Eventually(t, 30*time.Second, func() error {
		var out struct{ Sessions []session }
		q := url.Values{"project": {d.project}, "q": {"url:/checkout has:error"}}
		if st := api(t, "GET", d.api+"/api/v1/sessions?"+q.Encode(), d.admin, nil, &out); st != 200 {
			return fmt.Errorf("sessions: %d", st)
		}
		for _, s := range out.Sessions {
			if s.Segments > 0 && s.Errors > 0 {
				sess = s
				return nil
			}
		}
		return fmt.Errorf("sessions found by url:/checkout has:error: %+v, want one with replay segments and errors", out.Sessions)
	})

	var issue struct {
		Issue struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"issue"`
		LatestEvent struct {
			TraceID string          `json:"trace_id"`
			Payload json.RawMessage `json:"payload"`
		} `json:"latest_event"`
	}
	t.Run("errors are symbolicated issues", func(t *testing.T) {
		testenv.Eventually(t, 20*time.Second, func() error {
			var list struct {
				Issues []struct {
					ID    string `json:"id"`
					Title string `json:"title"`
				} `json:"issues"`
			}
			api(t, "GET", d.api+"/api/v1/issues?project="+d.project, d.admin, nil, &list)
			for _, is := range list.Issues {
				if strings.Contains(is.Title, "chrome-extension") || strings.Contains(is.Title, "reading 'dataset'") {
					return fmt.Errorf("the extension's error became an issue: %+v", is)
				}
				if strings.Contains(is.Title, "reading 'map'") {
					if st := api(t, "GET", d.api+"/api/v1/issues/"+is.ID+"?project="+d.project, d.admin, nil, &issue); st != 200 {
						return fmt.Errorf("issue %s: %d", is.ID, st)
					}
					return nil
				}
			}
			return fmt.Errorf("no checkout issue yet: %+v", list.Issues)
		})
		var ev struct {
			Error struct {
				Stack []struct {
					URL      string `json:"url"`
					Original *struct {
						Source   string `json:"source"`
						Function string `json:"function"`
						Line     int    `json:"line"`
					} `json:"original"`
				} `json:"stack"`
			} `json:"error"`
		}
		if err := json.Unmarshal(issue.LatestEvent.Payload, &ev); err != nil || len(ev.Error.Stack) == 0 {
			t.Fatalf("latest event payload: %v: %s", err, issue.LatestEvent.Payload)
		}
		top := ev.Error.Stack[0]
		if top.Original == nil || !strings.HasPrefix(top.Original.Source, "src/components/") {
			t.Fatalf("top frame %+v %+v, want a component's TypeScript file", top, top.Original)
		}
		want := lineOf(t, filepath.Join(testenv.RepoRoot(), "e2e/demo/web", top.Original.Source), "items.map(")
		if top.Original.Line != want || top.Original.Function == "" {
			t.Errorf("top frame %s:%d %s, want line %d with its function", top.Original.Source, top.Original.Line, top.Original.Function, want)
		}
	})

	t.Run("trace id joins the backend span", func(t *testing.T) {
		tid := issue.LatestEvent.TraceID
		spans, err := os.ReadFile(d.spans)
		if len(tid) != 32 || err != nil || !strings.Contains(string(spans), `"TraceID":"`+tid+`"`) {
			t.Fatalf("error trace id %q: no backend span has it (%v)", tid, err)
		}
	})

	t.Run("noise dropped by the policy module", func(t *testing.T) {
		testenv.Eventually(t, 10*time.Second, func() error {
			if got := outcomes(t, d); got["browser-extensions"] == 0 {
				return fmt.Errorf("outcomes %v, want browser-extensions", got)
			}
			return nil
		})
	})

	t.Run("web vitals", func(t *testing.T) {
		testenv.Eventually(t, 20*time.Second, func() error {
			for _, m := range []string{"LCP", "FCP", "TTFB", "CLS", "INP"} {
				var v struct {
					Count int `json:"count"`
				}
				if st := api(t, "GET", d.api+"/api/v1/vitals?project="+d.project+"&metric="+m, d.admin, nil, &v); st != 200 || v.Count == 0 {
					return fmt.Errorf("%s: %d %+v", m, st, v)
				}
			}
			return nil
		})
	})

	// The SDK sends LCP, CLS and INP when a page is hidden, in envelopes
	// without the page's URL (they name its pageload span): each still
	// counts under its own page, the home page's under / and the
	// checkout's under /checkout, and none anywhere else. INP only when an
	// interaction was slow enough for the SDK to report one, which the
	// home page's click is not every time: at most one per page.
	t.Run("web vitals by route", func(t *testing.T) {
		testenv.Eventually(t, 20*time.Second, func() error {
			for _, m := range []string{"LCP", "CLS", "INP"} {
				var total struct {
					Count int `json:"count"`
				}
				var by struct {
					Rows []struct {
						Key   string `json:"key"`
						Count int    `json:"count"`
					} `json:"rows"`
				}
				q := "?project=" + d.project + "&metric=" + m
				if st := api(t, "GET", d.api+"/api/v1/vitals"+q, d.admin, nil, &total); st != 200 {
					return fmt.Errorf("%s: %d", m, st)
				}
				if st := api(t, "GET", d.api+"/api/v1/vitals/breakdown"+q+"&by=route", d.admin, nil, &by); st != 200 {
					return fmt.Errorf("%s breakdown: %d", m, st)
				}
				got, sum := map[string]int{}, 0
				for _, r := range by.Rows {
					got[r.Key] = r.Count
					sum += r.Count
				}
				want := got["/"] == 1 && got["/checkout"] == 1 && len(got) == 2
				if m == "INP" {
					want = sum > 0 && got["/"] <= 1 && got["/checkout"] <= 1 && len(got) == min(sum, 2)
				}
				if !want || sum != total.Count {
					return fmt.Errorf("%s: %d in all, by route %v; want one on / and one on /checkout", m, total.Count, got)
				}
			}
			return nil
		})
	})

	t.Run("replay plays in the player", func(t *testing.T) {
		ctx := tab(t, browser, userUA)
		sctx, cancel := context.WithTimeout(ctx, 40*time.Second)
		defer cancel()
		playReplay(t, sctx, d, sess.ID, 15*time.Second, true)
		if err := chromedp.Do(sctx, chromedp.Navigate(d.api+"/player/vitals?project="+d.project), chromedp.WaitVisible(`table.data tbody tr`)); err != nil {
			t.Errorf("vitals page: %v", err)
		}
		// The header's Setup shows the project's DSN.
		shown, err := chromedp.Run(sctx, chromedp.Evaluate[string](`(document.querySelector('code[data-setup="Sentry DSN"]') || {}).textContent || ""`))
		if err != nil || shown != dsn {
			t.Errorf("the player shows DSN %q (%v), want %s", shown, err, dsn)
		}
	})

	s3, err := blob.NewS3(context.Background(), blob.S3Config{Endpoint: d.minio.Endpoint, Bucket: d.bucket, AccessKey: d.minio.AccessKey, SecretKey: d.minio.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("privacy proof", func(t *testing.T) { checkNoPII(t, d, nc, s3) })
}
