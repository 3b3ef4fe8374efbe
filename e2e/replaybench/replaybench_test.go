// Package replaybench measures what a recorded session costs in storage on
// pages none of us wrote: npm's TodoMVC examples, recorded by the Rearview
// SDK through `rearview up` and, in the same page at the same time, by
// stock rrweb 2.2.2, whose event stream is compressed once, whole, at
// brotli quality 11 for comparison. Both come from the npm packages pinned
// in package-lock.json here (`go tool task tools:replaybench` installs them).
//
//	go test -run '^$' -bench ReplayStorage -benchtime 1x ./e2e/replaybench/
//
// Each app takes about 50 s (a 30 s script, packing, playback), so it is a
// benchmark and not part of the default test run.
package replaybench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/rearview-dev/rearview/e2e/proc"
	"github.com/rearview-dev/rearview/internal/testenv"
)

// A desktop Chrome without "Headless" in it: the edge drops headless
// browsers as bots, and these sessions play a user.
const userUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

// target is the most stored bytes may be of stock rrweb's whole-session
// brotli-11, per app (issue 15).
const target = 0.9

var builder proc.Builder

// up is a running `rearview up`.
type up struct {
	edge, api, token, data, nats string
}

func startUp(b *testing.B) *up {
	b.Helper()
	data := b.TempDir()
	edgeAddr, apiAddr := proc.Addr(b), proc.Addr(b)
	// Packing soon after the session goes quiet (8 s: longer than a
	// segment's 5 s), so the run need not wait the default five minutes.
	cmd := exec.Command(builder.Binary(b), "up", "--data-dir", data, "--nats-listen", "127.0.0.1:0", "--edge-listen", edgeAddr, "--api-listen", apiAddr, "--replay-pack-after", "8s", "--log-level", "info")
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	u := &up{data: data}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(line, "Admin token"); ok {
			u.token = strings.Fields(v)[0]
		}
		if v, ok := strings.CutPrefix(line, "NATS"); ok {
			u.nats = strings.Fields(v)[0]
		}
		if strings.HasPrefix(line, "Press Ctrl-C") {
			break
		}
	}
	go io.Copy(io.Discard, stdout)
	u.edge, u.api = "http://"+edgeAddr, "http://"+apiAddr
	proc.WaitHTTP(b, u.edge+"/readyz", 30*time.Second)
	// Every session's replay kept: the default policy samples 10%.
	policy := filepath.Join(b.TempDir(), "policy.json")
	if err := os.WriteFile(policy, []byte(`{"sampling":{"rate":1}}`), 0o644); err != nil {
		b.Fatal(err)
	}
	set := exec.Command(builder.Binary(b), "filter", "set-policy", "demo", policy)
	set.Env = append(os.Environ(), "REARVIEW_URL="+u.api, "REARVIEW_TOKEN="+u.token, "REARVIEW_NATS_URL="+u.nats)
	if out, err := set.CombinedOutput(); err != nil {
		b.Fatalf("set policy: %v %s", err, out)
	}
	// The edge picks the policy up from its watch.
	time.Sleep(2 * time.Second)
	return u
}

