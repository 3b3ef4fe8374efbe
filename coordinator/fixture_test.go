package coordinator_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rearview-dev/rearview/internal/testenv"
)

// TestRecordReplayFixture records testdata/session.json: one minute of a
// real rrweb recording (a product list page with scrolling, typing, clicks
// and DOM updates) in headless Chromium, for the replay storage benchmarks.
// It only runs when REARVIEW_RECORD_FIXTURE=1; the fixture is committed.
func TestRecordReplayFixture(t *testing.T) {
	if os.Getenv("REARVIEW_RECORD_FIXTURE") != "1" {
		t.Skip("set REARVIEW_RECORD_FIXTURE=1 to re-record testdata/session.json")
	}
	recorder, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "sdkproto/browser/node_modules/@rrweb/record/dist/record.umd.min.cjs"))
	if err != nil {
		t.Fatalf("rrweb recorder (run npm ci in sdkproto/browser): %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/record.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write(recorder)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, fixturePage)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ctx := testenv.Browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(61 * time.Second)
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](`window.__events`))
	if err != nil {
		t.Fatal(err)
	}
	var evs []json.RawMessage
	if err := json.Unmarshal(raw, &evs); err != nil || len(evs) < 100 {
		t.Fatalf("recorded %d events: %v", len(evs), err)
	}
	if err := os.WriteFile("testdata/session.json", raw, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %d rrweb events, %d bytes", len(evs), len(raw))
}

const fixturePage = `<!doctype html><html><head><meta charset="utf-8"><title>Shop</title>
<style>body{font-family:sans-serif;margin:0}header{background:#223;color:#fff;padding:12px}
.grid{display:grid;grid-template-columns:repeat(4,1fr);gap:12px;padding:12px}
.card{border:1px solid #ccc;border-radius:6px;padding:8px}.price{font-weight:bold;color:#a33}
.toast{position:fixed;bottom:10px;right:10px;background:#333;color:#fff;padding:8px}</style>
<script src="/record.js"></script></head><body>
<header><h1>Rearview Outfitters</h1><nav><a href="#">Home</a> <a href="#">Sale</a> <a href="#">Cart (<span id="count">0</span>)</a></nav></header>
<form id="search"><input id="q" name="q" placeholder="Search products"><input id="email" type="email" placeholder="E-mail"></form>
<main class="grid" id="grid"></main>
<script>
window.__events = [];
rrwebRecord.record({emit(e){ window.__events.push(e); }, maskAllInputs: true, checkoutEveryNms: 30000});
const grid = document.getElementById('grid');
const words = ['Trail','Summit','Harbor','Canyon','Aurora','Granite','Meadow','Drift','Ember','Tundra'];
for (let i = 0; i < 240; i++) {
  const c = document.createElement('div'); c.className = 'card'; c.id = 'p' + i;
  c.innerHTML = '<img alt="" width="120" height="80" src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><h3>' + words[i%10] + ' ' + words[(i*7)%10] + ' Jacket ' + i + '</h3><p>Water-resistant shell with taped seams, two zip pockets and an adjustable hood.</p><span class="price">$' + (49 + i % 150) + '.00</span> <button data-testid="add-' + i + '">Add to cart</button>';
  grid.appendChild(c);
}
let n = 0, t = 0;
const q = document.getElementById('q');
setInterval(() => {
  t++;
  window.scrollTo(0, (t * 137) % 6000);
  if (t % 3 === 0) { q.value = 'jacket size ' + t; q.dispatchEvent(new Event('input', {bubbles: true})); }
  if (t % 5 === 0) { const b = document.querySelector('[data-testid="add-' + (t % 240) + '"]'); b.click(); document.getElementById('count').textContent = ++n; }
  if (t % 7 === 0) { const d = document.createElement('div'); d.className = 'toast'; d.textContent = 'Added to cart: item ' + t; document.body.appendChild(d); setTimeout(() => d.remove(), 800); }
  if (t % 11 === 0) { const c = document.getElementById('p' + (t % 240)); c.querySelector('.price').textContent = '$' + (t % 90 + 10) + '.99'; }
}, 250);
document.addEventListener('mousemove', () => {});
</script></body></html>`
