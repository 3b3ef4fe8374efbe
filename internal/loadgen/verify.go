package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rearview-dev/rearview/sdkproto"
)

// VerifyConfig says where to count a run's events.
type VerifyConfig struct {
	// API is the coordinator's base URL, Token an API token that reads
	// the project (the admin token or the project's own).
	API   string
	Token string
	// Project is the project id; empty means the project of Key, looked
	// up in the projects list.
	Project string
	Key     string
	// Timeout is how long after the run ended Verify waits for every
	// accepted event to be stored; zero means two minutes.
	Timeout time.Duration
	// Poll is how often the API is read at most; zero means 250 ms. Each
	// read pages through events, so the wait grows to four times the
	// last read's duration. When the events API has no stored_at, the
	// time an event was first seen is the poll that found it and the API
	// is read while the run goes: latencies are that coarse.
	Poll   time.Duration
	Client *http.Client
	Logger *slog.Logger
}

// Count is what a run should have produced next to what the API shows.
type Count struct {
	Want int64 `json:"want"`
	Got  int64 `json:"got"`
}

// Off reports whether the counts differ.
func (c Count) Off() bool { return c.Want != c.Got }

// IssueCount is one issue kind's expected and stored counts.
type IssueCount struct {
	Kind string `json:"kind"`
	// Accepted counts the kind's accepted errors; Events the kind's
	// errors stored (accepted or not); Count the issue's event count.
	Accepted int   `json:"accepted"`
	Events   Count `json:"events"`
	Users    Count `json:"users"`
	// Issues is how many issues the kind was grouped into: 1 is right.
	Issues int `json:"issues"`
}

// Report is the verdict on a run.
type Report struct {
	RunID    string `json:"run_id"`
	Sent     int    `json:"sent"`
	Accepted int    `json:"accepted"`
	Retried  int    `json:"retried"`
	Retries  int    `json:"retries"`
	Failed   int    `json:"failed"`
	Rejected int    `json:"rejected"`
	Dropped  int    `json:"dropped"`
	// Stored counts the accepted events found in the events API;
	// StoredUnaccepted those found whose 202 never came (the edge died
	// between JetStream's ack and its answer): stored, not lost.
	Stored           int `json:"stored"`
	StoredUnaccepted int `json:"stored_unaccepted"`
	// Lost counts accepted events not stored; LostIDs names the first.
	Lost    int      `json:"lost"`
	LostIDs []string `json:"lost_ids,omitempty"`
	// Duplicated is how many more events the sessions' counters hold
	// than the events stored (negative: fewer).
	Duplicated     int          `json:"duplicated"`
	Issues         []IssueCount `json:"issues"`
	Vitals         Count        `json:"vitals"`
	Segments       Count        `json:"segments"`
	SegmentBlobs   Count        `json:"segment_blobs"`
	SessionEvents  Count        `json:"session_events"`
	SessionErrors  Count        `json:"session_errors"`
	AcceptedPerSec float64      `json:"accepted_per_sec"`
	StoredPerSec   float64      `json:"stored_per_sec"`
	// P50, P99 and Max are the latencies from the edge's receipt
	// (received_at) to the event being stored.
	P50 time.Duration `json:"p50"`
	P99 time.Duration `json:"p99"`
	Max time.Duration `json:"max"`
	// LatencyFrom says how "stored" was timed: the events' stored_at, or
	// the poll that first saw them.
	LatencyFrom string `json:"latency_from"`
	// Problems lists every way the run is wrong; empty is a pass.
	Problems []string `json:"problems,omitempty"`
}

// Err is nil when nothing was lost, nothing doubled and every count is
// exact; otherwise it lists what is wrong.
func (r *Report) Err() error {
	if len(r.Problems) == 0 {
		return nil
	}
	return fmt.Errorf("load test %s: %s", r.RunID, strings.Join(r.Problems, "; "))
}