func (u *up) get(b *testing.B, path string, out any) {
	b.Helper()
	req, _ := http.NewRequest(http.MethodGet, u.api+path, nil)
	req.Header.Set("Authorization", "Bearer "+u.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	if raw, ok := out.(*[]byte); ok {
		*raw = body
		return
	}
	if err := json.Unmarshal(body, out); err != nil {
		b.Fatalf("GET %s: %v", path, err)
	}
}

// pages serves the TodoMVC examples with both recorders added at the end
// of the page, rrweb's files, and the playback page.
func pages(b *testing.B, edge string) string {
	b.Helper()
	root, err := filepath.Abs("node_modules")
	if _, serr := os.Stat(filepath.Join(root, "todomvc", "examples")); err != nil || serr != nil {
		b.Fatalf("npm packages missing in e2e/replaybench (run `go tool task tools:replaybench`): %v %v", err, serr)
	}
	recorders := `<script src="/rrweb/rrweb.umd.min.cjs"></script>
<script>window.stock = []; rrweb.record({ emit: function (e) { window.stock.push(e); } });</script>
<script src="` + edge + `/sdk/v1.js"></script>
<script>Rearview.init({ endpoint: '` + edge + `', key: 'rvk_demo', replay: { sessionSampleRate: 1 } });</script>
</body>`
	files := http.FileServer(http.Dir(filepath.Join(root, "todomvc")))
	rrweb := http.StripPrefix("/rrweb/", http.FileServer(http.Dir(filepath.Join(root, "rrweb", "dist"))))
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/play.html":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, playPage)
		case strings.HasPrefix(r.URL.Path, "/rrweb/"):
			if strings.HasSuffix(r.URL.Path, ".cjs") {
				w.Header().Set("Content-Type", "text/javascript")
			}
			rrweb.ServeHTTP(w, r)
		case strings.HasSuffix(r.URL.Path, "/") && strings.HasPrefix(r.URL.Path, "/examples/"):
			page, err := os.ReadFile(filepath.Join(root, "todomvc", filepath.FromSlash(r.URL.Path), "index.html"))
			if err != nil {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(bytes.Replace(page, []byte("</body>"), []byte(recorders), 1))
		default:
			files.ServeHTTP(w, r)
		}
	}))
	b.Cleanup(s.Close)
	return s.URL
}

// state is what the TodoMVC app shows: its items (done or not), the count
// and the selected filter. It runs on the live page and on the replay's
// document alike.
const state = `function (doc) {
  var items = Array.prototype.map.call(doc.querySelectorAll('#todo-list li'), function (li) {
    var l = li.querySelector('label');
    return (/completed/.test(li.className) ? '[x] ' : '[ ] ') + (l ? l.textContent.trim() : '');
  });
  var count = doc.querySelector('#todo-count');
  var sel = doc.querySelector('#filters a.selected');
  // The replay's links are absolute (rrweb resolves them): compare the route.
  var route = sel ? sel.getAttribute('href') : '';
  return JSON.stringify({ items: items, count: count ? count.textContent.replace(/\s+/g, ' ').trim() : '', filter: route.slice(route.indexOf('#')) });
}`

// playPage plays events with rrweb's Replayer to their end.
const playPage = `<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="/rrweb/style.css"></head>
<body><div id="root"></div>
<script src="/rrweb/rrweb.umd.cjs"></script>
<script>
window.state = ` + state + `;
window.play = function (events) {
  var r = new rrweb.Replayer(events, { root: document.getElementById('root'), showWarning: false, mouseTail: false, skipInactive: false });
  var total = r.getMetaData().totalTime;
  r.pause(total + 1);
  window.replayer = r;
  return total;
};
window.replayed = function () { return window.state(window.replayer.iframe.contentDocument); };
</script></body></html>`

// run is what one recorded session measured.
type run struct {
	minutes               float64
	stock, stored, alone  int
	segments              int
	live, replayed        string
	stockRaw, rearviewRaw int
}

func sleep(d time.Duration) chromedp.Action[chromedp.Void] { return chromedp.Sleep(d) }

// move glides the mouse from (x0,y0) to (x1,y1) in steps, as a hand would.
func move(x0, y0, x1, y1 float64) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		const steps = 15
		for i := 1; i <= steps; i++ {
			x, y := x0+(x1-x0)*float64(i)/steps, y0+(y1-y0)*float64(i)/steps
			if _, err := chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x, y)(ctx, t); err != nil {
				return err
			}
			time.Sleep(40 * time.Millisecond)
		}
		return nil
	})
}

// typeSlowly types s into sel a key at a time.
func typeSlowly(sel, s string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, r := range s {
			if _, err := chromedp.SendKeys(chromedp.CSS(sel), string(r))(ctx, t); err != nil {
				return err
			}
			time.Sleep(60 * time.Millisecond)
		}
		return nil
	})
}

