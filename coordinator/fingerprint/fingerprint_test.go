package fingerprint

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/coordinator/symbolicate"
	"github.com/rearview-dev/rearview/sdkproto"
)

// frame is a symbolicated frame: minified position plus, when src is not
// empty, the original one.
func frame(url, fn string, line, col int, src, orig string, inApp bool) symbolicate.Frame {
	f := symbolicate.Frame{Frame: sdkproto.Frame{URL: url, Function: fn, Line: line, Column: col}, InApp: inApp}
	if src != "" {
		f.Original = &symbolicate.Position{Source: src, Function: orig, Line: line * 3, Column: col / 2}
	} else {
		f.UnresolvedReason = "no source map for release"
	}
	return f
}

func mapError(component, minified, bundle string, line, col int) *Event {
	return &Event{
		Type:  "TypeError",
		Value: "Cannot read properties of undefined (reading 'map')",
		URL:   "https://shop.example.com/products/42",
		Tags:  map[string]string{"component": component},
		Frames: []symbolicate.Frame{
			frame("https://shop.example.com/static/js/"+bundle, minified, 1, col, "webpack://shop/./src/components/"+component+".tsx", component, true),
			frame("https://shop.example.com/static/js/"+bundle, "Qe", 1, col+991, "webpack://shop/./node_modules/react-dom/cjs/react-dom.production.js", "renderWithHooks", false),
			frame("https://shop.example.com/static/js/"+bundle, "Xt", line, 77, "webpack://shop/./src/App.tsx", "App", true),
		},
	}
}

func mustParse(t testing.TB, text string) *Rules {
	t.Helper()
	r, err := Parse(text)
	if err != nil {
		t.Fatalf("parse %q: %v", text, err)
	}
	return r
}

func primary(r *Rules, ev *Event) string { return r.Group(ev).Hashes[0].Value }

func TestGrouping(t *testing.T) {
	seed := `error.type:"TypeError" error.value:"*reading 'map'*" tags.url:"*/products*" -> products-map-undefined`
	cases := []struct {
		name  string
		rules string
		a, b  *Event
		same  bool
	}{
		{"redeploy: new positions, names and bundle hash, same original", "",
			mapError("ProductList", "a", "main.a7f3e2.js", 1, 48293), mapError("ProductList", "q", "main.0b9c1d.js", 3, 1022), true},
		{"different components split by default", "",
			mapError("ProductList", "a", "main.a7f3e2.js", 1, 48293), mapError("CartSummary", "b", "main.a7f3e2.js", 1, 48293), false},
		{"one custom rule merges the components", seed,
			mapError("ProductList", "a", "main.a7f3e2.js", 1, 48293), mapError("CartSummary", "b", "main.a7f3e2.js", 1, 9), true},
		{"custom rule with {{ default }} keeps them apart", `error.value:"*reading 'map'*" -> map-error, {{ default }}`,
			mapError("ProductList", "a", "main.a7f3e2.js", 1, 48293), mapError("CartSummary", "b", "main.a7f3e2.js", 1, 9), false},
		{"custom rule with {{ tags.component }} splits by tag", `error.type:TypeError -> {{ tags.component }}`,
			mapError("ProductList", "a", "main.a7f3e2.js", 1, 48293), mapError("CartSummary", "a", "main.a7f3e2.js", 1, 48293), false},
		{"rule not matching keeps the default", `error.type:"TypeError" tags.url:"*/checkout*" -> checkout`,
			mapError("ProductList", "a", "main.a7f3e2.js", 1, 48293), mapError("CartSummary", "b", "main.a7f3e2.js", 1, 9), false},
		{"negated matcher", `!tags.component:"Cart*" -> not-cart`,
			mapError("ProductList", "a", "main.a7f3e2.js", 1, 48293), mapError("Recommendations", "b", "main.a7f3e2.js", 1, 9), true},
		{"frame matcher in a fingerprint rule", `stack.function:"Product*" stack.abs_path:"**/components/**" -> product-components`,
			mapError("ProductList", "a", "main.a7f3e2.js", 1, 48293), mapError("ProductGrid", "b", "main.a7f3e2.js", 1, 9), true},
		{"library frames differ but app frames agree", "",
			mapError("ProductList", "a", "main.a7f3e2.js", 1, 48293),
			func() *Event {
				e := mapError("ProductList", "a", "main.a7f3e2.js", 1, 48293)
				e.Frames[1].Original.Function = "mountIndeterminateComponent"
				return e
			}(), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := mustParse(t, c.rules)
			ra, rb := r.Group(c.a), r.Group(c.b)
			shared := false
			for _, x := range ra.Hashes {
				for _, y := range rb.Hashes {
					shared = shared || x == y
				}
			}
			if shared != c.same {
				t.Errorf("share a hash = %v, want %v\n a: %+v\n b: %+v", shared, c.same, ra.Hashes, rb.Hashes)
			}
		})
	}
}

