package vitals

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/rearview-dev/rearview/coordinator/store"
)

// Query selects samples: one metric of one project in [From, To) (Unix ms),
// restricted to the slices matching Filter (empty fields match any).
type Query struct {
	Project  string
	Metric   Metric
	From, To int64
	Filter   Dims
}

// Summary is what a cut looks like over a time range.
type Summary struct {
	Metric           Metric  `json:"metric"`
	Count            int64   `json:"count"`
	P50              float64 `json:"p50"`
	P75              float64 `json:"p75"`
	P95              float64 `json:"p95"`
	P99              float64 `json:"p99"`
	Good             float64 `json:"good"`
	NeedsImprovement float64 `json:"needs_improvement"`
	Poor             float64 `json:"poor"`
	Series           []Point `json:"series"`
}

// Point is one bucket of a series.
type Point struct {
	TS    int64   `json:"ts"`
	Count int64   `json:"count"`
	P75   float64 `json:"p75"`
	P95   float64 `json:"p95"`
}

// piece is a time range read at one resolution.
type piece struct{ res, from, to int64 }

func ceilTo(ts, res int64) int64 {
	f := floor(ts, res)
	if f == ts {
		return ts
	}
	return f + res
}

// cover splits [from, to) into day, hour and minute pieces so a long range
// reads few sketches while its ends stay minute-exact. Minute pieces older
// than minuteFloor (pruned) widen to whole hours.
func cover(from, to, minuteFloor int64) []piece {
	var out []piece
	hoursAndMinutes := func(a, b int64) {
		if a >= b {
			return
		}
		ha, hb := ceilTo(a, Hour), floor(b, Hour)
		minutes := func(x, y int64) {
			if x >= y {
				return
			}
			if x < minuteFloor {
				out = append(out, piece{Hour, floor(x, Hour), ceilTo(y, Hour)})
				return
			}
			out = append(out, piece{Minute, floor(x, Minute), ceilTo(y, Minute)})
		}
		if ha < hb {
			minutes(a, ha)
			out = append(out, piece{Hour, ha, hb})
			minutes(hb, b)
			return
		}
		minutes(a, b)
	}
	da, db := ceilTo(from, Day), floor(to, Day)
	if da < db {
		hoursAndMinutes(from, da)
		out = append(out, piece{Day, da, db})
		hoursAndMinutes(db, to)
	} else {
		hoursAndMinutes(from, to)
	}
	return merged(out)
}

// merged joins adjacent pieces of one resolution (widened minute pieces can
// meet their neighbours).
func merged(ps []piece) []piece {
	var out []piece
	for _, p := range ps {
		if n := len(out); n > 0 && out[n-1].res == p.res && out[n-1].to >= p.from {
			out[n-1].to = max(out[n-1].to, p.to)
			continue
		}
		out = append(out, p)
	}
	return out
}

// item is one stored sketch or one not yet folded sample.
type item struct {
	bucket         int64
	dims           Dims
	enc            []byte
	good, ni, poor int64
	raw            float64
	isRaw          bool
}

func (it *item) into(c *cell, t Threshold) error {
	if it.isRaw {
		c.add(t, it.raw)
		return nil
	}
	return c.mergeEncoded(it.enc, it.good, it.ni, it.poor)
}

func filterSQL(f Dims) (string, []any) {
	var b strings.Builder
	var args []any
	for _, x := range []struct{ col, v string }{{"route", f.Route}, {"device", f.Device}, {"country", f.Country}, {"browser", f.Browser}, {"release", f.Release}} {
		if x.v != "" {
			b.WriteString(" AND " + x.col + " = ?")
			args = append(args, x.v)
		}
	}
	return b.String(), args
}

