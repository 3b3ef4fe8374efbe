package engine

import (
	"bytes"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rearview-dev/rearview/sdkproto"
	"github.com/rearview-dev/rearview/wasm"
	"github.com/rearview-dev/rearview/wasm/mask"
)

var update = flag.Bool("update", false, "rewrite testdata/golden")

const browserUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"

// Policies is shared with the golden files and the wasm tests.
var policies = []struct{ name, doc string }{
	{"default", ``},
	{"strict", `{"masking":{"strict":true}}`},
	{"eu", `{"sampling":{"rate":0},"noise":{"localhost":true,"fingerprints":["b8f2d6b5d3a3c3f1"]},"regions":{"eu":{"masking":{"strict":true,"query_all":true}}}}`},
}

func run(t testing.TB, doc string, ctx Context, batch []byte) (Response, Report) {
	t.Helper()
	resp, err := ParseResponse(New().Handle(AppendRequest(nil, []byte(doc), ctx, batch)))
	if err != nil {
		t.Fatalf("handle: %v", err)
	}
	rep, err := resp.ParseReport()
	if err != nil {
		t.Fatal(err)
	}
	return resp.Clone(), rep
}

// TestGolden pins the engine's output on the corpus: a change to it is a
// change in what leaves the edge, to be reviewed (go test -update).
func TestGolden(t *testing.T) {
	for _, v := range wasm.Corpus() {
		for _, p := range policies {
			t.Run(v.Name+"/"+p.name, func(t *testing.T) {
				got := New().Handle(AppendRequest(nil, []byte(p.doc), Context{Project: "p", Region: "eu", UA: browserUA, Now: 1764028812345}, v.Batch))
				path := filepath.Join("..", "testdata", "golden", v.Name+"."+p.name+".out")
				if *update {
					os.MkdirAll(filepath.Dir(path), 0o755)
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test -update)", err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("output differs from %s:\n%q", path, got)
				}
				resp, err := ParseResponse(got)
				if err != nil {
					t.Fatal(err)
				}
				if len(resp.Batch) > 0 {
					if _, rej, err := sdkproto.Decode(resp.Batch, sdkproto.DefaultLimits()); err != nil || len(rej) > 0 {
						t.Fatalf("output does not decode: %v %v", err, rej)
					}
				}
				for _, c := range wasm.Canaries() {
					if bytes.Contains(got, []byte(c)) {
						t.Fatalf("personal data %q survives", c)
					}
				}
			})
		}
	}
}

func corpus(t testing.TB, name string) []byte {
	for _, v := range wasm.Corpus() {
		if v.Name == name {
			return v.Batch
		}
	}
	t.Fatalf("no vector %s", name)
	return nil
}

// TestCSSIsNeverTouched checks that every stylesheet in the PII replay
// comes out byte for byte, even under strict masking.
func TestCSSIsNeverTouched(t *testing.T) {
	in := corpus(t, "pii-batch")
	for _, p := range policies {
		t.Run(p.name, func(t *testing.T) {
			resp, _ := run(t, p.doc, Context{Region: "eu", UA: browserUA}, in)
			for _, css := range []string{
				`.card{background:url(https://198.51.100.7/bg.png)} .price::after{content:\"Total: 1234 5678 9012 3456\"}`,
				`"href":"https://cdn.example.com/site.css?v=198.51.100.7"`,
				`"_cssText":"body{margin:0;font-family:Inter}"`,
				`"style":"margin:0;color:#203040"`,
				`"value":".card{color:red}"`,
				`"style":{"color": "red"}`,
				`"textContent":"#x{margin:0}"`,
			} {
				if !bytes.Contains(resp.Batch, []byte(css)) {
					t.Errorf("CSS changed: %s", css)
				}
			}
		})
	}
}

