package vitals

import (
	"fmt"

	"github.com/DataDog/sketches-go/ddsketch"
)

// Accuracy is the relative accuracy of every sketch: a reported quantile is
// within 1% of the exact value at that rank.
const Accuracy = 0.01

// maxBins bounds a sketch's memory. With 1% accuracy 2048 bins span values
// over 17 orders of magnitude, far beyond any vital, so nothing collapses in
// practice.
const maxBins = 2048

// Dims is one slice of traffic. An empty field in a query means "any".
type Dims struct {
	Route   string `json:"route,omitempty"`
	Device  string `json:"device,omitempty"`
	Country string `json:"country,omitempty"`
	Browser string `json:"browser,omitempty"`
	Release string `json:"release,omitempty"`
}

// cellKey names one sketch: a slice of one metric in one time bucket.
type cellKey struct {
	project string
	metric  Metric
	res     int64 // bucket width in ms
	bucket  int64 // bucket start, Unix ms
	dims    Dims
}

// cell is a mergeable summary of samples: a DDSketch for quantiles and
// exact rating counts (the shares must not carry sketch error).
type cell struct {
	sk             *ddsketch.DDSketch
	good, ni, poor int64
}

func newSketch() *ddsketch.DDSketch {
	sk, err := ddsketch.LogCollapsingLowestDenseDDSketch(Accuracy, maxBins)
	if err != nil {
		panic(fmt.Sprintf("vitals: sketch parameters: %v", err)) // constants; cannot happen
	}
	return sk
}

func newCell() *cell { return &cell{sk: newSketch()} }

func (c *cell) add(t Threshold, v float64) {
	_ = c.sk.Add(v) // v is validated non-negative and finite
	switch t.Rate(v) {
	case Good:
		c.good++
	case NeedsImprovement:
		c.ni++
	default:
		c.poor++
	}
}

func (c *cell) merge(o *cell) error {
	if err := c.sk.MergeWith(o.sk); err != nil {
		return fmt.Errorf("merge sketch: %w", err)
	}
	c.good += o.good
	c.ni += o.ni
	c.poor += o.poor
	return nil
}

// mergeEncoded merges a stored cell without materialising a second sketch.
func (c *cell) mergeEncoded(b []byte, good, ni, poor int64) error {
	if err := c.sk.DecodeAndMergeWith(b); err != nil {
		return fmt.Errorf("decode sketch: %w", err)
	}
	c.good += good
	c.ni += ni
	c.poor += poor
	return nil
}

func (c *cell) count() int64 { return c.good + c.ni + c.poor }

func (c *cell) encode() []byte {
	var b []byte
	c.sk.Encode(&b, false)
	return b
}

func (c *cell) quantile(q float64) float64 {
	if c.count() == 0 {
		return 0
	}
	v, err := c.sk.GetValueAtQuantile(q)
	if err != nil {
		return 0
	}
	return v
}

// Aggregator sums samples into per-slice, per-bucket cells in memory. It is
// the hot path of folding pending samples into stored sketches and is not
// safe for concurrent use.
type Aggregator struct {
	res   int64
	cells map[cellKey]*cell
}

// NewAggregator returns an aggregator with buckets of res milliseconds.
func NewAggregator(res int64) *Aggregator {
	return &Aggregator{res: res, cells: map[cellKey]*cell{}}
}

// Add records one sample. It reports false for an unknown metric or an
// implausible value, which are ignored.
func (a *Aggregator) Add(project string, m Metric, ts int64, d Dims, v float64) bool {
	t, ok := thresholds[m]
	if !ok || !validValue(m, v) {
		return false
	}
	k := cellKey{project: project, metric: m, res: a.res, bucket: floor(ts, a.res), dims: d}
	c := a.cells[k]
	if c == nil {
		c = newCell()
		a.cells[k] = c
	}
	c.add(t, v)
	return true
}

// Len returns the number of active slices (cells).
func (a *Aggregator) Len() int { return len(a.cells) }

func floor(ts, res int64) int64 {
	b := ts - ts%res
	if ts < 0 && ts%res != 0 {
		b -= res
	}
	return b
}
