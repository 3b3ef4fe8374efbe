package vitals

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSketchAccuracy(t *testing.T) {
	dists := []struct {
		name string
		gen  func(r *rand.Rand) float64
	}{
		{"lognormal LCP ms", func(r *rand.Rand) float64 { return math.Exp(7.6 + 0.6*r.NormFloat64()) }},
		{"uniform INP ms", func(r *rand.Rand) float64 { return 16 + r.Float64()*2000 }},
		{"exponential CLS", func(r *rand.Rand) float64 { return r.ExpFloat64() * 0.08 }},
		{"bimodal TTFB ms", func(r *rand.Rand) float64 {
			if r.IntN(4) == 0 {
				return 1500 + r.Float64()*3000
			}
			return 50 + r.Float64()*300
		}},
	}
	for _, d := range dists {
		t.Run(d.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			const n = 100_000
			vals := make([]float64, n)
			// Four cells merged through their encoding: the path stored
			// sketches take.
			parts := []*cell{newCell(), newCell(), newCell(), newCell()}
			th := thresholds[LCP]
			for i := range vals {
				vals[i] = d.gen(r)
				parts[i%4].add(th, vals[i])
			}
			merged := newCell()
			for _, p := range parts {
				if err := merged.mergeEncoded(p.encode(), p.good, p.ni, p.poor); err != nil {
					t.Fatal(err)
				}
			}
			if merged.count() != n {
				t.Fatalf("count %d", merged.count())
			}
			slices.Sort(vals)
			for _, q := range []float64{0.5, 0.75, 0.95, 0.99} {
				want, got := exact(vals, q), merged.quantile(q)
				if rel := math.Abs(got-want) / want; rel > 0.01 {
					t.Errorf("p%v = %v, exact %v: relative error %.4f > 1%%", q*100, got, want, rel)
				}
			}
		})
	}
}

func TestRate(t *testing.T) {
	tests := []struct {
		m    Metric
		v    float64
		want Rating
	}{
		{LCP, 2500, Good}, {LCP, 2501, NeedsImprovement}, {LCP, 4000, NeedsImprovement}, {LCP, 4001, Poor},
		{INP, 200, Good}, {INP, 499, NeedsImprovement}, {INP, 501, Poor},
		{CLS, 0.1, Good}, {CLS, 0.2, NeedsImprovement}, {CLS, 0.26, Poor},
		{FCP, 1800, Good}, {FCP, 3000, NeedsImprovement}, {FCP, 3001, Poor},
		{TTFB, 800, Good}, {TTFB, 1800, NeedsImprovement}, {TTFB, 1801, Poor},
	}
	for _, tt := range tests {
		th, _ := ThresholdOf(tt.m)
		if got := th.Rate(tt.v); got != tt.want {
			t.Errorf("%s %v: got %v want %v", tt.m, tt.v, got, tt.want)
		}
	}
}

func TestCover(t *testing.T) {
	base := int64(1_764_000_000_000) - int64(1_764_000_000_000)%Day // a midnight
	tests := []struct {
		name     string
		from, to int64
		want     []piece
	}{
		{"minutes only", base + 10*Minute, base + 20*Minute, []piece{{Minute, base + 10*Minute, base + 20*Minute}}},
		{"unaligned minutes snap out", base + 10*Minute + 5, base + 20*Minute - 5, []piece{{Minute, base + 10*Minute, base + 20*Minute}}},
		{"hours with minute ends", base + 30*Minute, base + 3*Hour + 10*Minute, []piece{
			{Minute, base + 30*Minute, base + Hour}, {Hour, base + Hour, base + 3*Hour}, {Minute, base + 3*Hour, base + 3*Hour + 10*Minute}}},
		{"days with ends", base - 2*Hour, base + 2*Day + Hour, []piece{
			{Hour, base - 2*Hour, base}, {Day, base, base + 2*Day}, {Hour, base + 2*Day, base + 2*Day + Hour}}},
		{"aligned days", base, base + 3*Day, []piece{{Day, base, base + 3*Day}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cover(tt.from, tt.to, 0)
			if !slices.Equal(got, tt.want) {
				t.Errorf("cover = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("pruned minutes widen to hours", func(t *testing.T) {
		got := cover(base+10*Minute, base+20*Minute, base+Day)
		want := []piece{{Hour, base, base + Hour}}
		if !slices.Equal(got, want) {
			t.Errorf("cover = %v, want %v", got, want)
		}
	})
}

// exact is the value at rank q·(n-1), the rank DDSketch estimates.
func exact(sorted []float64, q float64) float64 {
	return sorted[int(q*float64(len(sorted)-1))]
}
