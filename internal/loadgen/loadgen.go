// Package loadgen drives Rearview's ingest like a crowd of browsers: it sends
// uniquely numbered events in the wire protocol (gzip JSON batches, as the
// SDK sends them) to one or more edges at a fixed rate, retries every batch
// not answered 202 with the same bytes until a deadline, spreading retries
// across the edges, and records which events were accepted. Verify then
// counts every accepted event in the coordinator's API.
//
// Events are predictable on purpose: errors cycle through a fixed set of
// issue kinds with their own stack, so the issue counts a run must produce
// are known from the accepted events alone.
package loadgen

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rearview-dev/rearview/sdkproto"
)

// UserAgent is the browser User-Agent every batch is sent with: the edge
// drops scripted clients as bots.
const UserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

// Config configures a run.
type Config struct {
	// Edges are the edges' base URLs (http://host:port); batches go to
	// them in turn and a retry goes to the next one.
	Edges []string
	// Key is the project's public ingest key.
	Key string
	// Rate is the events per second sent.
	Rate float64
	// Duration and Count bound the run: Count events, or Rate×Duration
	// when Count is zero.
	Duration time.Duration
	Count    int
	// BatchSize is events per batch; zero means 20.
	BatchSize int
	// Concurrency bounds the requests in flight; zero means 8.
	Concurrency int
	// Issues is the number of distinct error kinds; zero means 5.
	Issues int
	// Sessions and Users are how many distinct sessions and users the
	// batches belong to; zero means 20 and 10.
	Sessions int
	Users    int
	// VitalEvery and ReplayEvery make every n-th event a web vital or a
	// replay segment instead of an error; zero means none.
	VitalEvery  int
	ReplayEvery int
	// RetryFor is how long after the last batch was first sent a batch is
	// still retried; zero means one minute.
	RetryFor time.Duration
	// RunID prefixes every id of the run; empty means a random one.
	RunID  string
	Client *http.Client
	Logger *slog.Logger
}

// Event is one event sent.
type Event struct {
	ID   string
	Kind sdkproto.Kind
	// Issue is the issue kind of an error (0 ≤ Issue < Config.Issues), -1
	// for other events.
	Issue   int
	Session string
	User    string
	// Segment is a replay event's segment number.
	Segment int
	TS      int64
	// AcceptedAt is when its batch was answered 202; zero if never.
	AcceptedAt time.Time
}

// Result is what a run sent and what the edges accepted.
type Result struct {
	RunID string
	// Start is when the first batch was sent, End when the last answer
	// came (or the last batch was given up).
	Start, End time.Time
	// Sent counts events sent at least once, Accepted those whose batch
	// was answered 202, Failed those never accepted before the deadline.
	Sent, Accepted, Failed int
	// Retried counts events whose batch needed more than one request;
	// Retries the requests beyond each batch's first.
	Retried, Retries int
	// Rejected counts events an edge refused as invalid and Dropped those
	// it accepted but its policy dropped: either is a bug of the generator
	// or of the edge, since every event is valid and meant to be kept.
	Rejected, Dropped int
	Requests          int
	// Answers counts the answers that were not 202, by status code or
	// "error" for a request that got no answer.
	Answers map[string]int
	// Events are the accepted events.
	Events []Event
	// Unaccepted are events sent but never accepted; an edge may still
	// have stored them (it died after JetStream's ack, before its answer).
	Unaccepted []Event
	// Issues is Config.Issues, the number of issue kinds of the run.
	Issues int
}

// AcceptedPerSecond is the accepted events per second over the run.
func (r *Result) AcceptedPerSecond() float64 {
	d := r.End.Sub(r.Start).Seconds()
	if d <= 0 {
		return 0
	}
	return float64(r.Accepted) / d
}

// Generator runs one load test. Its progress can be read while it runs
// (Snapshot), which is how a verifier watches events arrive.
type Generator struct {
	cfg  Config
	log  *slog.Logger
	page string

	// finish is closed by Finish: no new batch is sent after it.
	finish     chan struct{}
	finishOnce sync.Once

	mu   sync.Mutex
	res  Result
	sent []Event // every event sent at least once

	gzips sync.Pool // *gzip.Writer for batch bodies
}