// WriteTable writes the report as an aligned table.
func (r *Report) WriteTable(w io.Writer) {
	row := func(name string, v any) { fmt.Fprintf(w, "  %-28s %v\n", name, v) }
	cnt := func(name string, c Count) {
		mark := ""
		if c.Off() {
			mark = "   <-- off"
		}
		row(name, fmt.Sprintf("%d expected, %d stored%s", c.Want, c.Got, mark))
	}
	fmt.Fprintf(w, "load test %s\n", r.RunID)
	row("sent", r.Sent)
	row("accepted (202)", r.Accepted)
	row("retried (events / requests)", fmt.Sprintf("%d / %d", r.Retried, r.Retries))
	row("never accepted", r.Failed)
	if r.Rejected > 0 || r.Dropped > 0 {
		row("rejected / dropped by edge", fmt.Sprintf("%d / %d", r.Rejected, r.Dropped))
	}
	row("stored (of accepted)", r.Stored)
	row("stored without a 202", r.StoredUnaccepted)
	row("lost", r.Lost)
	row("duplicated", r.Duplicated)
	cnt("session event counters", r.SessionEvents)
	cnt("session error counters", r.SessionErrors)
	cnt("vital samples", r.Vitals)
	cnt("replay segments", r.Segments)
	cnt("replay blobs readable", r.SegmentBlobs)
	fmt.Fprintf(w, "  %-8s %9s %9s %9s %9s %9s %6s\n", "issue", "accepted", "stored", "counted", "users", "counted", "issues")
	for _, ic := range r.Issues {
		mark := ""
		if ic.Events.Off() || ic.Users.Off() || ic.Issues != 1 {
			mark = "  <-- off"
		}
		fmt.Fprintf(w, "  %-8s %9d %9d %9d %9d %9d %6d%s\n", ic.Kind, ic.Accepted, ic.Events.Want, ic.Events.Got, ic.Users.Want, ic.Users.Got, ic.Issues, mark)
	}
	row("accepted/s", fmt.Sprintf("%.1f", r.AcceptedPerSec))
	row("stored/s", fmt.Sprintf("%.1f", r.StoredPerSec))
	row("accept->stored p50/p99/max", fmt.Sprintf("%v / %v / %v (%s)", r.P50, r.P99, r.Max, r.LatencyFrom))
	if len(r.Problems) == 0 {
		fmt.Fprintln(w, "  verdict                      OK: nothing lost, nothing doubled, counts exact")
		return
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  PROBLEM: %s\n", p)
	}
}

// seen is an event as the events API showed it.
type seen struct {
	first      time.Time
	receivedAt int64
	storedAt   int64
}

type verifier struct {
	cfg     VerifyConfig
	log     *slog.Logger
	run     string
	project string
	seen    map[string]seen
	// storedAt is set once the events API is seen to report stored_at.
	storedAt bool
}