func TestDefaultVariants(t *testing.T) {
	ev := mapError("ProductList", "a", "main.a7f3e2.js", 1, 48293)
	res := (*Rules)(nil).Group(ev)
	if len(res.Hashes) != 2 || res.Hashes[0].Variant != VariantApp || res.Hashes[1].Variant != VariantSystem || res.Rule != "" {
		t.Fatalf("hashes %+v", res.Hashes)
	}
	if res.Title != "TypeError: Cannot read properties of undefined (reading 'map')" || res.Culprit != "src/components/ProductList.tsx in ProductList" {
		t.Errorf("title %q culprit %q", res.Title, res.Culprit)
	}
	for _, h := range res.Hashes {
		if len(h.Value) != 32 {
			t.Errorf("hash %q is not 32 hex digits", h.Value)
		}
	}

	// A stack rule that changes which frames are in-app changes the app
	// hash, but the system hash still finds the existing issue.
	moved := mapError("ProductList", "a", "main.a7f3e2.js", 1, 48293)
	res2 := mustParse(t, `stack.abs_path:"**/src/App.tsx" -app`).Group(moved)
	if res2.Hashes[0] == res.Hashes[0] || res2.Hashes[1] != res.Hashes[1] {
		t.Errorf("stack rule: app hash must change and system hash stay: %+v vs %+v", res2.Hashes, res.Hashes)
	}
	if moved.Frames[2].InApp {
		t.Error("stack rule did not update the frame's InApp")
	}

	// Without in-app frames only the system hash remains; +app brings an
	// app hash back, and the system hash is unchanged.
	lib := mapError("ProductList", "a", "main.a7f3e2.js", 1, 48293)
	res3 := mustParse(t, "app:yes -app").Group(lib)
	if len(res3.Hashes) != 1 || res3.Hashes[0] != res.Hashes[1] {
		t.Errorf("no in-app frames: %+v", res3.Hashes)
	}
	res4 := mustParse(t, "stack.module:\"node_modules/*\" +app").Group(mapError("ProductList", "a", "main.a7f3e2.js", 1, 48293))
	if res4.Hashes[1] != res.Hashes[1] || res4.Hashes[0] == res.Hashes[0] {
		t.Errorf("+app: %+v", res4.Hashes)
	}

	// Without frames: type + normalised message.
	noStack := &Event{Type: "Error", Value: "Order 1234 failed for bob@example.com"}
	res5 := (*Rules)(nil).Group(noStack)
	if len(res5.Hashes) != 1 || res5.Hashes[0].Variant != VariantMessage {
		t.Fatalf("message variant: %+v", res5.Hashes)
	}
	other := &Event{Type: "Error", Value: "Order 98 failed for alice@shop.io"}
	if primary(nil, other) != res5.Hashes[0].Value {
		t.Error("messages differing in ids and e-mails must group")
	}
	if primary(nil, &Event{Type: "RangeError", Value: "Order 98 failed for alice@shop.io"}) == res5.Hashes[0].Value {
		t.Error("the type must be part of the message hash")
	}
}

func TestUnresolvedFrames(t *testing.T) {
	// Without source maps: minified names are dropped, the bundle hash is
	// stripped, line and column never count.
	ev := func(bundle, fn string, col int) *Event {
		return &Event{Type: "TypeError", Value: "x", Frames: []symbolicate.Frame{
			frame("https://shop.example.com/static/js/"+bundle+"?v=3", fn, 1, col, "", "", true),
			frame("https://shop.example.com/static/js/"+bundle, "handleSubmit", 1, col*2, "", "", true),
		}}
	}
	a := primary(nil, ev("main.a7f3e2.js", "n", 100))
	if b := primary(nil, ev("main.44d0e1.js", "Zt", 9000)); a != b {
		t.Error("redeploy without maps split the issue")
	}
	if c := primary(nil, ev("checkout.a7f3e2.js", "n", 100)); a == c {
		t.Error("different bundles must not group")
	}
	if got := (*Rules)(nil).Group(ev("main.a7f3e2.js", "n", 1)).Culprit; got != "static/js/main.js" {
		t.Errorf("culprit %q", got)
	}
}