// script is the session: five todos typed, two done, the filters, clear
// completed, and the mouse moving between, for about 30 s.
func script() []chromedp.Action[chromedp.Void] {
	todos := []string{"Buy milk", "Walk the dog", "Write the quarterly report", "Call the plumber about the sink", "Book flights to Lisbon"}
	var acts []chromedp.Action[chromedp.Void]
	for i, td := range todos {
		acts = append(acts, move(900, 500, 640, 130+float64(i)*10), typeSlowly("#new-todo", td), chromedp.SendKeys(chromedp.CSS("#new-todo"), kb.Enter), sleep(700*time.Millisecond))
	}
	acts = append(acts,
		move(640, 130, 420, 300), chromedp.Click(chromedp.CSS("#todo-list li:nth-child(2) .toggle")), sleep(800*time.Millisecond),
		move(420, 300, 420, 420), chromedp.Click(chromedp.CSS("#todo-list li:nth-child(4) .toggle")), sleep(800*time.Millisecond),
		move(420, 420, 600, 560), chromedp.Click(chromedp.CSS(`#filters a[href="#/active"]`)), sleep(1500*time.Millisecond),
		move(600, 560, 700, 560), chromedp.Click(chromedp.CSS(`#filters a[href="#/completed"]`)), sleep(1500*time.Millisecond),
		move(700, 560, 520, 560), chromedp.Click(chromedp.CSS(`#filters a[href="#/"]`)), sleep(1500*time.Millisecond),
		move(520, 560, 800, 560), chromedp.Click(chromedp.CSS("#clear-completed")), sleep(1000*time.Millisecond),
		move(800, 560, 200, 200), move(200, 200, 1000, 650), sleep(500*time.Millisecond),
	)
	return acts
}