// Verify watches g's events arrive in the coordinator's API while it
// runs, and once its Result comes on results (nil if the run failed),
// waits until every accepted event is stored or cfg.Timeout passes. Then
// it counts everything the run should have produced. The Report says what
// is wrong; the error is for failing to ask the API at all.
func Verify(ctx context.Context, cfg VerifyConfig, g *Generator, results <-chan *Result) (*Report, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Minute
	}
	if cfg.Poll == 0 {
		cfg.Poll = 250 * time.Millisecond
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.API = strings.TrimSuffix(cfg.API, "/")
	v := &verifier{cfg: cfg, log: cfg.Logger.With("component", "verify", "run", g.RunID()), run: g.RunID(), project: cfg.Project, seen: map[string]seen{}}
	if v.project == "" {
		p, err := v.projectOf(ctx, cfg.Key)
		if err != nil {
			return nil, err
		}
		v.project = p
	}
	var (
		res    *Result
		doneAt time.Time
		got    bool
	)
	for {
		if !got {
			select {
			case res, got = <-results:
				got = true
				doneAt = time.Now()
			default:
			}
		}
		wait := cfg.Poll
		// Once the API has stored_at, the latencies come from it and
		// nothing needs watching while the run goes: reading pages of
		// events would only load the coordinator being measured.
		// After the run, while the coordinators still have messages to
		// store, a scan would find little and slow them: one cheap
		// question (the consumer's backlog) until they are through.
		waiting := got && v.behind(ctx)
		if !waiting && (got || !v.storedAt) {
			began := time.Now()
			snap := g.Snapshot()
			if err := v.scan(ctx, snap.Sent, false); err != nil {
				// The coordinator may be down for a while (a fault test
				// kills it): keep polling until the timeout.
				v.log.Debug("poll events", "err", err)
			}
			// The verifier takes at most a fifth of the API's time.
			wait = max(wait, 4*time.Since(began))
		}
		if got {
			if res == nil || v.missing(res.Events) == 0 {
				break
			}
			if time.Since(doneAt) > cfg.Timeout {
				v.log.Warn("timed out waiting for accepted events", "missing", v.missing(res.Events))
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("verify %s: %w", v.run, ctx.Err())
		case <-time.After(wait):
		}
	}
	if res == nil {
		return nil, fmt.Errorf("verify %s: the run produced no result", v.run)
	}
	return v.report(ctx, res)
}

// behind reports whether the coordinators say (in /readyz) that messages
// are still waiting to be stored; a coordinator too old to say, or one
// that does not answer, is taken as not behind, and the scan decides.
func (v *verifier) behind(ctx context.Context) bool {
	var out struct {
		Backlog *uint64 `json:"backlog"`
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.cfg.API+"/readyz", nil)
	if err != nil {
		return false
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.cfg.Client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out) != nil || out.Backlog == nil {
		return false
	}
	return *out.Backlog > 0
}

func (v *verifier) missing(evs []Event) int {
	n := 0
	for _, ev := range evs {
		if _, ok := v.seen[ev.ID]; !ok {
			n++
		}
	}
	return n
}

// get calls the API and decodes its JSON answer into out.
func (v *verifier) get(ctx context.Context, path string, q url.Values, out any) error {
	if q == nil {
		q = url.Values{}
	}
	q.Set("project", v.project)
	return v.getRaw(ctx, path+"?"+q.Encode(), func(data []byte) error { return json.Unmarshal(data, out) })
}

func (v *verifier) getRaw(ctx context.Context, pathQuery string, decode func([]byte) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.cfg.API+pathQuery, nil)
	if err != nil {
		return fmt.Errorf("get %s: %w", pathQuery, err)
	}
	req.Header.Set("Authorization", "Bearer "+v.cfg.Token)
	resp, err := v.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w", pathQuery, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("get %s: %w", pathQuery, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s: %s: %s", pathQuery, resp.Status, strings.TrimSpace(string(data)))
	}
	if err := decode(data); err != nil {
		return fmt.Errorf("get %s: decode: %w", pathQuery, err)
	}
	return nil
}

func (v *verifier) projectOf(ctx context.Context, key string) (string, error) {
	var out struct {
		Projects []struct {
			ID        string `json:"id"`
			IngestKey string `json:"ingest_key"`
		} `json:"projects"`
	}
	if err := v.getRaw(ctx, "/api/v1/projects", func(b []byte) error { return json.Unmarshal(b, &out) }); err != nil {
		return "", fmt.Errorf("find project of key: %w", err)
	}
	for _, p := range out.Projects {
		if p.IngestKey == key {
			return p.ID, nil
		}
	}
	return "", errors.New("find project of key: no project has that ingest key")
}

// pageSize is the events API's largest page.
const pageSize = 1000

type apiEvent struct {
	ID         string `json:"id"`
	TS         int64  `json:"ts"`
	ReceivedAt int64  `json:"received_at"`
	StoredAt   int64  `json:"stored_at"`
}

