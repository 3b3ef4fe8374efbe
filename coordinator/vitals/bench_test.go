package vitals_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/coordinator"
	"github.com/rearview-dev/rearview/coordinator/store/storetest"
	"github.com/rearview-dev/rearview/coordinator/vitals"
	"github.com/rearview-dev/rearview/sdkproto"
)

// slices is a realistic cardinality: 25 routes × 3 devices × 8 countries ×
// 4 browsers, 2 releases.
func benchDims(r *rand.Rand) vitals.Dims {
	return vitals.Dims{
		Route:   fmt.Sprintf("/route/%d", r.IntN(25)),
		Device:  []string{"mobile", "desktop", "tablet"}[r.IntN(3)],
		Country: []string{"US", "IN", "DE", "BR", "FR", "GB", "JP", "NG"}[r.IntN(8)],
		Browser: []string{"Chrome", "Safari", "Firefox", "Edge"}[r.IntN(4)],
		Release: []string{"r1", "r2"}[r.IntN(2)],
	}
}

// BenchmarkAggregate measures the in-memory aggregation path: one sample
// into its slice's minute sketch and rating counts.
func BenchmarkAggregate(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	const n = 4096
	dims := make([]vitals.Dims, n)
	vals := make([]float64, n)
	for i := range dims {
		dims[i] = benchDims(r)
		vals[i] = math.Exp(7.6 + 0.6*r.NormFloat64())
	}
	a := vitals.NewAggregator(vitals.Minute)
	ts := int64(1_764_028_800_000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		a.Add("shop", vitals.LCP, ts+int64(i&0xffff), dims[i%n], vals[i%n])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkSliceMemory reports the heap held per active slice (one minute
// cell with 100 LCP samples).
func BenchmarkSliceMemory(b *testing.B) {
	r := rand.New(rand.NewPCG(2, 2))
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		a := vitals.NewAggregator(vitals.Minute)
		const slices = 2000
		for s := range slices {
			d := vitals.Dims{Route: fmt.Sprintf("/r/%d", s)}
			for range 100 {
				a.Add("shop", vitals.LCP, 0, d, math.Exp(7.6+0.6*r.NormFloat64()))
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/slices, "B/slice")
		runtime.KeepAlive(a)
	}
}

func benchDB(b *testing.B) *vitals.Vitals {
	db := storetest.Open(b)
	v, err := vitals.New(db, vitals.Options{FoldBatch: 1 << 20, Now: func() time.Time { return time.UnixMilli(1_764_028_800_000) }})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { v.Close() })
	return v
}

// BenchmarkHook measures the full hook path the coordinator runs per new
// vital event: classify UA (cached), normalise the route, validate, append
// to the outbox, 256 events per transaction as the consumer batches them.
func BenchmarkHook(b *testing.B) {
	v := benchDB(b)
	db := benchDBOf(b, v)
	uas := []string{uaPixel, uaIPhone, uaDesktop, uaFirefox}
	ctx := context.Background()
	msgs := make([]*coordinator.Message, 4)
	for i := range msgs {
		msgs[i] = &coordinator.Message{Project: "shop", Country: "IN", ReceivedAt: 1_764_028_800_000,
			Batch: &sdkproto.Batch{Device: sdkproto.Device{UA: uas[i]}, Page: sdkproto.Page{URL: "https://shop.test/products/123?x=1"}}}
	}
	ev := &sdkproto.Event{ID: "x", TS: 1_764_028_800_000, Kind: sdkproto.KindVital, Vital: &sdkproto.Vital{Name: "LCP", Value: 2000, URL: "https://shop.test/products/42"}}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for i < b.N {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		for j := 0; j < 256 && i < b.N; j++ {
			ev.Vital.Value = float64(1000 + i%3000)
			if err := v.Hook(ctx, tx, msgs[i%4], ev); err != nil {
				b.Fatal(err)
			}
			i++
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkFold measures moving outbox samples into stored sketches at all
// three resolutions, amortised over 20000-sample folds: "sparse" is the
// worst case (about one sample per minute cell, 4800 slices over 10
// minutes), "dense" a busy project (600 slices within one minute).
func BenchmarkFold(b *testing.B) {
	for _, bc := range []struct {
		name   string
		slices int
		stepMS int64
	}{{"sparse", 0, 30}, {"dense", 600, 2}} {
		b.Run(bc.name, func(b *testing.B) { benchFold(b, bc.slices, bc.stepMS) })
	}
}

func benchFold(b *testing.B, slices int, stepMS int64) {
	v := benchDB(b)
	db := benchDBOf(b, v)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 3))
	var pool []vitals.Dims
	for range slices {
		pool = append(pool, benchDims(r))
	}
	const per = 20000
	b.ReportAllocs()
	var total int
	for b.Loop() {
		b.StopTimer()
		tx, _ := db.BeginTx(ctx, nil)
		for k := range per {
			d := benchDims(r)
			if slices > 0 {
				d = pool[k%slices]
			}
			s := vitals.Sample{Project: "shop", Metric: vitals.LCP, TS: 1_764_028_800_000 + int64(k)*stepMS, Dims: d, Value: math.Exp(7.6 + 0.6*r.NormFloat64())}
			if err := v.Record(ctx, tx, s); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		n, err := v.Fold(ctx)
		if err != nil || n != per {
			b.Fatalf("fold %d: %v", n, err)
		}
		total += n
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "samples/s")
}

func benchDBOf(b *testing.B, v *vitals.Vitals) *sql.DB { return v.DB() }

// BenchmarkHookPageSpan measures the hook for a Sentry vital that names its
// page span (sdkproto.AttrPageSpan): "with-url" also remembers the page's
// route, "known" takes the route of a remembered page, "unknown" guesses the
// session's latest page and marks the sample to wait. 256 events per
// transaction, 1000 pages.
func BenchmarkHookPageSpan(b *testing.B) {
	for _, c := range []string{"with-url", "known", "unknown"} {
		b.Run(c, func(b *testing.B) {
			v := benchDB(b)
			db := v.DB()
			ctx := context.Background()
			m := &coordinator.Message{Project: "shop", Country: "DE", ReceivedAt: 1_764_028_800_000,
				Batch: &sdkproto.Batch{Session: sdkproto.Session{ID: "s1"}, Device: sdkproto.Device{UA: uaDesktop}}}
			span := func(i int) string { return fmt.Sprintf("%016x", i%1000) }
			vital := func(i int, url string) *sdkproto.Event {
				return &sdkproto.Event{ID: "x", TS: 1_764_028_800_000, Kind: sdkproto.KindVital, Vital: &sdkproto.Vital{Name: "LCP", Value: float64(1000 + i%3000), URL: url,
					Attribution: map[string]string{sdkproto.AttrPageSpan: span(i), "trace_id": "cccccccccccccccccccccccccccccccc"}}}
			}
			run := func(n int, ev func(i int) *sdkproto.Event) {
				for i := 0; i < n; {
					tx, err := db.BeginTx(ctx, nil)
					if err != nil {
						b.Fatal(err)
					}
					for j := 0; j < 256 && i < n; j++ {
						if err := v.Hook(ctx, tx, m, ev(i)); err != nil {
							b.Fatal(err)
						}
						i++
					}
					if err := tx.Commit(); err != nil {
						b.Fatal(err)
					}
				}
			}
			if _, err := db.ExecContext(ctx, `INSERT INTO session_pages (project, session_id, url, first_ts, route) VALUES ('shop', 's1', 'https://shop.test/checkout', 1, '/checkout')`); err != nil {
				b.Fatal(err)
			}
			withURL := func(i int) *sdkproto.Event { return vital(i, "https://shop.test/products/42") }
			if c == "known" {
				run(1000, withURL)
			}
			ev := withURL
			if c != "with-url" {
				ev = func(i int) *sdkproto.Event { return vital(i, "") }
			}
			b.ReportAllocs()
			b.ResetTimer()
			run(b.N, ev)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}