// record runs the script on app and measures both recordings.
func record(b *testing.B, u *up, site, app string) run {
	b.Helper()
	ctx := testenv.Browser(b, chromedp.UserAgent(userUA))
	if err := chromedp.Do(ctx, chromedp.Navigate(site+"/examples/"+app+"/")); err != nil {
		b.Fatal(err)
	}
	// No step may wait for ever (a selector that never matches would).
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`typeof Rearview === 'object' && window.stock && window.stock.some(function (e) { return e.type === 2; }) && !!document.querySelector('#new-todo')`)); err != nil {
		b.Fatalf("%s did not load: %v", app, err)
	}
	start := time.Now()
	if err := chromedp.Do(ctx, script()...); err != nil {
		b.Fatalf("script on %s: %v", app, err)
	}
	fmt.Fprintf(os.Stderr, "replaybench: %s: script took %s\n", app, time.Since(start).Round(100*time.Millisecond))
	var r run
	var err error
	if r.live, err = chromedp.Run(ctx, chromedp.Evaluate[string](`(`+state+`)(document)`)); err != nil {
		b.Fatal(err)
	}
	stock, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(window.stock)`))
	if err != nil {
		b.Fatal(err)
	}
	session, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.parse(sessionStorage.getItem('rearview.session')).id`))
	if err != nil {
		b.Fatal(err)
	}
	// What the page would send as it goes away, sent now and answered.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`Rearview.flush().then(function () { return true; })`, chromedp.EvalAwaitPromise)); err != nil {
		b.Fatal(err)
	}
	var stockEvs []struct {
		Timestamp int64 `json:"timestamp"`
	}
	if err := json.Unmarshal([]byte(stock), &stockEvs); err != nil {
		b.Fatal(err)
	}
	r.minutes = float64(stockEvs[len(stockEvs)-1].Timestamp-stockEvs[0].Timestamp) / 60000
	r.stockRaw = len(stock)
	r.stock = brotli11(b, []byte(stock))

	// Packed: the session's folder holds one pack and nothing else.
	var dir string
	defer func() {
		if b.Failed() {
			var out []byte
			u.get(b, "/api/v1/outcomes?project=demo", &out)
			b.Logf("outcomes: %s", out)
			u.get(b, "/api/v1/sessions?project=demo", &out)
			b.Logf("sessions: %.2000s", out)
		}
	}()
	testenv.Eventually(b, 90*time.Second, func() error {
		matches, _ := filepath.Glob(filepath.Join(u.data, "blobs", "replays", "*", "*", "*", "*", session, "*"))
		if len(matches) != 1 || !strings.HasSuffix(matches[0], ".rvp") {
			return fmt.Errorf("session %s objects %v, want one pack", session, matches)
		}
		dir = matches[0]
		return nil
	})
	info, err := os.Stat(dir)
	if err != nil {
		b.Fatal(err)
	}
	r.stored = int(info.Size())
	var sess struct {
		ReplayBytes int `json:"replay_bytes"`
		Segments    int `json:"segments"`
	}
	u.get(b, "/api/v1/sessions/"+session+"?project=demo", &sess)
	if sess.ReplayBytes != r.stored {
		b.Errorf("%s: the session says %d replay bytes, its pack is %d", app, sess.ReplayBytes, r.stored)
	}
	r.segments = sess.Segments
	var all []json.RawMessage
	for i := 0; i < sess.Segments; i++ {
		var raw []byte
		u.get(b, fmt.Sprintf("/api/v1/sessions/%s/segments/%d?project=demo", session, i), &raw)
		r.alone += brotliAt(b, raw, 6)
		r.rearviewRaw += len(raw)
		var evs []json.RawMessage
		if err := json.Unmarshal(raw, &evs); err != nil {
			b.Fatalf("segment %d: %v", i, err)
		}
		all = append(all, evs...)
	}
	events, _ := json.Marshal(all)
	// REPLAYBENCH_DUMP=dir keeps both recordings, to look into what the
	// bytes are.
	if d := os.Getenv("REPLAYBENCH_DUMP"); d != "" {
		os.WriteFile(filepath.Join(d, app+".rearview.json"), events, 0o644)
		os.WriteFile(filepath.Join(d, app+".stock.json"), []byte(stock), 0o644)
	}

	// Played back from storage to its end, the app shows what the live page did.
	if err := chromedp.Do(ctx, chromedp.Navigate(site+"/play.html")); err != nil {
		b.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`play(`+string(events)+`)`)); err != nil {
		b.Fatalf("play: %v", err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		if r.replayed, err = chromedp.Run(ctx, chromedp.Evaluate[string](`replayed()`)); err == nil && r.replayed == r.live || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	return r
}

func brotliAt(b *testing.B, raw []byte, q int) int {
	var out bytes.Buffer
	w := brotli.NewWriterOptions(&out, brotli.WriterOptions{Quality: q, LGWin: 24})
	if _, err := w.Write(raw); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return out.Len()
}

// brotli11 is stock rrweb's whole session compressed once at the highest
// quality, with brotli's largest window.
func brotli11(b *testing.B, raw []byte) int { return brotliAt(b, raw, 11) }

// BenchmarkReplayStorage reports, per app, stored KB per recorded minute
// (the packed session), stock rrweb 2.2.2's whole-session brotli-11 of the
// same script, their ratio, and what the segments would take stored alone
// at quality 6 (before packing). It fails when the replay played from
// storage does not end on the live page's state, or a ratio is over 0.9.
func BenchmarkReplayStorage(b *testing.B) {
	u := startUp(b)
	site := pages(b, u.edge)
	for _, app := range []string{"vanillajs", "react", "backbone"} {
		b.Run(app, func(b *testing.B) {
			var r run
			for i := 0; i < b.N; i++ {
				r = record(b, u, site, app)
			}
			if r.replayed != r.live {
				b.Errorf("%s: replay ends on %s, the live page on %s", app, r.replayed, r.live)
			}
			kb := func(n int) float64 { return float64(n) / 1024 / r.minutes }
			ratio := float64(r.stored) / float64(r.stock)
			b.ReportMetric(kb(r.stored), "stored-KB/min")
			b.ReportMetric(kb(r.stock), "stock-br11-KB/min")
			b.ReportMetric(ratio, "stored/stock")
			b.ReportMetric(kb(r.alone), "segments-q6-KB/min")
			b.ReportMetric(float64(r.segments), "segments")
			b.Logf("%s: %.2f min recorded, %d segments; raw %d B Rearview, %d B stock; stored %d B, stock br11 %d B, segments alone q6 %d B; live %s",
				app, r.minutes, r.segments, r.rearviewRaw, r.stockRaw, r.stored, r.stock, r.alone, r.live)
			if ratio > target {
				b.Errorf("%s: stored %.2f× stock rrweb's whole-session brotli-11, over the %.1f× target", app, ratio, target)
			}
		})
	}
}