// scan reads the events API for each kind the run sent, newest first, far
// enough down to cover the oldest sent event not seen yet (everything when
// full), and records what it sees.
func (v *verifier) scan(ctx context.Context, sent []Event, full bool) error {
	oldest := map[sdkproto.Kind]int64{}
	for _, ev := range sent {
		if _, ok := v.seen[ev.ID]; ok {
			continue
		}
		if o, ok := oldest[ev.Kind]; !ok || ev.TS < o {
			oldest[ev.Kind] = ev.TS
		}
	}
	kinds := map[sdkproto.Kind]bool{}
	for _, ev := range sent {
		kinds[ev.Kind] = true
	}
	prefix := v.run + "-"
	for _, kind := range sdkproto.Kinds() {
		if !kinds[kind] {
			continue
		}
		floor, ok := oldest[kind]
		if full {
			floor = math.MinInt64
		} else if !ok {
			floor = math.MaxInt64 // one page, for the newest events' first sight
		}
		before := int64(math.MaxInt64 / 2)
		for {
			var out struct {
				Events []apiEvent `json:"events"`
			}
			q := url.Values{"kind": {string(kind)}, "limit": {strconv.Itoa(pageSize)}, "before": {strconv.FormatInt(before, 10)}}
			if err := v.get(ctx, "/api/v1/events", q, &out); err != nil {
				return err
			}
			now := time.Now()
			low := before
			for _, e := range out.Events {
				low = min(low, e.TS)
				if !strings.HasPrefix(e.ID, prefix) {
					continue
				}
				if _, ok := v.seen[e.ID]; !ok {
					v.seen[e.ID] = seen{first: now, receivedAt: e.ReceivedAt, storedAt: e.StoredAt}
					v.storedAt = v.storedAt || e.StoredAt > 0
				}
			}
			if len(out.Events) < pageSize || low < floor {
				break
			}
			if low+1 >= before {
				return fmt.Errorf("scan %s events: more than %d share the time %d", kind, pageSize, low)
			}
			// The page ended inside the events of time low; the next
			// one starts at that time again (ids seen twice are no harm).
			before = low + 1
		}
	}
	return nil
}