func TestSDKFingerprint(t *testing.T) {
	a := mapError("ProductList", "a", "main.a7f3e2.js", 1, 48293)
	a.Fingerprint = []string{"checkout-flow"}
	b := mapError("CartSummary", "a", "main.a7f3e2.js", 1, 48293)
	b.Fingerprint = []string{"checkout-flow"}
	ra, rb := (*Rules)(nil).Group(a), (*Rules)(nil).Group(b)
	if ra.Rule != "sdk" || ra.Hashes[0] != rb.Hashes[0] || len(ra.Hashes) != 1 {
		t.Errorf("sdk fingerprint: %+v %+v", ra, rb)
	}
	b.Fingerprint = []string{"{{ default }}", "checkout-flow"}
	a.Fingerprint = []string{"{{default}}", "checkout-flow"}
	if ra, rb := (*Rules)(nil).Group(a), (*Rules)(nil).Group(b); ra.Hashes[0] == rb.Hashes[0] || len(ra.Hashes) != 2 {
		t.Errorf("{{ default }} in the sdk fingerprint: %+v %+v", ra.Hashes, rb.Hashes)
	}
	// Project rules win over the SDK.
	r := mustParse(t, "error.type:TypeError -> server-side")
	if got := r.Group(a); got.Rule == "sdk" {
		t.Errorf("project rule must override the sdk: %+v", got)
	}
}

func TestTitleTemplate(t *testing.T) {
	r := mustParse(t, `error.type:TypeError -> map, {{ tags.component }} title="{{ error.type }} in {{ tags.component }} ({{ stack.function }}, {{ tags.missing }})"`)
	res := r.Group(mapError("ProductList", "a", "main.a7f3e2.js", 1, 2))
	if res.Title != "TypeError in ProductList (ProductList, <no-value-for-tag-missing>)" {
		t.Errorf("title %q", res.Title)
	}
	if !strings.HasPrefix(res.Rule, `error.type:"TypeError" -> "map", {{ tags.component }}`) {
		t.Errorf("rule %q", res.Rule)
	}
}

