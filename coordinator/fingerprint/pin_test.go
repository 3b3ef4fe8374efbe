package fingerprint

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/rearview-dev/rearview/coordinator/symbolicate"
)

// Issues own the hashes their events produced: a change to how any hash is
// computed splits every existing issue. These tests pin the hashes, titles
// and culprits of representative events as they were when issues were first
// stored, so an optimisation cannot change them unnoticed.

func describe(res Result, ev *Event) string {
	var b strings.Builder
	for _, h := range res.Hashes {
		fmt.Fprintf(&b, "%s=%s ", h.Variant, h.Value)
	}
	fmt.Fprintf(&b, "| %q | %q | %q |", res.Title, res.Culprit, res.Rule)
	for _, f := range ev.Frames {
		if f.InApp {
			b.WriteByte('A')
		} else {
			b.WriteByte('s')
		}
	}
	return b.String()
}

// pinEvents covers each path through Group: resolved and unresolved frames,
// recursion, empty frames, no frames (the message variant), the SDK's
// fingerprint and project rules with variables and titles.
func pinEvents() []struct {
	name  string
	rules string
	ev    *Event
} {
	unresolved := &Event{Type: "TypeError", Value: "x is not a function", Frames: []symbolicate.Frame{
		frame("https://shop.example.com/static/js/main.a7f3e2.js?v=3", "n", 1, 100, "", "", true),
		frame("https://shop.example.com/static/js/main.a7f3e2.js", "handleSubmit", 1, 200, "", "", true),
		frame("https://shop.example.com/static/js/main.a7f3e2.js", "handleSubmit", 1, 300, "", "", true),
		frame("https://cdn.other.io/lib-4f3a2b1c.js", "Object.async track", 1, 5, "", "", false),
		frame("<anonymous>", "<anonymous>", 0, 0, "", "", false),
	}}
	recursive := mapError("ProductList", "a", "main.a7f3e2.js", 1, 48293)
	recursive.Frames = append(recursive.Frames[:1], recursive.Frames...)
	sdk := mapError("CartSummary", "b", "main.0b9c1d.js", 2, 77)
	sdk.Fingerprint = []string{"{{ default }}", "checkout-flow"}
	sdkLit := mapError("CartSummary", "b", "main.0b9c1d.js", 2, 77)
	sdkLit.Fingerprint = []string{"checkout-flow", " {{default}} x"}
	chunk := &Event{Type: "ChunkLoadError", Value: "Loading chunk 452 failed.", Release: "r42", Frames: []symbolicate.Frame{
		frame("webpack://shop/./src/vendor/loader.js", "load", 1, 1, "webpack:///./src/vendor/loader.js", "new loadChunk", true),
	}}
	fetch := &Event{Type: "TypeError", Value: "Failed to fetch https://api.example.com/v1/orders/42", URL: "https://shop.example.com/checkout"}
	return []struct {
		name  string
		rules string
		ev    *Event
	}{
		{"resolved", "", mapError("ProductList", "a", "main.a7f3e2.js", 1, 48293)},
		{"resolved other", "", mapError("CartSummary", "q", "main.0b9c1d.js", 3, 1022)},
		{"unresolved", "", unresolved},
		{"recursion", "", recursive},
		{"message", "", &Event{Type: "Error", Value: "Request 1b4e28ba-2fa1-11d2-883f-0016d3cca427 for bob@example.com to https://api.example.com/v1/orders/42 failed with 503 after 1200ms ('timeout')"}},
		{"message no type", "", &Event{Value: "hash deadbeef12 at 0x7ffde4a2, item42 of user_7: \"quoted\"\nsecond line"}},
		{"empty", "", &Event{}},
		{"sdk default", "", sdk},
		{"sdk literal", "", sdkLit},
		{"shop seed", "shop", mapError("ProductList", "a", "main.a7f3e2.js", 1, 48293)},
		{"shop chunk", "shop", chunk},
		{"shop fetch", "shop", fetch},
		{"shop default", "shop", unresolved},
		{"tags and title", `error.type:TypeError -> map, {{ tags.component }}, {{ stack.function }}, {{ stack.module }}, {{ stack.abs_path }}, {{ tags.missing }}, {{ release }} title="{{ error.type }} in {{ tags.component }} ({{ stack.function }})"`,
			mapError("ProductList", "a", "main.a7f3e2.js", 1, 48293)},
		{"frame matchers", `stack.function:"Product*" stack.abs_path:"**/components/**" -> product-components, {{ stack.function }}`,
			mapError("ProductGrid", "b", "main.a7f3e2.js", 1, 9)},
		{"stack rules", "stack.module:\"node_modules/*\" +app\nstack.abs_path:\"**/App.tsx\" -app\nfunction:Product* app:yes -app",
			mapError("ProductList", "a", "main.a7f3e2.js", 1, 48293)},
	}
}