// report makes the final full scan and reads every counter.
func (v *verifier) report(ctx context.Context, res *Result) (*Report, error) {
	all := append(append([]Event(nil), res.Events...), res.Unaccepted...)
	if err := v.scan(ctx, all, true); err != nil {
		return nil, fmt.Errorf("verify %s: %w", v.run, err)
	}
	r := &Report{
		RunID: res.RunID, Sent: res.Sent, Accepted: res.Accepted, Retried: res.Retried, Retries: res.Retries,
		Failed: res.Failed, Rejected: res.Rejected, Dropped: res.Dropped, AcceptedPerSec: res.AcceptedPerSecond(),
	}
	problem := func(format string, args ...any) { r.Problems = append(r.Problems, fmt.Sprintf(format, args...)) }
	if res.Rejected > 0 || res.Dropped > 0 {
		problem("the edges rejected %d and dropped %d events that are valid and meant to be kept", res.Rejected, res.Dropped)
	}
	// stored is every event of the run in the database, accepted or not:
	// each must be counted exactly once.
	var stored []Event
	var lat []time.Duration
	var lastStored time.Time
	fromStoredAt := false
	for _, ev := range res.Events {
		s, ok := v.seen[ev.ID]
		if !ok {
			r.Lost++
			if len(r.LostIDs) < 20 {
				r.LostIDs = append(r.LostIDs, ev.ID)
			}
			continue
		}
		r.Stored++
		stored = append(stored, ev)
		at := s.first
		if s.storedAt > 0 {
			at = time.UnixMilli(s.storedAt)
			fromStoredAt = true
		}
		if at.After(lastStored) {
			lastStored = at
		}
		if s.receivedAt > 0 {
			lat = append(lat, at.Sub(time.UnixMilli(s.receivedAt)))
		}
	}
	for _, ev := range res.Unaccepted {
		if _, ok := v.seen[ev.ID]; ok {
			r.StoredUnaccepted++
			stored = append(stored, ev)
		}
	}
	if r.Lost > 0 {
		problem("%d accepted events lost (first: %s)", r.Lost, strings.Join(r.LostIDs, ", "))
	}
	r.LatencyFrom = fmt.Sprintf("first seen by a poll every %v; the events API has no stored_at", v.cfg.Poll)
	if fromStoredAt {
		r.LatencyFrom = "stored_at - received_at"
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		r.P50, r.P99, r.Max = lat[(len(lat)-1)/2], lat[(len(lat)*99+99)/100-1], lat[len(lat)-1]
	}
	if d := lastStored.Sub(res.Start).Seconds(); d > 0 {
		r.StoredPerSec = float64(r.Stored) / d
	}

	if err := v.countIssues(ctx, res, stored, r); err != nil {
		return nil, fmt.Errorf("verify %s: %w", v.run, err)
	}
	if err := v.countSessions(ctx, stored, all, r); err != nil {
		return nil, fmt.Errorf("verify %s: %w", v.run, err)
	}
	if err := v.countVitals(ctx, res, stored, r); err != nil {
		return nil, fmt.Errorf("verify %s: %w", v.run, err)
	}
	for name, c := range map[string]Count{"session event counters": r.SessionEvents, "session error counters": r.SessionErrors, "vital samples": r.Vitals, "replay segments": r.Segments, "readable replay blobs": r.SegmentBlobs} {
		if c.Off() {
			problem("%s: %d, want %d", name, c.Got, c.Want)
		}
	}
	for _, ic := range r.Issues {
		if ic.Events.Off() || ic.Users.Off() || ic.Issues != 1 {
			problem("issue %s: %d events counted in %d issues, want %d in 1; %d users, want %d", ic.Kind, ic.Events.Got, ic.Issues, ic.Events.Want, ic.Users.Got, ic.Users.Want)
		}
	}
	slices.Sort(r.Problems)
	return r, nil
}

func (v *verifier) countIssues(ctx context.Context, res *Result, stored []Event, r *Report) error {
	var out struct {
		Issues []struct {
			ID    string `json:"id"`
			Value string `json:"value"`
			Count int64  `json:"count"`
			Users int64  `json:"users"`
		} `json:"issues"`
	}
	if err := v.get(ctx, "/api/v1/issues", url.Values{"q": {v.run}, "limit": {"500"}}, &out); err != nil {
		return err
	}
	byValue := map[string]int{}
	for k := range res.Issues {
		byValue[IssueValue(v.run, k)] = k
	}
	ics := make([]IssueCount, res.Issues)
	users := make([]map[string]bool, res.Issues)
	for k := range ics {
		ics[k].Kind = IssueName(k)
		users[k] = map[string]bool{}
	}
	for _, ev := range res.Events {
		if ev.Kind == sdkproto.KindError {
			ics[ev.Issue].Accepted++
		}
	}
	for _, ev := range stored {
		if ev.Kind == sdkproto.KindError {
			ics[ev.Issue].Events.Want++
			users[ev.Issue][ev.User] = true
		}
	}
	for _, is := range out.Issues {
		k, ok := byValue[is.Value]
		if !ok {
			r.Problems = append(r.Problems, fmt.Sprintf("issue %s (%q) is of no issue kind of the run", is.ID, is.Value))
			continue
		}
		ics[k].Events.Got += is.Count
		ics[k].Users.Got += is.Users
		ics[k].Issues++
	}
	for k := range ics {
		ics[k].Users.Want = int64(len(users[k]))
		if ics[k].Events.Want == 0 && ics[k].Issues == 0 {
			ics[k].Issues = 1 // nothing stored, nothing to group: not a fault
		}
	}
	r.Issues = ics
	return nil
}