// load calls fn for every stored sketch and outbox sample of q inside the
// pieces, from one read snapshot so that a concurrent fold is seen either
// wholly or not at all. For outbox samples bucket is floored to the
// resolution of the piece holding them.
func (v *Vitals) load(ctx context.Context, q Query, pieces []piece, fn func(*item) error) error {
	if len(pieces) == 0 {
		return nil
	}
	tx, err := v.db.BeginTx(ctx, store.DialectOf(v.db).ReadSnapshot())
	if err != nil {
		return fmt.Errorf("query vitals: %w", err)
	}
	defer tx.Rollback()
	fsql, fargs := filterSQL(q.Filter)
	var it item
	for _, p := range pieces {
		args := append([]any{q.Project, string(q.Metric), p.res, p.from, p.to}, fargs...)
		rows, err := tx.QueryContext(ctx, `SELECT bucket, route, device, country, browser, release, good, ni, poor, sketch FROM vital_sketches
WHERE project = ? AND metric = ? AND res = ? AND bucket >= ? AND bucket < ?`+fsql, args...)
		if err != nil {
			return fmt.Errorf("query vitals: %w", err)
		}
		for rows.Next() {
			it = item{}
			if err := rows.Scan(&it.bucket, &it.dims.Route, &it.dims.Device, &it.dims.Country, &it.dims.Browser, &it.dims.Release, &it.good, &it.ni, &it.poor, &it.enc); err != nil {
				rows.Close()
				return fmt.Errorf("query vitals: %w", err)
			}
			if err := fn(&it); err != nil {
				rows.Close()
				return err
			}
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("query vitals: %w", err)
		}
	}
	lo, hi := pieces[0].from, pieces[0].to
	for _, p := range pieces {
		lo, hi = min(lo, p.from), max(hi, p.to)
	}
	args := append([]any{q.Project, string(q.Metric), lo, hi}, fargs...)
	rows, err := tx.QueryContext(ctx, `SELECT ts, route, device, country, browser, release, value FROM vital_samples
WHERE project = ? AND metric = ? AND ts >= ? AND ts < ?`+fsql, args...)
	if err != nil {
		return fmt.Errorf("query vitals outbox: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		it = item{isRaw: true}
		var ts int64
		if err := rows.Scan(&ts, &it.dims.Route, &it.dims.Device, &it.dims.Country, &it.dims.Browser, &it.dims.Release, &it.raw); err != nil {
			return fmt.Errorf("query vitals outbox: %w", err)
		}
		for _, p := range pieces {
			if ts >= p.from && ts < p.to {
				it.bucket = floor(ts, p.res)
				if err := fn(&it); err != nil {
					return err
				}
				break
			}
		}
	}
	return rows.Err()
}

func (q Query) validate() (Threshold, error) {
	t, ok := thresholds[q.Metric]
	if !ok {
		return t, fmt.Errorf("unknown metric %q (want LCP, INP, CLS, FCP or TTFB)", q.Metric)
	}
	if q.To <= q.From {
		return t, fmt.Errorf("empty time range: to (%d) must be after from (%d)", q.To, q.From)
	}
	return t, nil
}

func (v *Vitals) minuteFloor() int64 {
	return v.opts.Now().UnixMilli() - v.opts.MinuteRetention.Milliseconds()
}

// Summarize returns q's quantiles and rating shares, and a series with
// buckets of step ms (Minute, Hour or Day; 0 chooses by range, and no
// series is built for a negative step).
func (v *Vitals) Summarize(ctx context.Context, q Query, step int64) (Summary, error) {
	t, err := q.validate()
	if err != nil {
		return Summary{}, err
	}
	total := newCell()
	if err := v.load(ctx, q, cover(q.From, q.To, v.minuteFloor()), func(it *item) error { return it.into(total, t) }); err != nil {
		return Summary{}, err
	}
	s := Summary{Metric: q.Metric, Count: total.count(), Series: []Point{}}
	if n := total.count(); n > 0 {
		s.P50, s.P75, s.P95, s.P99 = total.quantile(0.5), total.quantile(0.75), total.quantile(0.95), total.quantile(0.99)
		s.Good, s.NeedsImprovement, s.Poor = float64(total.good)/float64(n), float64(total.ni)/float64(n), float64(total.poor)/float64(n)
	}
	if step < 0 {
		return s, nil
	}
	if step == 0 {
		step = stepFor(q.To - q.From)
	}
	buckets := map[int64]*cell{}
	p := piece{step, floor(q.From, step), ceilTo(q.To, step)}
	err = v.load(ctx, q, []piece{p}, func(it *item) error {
		c := buckets[it.bucket]
		if c == nil {
			c = newCell()
			buckets[it.bucket] = c
		}
		return it.into(c, t)
	})
	if err != nil {
		return Summary{}, err
	}
	for ts, c := range buckets {
		s.Series = append(s.Series, Point{TS: ts, Count: c.count(), P75: c.quantile(0.75), P95: c.quantile(0.95)})
	}
	sort.Slice(s.Series, func(i, j int) bool { return s.Series[i].TS < s.Series[j].TS })
	return s, nil
}

// stepFor picks a series resolution giving at most a few hundred points.
func stepFor(span int64) int64 {
	switch {
	case span <= 6*Hour:
		return Minute
	case span <= 14*Day:
		return Hour
	}
	return Day
}

// Dimension names a slice dimension.
type Dimension string

// The dimensions a cut can be made by.
const (
	ByRoute   Dimension = "route"
	ByDevice  Dimension = "device"
	ByCountry Dimension = "country"
	ByBrowser Dimension = "browser"
	ByRelease Dimension = "release"
)

var dimensions = []Dimension{ByRoute, ByDevice, ByCountry, ByBrowser, ByRelease}

func (d Dims) get(by Dimension) string {
	switch by {
	case ByRoute:
		return d.Route
	case ByDevice:
		return d.Device
	case ByCountry:
		return d.Country
	case ByBrowser:
		return d.Browser
	case ByRelease:
		return d.Release
	}
	return ""
}

// ValidDimension reports whether by names a dimension.
func ValidDimension(by Dimension) bool {
	for _, d := range dimensions {
		if d == by {
			return true
		}
	}
	return false
}

// Row is one value of a breakdown.
type Row struct {
	Key   string  `json:"key"`
	Count int64   `json:"count"`
	P75   float64 `json:"p75"`
	P95   float64 `json:"p95"`
	Good  float64 `json:"good"`
	Poor  float64 `json:"poor"`
}

// Breakdown splits q by one dimension, largest slices first.
func (v *Vitals) Breakdown(ctx context.Context, q Query, by Dimension, limit int) ([]Row, error) {
	t, err := q.validate()
	if err != nil {
		return nil, err
	}
	if !ValidDimension(by) {
		return nil, fmt.Errorf("unknown dimension %q (want route, device, country, browser or release)", by)
	}
	groups := map[string]*cell{}
	err = v.load(ctx, q, cover(q.From, q.To, v.minuteFloor()), func(it *item) error {
		k := it.dims.get(by)
		c := groups[k]
		if c == nil {
			c = newCell()
			groups[k] = c
		}
		return it.into(c, t)
	})
	if err != nil {
		return nil, err
	}
	rows := make([]Row, 0, len(groups))
	for k, c := range groups {
		n := float64(c.count())
		rows = append(rows, Row{Key: k, Count: c.count(), P75: c.quantile(0.75), P95: c.quantile(0.95), Good: float64(c.good) / n, Poor: float64(c.poor) / n})
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Count != rows[j].Count {
			return rows[i].Count > rows[j].Count
		}
		return rows[i].Key < rows[j].Key
	})
	if limit > 0 && len(rows) > limit {
		rows = rows[:limit]
	}
	return rows, nil
}