func TestNormalizeMessage(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Cannot read properties of undefined (reading 'map')", "Cannot read properties of undefined (reading <str>)"},
		{`User 42 not found: "bob"`, "User <num> not found: <str>"},
		{"Order 1b4e28ba-2fa1-11d2-883f-0016d3cca427 failed", "Order <uuid> failed"},
		{"order-1b4e28ba-2fa1-11d2-883f-0016d3cca427", "order-<uuid>"},
		{"mail bob.smith+x@example.co.uk bounced.", "mail <email> bounced."},
		{"GET https://api.example.com/v1/users/42?x=1 failed: 500", "GET <url> failed: <num>"},
		{"at address 0x7ffde4a2 and 0XFF", "at address <hex> and <hex>"},
		{"hash deadbeef12 cafe", "hash <hex> cafe"},
		{"took 12.5ms, retry 3", "took <num>ms, retry <num>"},
		{"item42 of user_7", "item<num> of user_<num>"},
		{"don't split contractions", "don't split contractions"},
		{"Loading chunk 452 failed.", "Loading chunk <num> failed."},
		{"", ""},
		{"ünïcödé 12 €", "ünïcödé <num> €"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			if got := NormalizeMessage(c.in); got != c.want {
				t.Errorf("NormalizeMessage(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestNormalizePath(t *testing.T) {
	cases := []struct{ in, want string }{
		{"https://shop.example.com/static/js/main.a7f3e2.js", "static/js/main.js"},
		{"https://cdn.example.com/static/js/main.a7f3e2.js?v=1#x", "static/js/main.js"},
		{"webpack://shop/./src/components/Cart.tsx", "src/components/Cart.tsx"},
		{"webpack:///./src/App.tsx", "src/App.tsx"},
		{"~/static/js/chunk-4f3a2b1c.js", "static/js/chunk.js"},
		{"https://x.io/assets/452.7a8b9c.js", "assets/452.js"},
		{"src\\win\\file.ts", "src/win/file.ts"},
		{"/app/index-BZ3f9kq1.js", "app/index-BZ3f9kq1.js"},
		{"https://x.io", ""},
		{"app:///main.js", "main.js"},
	}
	for _, c := range cases {
		if got := NormalizePath(c.in); got != c.want {
			t.Errorf("NormalizePath(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestGlob(t *testing.T) {
	cases := []struct {
		pattern, s string
		fold, want bool
	}{
		{"*reading 'map'*", "Cannot read properties of undefined (reading 'map')", false, true},
		{"**/node_modules/**", "https://x.io/node_modules/react/index.js", true, true},
		{"vendor/*", "vendor/lodash/index", true, true},
		{"vendor/*", "src/vendor/x", true, false},
		{"Type?rror", "TypeError", false, true},
		{"typeerror", "TypeError", false, false},
		{"typeerror", "TypeError", true, true},
		{"", "", false, true},
		{"*", "", false, true},
		{"a*b*c", "aXXbYYc", false, true},
		{"a*b*c", "aXXbYY", false, false},
		{strings.Repeat("*a", 20) + "b", strings.Repeat("a", 1000), false, false},
	}
	for _, c := range cases {
		if got := globMatch(c.pattern, c.s, c.fold); got != c.want {
			t.Errorf("globMatch(%q, %q, %v) = %v", c.pattern, c.s, c.fold, got)
		}
	}
}

// benchEvents are realistic events: 12 frames, most resolved.
func benchEvents(n int) []Event {
	out := make([]Event, n)
	for i := range out {
		e := mapError(fmt.Sprintf("Component%d", i%50), "a", "main.a7f3e2.js", 1, 48293+i)
		for j := 0; j < 9; j++ {
			e.Frames = append(e.Frames, frame("https://shop.example.com/static/js/vendor.4c1d.js", "Qe", 1, 100*j, fmt.Sprintf("webpack://shop/./node_modules/react-dom/cjs/react-dom.production.js"), fmt.Sprintf("react%d", j), false))
		}
		out[i] = *e
	}
	return out
}

// cpuTime is the process's CPU time: on a machine shared with other jobs
// it measures the work better than wall time does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	per := float64(cpuTime()-start) / float64(b.N)
	b.ReportMetric(per, "cpu-ns/op")
	b.ReportMetric(1e9/per, "events/cpu-s")
}

func BenchmarkGroupDefault(b *testing.B) {
	evs := benchEvents(1024)
	b.ReportAllocs()
	start := cpuTime()
	for i := 0; b.Loop(); i++ {
		(*Rules)(nil).Group(&evs[i%len(evs)])
	}
	reportCPU(b, start)
}

func BenchmarkGroupWithRules(b *testing.B) {
	r := mustParse(b, `stack.abs_path:"**/node_modules/**" -app
stack.module:"vendor/*" -app
error.type:"ChunkLoadError" -> chunk-load
error.type:"TypeError" error.value:"*reading 'map'*" tags.url:"*/products*" -> products-map-undefined, {{ tags.component }}
`)
	evs := benchEvents(1024)
	b.ReportAllocs()
	start := cpuTime()
	for i := 0; b.Loop(); i++ {
		r.Group(&evs[i%len(evs)])
	}
	reportCPU(b, start)
}

func BenchmarkNormalizeMessage(b *testing.B) {
	msg := "Request 1b4e28ba-2fa1-11d2-883f-0016d3cca427 for bob@example.com to https://api.example.com/v1/orders/42 failed with 503 after 1200ms ('timeout')"
	b.ReportAllocs()
	for b.Loop() {
		NormalizeMessage(msg)
	}
}

func TestCompiledGlobAgreesWithGeneral(t *testing.T) {
	patterns := []string{"", "*", "**", "abc", "abc*", "*abc", "*abc*", "**abc**", "a*c", "a?c", "*A/B*", "vendor/*", "**/node_modules/**"}
	inputs := []string{"", "abc", "xabcx", "ABC", "a/b", "xa/bx", "vendor/x/y", "src/vendor/x", "https://x.io/node_modules/a.js", "ab", "abcabc"}
	for _, p := range patterns {
		for _, fold := range []bool{false, true} {
			m := matcher{pattern: p}
			m.kind, m.lit = compileGlob(p)
			for _, s := range inputs {
				if got, want := m.match(s, fold), globMatch(p, s, fold); got != want {
					t.Errorf("pattern %q (kind %d) on %q fold %v: fast path %v, general %v", p, m.kind, s, fold, got, want)
				}
			}
		}
	}
}