// New checks cfg and returns a generator for it.
func New(cfg Config) (*Generator, error) {
	if len(cfg.Edges) == 0 {
		return nil, errors.New("new load test: at least one edge URL is required")
	}
	if cfg.Key == "" {
		return nil, errors.New("new load test: an ingest key is required")
	}
	if cfg.Rate <= 0 {
		return nil, errors.New("new load test: rate must be positive")
	}
	if cfg.Count == 0 {
		cfg.Count = int(cfg.Rate * cfg.Duration.Seconds())
	}
	if cfg.Count <= 0 {
		return nil, errors.New("new load test: a count or a duration is required")
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 20
	}
	if cfg.BatchSize < 1 || cfg.BatchSize > 500 {
		return nil, fmt.Errorf("new load test: batch size %d is not in 1..500", cfg.BatchSize)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 8
	}
	if cfg.Issues <= 0 {
		cfg.Issues = 5
	}
	if cfg.Sessions <= 0 {
		cfg.Sessions = 20
	}
	if cfg.Users <= 0 {
		cfg.Users = 10
	}
	if cfg.RetryFor == 0 {
		cfg.RetryFor = time.Minute
	}
	if cfg.RunID == "" {
		b := make([]byte, 4)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("new load test: run id: %w", err)
		}
		cfg.RunID = "lt" + hex.EncodeToString(b)
	}
	if !validID(cfg.RunID) || len(cfg.RunID) > 24 {
		return nil, fmt.Errorf("new load test: run id %q must be 1-24 of [A-Za-z0-9_-]", cfg.RunID)
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	for i, e := range cfg.Edges {
		cfg.Edges[i] = strings.TrimSuffix(strings.TrimSuffix(e, "/"), "/v1/ingest")
	}
	g := &Generator{
		cfg:    cfg,
		finish: make(chan struct{}),
		log:    cfg.Logger.With("component", "loadgen", "run", cfg.RunID),
		page:   "https://loadtest.example.com/" + cfg.RunID + "/checkout",
	}
	g.res = Result{RunID: cfg.RunID, Answers: map[string]int{}, Issues: cfg.Issues}
	return g, nil
}

func validID(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return s != ""
}

// RunID is the prefix of every id the run sends.
func (g *Generator) RunID() string { return g.cfg.RunID }

// Config returns the configuration with its defaults filled in.
func (g *Generator) Config() Config { return g.cfg }

// Finish ends the run early: no new batch is sent, and Run returns once
// the batches already sent are accepted or given up. A test that breaks
// things for as long as it takes runs with a long Duration and calls
// Finish when it is done.
func (g *Generator) Finish() {
	g.finishOnce.Do(func() { close(g.finish) })
}

// Snapshot is a run's progress so far.
type Snapshot struct {
	// Sent holds every event sent at least once, accepted or not yet.
	Sent []Event
	// Done is set once the run has ended.
	Done bool
}

// Snapshot returns the run's progress so far.
func (g *Generator) Snapshot() Snapshot {
	g.mu.Lock()
	defer g.mu.Unlock()
	return Snapshot{Sent: append([]Event(nil), g.sent...), Done: !g.res.End.IsZero()}
}

// batch is one request's worth of events, encoded once: a retry sends the
// same bytes, which the edge and JetStream deduplicate.
type batch struct {
	idx    int
	events []Event
	body   []byte
}

// IssueName names issue kind k with letters only ("a", "b", …, "ba"), so
// that grouping, which treats digits as variable, keeps kinds apart.
func IssueName(k int) string {
	var b []byte
	for {
		b = append([]byte{byte('a' + k%26)}, b...)
		k /= 26
		if k == 0 {
			return string(b)
		}
	}
}

// IssueValue is the error message of issue kind k in run; the verifier
// finds the kind of a stored issue by it.
func IssueValue(run string, k int) string {
	return "load test " + run + " issue " + IssueName(k) + " failed"
}

// Run sends the events at the configured rate and retries until every
// batch is accepted or its deadline passes. It returns an error only when
// ctx ends first; what was lost is in the Result.
func (g *Generator) Run(ctx context.Context) (*Result, error) {
	cfg := g.cfg
	work := make(chan *batch)
	var wg sync.WaitGroup
	var deadlineMu sync.Mutex
	var deadline time.Time // set once the last batch is first sent
	deadlineOf := func() time.Time {
		deadlineMu.Lock()
		defer deadlineMu.Unlock()
		return deadline
	}
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				g.send(ctx, b, deadlineOf)
			}
		}()
	}
	start := time.Now()
	g.mu.Lock()
	g.res.Start = start
	g.mu.Unlock()
	interval := time.Duration(float64(time.Second) * float64(cfg.BatchSize) / cfg.Rate)
	seqs := make([]int64, cfg.Sessions)
	segments := make([]int, cfg.Sessions)
	started := start.UnixMilli()
	var nErrors int
	sent := 0
