package runner

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/rearview-dev/rearview/coordinator/route"
	"github.com/rearview-dev/rearview/coordinator/synthetic"
)

// Budget is a parsed budget line: "LCP <= 2500ms on /checkout mobile".
// Route (a path, normalised like the results' routes, or a check's name)
// and Profile are optional and narrow what it applies to.
type Budget struct {
	Metric  string
	Op      string
	Limit   float64
	Route   string
	Profile string
	Text    string
}

var budgetRE = regexp.MustCompile(`^\s*([A-Za-z]+)\s*(<=|<|>=|>)\s*([0-9.]+)\s*(ms|s|%)?\s*(?:on\s+(\S+))?\s*(mobile|desktop)?\s*$`)

// ParseBudget parses one budget line. Metrics are LCP, CLS, TBT, FCP,
// TTFB, SI, score (0..1, or a percentage) and duration (a journey's wall
// time); times take ms (default) or s.
func ParseBudget(s string) (Budget, error) {
	m := budgetRE.FindStringSubmatch(s)
	if m == nil {
		return Budget{}, fmt.Errorf("budget %q: want METRIC <= VALUE[ms|s] [on ROUTE] [mobile|desktop]", s)
	}
	b := Budget{Op: m[2], Route: m[5], Profile: m[6], Text: strings.TrimSpace(s)}
	for _, name := range append(synthetic.Metrics(), synthetic.Duration) {
		if strings.EqualFold(name, m[1]) {
			b.Metric = name
		}
	}
	if b.Metric == "" {
		return Budget{}, fmt.Errorf("budget %q: unknown metric %s (want LCP, CLS, TBT, FCP, TTFB, SI, score or duration)", s, m[1])
	}
	v, err := strconv.ParseFloat(m[3], 64)
	if err != nil {
		return Budget{}, fmt.Errorf("budget %q: %w", s, err)
	}
	switch unit := m[4]; {
	case unit == "s" && isTime(b.Metric):
		v *= 1000
	case unit == "%" && b.Metric == synthetic.Score:
		v /= 100
	case unit != "" && unit != "ms", unit == "ms" && !isTime(b.Metric):
		return Budget{}, fmt.Errorf("budget %q: unit %s does not fit %s", s, unit, b.Metric)
	}
	b.Limit = v
	if strings.HasPrefix(b.Route, "/") {
		b.Route = route.Normalise(b.Route)
	}
	return b, nil
}

func isTime(metric string) bool { return metric != synthetic.CLS && metric != synthetic.Score }

// applies reports whether b covers a value of check at route and profile.
func (b Budget) applies(check, rt, profile, metric string) bool {
	return b.Metric == metric && (b.Route == "" || b.Route == rt || b.Route == check) && (b.Profile == "" || b.Profile == profile)
}

func (b Budget) holds(v float64) bool {
	switch b.Op {
	case "<=":
		return v <= b.Limit
	case "<":
		return v < b.Limit
	case ">=":
		return v >= b.Limit
	default:
		return v > b.Limit
	}
}

// Verdict statuses.
const (
	OK        = "ok"
	Failed    = "FAILED"    // a journey failed or Lighthouse could not run
	OverLimit = "OVER"      // a budget is broken
	Regressed = "REGRESSED" // worse than the previous release by more than the margin
)

// Verdict is one line of the table.
type Verdict struct {
	Check   string
	Kind    string
	Route   string
	Profile string
	Metric  string
	Value   float64
	// Budget is the broken budget's text, or the tightest one checked.
	Budget string
	// Baseline is the previous release's median, when there is one.
	Baseline *float64
	Status   string
	Why      string
}

// Floors below which a change is noise whatever the margin: a TBT of 13 ms
// becoming 37 ms is no regression.
var regressionFloor = map[string]float64{synthetic.CLS: 0.02, synthetic.Score: 0.02}

const timeFloor = 50 // ms