func TestDecisions(t *testing.T) {
	noise := corpus(t, "noise-batch")
	tests := []struct {
		name, doc string
		ctx       Context
		batch     []byte
		want      map[string]string // event id → reason, "" = kept
	}{
		{"noise", ``, Context{UA: browserUA}, noise, map[string]string{
			"n-ext": "browser-extensions", "n-moz": "browser-extensions", "n-resize": "browser-noise", "n-script": "browser-noise",
			"n-abort": "browser-noise", "n-real": "", "n-vital": "", "n-replay": "sampled", "n-crumb": "sampled"}},
		{"everything kept", `{"noise":{"extensions":false,"messages":[]},"sampling":{"rate":1}}`, Context{UA: browserUA}, noise, map[string]string{
			"n-ext": "", "n-moz": "", "n-resize": "", "n-script": "", "n-abort": "", "n-real": "", "n-vital": "", "n-replay": "", "n-crumb": ""}},
		{"bot", ``, Context{UA: "Googlebot/2.1"}, noise, allDropped("web-crawlers")},
		// A beacon sent by headless automation whose page claimed a real browser.
		{"bot in the request only", ``, Context{UA: strings.Replace(browserUA, "Chrome/", "HeadlessChrome/", 1)}, noise, allDropped("web-crawlers")},
		// One rule: the request's User-Agent when there is one, else the
		// batch's device.ua.
		{"bot in device.ua, browser in the request", ``, Context{UA: browserUA}, bytes.Replace(noise, []byte(`Version/18.0 Safari/605.1.15`), []byte(`Googlebot/2.1`), 1), map[string]string{
			"n-ext": "browser-extensions", "n-moz": "browser-extensions", "n-resize": "browser-noise", "n-script": "browser-noise",
			"n-abort": "browser-noise", "n-real": "", "n-vital": "", "n-replay": "sampled", "n-crumb": "sampled"}},
		{"bot in device.ua, no request User-Agent", ``, Context{}, bytes.Replace(noise, []byte(`Version/18.0 Safari/605.1.15`), []byte(`Googlebot/2.1`), 1), allDropped("web-crawlers")},
		{"browser in device.ua, no request User-Agent", ``, Context{}, noise, map[string]string{
			"n-ext": "browser-extensions", "n-moz": "browser-extensions", "n-resize": "browser-noise", "n-script": "browser-noise",
			"n-abort": "browser-noise", "n-real": "", "n-vital": "", "n-replay": "sampled", "n-crumb": "sampled"}},
		// The SDK's signals, each with its own reason.
		{"webdriver", ``, Context{UA: browserUA}, bytes.Replace(noise, []byte(`"device": {`), []byte(`"device": {"webdriver": true, `), 1), allDropped("webdriver")},
		{"headless", ``, Context{UA: browserUA}, bytes.Replace(noise, []byte(`"device": {`), []byte(`"device": {"headless": true, `), 1), allDropped("headless-browser")},
		{"webdriver and headless", ``, Context{UA: browserUA}, bytes.Replace(noise, []byte(`"device": {`), []byte(`"device": {"headless": true, "webdriver": true, `), 1), allDropped("webdriver")},
		{"webdriver false", ``, Context{UA: browserUA}, bytes.Replace(noise, []byte(`"device": {`), []byte(`"device": {"webdriver": false, `), 1), map[string]string{
			"n-ext": "browser-extensions", "n-moz": "browser-extensions", "n-resize": "browser-noise", "n-script": "browser-noise",
			"n-abort": "browser-noise", "n-real": "", "n-vital": "", "n-replay": "sampled", "n-crumb": "sampled"}},
		{"webdriver allowed", `{"bots":{"drop":true,"webdriver":true,"allow":["chrome/156"]}}`, Context{UA: browserUA}, bytes.Replace(noise, []byte(`"device": {`), []byte(`"device": {"webdriver": true, `), 1), map[string]string{
			"n-ext": "browser-extensions", "n-moz": "browser-extensions", "n-resize": "browser-noise", "n-script": "browser-noise",
			"n-abort": "browser-noise", "n-real": "", "n-vital": "", "n-replay": "sampled", "n-crumb": "sampled"}},
		{"webdriver signal off", `{"bots":{"drop":true,"webdriver":false}}`, Context{UA: browserUA}, bytes.Replace(noise, []byte(`"device": {`), []byte(`"device": {"webdriver": true, `), 1), map[string]string{
			"n-ext": "browser-extensions", "n-moz": "browser-extensions", "n-resize": "browser-noise", "n-script": "browser-noise",
			"n-abort": "browser-noise", "n-real": "", "n-vital": "", "n-replay": "sampled", "n-crumb": "sampled"}},
		{"no user agent at all", ``, Context{}, bytes.Replace(noise, []byte(`"ua": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15"`), []byte(`"ua": ""`), 1), allDropped("web-crawlers")},
		{"release", `{"noise":{"deny_releases":["1.4.*"]}}`, Context{UA: browserUA}, noise, map[string]string{
			"n-ext": "browser-extensions", "n-moz": "browser-extensions", "n-resize": "browser-noise", "n-script": "browser-noise",
			"n-abort": "browser-noise", "n-real": "release", "n-vital": "", "n-replay": "sampled", "n-crumb": "sampled"}},
		{"known noise", `{"noise":{"fingerprints":["` + string(Fingerprint(nil, []byte("TypeError"), []byte("Cannot read properties of null (reading 'price')"))) + `"]}}`, Context{UA: browserUA}, noise, map[string]string{
			"n-ext": "browser-extensions", "n-moz": "browser-extensions", "n-resize": "browser-noise", "n-script": "browser-noise",
			"n-abort": "browser-noise", "n-real": "known-noise", "n-vital": "", "n-replay": "sampled", "n-crumb": "sampled"}},
		{"localhost", `{"noise":{"localhost":true}}`, Context{UA: browserUA}, bytes.Replace(noise, []byte(`"url": "https://shop.example.com/"}`), []byte(`"url": "http://localhost:3000/"}`), 1), map[string]string{
			"n-ext": "localhost", "n-moz": "localhost", "n-resize": "localhost", "n-script": "localhost",
			"n-abort": "localhost", "n-real": "localhost", "n-vital": "localhost", "n-replay": "localhost", "n-crumb": "localhost"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, rep := run(t, tt.doc, tt.ctx, tt.batch)
			if len(rep.Decisions) != len(tt.want) {
				t.Fatalf("%d decisions, want %d", len(rep.Decisions), len(tt.want))
			}
			dropped := 0
			for _, d := range rep.Decisions {
				if want := tt.want[d.ID]; d.Reason != want || d.Kept != (want == "") {
					t.Errorf("%s: kept=%v reason=%q, want %q", d.ID, d.Kept, d.Reason, want)
				}
				if !d.Kept {
					dropped++
				}
			}
			sum := 0
			for _, n := range rep.Dropped {
				sum += n
			}
			if sum != dropped || rep.Kept != len(rep.Decisions)-dropped {
				t.Fatalf("counts %v kept %d do not match the decisions", rep.Dropped, rep.Kept)
			}
		})
	}
}