func pinRules(t *testing.T, name string) *Rules {
	t.Helper()
	if name == "shop" {
		b, err := os.ReadFile("testdata/shop.rules")
		if err != nil {
			t.Fatal(err)
		}
		name = string(b)
	}
	return mustParse(t, name)
}

func TestPinnedHashes(t *testing.T) {
	want := map[string]string{
		"resolved":        `app=d26802d3a3ba5937cf660407c055c2d9 system=840e174c8fc4e9d23bbc9e3342bfcb70 | "TypeError: Cannot read properties of undefined (reading 'map')" | "src/components/ProductList.tsx in ProductList" | "" |AsA`,
		"resolved other":  `app=fdfcbf1017d72dc3a13db4ced3b92a1f system=66fdddd439e032ad230ae186b9145b6a | "TypeError: Cannot read properties of undefined (reading 'map')" | "src/components/CartSummary.tsx in CartSummary" | "" |AsA`,
		"unresolved":      `app=223989ed3d3e188d3055e99b66156f8f system=495eae546bdbc18bb457edd9f93226ed | "TypeError: x is not a function" | "static/js/main.js" | "" |AAAss`,
		"recursion":       `app=d26802d3a3ba5937cf660407c055c2d9 system=840e174c8fc4e9d23bbc9e3342bfcb70 | "TypeError: Cannot read properties of undefined (reading 'map')" | "src/components/ProductList.tsx in ProductList" | "" |AAsA`,
		"message":         `message=90d1277c2ac98545c91d8048dd4ff3f0 | "Error: Request 1b4e28ba-2fa1-11d2-883f-0016d3cca427 for bob@example.com to https://api.example.com/v1/orders/42 failed with 503 after 1200ms ('timeout')" | "" | "" |`,
		"message no type": `message=a4369ed0b9b15c2e850b96162d8732bd | "hash deadbeef12 at 0x7ffde4a2, item42 of user_7: \"quoted\"" | "" | "" |`,
		"empty":           `message=24706be056ec1122b7ceb942060b3437 | "Error" | "" | "" |`,
		"sdk default":     `custom=1352bd36290321353d9988c46627c16b custom=bd3c47a2f1c883548a29073d8068b897 | "TypeError: Cannot read properties of undefined (reading 'map')" | "src/components/CartSummary.tsx in CartSummary" | "sdk" |AsA`,
		"sdk literal":     `custom=88bbc9e59fa5a4dc07d91d62b21a38a7 | "TypeError: Cannot read properties of undefined (reading 'map')" | "src/components/CartSummary.tsx in CartSummary" | "sdk" |AsA`,
		"shop seed":       `custom=17c5734005330692462ccfda8d17b96a | "products.map on a missing field" | "src/components/ProductList.tsx in ProductList" | "error.type:\"TypeError\" error.value:\"*reading 'map'*\" tags.url:\"*/products*\" -> \"products-map-undefined\" title=\"products.map on a missing field\"" |AsA`,
		"shop chunk":      `custom=91fe1b095369a7948259035b7a5c697e | "ChunkLoadError: Loading chunk 452 failed." | "src/vendor/loader.js in loadChunk" | "error.type:\"ChunkLoadError\" -> \"chunk-load\", {{ tags.release }}" |A`,
		"shop fetch":      `custom=6bebdbe84df9ea01f0602a6bd6a38e06 | "TypeError: Failed to fetch https://api.example.com/v1/orders/42" | "" | "error.value:\"*Failed to fetch*\" -> \"fetch-failed\", {{ default }}" |`,
		"shop default":    `app=223989ed3d3e188d3055e99b66156f8f system=495eae546bdbc18bb457edd9f93226ed | "TypeError: x is not a function" | "static/js/main.js" | "" |AAAss`,
		"tags and title":  `custom=3d0acdd840c6fd4b625c9d1c8fd7ea88 | "TypeError in ProductList (ProductList)" | "src/components/ProductList.tsx in ProductList" | "error.type:\"TypeError\" -> \"map\", {{ tags.component }}, {{ stack.function }}, {{ stack.module }}, {{ stack.abs_path }}, {{ tags.missing }}, {{ release }} title=\"{{ error.type }} in {{ tags.component }} ({{ stack.function }})\"" |AsA`,
		"frame matchers":  `custom=0a4dbeaf065b663c9b8abd050c8be7e7 | "TypeError: Cannot read properties of undefined (reading 'map')" | "src/components/ProductGrid.tsx in ProductGrid" | "stack.function:\"Product*\" stack.abs_path:\"**/components/**\" -> \"product-components\", {{ stack.function }}" |AsA`,
		"stack rules":     `app=29891151ca4fe2a08076fe07c922f54e system=840e174c8fc4e9d23bbc9e3342bfcb70 | "TypeError: Cannot read properties of undefined (reading 'map')" | "node_modules/react-dom/cjs/react-dom.production.js in renderWithHooks" | "" |sAs`,
	}
	for _, c := range pinEvents() {
		got := describe(pinRules(t, c.rules).Group(c.ev), c.ev)
		if got != want[c.name] {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, want[c.name])
		}
	}
}

