package symbolicate_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"strings"
	"testing"

	"github.com/rearview-dev/rearview/coordinator/sourcemap"
	"github.com/rearview-dev/rearview/coordinator/symbolicate"
	"github.com/rearview-dev/rearview/sdkproto"
)

// Symbolicated frames feed grouping and are stored with events: these
// digests pin what the symbolicator answered for a corpus of positions when
// it was last changed on purpose, so an optimisation that changes any
// answer fails here.

func digestResolve(h hash.Hash, m *symbolicate.Map, line, col, ctxLines int) {
	pos, c, err := m.Resolve(line, col, ctxLines)
	cj, _ := json.Marshal(c)
	fmt.Fprintf(h, "%d:%d/%d %+v %s %v\n", line, col, ctxLines, pos, cj, err)
}

func TestPinnedResolve(t *testing.T) {
	data, cols := bigMap(1 << 20)
	m, err := symbolicate.ParseMap(data)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "size %d\n", m.Size())
	for k := 0; k < len(cols); k += 37 {
		for d := -1; d <= 2; d++ {
			digestResolve(h, m, 1, cols[k]+d, []int{5, 0, -1, 2}[(k+d+1)%4])
		}
	}
	for _, p := range [][2]int{{1, 0}, {1, 1}, {1, -5}, {0, 3}, {2, 3}, {1, 1 << 30}} {
		digestResolve(h, m, p[0], p[1], 5)
	}
	// The fixture app's real map, around every position of its stacks.
	fm, err := symbolicate.ParseMap(fixtureMap(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"list", "cart", "reco"} {
		for _, f := range stacks(t)[k] {
			for d := -40; d <= 40; d += 3 {
				digestResolve(h, fm, f.Line, f.Column+d, 5)
			}
		}
	}
	if got, want := hex.EncodeToString(h.Sum(nil)), "81a4b6765c5a174b0f33fa36bf17960162bc2111269a51cf3552ed213ba55a4f"; got != want {
		t.Errorf("resolve digest %s, want %s", got, want)
	}
}

func TestPinnedSymbolicate(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	data, cols := bigMap(1 << 20)
	if _, _, err := st.Put(ctx, "shop", sourcemap.Upload{Release: "r1", Name: "main.js.map", URL: "~/static/js/main.js", Data: data}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Put(ctx, "shop", sourcemap.Upload{Release: "r1", Name: "app.js.map", URL: "https://cdn.shop-assets.net/static/js/app.js", Data: fixtureMap(t)}); err != nil {
		t.Fatal(err)
	}
	urls := []string{
		"https://shop.example.com/static/js/main.js", "https://shop.example.com/static/js/main.js?v=2",
		"https://cdn.shop-assets.net/static/js/app.js", "https://shop.example.com/app.js",
		"https://cdn.thirdparty.com/widget.js", "https://shop.example.com/node_modules/react/index.js",
		"chrome-extension://abcdef/content.js", "MOZ-EXTENSION://abcdef/content.js", "<anonymous>", "",
		"https://SHOP.example.com/x.js", "/relative/x.js",
	}
	sym := symbolicate.New(st, symbolicate.Options{})
	h := sha256.New()
	for i := 0; i < 60; i++ {
		e := &sdkproto.Error{Type: "TypeError", Release: "r1", URL: []string{"https://shop.example.com/", "", "::bad"}[i%3]}
		for j := 0; j < 1+i%9; j++ {
			k := i*9 + j
			e.Stack = append(e.Stack, sdkproto.Frame{URL: urls[k%len(urls)], Function: "a", Line: 1 + k%5/4, Column: cols[(k*7919)%len(cols)] + k%3})
		}
		frames, err := sym.Symbolicate(ctx, "shop", e)
		fj, _ := json.Marshal(frames)
		fmt.Fprintf(h, "%d %s %v\n", i, fj, err)
	}
	if got, want := hex.EncodeToString(h.Sum(nil)), "482eaa04a398abb8b477d070244ee436ae1cda25636f1638cdf86d2385ba87b8"; got != want {
		t.Errorf("symbolicate digest %s, want %s", got, want)
	}
}

// TestResolveConcurrent resolves across the point where the position cache
// fills (and turns read-only) from several goroutines: every answer must be
// what a fresh map gives, and -race must find nothing.
func TestResolveConcurrent(t *testing.T) {
	data, cols := bigMap(1 << 20)
	shared, err := symbolicate.ParseMap(data)
	if err != nil {
		t.Fatal(err)
	}
	fresh, _ := symbolicate.ParseMap(data)
	n := min(len(cols), symbolicate.MaxResolveCache+3000)
	done := make(chan error)
	for g := 0; g < 4; g++ {
		go func() {
			var err error
			for k := g; k < n; k += 2 {
				pos, c, e := shared.Resolve(1, cols[k]+1, 5)
				if e != nil {
					err = e
					break
				}
				if c == nil || pos.Source == "" {
					err = fmt.Errorf("column %d: %+v", cols[k]+1, pos)
					break
				}
			}
			done <- err
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	for k := 0; k < n; k += 7 {
		p1, c1, e1 := shared.Resolve(1, cols[k]+1, 5)
		p2, c2, e2 := fresh.Resolve(1, cols[k]+1, 5)
		j1, _ := json.Marshal(c1)
		j2, _ := json.Marshal(c2)
		if p1 != p2 || string(j1) != string(j2) || (e1 == nil) != (e2 == nil) {
			t.Fatalf("column %d: %+v %s %v, fresh map %+v %s %v", cols[k]+1, p1, j1, e1, p2, j2, e2)
		}
	}
}

// TestPinnedContextEdges: CRLF sources, lines longer than a context line
// (clipped around the column) and contexts cut by the file's ends.
func TestPinnedContextEdges(t *testing.T) {
	long := "  const s = [" + strings.Repeat("'xxxxxxxxx', ", 60) + "];"
	var src strings.Builder
	var mappings strings.Builder
	for l := 0; l < 30; l++ {
		switch {
		case l%7 == 3:
			src.WriteString(long)
		case l%5 == 0:
			fmt.Fprintf(&src, "function f%d(a) {", l)
		default:
			fmt.Fprintf(&src, "  return a + %d; }", l)
		}
		src.WriteString([]string{"\r\n", "\n"}[l/15])
		if l > 0 {
			mappings.WriteString(";")
		}
		// Columns 0, 20, 300 of generated line l map to line l, same column.
		for i, d := range []int{0, 20, 280} {
			if i > 0 {
				mappings.WriteByte(',')
			}
			dl, dc := 0, d
			if i == 0 {
				dl, dc = min(l, 1), -300*min(l, 1)
			}
			vlq(&mappings, d)
			vlq(&mappings, 0)
			vlq(&mappings, dl)
			vlq(&mappings, dc)
		}
	}
	content, _ := json.Marshal(src.String())
	data := `{"version":3,"sources":["a.ts"],"sourcesContent":[` + string(content) + `],"names":[],"mappings":"` + mappings.String() + `"}`
	m, err := symbolicate.ParseMap([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	for line := 1; line <= 31; line++ {
		for _, col := range []int{1, 21, 301, 500} {
			for _, n := range []int{5, 0, 2, 40} {
				digestResolve(h, m, line, col, n)
				digestResolve(h, m, line, col, n) // cached
			}
		}
	}
	if got, want := hex.EncodeToString(h.Sum(nil)), "2c5e5cdbaecfbab9da15af8a248b6c0d87dca764c4d6acd0bfe0cba9842c1df8"; got != want {
		t.Errorf("context digest %s, want %s", got, want)
	}
}
