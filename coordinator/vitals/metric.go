package vitals

import "math"

// Metric is a Core Web Vital name as the SDK sends it.
type Metric string

// The metrics Rearview aggregates.
const (
	LCP  Metric = "LCP"
	INP  Metric = "INP"
	CLS  Metric = "CLS"
	FCP  Metric = "FCP"
	TTFB Metric = "TTFB"
)

// Metrics lists every aggregated metric.
func Metrics() []Metric { return []Metric{LCP, INP, CLS, FCP, TTFB} }

// Threshold is Google's rating boundary for a metric: a value at or below
// Good is good, above Poor is poor, between is needs-improvement. Values are
// milliseconds, except CLS which is unitless.
type Threshold struct{ Good, Poor float64 }

var thresholds = map[Metric]Threshold{
	LCP:  {2500, 4000},
	INP:  {200, 500},
	CLS:  {0.1, 0.25},
	FCP:  {1800, 3000},
	TTFB: {800, 1800},
}

// ThresholdOf returns m's rating boundaries and whether m is a known metric.
func ThresholdOf(m Metric) (Threshold, bool) {
	t, ok := thresholds[m]
	return t, ok
}

// Rating is good, needs-improvement or poor.
type Rating int

// Ratings, in order.
const (
	Good Rating = iota
	NeedsImprovement
	Poor
)

// Rate rates v by t.
func (t Threshold) Rate(v float64) Rating {
	switch {
	case v <= t.Good:
		return Good
	case v <= t.Poor:
		return NeedsImprovement
	}
	return Poor
}

// maxValue bounds what a browser can plausibly report; beyond it a sample
// is garbage (clock jumps, tabs left in background) and would only widen
// the sketches.
func maxValue(m Metric) float64 {
	if m == CLS {
		return 100
	}
	return 10 * 60 * 1000
}

func validValue(m Metric, v float64) bool {
	return !math.IsNaN(v) && !math.IsInf(v, 0) && v >= 0 && v <= maxValue(m)
}
