package symbolicate

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestMapCacheBoundedInBytes(t *testing.T) {
	sized := func(n int64) *Map { return &Map{size: n} }
	cases := []struct {
		name     string
		max      int64
		adds     []int64 // sizes, keys k0, k1, …
		touch    []int   // keys read just before the last add
		wantKeys []int
	}{
		{"fits", 100, []int64{30, 30, 30}, nil, []int{0, 1, 2}},
		{"evicts oldest", 100, []int64{40, 40, 40}, nil, []int{1, 2}},
		{"recently used survives", 100, []int64{40, 40, 40}, []int{0}, []int{0, 2}},
		{"big entry evicts several", 100, []int64{20, 20, 20, 90}, nil, []int{3}},
		{"larger than budget is not kept", 100, []int64{20, 101}, nil, []int{0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lru := newMapCache(c.max)
			for i, s := range c.adds {
				if i == len(c.adds)-1 {
					for _, k := range c.touch {
						if _, _, ok := lru.get(fmt.Sprint("k", k)); !ok {
							t.Fatalf("k%d missing before last add", k)
						}
					}
				}
				lru.add(fmt.Sprint("k", i), sized(s), nil)
				if used, _ := lru.bytes(); used > c.max {
					t.Fatalf("cache holds %d bytes, bound %d", used, c.max)
				}
			}
			want := map[string]bool{}
			for _, k := range c.wantKeys {
				want[fmt.Sprint("k", k)] = true
			}
			for i := range c.adds {
				k := fmt.Sprint("k", i)
				if _, _, ok := lru.get(k); ok != want[k] {
					t.Errorf("%s cached = %v, want %v", k, ok, want[k])
				}
			}
		})
	}
	t.Run("errors are cached small", func(t *testing.T) {
		lru := newMapCache(1 << 10)
		lru.add("bad", nil, errors.New("invalid"))
		m, err, ok := lru.get("bad")
		if !ok || m != nil || err == nil {
			t.Fatalf("got %v %v %v", m, err, ok)
		}
		if used, n := lru.bytes(); used > 512 || n != 1 {
			t.Errorf("used %d bytes for %d entries", used, n)
		}
	})
}

func TestEnclosingFunction(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"declaration", "function render(items) {\n  return items.map(f)@;\n}", "render"},
		{"typed declaration", "export function List(p: Page): string[] {\n  return p.items!.map(f)@;\n}", "List"},
		{"arrow const", "const Cart = (p: Page) => {\n  p.items.map((x) => {\n  @});\n};", "Cart"},
		{"async arrow", "export const load = async (id) => {\n  await get(id)@;\n};", "load"},
		{"method in class", "class Reco extends Base {\n  render(): string {\n    return x@;\n  }\n}", "Reco.render"},
		{"assigned function", "obj.handler = function (e) {\n  e.x@;\n};", "handler"},
		{"property function", "const api = { fetch: function () { go()@; } };", "fetch"},
		{"skips if blocks", "function outer() {\n  if (a) {\n    for (;;) { x@ }\n  }\n}", "outer"},
		{"skips closed siblings", "function a() { }\nfunction b() {\n  x@\n}", "b"},
		{"top level", "const x = 1;\nx@.y;", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			off := strings.IndexByte(c.src, '@')
			if got := enclosingFunction(c.src, off); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}