// Judge turns a run's results into verdicts: every journey's pass or
// failure, every lab metric against the budgets that cover it and against
// the previous release's median (baseline, from Store.Summary) with margin.
func Judge(results []synthetic.Result, budgets []Budget, baseline []synthetic.SummaryRow, margin float64) []Verdict {
	type key struct{ route, profile, kind, metric string }
	base := map[key]float64{}
	for _, r := range baseline {
		base[key{r.Route, r.Profile, r.Kind, r.Metric}] = r.Median
	}
	checkOf := map[key]string{}
	var out []Verdict
	for _, r := range results {
		switch {
		case r.Kind == synthetic.KindJourney:
			checkOf[key{r.Route, r.Profile, r.Kind, synthetic.Duration}] = r.Check
			if !r.Passed {
				out = append(out, Verdict{Check: r.Check, Kind: r.Kind, Route: r.Route, Profile: r.Profile, Metric: synthetic.Duration, Value: r.DurationMS, Status: Failed, Why: r.Error})
			}
		case !r.Passed:
			out = append(out, Verdict{Check: r.Check, Kind: r.Kind, Route: r.Route, Profile: r.Profile, Status: Failed, Why: r.Error})
		default:
			for m := range r.Metrics {
				checkOf[key{r.Route, r.Profile, r.Kind, m}] = r.Check
			}
		}
	}
	for _, s := range synthetic.Summarize(results) {
		k := key{s.Route, s.Profile, s.Kind, s.Metric}
		v := Verdict{Check: checkOf[k], Kind: s.Kind, Route: s.Route, Profile: s.Profile, Metric: s.Metric, Value: s.Median, Status: OK}
		if b, ok := base[k]; ok {
			v.Baseline = &b
		}
		for _, b := range budgets {
			if !b.applies(v.Check, s.Route, s.Profile, s.Metric) {
				continue
			}
			if v.Budget == "" || v.Status == OK {
				v.Budget = b.Text
			}
			if !b.holds(s.Median) && v.Status == OK {
				v.Status, v.Budget = OverLimit, b.Text
				v.Why = fmt.Sprintf("%s is %s, budget %s %s", s.Metric, Format(s.Metric, s.Median), b.Op, Format(s.Metric, b.Limit))
			}
		}
		if v.Baseline != nil && v.Status == OK && regressed(s.Metric, *v.Baseline, s.Median, margin) {
			v.Status = Regressed
			v.Why = fmt.Sprintf("%s went from %s to %s (%s), over the %.0f%% margin", s.Metric, Format(s.Metric, *v.Baseline), Format(s.Metric, s.Median), change(*v.Baseline, s.Median), margin*100)
		}
		if s.Kind == synthetic.KindJourney && v.Status == OK && slices.ContainsFunc(out, func(x Verdict) bool { return x.Check == v.Check && x.Status == Failed }) {
			continue // the failure's line says it
		}
		out = append(out, v)
	}
	slices.SortStableFunc(out, func(a, b Verdict) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Check, b.Check), cmp.Compare(a.Profile, b.Profile), cmp.Compare(order(a.Metric), order(b.Metric)))
	})
	return out
}

func order(m string) int {
	if i := slices.Index(synthetic.Metrics(), m); i >= 0 {
		return i
	}
	return len(synthetic.Metrics())
}

func regressed(metric string, base, head, margin float64) bool {
	worse := head - base
	if synthetic.HigherIsBetter(metric) {
		worse = base - head
	}
	floor, ok := regressionFloor[metric]
	if !ok {
		floor = timeFloor
	}
	return worse > math.Max(margin*math.Abs(base), floor)
}

func change(base, head float64) string {
	if base == 0 {
		return "from zero"
	}
	return fmt.Sprintf("%+.0f%%", (head-base)/base*100)
}

// Broken reports whether any verdict fails the run.
func Broken(vs []Verdict) bool {
	return slices.ContainsFunc(vs, func(v Verdict) bool { return v.Status != OK })
}

// Format prints a metric's value in its unit.
func Format(metric string, v float64) string {
	switch {
	case metric == synthetic.CLS:
		return strconv.FormatFloat(v, 'f', 3, 64)
	case metric == synthetic.Score:
		return strconv.FormatFloat(v*100, 'f', 0, 64)
	case v >= 1000:
		return strconv.FormatFloat(v/1000, 'f', 2, 64) + " s"
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + " ms"
}

// WriteTable prints verdicts as an aligned table, previous being the
// baseline release's name ("" when there is none), then one line per
// problem.
func WriteTable(w io.Writer, vs []Verdict, release, previous string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	prev := "PREVIOUS"
	if previous != "" {
		prev += " (" + previous + ")"
	}
	fmt.Fprintf(tw, "CHECK\tROUTE\tPROFILE\tMETRIC\tVALUE\tBUDGET\t%s\tCHANGE\tRESULT\n", prev)
	for _, v := range vs {
		val, base, ch := "—", "—", "—"
		if v.Metric != "" {
			val = Format(v.Metric, v.Value)
		}
		if v.Baseline != nil {
			base, ch = Format(v.Metric, *v.Baseline), change(*v.Baseline, v.Value)
		}
		metric, budget := v.Metric, v.Budget
		if metric == "" {
			metric = "—"
		}
		if budget == "" {
			budget = "—"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.Check, v.Route, v.Profile, metric, val, budget, base, ch, v.Status)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	n := 0
	for _, v := range vs {
		if v.Status != OK {
			n++
			fmt.Fprintf(w, "%s %s on %s (%s): %s\n", v.Status, v.Check, v.Route, v.Profile, v.Why)
		}
	}
	if n == 0 {
		fmt.Fprintf(w, "release %s: every check passed\n", release)
	} else {
		fmt.Fprintf(w, "release %s: %d problem(s)\n", release, n)
	}
	return nil
}
