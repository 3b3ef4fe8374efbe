package browser_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/tracing"
	"github.com/chromedp/chromedp"

	"github.com/rearview-dev/rearview/internal/testenv"
	"github.com/rearview-dev/rearview/sdkproto/browser"
)

// benchPage is a small app whose every click adds a row and whose input
// echoes what is typed: DOM mutations and input events, which is what the
// recorder and the breadcrumbs react to. Only the script tags differ between
// the two runs.
var benchPage = template.Must(template.New("bench").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Bench</title>
<style>body{font:16px sans-serif;margin:0} #add{position:absolute;left:20px;top:20px;width:120px;height:40px}
#q{position:absolute;left:20px;top:80px;width:300px}</style></head>
<body>
<button id="add" class="btn">Add</button>
<input id="q" name="q">
<p id="echo"></p>
<ul id="rows"></ul>
<script>
var n = 0, q = document.getElementById('q');
document.getElementById('add').addEventListener('click', function () {
  var li = document.createElement('li');
  li.className = 'row';
  li.textContent = 'Row ' + (++n);
  document.getElementById('rows').appendChild(li);
  q.focus();
});
q.addEventListener('input', function () { document.getElementById('echo').textContent = q.value; });
window.benchReady = true;
</script>
{{if .SDK}}<script src="/sdk/v1.js"></script>
<script>
Rearview.init({ dsn: {{.DSN}}, release: 'bench', replay: { sessionSampleRate: 1, onErrorSampleRate: 1 } });
</script>{{end}}
</body></html>`))

// benchApp serves the page, the full SDK and an ingest that accepts all:
// what an edge does with a batch costs the page nothing.
func benchApp() http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			dsn := "http://rvk_bench@" + r.Host + "/bench"
			_ = benchPage.Execute(w, map[string]any{"SDK": r.URL.Query().Get("sdk") == "1", "DSN": dsn})
		case "/sdk/v1.js":
			w.Header().Set("Content-Type", "text/javascript")
			w.Write(browser.Script())
		case "/v1/ingest":
			mu.Lock()
			_, _ = io.Copy(io.Discard, r.Body)
			mu.Unlock()
			w.Header().Set("Access-Control-Allow-Origin", "*")
			w.WriteHeader(http.StatusAccepted)
			io.WriteString(w, `{"accepted":1}`)
		default:
			http.NotFound(w, r)
		}
	})
}

// traceEvent is the part of a Chrome trace event the sum needs.
type traceEvent struct {
	Name string          `json:"name"`
	Ph   string          `json:"ph"`
	Pid  int             `json:"pid"`
	Tid  int             `json:"tid"`
	Ts   float64         `json:"ts"`
	Dur  float64         `json:"dur"`
	Args json.RawMessage `json:"args"`
}

type thread struct{ pid, tid int }

// traceInteractions records a trace of the toplevel category while run
// runs, and returns the events.
func traceInteractions(b *testing.B, ctx context.Context, run func()) []traceEvent {
	b.Helper()
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var evs []traceEvent
	done := make(chan bool, 1)
	// Listen, not Events: the data must all be in before tracingComplete.
	if err := chromedp.Listen(lctx, func(ev any) {
		switch ev := ev.(type) {
		case *tracing.EventDataCollected:
			mu.Lock()
			for _, v := range ev.Value {
				var e traceEvent
				if json.Unmarshal([]byte(v), &e) == nil {
					evs = append(evs, e)
				}
			}
			mu.Unlock()
		case *tracing.EventTracingComplete:
			done <- ev.DataLossOccurred
		}
	}); err != nil {
		b.Fatal(err)
	}
	// toplevel holds the scheduler's RunTask events, one per task of each
	// thread; metadata (thread names) comes with every trace.
	if _, err := chromedp.Call(ctx, tracing.Start, tracing.StartParams{
		TransferMode: tracing.StartTransferModeReportEvents,
		TraceConfig:  &tracing.TraceConfig{IncludedCategories: []string{"toplevel"}, ExcludedCategories: []string{"*"}},
	}); err != nil {
		b.Fatal(err)
	}
	run()
	if _, err := chromedp.Call(ctx, tracing.End, struct{}{}); err != nil {
		b.Fatal(err)
	}
	select {
	case lost := <-done:
		if lost {
			b.Fatal("trace lost data")
		}
	case <-time.After(30 * time.Second):
		b.Fatal("trace never completed")
	}
	mu.Lock()
	defer mu.Unlock()
	return evs
}

// rendererMainTime sums the top-level RunTask durations of each renderer
// main thread, in ms (a task run inside another, in a nested loop, is
// counted once, with its parent).
func rendererMainTime(evs []traceEvent) map[thread]float64 {
	main := map[thread]bool{}
	for _, e := range evs {
		if e.Ph == "M" && e.Name == "thread_name" {
			var a struct{ Name string }
			if json.Unmarshal(e.Args, &a) == nil && a.Name == "CrRendererMain" {
				main[thread{e.Pid, e.Tid}] = true
			}
		}
	}
	tasks := map[thread][]traceEvent{}
	for _, e := range evs {
		th := thread{e.Pid, e.Tid}
		if e.Ph == "X" && main[th] && (e.Name == "RunTask" || e.Name == "ThreadControllerImpl::RunTask") {
			tasks[th] = append(tasks[th], e)
		}
	}
	out := map[thread]float64{}
	for th, ts := range tasks {
		slices.SortFunc(ts, func(a, b traceEvent) int {
			if a.Ts < b.Ts {
				return -1
			}
			if a.Ts > b.Ts {
				return 1
			}
			return 0
		})
		end := 0.0
		for _, e := range ts {
			if e.Ts+e.Dur <= end {
				continue
			}
			out[th] += e.Dur / 1000
			end = e.Ts + e.Dur
		}
	}
	return out
}

// BenchmarkMainThreadPerInteraction measures the renderer main thread's
// busy time per interaction (a click that adds a row, then a key typed in
// the input) from a Chromium trace, on the same page without and with the
// full SDK recording a session replay. b.N is the number of interactions.
// The trace covers the interactions and a flush at the end, so the SDK's
// serialising, compressing and sending of what they produced is counted.
func BenchmarkMainThreadPerInteraction(b *testing.B) {
	srv := httptest.NewServer(benchApp())
	b.Cleanup(srv.Close)
	ctx := testenv.Browser(b)
	// The page's own pace: an interaction every 50 ms, as a fast user.
	const pace = 50 * time.Millisecond

	variants := []struct {
		name  string
		query string
		// settle is what runs, traced, after the interactions.
		settle string
	}{
		{"nosdk", "", `Promise.resolve(true)`},
		{"sdk", "?sdk=1", `Rearview.flush().then(() => true)`},
	}
	perInteraction := map[string]float64{}
	for _, v := range variants {
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/"+v.query)); err != nil {
			b.Fatal(err)
		}
		ready := `window.benchReady === true && document.readyState === 'complete'`
		if v.query != "" {
			ready += ` && typeof Rearview === 'object'`
		}
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](ready)); err != nil {
			b.Fatalf("%s: page not ready: %v", v.name, err)
		}
		// Past load, the first full snapshot and the first vitals: the
		// trace is to see what each interaction adds, not the start.
		time.Sleep(time.Second)
		if v.query != "" {
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](v.settle, chromedp.EvalAwaitPromise)); err != nil {
				b.Fatalf("%s: flush: %v", v.name, err)
			}
		}
		b.ResetTimer()
		evs := traceInteractions(b, ctx, func() {
			for i := 0; i < b.N; i++ {
				if err := chromedp.Do(ctx, chromedp.MouseClickXY(80, 40), chromedp.KeyEvent("a")); err != nil {
					b.Fatalf("%s: interaction %d: %v", v.name, i, err)
				}
				time.Sleep(pace)
			}
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](v.settle, chromedp.EvalAwaitPromise)); err != nil {
				b.Fatalf("%s: settle: %v", v.name, err)
			}
		})
		b.StopTimer()
		// The page's renderer is the busiest one; the rest (a spare
		// renderer, say) are logged for a look but not counted.
		times := rendererMainTime(evs)
		best := 0.0
		var all []string
		for th, ms := range times {
			best = max(best, ms)
			all = append(all, fmt.Sprintf("%d/%d %.1fms", th.pid, th.tid, ms))
		}
		slices.Sort(all)
		b.Logf("%s: %d trace events, renderer main threads: %v", v.name, len(evs), all)
		rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#rows li').length`))
		if err != nil || rows != b.N {
			b.Fatalf("%s: %d rows after %d clicks (%v)", v.name, rows, b.N, err)
		}
		perInteraction[v.name] = best / float64(b.N)
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(perInteraction["nosdk"], "ms/interaction-nosdk")
	b.ReportMetric(perInteraction["sdk"], "ms/interaction-sdk")
	b.ReportMetric(perInteraction["sdk"]-perInteraction["nosdk"], "ms/interaction-added")
}