func allDropped(reason string) map[string]string {
	m := map[string]string{}
	for _, id := range []string{"n-ext", "n-moz", "n-resize", "n-script", "n-abort", "n-real", "n-vital", "n-replay", "n-crumb"} {
		m[id] = reason
	}
	return m
}

// TestMemberOrder checks that a batch whose events come before its
// session gets the same decisions and the same masked events.
func TestMemberOrder(t *testing.T) {
	in := corpus(t, "noise-batch")
	var m map[string]json.RawMessage
	if err := json.Unmarshal(in, &m); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(`{"events":` + string(m["events"]))
	for _, k := range []string{"v", "sdk", "session", "page", "device", "sent_at"} {
		b.WriteString(`,"` + k + `":` + string(m[k]))
	}
	b.WriteString("}")
	_, want := run(t, "", Context{UA: browserUA}, in)
	_, got := run(t, "", Context{UA: browserUA}, []byte(b.String()))
	wj, _ := json.Marshal(want)
	gj, _ := json.Marshal(got)
	if string(wj) != string(gj) {
		t.Fatalf("reordered batch:\n got %s\nwant %s", gj, wj)
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name string
		req  []byte
		want string
	}{
		{"empty", nil, "bad magic"},
		{"truncated", []byte("RVF1\x05\x00\x00\x00ab"), "exceeds"},
		{"bad policy", AppendRequest(nil, []byte(`{"sampling":{"rate":9}}`), Context{}, []byte(`{}`)), "between 0 and 1"},
		{"bad json", AppendRequest(nil, nil, Context{}, []byte(`{"events":[}`)), "invalid JSON"},
		{"trailing", append(AppendRequest(nil, nil, Context{}, []byte(`{}`)), 'x'), "after the last section"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseResponse(New().Handle(tt.req))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// FuzzHandle feeds arbitrary batches (seeded with the corpus) through the
// engine: it must never panic, a valid batch must come out valid, and no
// detector may match in a string the engine runs detectors on.
func FuzzHandle(f *testing.F) {
	for _, v := range wasm.Corpus() {
		f.Add(v.Batch, false)
	}
	f.Add([]byte(`{"v":1,"events":[{"id":"a","kind":"error","error":{"value":"x\u0040y.com 4111\u00201111 1111 1111"}}]}`), true)
	e := New()
	f.Fuzz(func(t *testing.T, batch []byte, strict bool) { checkHandle(t, e, batch, strict) })
}

// checkHandle runs one batch and checks the engine's promises: no panic,
// a report that decodes, a valid batch comes out valid, and no detector
// matches in a string the engine ran the detectors on.
// It reports whether the batch was valid, so that the output was checked.
func checkHandle(t *testing.T, e *Engine, batch []byte, strict bool) bool {
	t.Helper()
	doc := ``
	if strict {
		doc = `{"masking":{"strict":true}}`
	}
	resp, err := ParseResponse(e.Handle(AppendRequest(nil, []byte(doc), Context{UA: browserUA}, batch)))
	if err != nil {
		return false // refused: fine, as long as it said so
	}
	if _, err := resp.ParseReport(); err != nil {
		t.Fatalf("report does not decode: %v", err)
	}
	if _, rej, err := sdkproto.Decode(batch, sdkproto.DefaultLimits()); err != nil || len(rej) > 0 || len(resp.Batch) == 0 {
		return false // the edge never passes such a batch on
	}
	out, rej, err := sdkproto.Decode(resp.Batch, sdkproto.DefaultLimits())
	if err != nil || len(rej) > 0 {
		t.Fatalf("valid batch came out invalid: %v %v\n%s", err, rej, resp.Batch)
	}
	for _, s := range detected(out) {
		if m, ok := mask.Find([]byte(s), mask.All); ok {
			t.Fatalf("detector %s matches %q in masked output", m.Detector.Name(), s[m.Start:m.End])
		}
	}
	return true
}

// TestMutatedBatches applies checkHandle to deterministic mutations of the
// corpus: flipped bytes, cuts, copied spans and inserted escapes, PII and
// structure, so that the promises hold beyond the fuzzer's runs.
func TestMutatedBatches(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	vs := wasm.Corpus()
	bait := []string{`\u0040`, `\u0034111 1111 1111 1111`, `jane@example.com`, `+1 415 555 0132`, `"`, `{`, `]`, `,"x":{"y":[1]}`, `\ud83d\ude00`, `::1`}
	e := New()
	valid := 0
	for i := range 12000 {
		b := append([]byte(nil), vs[r.IntN(len(vs))].Batch...)
		for range 1 + r.IntN(4) {
			p := r.IntN(len(b))
			switch r.IntN(4) {
			case 0:
				b[p] = byte(r.IntN(256))
			case 1:
				b = append(b[:p], b[min(len(b), p+r.IntN(32)):]...)
			case 2:
				b = append(b[:p], append([]byte(bait[r.IntN(len(bait))]), b[p:]...)...)
			default:
				q, n := r.IntN(len(b)), r.IntN(64)
				b = append(b[:p], append(append([]byte(nil), b[q:min(len(b), q+n)]...), b[p:]...)...)
			}
		}
		if checkHandle(t, e, b, i%2 == 1) {
			valid++
		}
	}
	if valid < 600 {
		t.Fatalf("only %d of the mutated batches were valid: the test checks too little", valid)
	}
	t.Logf("%d valid mutated batches checked", valid)
}

// detected lists the strings of a batch the engine runs detectors on.
func detected(b *sdkproto.Batch) []string {
	out := []string{b.Session.UserID, b.Page.URL, b.Page.Referrer}
	for _, ev := range b.Events {
		if e := ev.Error; e != nil {
			out = append(out, e.Value, e.URL)
			for _, f := range e.Stack {
				out = append(out, f.URL, f.Function)
			}
			for _, v := range e.Tags {
				out = append(out, v)
			}
			for _, c := range e.Breadcrumbs {
				out = append(out, crumb(c)...)
			}
		}
		if c := ev.Breadcrumb; c != nil {
			out = append(out, crumb(*c)...)
		}
		if v := ev.Vital; v != nil {
			out = append(out, v.URL)
			for _, a := range v.Attribution {
				out = append(out, a)
			}
		}
	}
	return out
}

func crumb(c sdkproto.Breadcrumb) []string {
	out := []string{c.Message, c.Selector, c.URL}
	for _, v := range c.Data {
		out = append(out, v)
	}
	if h := c.HTTP; h != nil {
		out = append(out, h.URL, h.RequestBody, h.ResponseBody)
		for _, v := range h.RequestHeaders {
			out = append(out, v)
		}
		for _, v := range h.ResponseHeaders {
			out = append(out, v)
		}
	}
	return out
}

// FuzzRequest feeds arbitrary request envelopes: Handle must answer every
// one with a response that parses.
func FuzzRequest(f *testing.F) {
	f.Add(AppendRequest(nil, nil, Context{UA: browserUA}, corpus(f, "error-batch")))
	f.Add([]byte("RVF1"))
	f.Add([]byte("RVF1\xff\xff\xff\xff"))
	e := New()
	f.Fuzz(func(t *testing.T, req []byte) {
		out := e.Handle(req)
		if len(out) < 12 || string(out[:4]) != ResponseMagic {
			t.Fatalf("bad response %q", out)
		}
		if resp, err := ParseResponse(out); err == nil {
			if _, err := resp.ParseReport(); err != nil {
				t.Fatal(err)
			}
		} else if !strings.Contains(err.Error(), ErrBadInput.Error()) {
			t.Fatalf("response does not parse: %v", err)
		}
	})
}

// TestParseReportLikeJSON holds ParseReport, which reads with jsontext, to
// what encoding/json makes of the same reports: those of the golden corpus
// and hand-written ones with escapes, every reason and no decisions.
func TestParseReportLikeJSON(t *testing.T) {
	reports := []string{
		`{"kept":0,"masked":0,"dropped":{},"decisions":[]}`,
		`{"kept":1,"masked":2,"dropped":{"crawlers":3,"sampled":1},"decisions":[{"id":"a\"b\u00e9","kind":"error","kept":true,"masked":2},{"id":"x","kind":"replay","kept":false,"reason":"sampled"}]}`,
		` { "kept" : 1 , "extra" : [ 1 , { } ] , "masked" : 0 , "dropped" : { } , "decisions" : [ ] } `,
	}
	outs, err := filepath.Glob(filepath.Join("..", "testdata", "golden", "*.out"))
	if err != nil || len(outs) == 0 {
		t.Fatalf("golden outputs: %v %d", err, len(outs))
	}
	for _, path := range outs {
		out, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if resp, err := ParseResponse(out); err == nil {
			reports = append(reports, string(resp.Report))
		}
	}
	for _, rj := range reports {
		got, err := Response{Report: []byte(rj)}.ParseReport()
		if err != nil {
			t.Fatalf("%s: %v", rj, err)
		}
		var want Report
		if err := json.Unmarshal([]byte(rj), &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\nParseReport %+v\njson        %+v", rj, got, want)
		}
		counts, err := Response{Report: []byte(rj)}.ParseCounts()
		want.Decisions = nil
		if err != nil || !reflect.DeepEqual(counts, want) {
			t.Errorf("%s:\nParseCounts %+v %v\njson        %+v", rj, counts, err, want)
		}
	}
	for _, bad := range []string{``, `{`, `{"kept":"1"}`, `{"kept":1.5}`, `{"decisions":[{"kept":1}]}`, `{} x`} {
		if _, err := (Response{Report: []byte(bad)}).ParseReport(); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestAppendRequestHead checks that a head followed by its batch is the
// envelope AppendRequest builds.
func TestAppendRequestHead(t *testing.T) {
	ctx := Context{Project: "p\"", Region: "eu", Country: "DE", UA: browserUA, Now: 1764028812345}
	for _, batch := range [][]byte{nil, []byte(`{"events":[]}`)} {
		got := append(AppendRequestHead(nil, []byte(`{"masking":{}}`), ctx, len(batch)), batch...)
		if want := AppendRequest(nil, []byte(`{"masking":{}}`), ctx, batch); !bytes.Equal(got, want) {
			t.Errorf("head+batch %q, want %q", got, want)
		}
	}
}
