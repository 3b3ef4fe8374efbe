package symbolicate_test

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/coordinator/sourcemap"
	"github.com/rearview-dev/rearview/coordinator/symbolicate"
	"github.com/rearview-dev/rearview/sdkproto"
)

const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

func vlq(sb *strings.Builder, v int) {
	u := v << 1
	if v < 0 {
		u = (-v)<<1 | 1
	}
	for {
		d := u & 31
		u >>= 5
		if u > 0 {
			d |= 32
		}
		sb.WriteByte(b64[d])
		if u == 0 {
			return
		}
	}
}

// bigMap builds a realistic production map of about size bytes: one long
// minified line mapping into many TypeScript sources with sourcesContent.
func bigMap(size int) (data []byte, genColumns []int) {
	const linesPerSource = 150
	sources := max(10, size/(40<<10))
	var srcs, contents, names []string
	for s := 0; s < sources; s++ {
		srcs = append(srcs, fmt.Sprintf(`"../src/module%03d.ts"`, s))
		var c strings.Builder
		for l := 0; l < linesPerSource; l++ {
			if l%15 == 0 {
				fmt.Fprintf(&c, "export function handler%d_%d(items: Item[]): number {\\n", s, l)
			} else {
				fmt.Fprintf(&c, "  const value%d = items.map((x) => x.price * %d).reduce((a, b) => a + b, 0);\\n", l, l)
			}
		}
		contents = append(contents, `"`+c.String()+`"`)
	}
	for i := 0; i < 500; i++ {
		names = append(names, fmt.Sprintf(`"name%d"`, i))
	}
	head := `{"version":3,"file":"main.js","sources":[` + strings.Join(srcs, ",") + `],"sourcesContent":[` + strings.Join(contents, ",") + `],"names":[` + strings.Join(names, ",") + `],"mappings":"`
	var m strings.Builder
	col, src, line, scol, name := 0, 0, 0, 0, 0
	for m.Len()+len(head) < size {
		if m.Len() > 0 {
			m.WriteByte(',')
		}
		dcol := 3 + col%7
		col += dcol
		genColumns = append(genColumns, col)
		nsrc := (col / 50000) % sources
		nline := (col / 40) % linesPerSource
		nscol := col % 60
		nname := col % 500
		vlq(&m, dcol)
		vlq(&m, nsrc-src)
		vlq(&m, nline-line)
		vlq(&m, nscol-scol)
		vlq(&m, nname-name)
		src, line, scol, name = nsrc, nline, nscol, nname
	}
	return []byte(head + m.String() + `"}`), genColumns
}

func benchStack(cols []int, n int) *sdkproto.Error {
	e := &sdkproto.Error{Type: "TypeError", Release: "r1", URL: "https://shop.example.com/"}
	for i := 0; i < n; i++ {
		e.Stack = append(e.Stack, sdkproto.Frame{URL: "https://shop.example.com/static/js/main.js", Function: "a", Line: 1, Column: cols[(i*7919)%len(cols)] + 1})
	}
	return e
}

func setupBench(b *testing.B, size int) (*sourcemap.Store, []int) {
	data, cols := bigMap(size)
	st := newStore(b)
	if _, _, err := st.Put(context.Background(), "shop", sourcemap.Upload{Release: "r1", Name: "main.js.map", URL: "~/static/js/main.js", Data: data}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	return st, cols
}

// BenchmarkSymbolicateCold loads and parses the map for every event: a new
// release's first error.
func BenchmarkSymbolicateCold(b *testing.B) {
	for _, c := range []struct {
		size, frames int
	}{{1 << 20, 20}, {4 << 20, 30}} {
		b.Run(fmt.Sprintf("map=%dMB/frames=%d", c.size>>20, c.frames), func(b *testing.B) {
			st, cols := setupBench(b, c.size)
			e := benchStack(cols, c.frames)
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				frames, _ := symbolicate.New(st, symbolicate.Options{}).Symbolicate(ctx, "shop", e)
				if frames[0].Original == nil {
					b.Fatal(frames[0].UnresolvedReason)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkSymbolicateWarm is the steady state: the map is parsed and in
// the cache, its generated line decoded.
//
// "distinct" gives every frame of every event a position no event asked
// for before, so each one does the full lookup, the function-name scan and
// the context extraction; the per-position cache in Map.Resolve is filled
// to its bound beforehand with other positions, so it stops growing and
// answers none of them. "repeated" resends one stack, which that cache
// answers: what a crash loop costs.
func BenchmarkSymbolicateWarm(b *testing.B) {
	const frames = 20
	st, cols := setupBench(b, 4<<20)
	ctx := context.Background()
	run := func(b *testing.B, sym *symbolicate.Symbolicator, next func(e *sdkproto.Error)) {
		b.SetBytes(0)
		e := benchStack(cols, frames)
		b.ReportAllocs()
		b.ResetTimer()
		start := cpuTime()
		for b.Loop() {
			next(e)
			out, _ := sym.Symbolicate(ctx, "shop", e)
			for i := range out {
				if f := out[i]; f.Original == nil || f.Original.Function == "" || f.Context == nil {
					b.Fatalf("frame %d (%d:%d) not fully resolved: %+v %s", i, f.Line, f.Column, f.Original, f.UnresolvedReason)
				}
			}
		}
		s := b.Elapsed().Seconds()
		b.ReportMetric(float64(b.N)/s, "events/s")
		b.ReportMetric(float64(b.N*frames)/s, "frames/s")
		// On a machine shared with other jobs, CPU time measures the work
		// better than wall time does.
		cpu := float64(cpuTime() - start)
		b.ReportMetric(cpu/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(b.N*frames)/cpu*1e9, "frames/cpu-s")
	}
	b.Run("distinct", func(b *testing.B) {
		sym := symbolicate.New(st, symbolicate.Options{})
		// Segment starts fill the position cache; the benchmark asks one
		// column further in (segments are at least 3 columns wide), the
		// same mapping but a position the cache never holds.
		if len(cols) < 10*symbolicate.MaxResolveCache {
			b.Fatalf("map has %d segments: too few to stay out of the cache", len(cols))
		}
		warm := benchStack(cols, 1)
		for k := 0; k < symbolicate.MaxResolveCache; k++ {
			warm.Stack[0].Column = cols[k] + 1
			sym.Symbolicate(ctx, "shop", warm)
		}
		n := 0
		run(b, sym, func(e *sdkproto.Error) {
			for i := range e.Stack {
				// A prime stride walks all segments, out of order, before
				// it repeats one (unless their count is a multiple of it).
				n = (n + 7919) % len(cols)
				e.Stack[i].Column = cols[n] + 2
			}
		})
	})
	b.Run("repeated", func(b *testing.B) {
		sym := symbolicate.New(st, symbolicate.Options{})
		run(b, sym, func(*sdkproto.Error) {})
	})
}

// cpuTime is the process's CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkValidate4MB(b *testing.B) {
	data, _ := bigMap(4 << 20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := sourcemap.Validate(data, 0); err != nil {
			b.Fatal(err)
		}
	}
}