// TestPinnedCorpus pins a digest over many generated events, under no
// rules and under the benchmark's rules.
func TestPinnedCorpus(t *testing.T) {
	for _, c := range []struct{ rules, want string }{
		{"", "37111040cb9e73e0500bfeae5febf9829e32c2d08fc289cd1e719c3003677c0e"},
		{"shop", "a348b84bb331b6d9789b71f4209469905106e8d1537e3c8d3f2014d59be75aff"},
	} {
		r := pinRules(t, c.rules)
		h := sha256.New()
		for i, ev := range pinCorpus() {
			fmt.Fprintf(h, "%d %s\n", i, describe(r.Group(&ev), &ev))
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != c.want {
			t.Errorf("rules %q: corpus digest %s, want %s", c.rules, got, c.want)
		}
	}
}

func pinCorpus() []Event {
	evs := benchEvents(300)
	msgs := []string{
		"Cannot read properties of undefined (reading 'map')", `User 42 not found: "bob"`,
		"order-1b4e28ba-2fa1-11d2-883f-0016d3cca427", "mail bob.smith+x@example.co.uk bounced.",
		"GET https://api.example.com/v1/users/42?x=1 failed: 500", "at address 0x7ffde4a2 and 0XFF",
		"hash deadbeef12 cafe", "took 12.5ms, retry 3", "don't split contractions", "ünïcödé 12 €",
		"www.example.com/x down", "`tpl ${x}` and 'unterminated", "a@b c@d.e f@g.h. 1,000,000.5 v1.2.3",
		"deadbeef 1234567 cafebabe1 0x 0xg abc123def456", "ID:8f14e45f-ceea-467f-a0e6-3c1f4b5a6d7e,next",
	}
	for i, m := range msgs {
		evs = append(evs, Event{Type: []string{"Error", "TypeError", ""}[i%3], Value: m})
	}
	paths := []string{
		"https://cdn.example.com/static/js/main.a7f3e2.js?v=1#x", "~/static/js/chunk-4f3a2b1c.js",
		"https://x.io/assets/452.7a8b9c.js", "src\\win\\file.ts", "/app/index-BZ3f9kq1.js", "https://x.io",
		"app:///main.js", "webpack:///./src/App.tsx", "vite://src/a.b.12345.c.js", "file:///home/u/x_0a1b2c3d.js",
	}
	fns := []string{"a", "Ab", "handle", "async handle", "new Foo", "Object.bar", "Module.baz", "Function.q", "<anonymous>", "?", "anonymous", "<unknown>", ""}
	for i := 0; i < 200; i++ {
		var fr []symbolicate.Frame
		for j := 0; j < 1+i%7; j++ {
			k := i*7 + j
			p, fn := paths[k%len(paths)], fns[k%len(fns)]
			if k%3 == 0 {
				fr = append(fr, frame(p, fn, 1, k, p, fns[(k+1)%len(fns)], k%2 == 0))
			} else {
				fr = append(fr, frame(p, fn, 1, k, "", "", k%2 == 0))
			}
		}
		evs = append(evs, Event{Type: "E" + fmt.Sprint(i%4), Value: msgs[i%len(msgs)], Frames: fr})
	}
	return evs
}