produce:
	for i := 0; sent < cfg.Count; i++ {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			select {
			case <-ctx.Done():
				break produce
			case <-g.finish:
				break produce
			case <-time.After(d):
			}
		}
		select {
		case <-g.finish:
			break produce
		default:
		}
		n := min(cfg.BatchSize, cfg.Count-sent)
		b, err := g.build(i, sent, n, seqs, segments, started, &nErrors)
		if err != nil {
			close(work)
			wg.Wait()
			return nil, err
		}
		select {
		case <-ctx.Done():
			break produce
		case work <- b:
		}
		sent += n
	}
	deadlineMu.Lock()
	deadline = time.Now().Add(cfg.RetryFor)
	deadlineMu.Unlock()
	close(work)
	wg.Wait()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.res.End = time.Now()
	res := g.res
	res.Sent = len(g.sent)
	res.Events = nil
	res.Unaccepted = nil
	for _, ev := range g.sent {
		if ev.AcceptedAt.IsZero() {
			res.Unaccepted = append(res.Unaccepted, ev)
		} else {
			res.Events = append(res.Events, ev)
		}
	}
	res.Accepted = len(res.Events)
	res.Failed = len(res.Unaccepted)
	if err := ctx.Err(); err != nil {
		return &res, fmt.Errorf("load test %s: %w", cfg.RunID, err)
	}
	return &res, nil
}

// build makes batch i holding events first..first+n-1 of one session.
func (g *Generator) build(i, first, n int, seqs []int64, segments []int, started int64, nErrors *int) (*batch, error) {
	cfg := g.cfg
	run := cfg.RunID
	s := i % cfg.Sessions
	session := fmt.Sprintf("%s-s%d", run, s)
	user := fmt.Sprintf("%s-u%d", run, s%cfg.Users)
	now := time.Now().UnixMilli()
	b := &batch{idx: i}
	pb := sdkproto.Batch{
		V:   sdkproto.Version,
		SDK: sdkproto.SDK{Name: "rearview-loadtest", Version: "1"},
		Session: sdkproto.Session{
			ID: session, Seq: seqs[s], StartedAt: started, UserID: user,
			// Flagged sessions are always kept by the edge's sampling, so
			// every replay segment sent must be stored.
			Flags: sdkproto.SessionFlags{Error: true},
		},
		Page:   sdkproto.Page{URL: g.page},
		Device: sdkproto.Device{UA: UserAgent, Viewport: sdkproto.Size{W: 1280, H: 800}, Language: "en-US"},
		SentAt: now,
	}
	seqs[s]++
	for j := range n {
		num := first + j
		ev := Event{ID: fmt.Sprintf("%s-%d", run, num), Issue: -1, Session: session, User: user, TS: now}
		pe := sdkproto.Event{ID: ev.ID, TS: now}
		switch {
		case cfg.ReplayEvery > 0 && num%cfg.ReplayEvery == cfg.ReplayEvery-1:
			ev.Kind, ev.Segment = sdkproto.KindReplay, segments[s]
			segments[s]++
			pe.Replay = &sdkproto.Replay{
				Segment: ev.Segment,
				Events:  json.RawMessage(fmt.Sprintf(`[{"type":3,"data":{"source":1,"positions":[{"x":%d,"y":%d,"id":1,"timeOffset":0}]},"timestamp":%d}]`, num%1280, num%800, now)),
				EndTS:   now,
			}
		case cfg.VitalEvery > 0 && num%cfg.VitalEvery == cfg.VitalEvery-1:
			ev.Kind = sdkproto.KindVital
			pe.Vital = &sdkproto.Vital{Name: "LCP", Value: float64(500 + num%4000), URL: g.page, Attribution: map[string]string{"release": run}}
		default:
			ev.Kind = sdkproto.KindError
			ev.Issue = *nErrors % cfg.Issues
			*nErrors++
			name := IssueName(ev.Issue)
			pe.Error = &sdkproto.Error{
				Type:      "LoadtestError",
				Value:     IssueValue(run, ev.Issue),
				Mechanism: sdkproto.MechanismOnError,
				Release:   run,
				Stack: []sdkproto.Frame{
					{URL: "https://loadtest.example.com/" + run + "/issue-" + name + ".js", Function: "fail_" + name, Line: 1, Column: 100 + ev.Issue},
					{URL: "https://loadtest.example.com/" + run + "/app.js", Function: "main", Line: 1, Column: 10},
				},
			}
		}
		pe.Kind = ev.Kind
		pb.Events = append(pb.Events, pe)
		b.events = append(b.events, ev)
	}
	raw, err := sdkproto.Encode(&pb)
	if err != nil {
		return nil, fmt.Errorf("encode batch %d: %w", i, err)
	}
	var buf bytes.Buffer
	// A gzip writer costs more to make than a batch does to compress: the
	// generator shares the machine it measures, so they are reused.
	zw, _ := g.gzips.Get().(*gzip.Writer)
	if zw == nil {
		zw = gzip.NewWriter(&buf)
	} else {
		zw.Reset(&buf)
	}
	_, err = zw.Write(raw)
	if err == nil {
		err = zw.Close()
	}
	g.gzips.Put(zw)
	if err != nil {
		return nil, fmt.Errorf("gzip batch %d: %w", i, err)
	}
	b.body = buf.Bytes()
	return b, nil
}