func (v *verifier) countVitals(ctx context.Context, res *Result, stored []Event, r *Report) error {
	for _, ev := range stored {
		if ev.Kind == sdkproto.KindVital {
			r.Vitals.Want++
		}
	}
	if r.Vitals.Want == 0 {
		return nil
	}
	var out struct {
		Count int64 `json:"count"`
	}
	q := url.Values{
		"metric":  {"LCP"},
		"release": {v.run},
		"from":    {strconv.FormatInt(res.Start.Add(-time.Hour).UnixMilli(), 10)},
		"to":      {strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10)},
	}
	if err := v.get(ctx, "/api/v1/vitals", q, &out); err != nil {
		return err
	}
	r.Vitals.Got = out.Count
	return nil
}

// countSessions reads every session of the run: its event, error and
// segment counters, its segment list and each segment's blob.
func (v *verifier) countSessions(ctx context.Context, stored, all []Event, r *Report) error {
	type want struct {
		events, errors int64
		segments       map[int]string // segment → event id
	}
	wants := map[string]*want{}
	for _, ev := range all {
		if wants[ev.Session] == nil {
			wants[ev.Session] = &want{segments: map[int]string{}}
		}
	}
	for _, ev := range stored {
		w := wants[ev.Session]
		w.events++
		switch ev.Kind {
		case sdkproto.KindError:
			w.errors++
		case sdkproto.KindReplay:
			w.segments[ev.Segment] = ev.ID
		}
	}
	ids := make([]string, 0, len(wants))
	for id := range wants {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		sem      = make(chan struct{}, 4)
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
	}
	for _, id := range ids {
		w := wants[id]
		r.SessionEvents.Want += w.events
		r.SessionErrors.Want += w.errors
		r.Segments.Want += int64(len(w.segments))
		r.SegmentBlobs.Want += int64(len(w.segments))
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var s struct {
				Events   int64 `json:"events"`
				Errors   int64 `json:"errors"`
				Segments int64 `json:"segments"`
			}
			err := v.get(ctx, "/api/v1/sessions/"+id, nil, &s)
			var notFound bool
			if err != nil && strings.Contains(err.Error(), "404") && w.events == 0 {
				notFound, err = true, nil // nothing of it stored: no session either
			}
			if err != nil {
				fail(err)
				return
			}
			var segs struct {
				Segments []struct {
					Segment int    `json:"segment"`
					EventID string `json:"event_id"`
				} `json:"segments"`
			}
			if !notFound {
				if err := v.get(ctx, "/api/v1/sessions/"+id+"/segments", nil, &segs); err != nil {
					fail(err)
					return
				}
			}
			var readable int64
			var wrong []string
			for _, sg := range segs.Segments {
				if w.segments[sg.Segment] != sg.EventID {
					wrong = append(wrong, fmt.Sprintf("session %s segment %d is event %s, want %q", id, sg.Segment, sg.EventID, w.segments[sg.Segment]))
					continue
				}
				err := v.getRaw(ctx, "/api/v1/sessions/"+id+"/segments/"+strconv.Itoa(sg.Segment)+"?project="+url.QueryEscape(v.project), func(b []byte) error {
					var evs []json.RawMessage
					if err := json.Unmarshal(b, &evs); err != nil || len(evs) == 0 {
						return fmt.Errorf("not a non-empty array of rrweb events: %v", err)
					}
					return nil
				})
				if err != nil {
					wrong = append(wrong, fmt.Sprintf("session %s segment %d: %v", id, sg.Segment, err))
					continue
				}
				readable++
			}
			mu.Lock()
			defer mu.Unlock()
			r.SessionEvents.Got += s.Events
			r.SessionErrors.Got += s.Errors
			r.Segments.Got += s.Segments
			r.SegmentBlobs.Got += readable
			r.Problems = append(r.Problems, wrong...)
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	r.Duplicated = int(r.SessionEvents.Got - r.SessionEvents.Want)
	return nil
}
