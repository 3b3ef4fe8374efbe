package vitals

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/rearview-dev/rearview/coordinator/auth"
	"github.com/rearview-dev/rearview/coordinator/respond"
	"github.com/rearview-dev/rearview/coordinator/route"
)

// maxRange bounds a query's time range.
const maxRange = 400 * Day

// Mount adds the vitals routes to the coordinator's authenticated API mux:
//
//	GET /api/v1/vitals?project&metric&from&to&route&device&country&browser&release&step
//	GET /api/v1/vitals/breakdown?…&by=route|device|country|browser|release&limit
//	GET /api/v1/vitals/worst?…&min_count&limit
func (v *Vitals) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/vitals", v.getSummary)
	mux.HandleFunc("GET /api/v1/vitals/breakdown", v.getBreakdown)
	mux.HandleFunc("GET /api/v1/vitals/worst", v.getWorst)
}

// parseQuery reads the parameters every vitals route shares; it writes the
// error response and returns false when they are bad.
func (v *Vitals) parseQuery(w http.ResponseWriter, r *http.Request) (Query, bool) {
	project := auth.Project(w, r)
	if project == "" {
		return Query{}, false
	}
	p := r.URL.Query()
	q := Query{Project: project, Metric: Metric(strings.ToUpper(p.Get("metric")))}
	if q.Metric == "" {
		q.Metric = LCP
	}
	if _, ok := thresholds[q.Metric]; !ok {
		respond.Error(w, http.StatusBadRequest, "bad_metric", fmt.Sprintf("metric %q is not one of LCP, INP, CLS, FCP, TTFB", p.Get("metric")))
		return Query{}, false
	}
	now := v.opts.Now().UnixMilli()
	q.From, q.To = now-Day, now
	for _, x := range []struct {
		name string
		dst  *int64
	}{{"from", &q.From}, {"to", &q.To}} {
		if s := p.Get(x.name); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 0 {
				respond.Error(w, http.StatusBadRequest, "bad_time", x.name+" must be Unix milliseconds, got "+strconv.Quote(s))
				return Query{}, false
			}
			*x.dst = n
		}
	}
	if q.To <= q.From {
		respond.Error(w, http.StatusBadRequest, "bad_time", "to must be after from")
		return Query{}, false
	}
	if q.To-q.From > maxRange {
		respond.Error(w, http.StatusBadRequest, "bad_time", "time range is longer than 400 days")
		return Query{}, false
	}
	if s := p.Get("route"); s != "" {
		q.Filter.Route = route.Normalise(s)
	}
	q.Filter.Device = strings.ToLower(p.Get("device"))
	q.Filter.Country = strings.ToUpper(p.Get("country"))
	q.Filter.Browser = p.Get("browser")
	q.Filter.Release = p.Get("release")
	return q, true
}

func intParam(w http.ResponseWriter, r *http.Request, name string, def, lo, hi int64) (int64, bool) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < lo || n > hi {
		respond.Error(w, http.StatusBadRequest, "bad_"+name, fmt.Sprintf("%s must be an integer in [%d, %d]", name, lo, hi))
		return 0, false
	}
	return n, true
}

func (v *Vitals) internal(w http.ResponseWriter, err error) {
	respond.Internal(w, v.log, "api", err)
}

func (v *Vitals) getSummary(w http.ResponseWriter, r *http.Request) {
	q, ok := v.parseQuery(w, r)
	if !ok {
		return
	}
	var step int64
	switch s := r.URL.Query().Get("step"); s {
	case "":
	case "minute", "1m":
		step = Minute
	case "hour", "1h":
		step = Hour
	case "day", "1d":
		step = Day
	default:
		respond.Error(w, http.StatusBadRequest, "bad_step", "step must be minute, hour or day")
		return
	}
	if step == Minute && q.To-q.From > 2*Day {
		respond.Error(w, http.StatusBadRequest, "bad_step", "a minute series spans at most 2 days")
		return
	}
	s, err := v.Summarize(r.Context(), q, step)
	if err != nil {
		v.internal(w, err)
		return
	}
	respond.JSON(w, http.StatusOK, s)
}

func (v *Vitals) getBreakdown(w http.ResponseWriter, r *http.Request) {
	q, ok := v.parseQuery(w, r)
	if !ok {
		return
	}
	by := Dimension(r.URL.Query().Get("by"))
	if !ValidDimension(by) {
		respond.Error(w, http.StatusBadRequest, "bad_by", "by must be route, device, country, browser or release")
		return
	}
	limit, ok := intParam(w, r, "limit", 100, 1, 1000)
	if !ok {
		return
	}
	rows, err := v.Breakdown(r.Context(), q, by, int(limit))
	if err != nil {
		v.internal(w, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"metric": q.Metric, "by": by, "rows": rows})
}

func (v *Vitals) getWorst(w http.ResponseWriter, r *http.Request) {
	q, ok := v.parseQuery(w, r)
	if !ok {
		return
	}
	minCount, ok := intParam(w, r, "min_count", 20, 1, 1<<40)
	if !ok {
		return
	}
	limit, ok := intParam(w, r, "limit", 10, 1, 100)
	if !ok {
		return
	}
	res, err := v.WorstCuts(r.Context(), q, minCount, int(limit))
	if err != nil {
		v.internal(w, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"metric": q.Metric, "overall_p75": res.OverallP75, "count": res.Count, "cuts": res.Cuts})
}