// accepted is the edge's 202 answer.
type accepted struct {
	Accepted int                 `json:"accepted"`
	Rejected []sdkproto.Rejected `json:"rejected"`
}

// send posts b until an edge answers 202 or the deadline passes, waiting
// longer after each failure (or as long as the edge's Retry-After asks,
// up to maxWait).
func (g *Generator) send(ctx context.Context, b *batch, deadlineOf func() time.Time) {
	const maxWait = 3 * time.Second
	g.mu.Lock()
	first := len(g.sent)
	g.sent = append(g.sent, b.events...)
	g.mu.Unlock()
	backoff := 100 * time.Millisecond
	for attempt := 0; ; attempt++ {
		edge := g.cfg.Edges[(b.idx+attempt)%len(g.cfg.Edges)]
		status, retryAfter, acc, err := g.post(ctx, edge, b.body)
		g.mu.Lock()
		g.res.Requests++
		if attempt > 0 {
			g.res.Retries++
		}
		if status == http.StatusAccepted {
			now := time.Now()
			for k := range b.events {
				g.sent[first+k].AcceptedAt = now
			}
			if attempt > 0 {
				g.res.Retried += len(b.events)
			}
			g.res.Rejected += len(acc.Rejected)
			g.res.Dropped += len(b.events) - len(acc.Rejected) - acc.Accepted
			g.mu.Unlock()
			if len(acc.Rejected) > 0 {
				g.log.Error("edge rejected events", "batch", b.idx, "rejected", acc.Rejected)
			}
			return
		}
		key := strconv.Itoa(status)
		if err != nil {
			key = "error"
		}
		g.res.Answers[key]++
		g.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		wait := min(max(backoff, retryAfter), maxWait)
		backoff = min(2*backoff, 2*time.Second)
		if dl := deadlineOf(); !dl.IsZero() && time.Now().Add(wait).After(dl) {
			g.log.Warn("giving up on a batch", "batch", b.idx, "events", len(b.events), "last_status", status, "err", err)
			return
		}
		g.log.Debug("retrying batch", "batch", b.idx, "status", status, "err", err, "wait", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// post sends one request and returns the status (0 without an answer) and
// the Retry-After the edge asked for.
func (g *Generator) post(ctx context.Context, edge string, body []byte) (int, time.Duration, accepted, error) {
	var acc accepted
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, edge+"/v1/ingest", bytes.NewReader(body))
	if err != nil {
		return 0, 0, acc, fmt.Errorf("post %s: %w", edge, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("X-Rearview-Key", g.cfg.Key)
	req.Header.Set("User-Agent", UserAgent)
	resp, err := g.cfg.Client.Do(req)
	if err != nil {
		return 0, 0, acc, fmt.Errorf("post %s: %w", edge, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		// The answer was cut off: the batch may or may not be stored, so
		// it is retried like any other failure.
		return 0, 0, acc, fmt.Errorf("post %s: read answer: %w", edge, err)
	}
	var ra time.Duration
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		ra = time.Duration(s) * time.Second
	}
	if resp.StatusCode == http.StatusAccepted {
		if err := json.Unmarshal(data, &acc); err != nil {
			return 0, 0, acc, fmt.Errorf("post %s: decode 202 answer: %w", edge, err)
		}
	}
	return resp.StatusCode, ra, acc, nil
}