// Worst is the answer to "where is it slow?".
type Worst struct {
	OverallP75 float64 `json:"overall_p75"`
	Count      int64   `json:"count"`
	Cuts       []Cut   `json:"cuts"`
}

// Cut is a slice by one or two dimensions and how its p75 compares with the
// overall p75.
type Cut struct {
	Dims  map[string]string `json:"dims"`
	Count int64             `json:"count"`
	P75   float64           `json:"p75"`
	Ratio float64           `json:"ratio"`
}

// minRatio is how much slower than overall a slice must be to be reported.
const minRatio = 1.1

type cutKey struct {
	a, b   Dimension
	va, vb string
}

// WorstCuts finds the slices (by one dimension or a pair) whose p75 is
// furthest above the overall p75, among slices with at least minCount
// samples and at least 10% slower. A single-dimension slice whose slowness
// sits in a minority of a split (India slow only on mobile) is reported as
// the slow pairs of that split instead; any other pair only when clearly
// worse than both of its parents, so one slow country does not flood the
// list with every country × browser pair.
func (v *Vitals) WorstCuts(ctx context.Context, q Query, minCount int64, limit int) (Worst, error) {
	t, err := q.validate()
	if err != nil {
		return Worst{}, err
	}
	total := newCell()
	groups := map[cutKey]*cell{}
	add := func(k cutKey, it *item) error {
		c := groups[k]
		if c == nil {
			c = newCell()
			groups[k] = c
		}
		return it.into(c, t)
	}
	err = v.load(ctx, q, cover(q.From, q.To, v.minuteFloor()), func(it *item) error {
		if err := it.into(total, t); err != nil {
			return err
		}
		for i, a := range dimensions {
			va := it.dims.get(a)
			if err := add(cutKey{a: a, va: va}, it); err != nil {
				return err
			}
			for _, b := range dimensions[i+1:] {
				if err := add(cutKey{a: a, b: b, va: va, vb: it.dims.get(b)}, it); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return Worst{}, err
	}
	w := Worst{Count: total.count(), Cuts: []Cut{}}
	if w.Count == 0 {
		return w, nil
	}
	w.OverallP75 = total.quantile(0.75)
	if w.OverallP75 <= 0 {
		return w, nil
	}
	ratio := map[cutKey]float64{}
	for k, c := range groups {
		ratio[k] = c.quantile(0.75) / w.OverallP75
	}
	eligible := func(k cutKey) bool {
		c := groups[k]
		return c.count() >= minCount && c.count() < w.Count && ratio[k] >= minRatio
	}
	// children[single][dim] lists the pairs splitting a single cut by dim.
	type split struct {
		parent cutKey
		by     Dimension
	}
	children := map[split][]cutKey{}
	for k := range groups {
		if k.b == "" {
			continue
		}
		children[split{cutKey{a: k.a, va: k.va}, k.b}] = append(children[split{cutKey{a: k.a, va: k.va}, k.b}], k)
		children[split{cutKey{a: k.b, va: k.vb}, k.a}] = append(children[split{cutKey{a: k.b, va: k.vb}, k.a}], k)
	}
	kept := map[cutKey]bool{}
	for k := range groups {
		if k.b != "" || !eligible(k) {
			continue
		}
		// A slice whose slowness sits in a minority of one split (India is
		// slow only on mobile) is described better by that split's slow
		// pairs; a slice slow across a split stays as it is.
		explained := false
		for _, by := range dimensions {
			if by == k.a {
				continue
			}
			var slow []cutKey
			var n int64
			for _, ch := range children[split{k, by}] {
				if groups[ch].count() >= minCount && ratio[ch] >= 0.95*ratio[k] {
					slow = append(slow, ch)
					n += groups[ch].count()
				}
			}
			if len(slow) > 0 && float64(n) < 0.8*float64(groups[k].count()) {
				explained = true
				for _, ch := range slow {
					kept[ch] = true
				}
			}
		}
		if !explained {
			kept[k] = true
		}
	}
	for k := range groups {
		if k.b == "" || kept[k] || !eligible(k) {
			continue
		}
		if ratio[k] >= 1.05*max(ratio[cutKey{a: k.a, va: k.va}], ratio[cutKey{a: k.b, va: k.vb}]) {
			kept[k] = true
		}
	}
	for k := range kept {
		if !eligible(k) {
			continue
		}
		dims := map[string]string{string(k.a): k.va}
		if k.b != "" {
			dims[string(k.b)] = k.vb
		}
		c := groups[k]
		w.Cuts = append(w.Cuts, Cut{Dims: dims, Count: c.count(), P75: c.quantile(0.75), Ratio: ratio[k]})
	}
	sort.Slice(w.Cuts, func(i, j int) bool {
		if w.Cuts[i].Ratio != w.Cuts[j].Ratio {
			return w.Cuts[i].Ratio > w.Cuts[j].Ratio
		}
		return w.Cuts[i].Count > w.Cuts[j].Count
	})
	if limit > 0 && len(w.Cuts) > limit {
		w.Cuts = w.Cuts[:limit]
	}
	return w, nil
}
