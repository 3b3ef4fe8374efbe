// Package edge is Rearview's regional ingest server. It authenticates a
// batch by project key, enforces the protocol's hard limits, runs the
// region's policy Stage (filter, sample, mask) and publishes what survives
// to NATS JetStream, answering 202 only once JetStream has stored it.
//
// Nothing an edge publishes carries the client IP: the IP is turned into a
// country (from a trusted header, else from a GeoIP database) and then
// forgotten.
package edge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/time/rate"

	"github.com/rearview-dev/rearview/edge/sentry"
	"github.com/rearview-dev/rearview/sdkproto"
)

// Config configures an edge.
type Config struct {
	// Region names this edge's region; it is a NATS subject token.
	Region string
	// JetStream publishes accepted batches and reads project keys.
	JetStream jetstream.JetStream
	// Stage is the policy applied to every batch; nil means PassThrough.
	Stage Stage
	// Limits are the protocol limits; zero means sdkproto.DefaultLimits.
	Limits sdkproto.Limits
	// SentryLimits cap what Sentry SDKs send; zero means Relay's defaults
	// (sentry.DefaultLimits). A translated envelope must also fit Limits.
	SentryLimits sentry.Limits
	// CountryHeader is a header set by a trusted proxy with the client's
	// country (ISO 3166-1 alpha-2), e.g. CF-IPCountry. Empty: none trusted.
	CountryHeader string
	// GeoIP, when set, gives the country of a request whose trusted header
	// is not configured or carries no valid code, from the connection's
	// remote address. Forwarding headers such as X-Forwarded-For are not
	// read: anyone can send them. Behind a proxy, use CountryHeader.
	GeoIP CountryLookup
	// EventsPerSecond and Burst rate-limit each project unless its key sets
	// its own rate. Zero means 1000 events/s with a burst of 5000.
	EventsPerSecond float64
	Burst           int
	// PublishTimeout bounds how long a request waits for JetStream's ack.
	PublishTimeout time.Duration
	// SDKScript, when set, is served at /sdk/v1.js.
	SDKScript []byte
	Logger    *slog.Logger
}

// Server is an edge. Create it with New, start its key watch with Run and
// serve Handler.
type Server struct {
	cfg   Config
	log   *slog.Logger
	stage Stage
	// stageReady is closed once the stage has loaded its policies; nil
	// when the stage has none to load (see Readier).
	stageReady <-chan struct{}

	// loaded is set once the initial project keys are in; it is read on
	// every request, so it is not behind mu.
	loaded   atomic.Bool
	mu       sync.RWMutex
	keys     map[string]sdkproto.ProjectKey
	limiters map[string]*rate.Limiter
}

// New returns an edge for cfg.
func New(cfg Config) (*Server, error) {
	if !sdkproto.ValidToken(cfg.Region) {
		return nil, fmt.Errorf("new edge: region %q must be 1-32 characters of [a-z0-9-]", cfg.Region)
	}
	if cfg.JetStream == nil {
		return nil, errors.New("new edge: JetStream is required")
	}
	if cfg.Limits == (sdkproto.Limits{}) {
		cfg.Limits = sdkproto.DefaultLimits()
	}
	if cfg.SentryLimits == (sentry.Limits{}) {
		cfg.SentryLimits = sentry.DefaultLimits()
	}
	if cfg.EventsPerSecond == 0 {
		cfg.EventsPerSecond, cfg.Burst = 1000, 5000
	}
	if cfg.Burst == 0 {
		cfg.Burst = int(cfg.EventsPerSecond) * 5
	}
	if cfg.PublishTimeout == 0 {
		cfg.PublishTimeout = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	st := cfg.Stage
	if st == nil {
		st = PassThrough{}
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "edge", "region", cfg.Region),
		stage:    st,
		keys:     map[string]sdkproto.ProjectKey{},
		limiters: map[string]*rate.Limiter{},
	}
	if r, ok := st.(Readier); ok {
		s.stageReady = r.Ready()
	}
	return s, nil
}

// Run watches the project keys bucket until ctx ends. The coordinator
// creates the bucket; until it exists Run retries, and the edge is not ready.
func (s *Server) Run(ctx context.Context) error {
	for {
		err := s.watchKeys(ctx)
		if ctx.Err() != nil {
			return nil
		}
		s.log.Warn("watch project keys", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

func (s *Server) watchKeys(ctx context.Context) error {
	kv, err := s.cfg.JetStream.KeyValue(ctx, sdkproto.KeysBucket)
	if err != nil {
		return fmt.Errorf("open bucket %s: %w", sdkproto.KeysBucket, err)
	}
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("watch bucket %s: %w", sdkproto.KeysBucket, err)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-w.Updates():
			if !ok {
				return errors.New("key watch closed")
			}
			s.applyKey(e)
		}
	}
}

func (s *Server) applyKey(e jetstream.KeyValueEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e == nil { // end of the initial values
		s.loaded.Store(true)
		s.log.Info("project keys loaded", "count", len(s.keys))
		return
	}
	if e.Operation() != jetstream.KeyValuePut {
		delete(s.keys, e.Key())
		delete(s.limiters, e.Key())
		return
	}
	var pk sdkproto.ProjectKey
	if err := json.Unmarshal(e.Value(), &pk); err != nil || !sdkproto.ValidToken(pk.Project) {
		s.log.Warn("ignoring malformed project key entry", "err", err)
		return
	}
	s.keys[e.Key()] = pk
	delete(s.limiters, e.Key())
}

// Ready reports whether the edge has loaded project keys and the stage's
// policies, and NATS is up.
func (s *Server) Ready() bool {
	return s.notReady() == "" && s.cfg.JetStream.Conn().IsConnected()
}

// notReady says what the edge still waits for before it may accept a
// batch, or "" when nothing. Until the keys are in, a valid key would be
// refused as unknown (a 401 the SDK does not retry); until the policies
// are in, the default policy would apply where a stricter one is stored.
func (s *Server) notReady() string {
	if !s.loaded.Load() {
		return "edge is starting: project keys are not loaded yet; retry later"
	}
	if s.stageReady != nil {
		select {
		case <-s.stageReady:
		default:
			return "edge is starting: policies are not loaded yet; retry later"
		}
	}
	return ""
}

func (s *Server) lookup(key string) (sdkproto.ProjectKey, *rate.Limiter, bool) {
	s.mu.RLock()
	pk, ok := s.keys[key]
	lim := s.limiters[key]
	s.mu.RUnlock()
	if !ok || lim != nil {
		return pk, lim, ok
	}
	eps, burst := s.cfg.EventsPerSecond, s.cfg.Burst
	if pk.RateLimit > 0 {
		eps, burst = pk.RateLimit, int(pk.RateLimit*5)+1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if lim = s.limiters[key]; lim == nil {
		lim = rate.NewLimiter(rate.Limit(eps), burst)
		s.limiters[key] = lim
	}
	return pk, lim, true
}

// Handler returns the edge's HTTP routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/ingest", s.ingest)
	// Sentry SDKs: the DSN's host is the edge, its path the project. The
	// paths without the trailing slash are taken too: a redirect would turn
	// a proxy's POST into a GET.
	for _, p := range []string{"/api/{project}/envelope/{$}", "/api/{project}/envelope"} {
		mux.HandleFunc(p, s.sentryEnvelope)
	}
	for _, p := range []string{"/api/{project}/store/{$}", "/api/{project}/store"} {
		mux.HandleFunc(p, s.sentryStore)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if why := s.notReady(); why != "" {
			http.Error(w, "not ready: "+why+"\n", http.StatusServiceUnavailable)
			return
		}
		if !s.cfg.JetStream.Conn().IsConnected() {
			http.Error(w, "not ready: not connected to NATS\n", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	if len(s.cfg.SDKScript) > 0 {
		mux.HandleFunc("GET /sdk/v1.js", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
			w.Header().Set("Cache-Control", "public, max-age=300")
			w.Header().Set("Access-Control-Allow-Origin", "*")
			w.Write(s.cfg.SDKScript)
		})
	}
	return mux
}

// apiError is the body of every error answer.
type apiError struct {
	Error  string `json:"error"`
	Detail string `json:"detail"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, code, detail string) {
	writeJSON(w, status, apiError{Error: code, Detail: detail})
}

// Accepted is the 202 answer to a batch.
type Accepted struct {
	Accepted int                 `json:"accepted"`
	Rejected []sdkproto.Rejected `json:"rejected,omitempty"`
}

func cors(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type, Content-Encoding, X-Rearview-Key")
	h.Set("Access-Control-Expose-Headers", "Retry-After")
	h.Set("Access-Control-Max-Age", "86400")
}

func (s *Server) ingest(w http.ResponseWriter, r *http.Request) {
	cors(w)
	switch r.Method {
	case http.MethodOptions:
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "POST, OPTIONS")
		fail(w, http.StatusMethodNotAllowed, "method_not_allowed", "use POST")
		return
	}
	status, n := s.serveIngest(w, r)
	s.log.Debug("ingest", "status", status, "events", n)
}

// notReadyRetryAfter is the Retry-After, in seconds, of a batch refused
// while the edge starts: loading keys and policies takes about a second.
const notReadyRetryAfter = "2"

// serveIngest handles one POST and returns the status and events accepted.
func (s *Server) serveIngest(w http.ResponseWriter, r *http.Request) (int, int) {
	if why := s.notReady(); why != "" {
		w.Header().Set("Retry-After", notReadyRetryAfter)
		fail(w, http.StatusServiceUnavailable, "not_ready", why)
		return http.StatusServiceUnavailable, 0
	}
	key := r.Header.Get("X-Rearview-Key")
	if key == "" {
		key = r.URL.Query().Get("key")
	}
	if key == "" {
		fail(w, http.StatusUnauthorized, "unauthorized", "missing project key: send header X-Rearview-Key or query parameter key")
		return http.StatusUnauthorized, 0
	}
	pk, limiter, ok := s.lookup(key)
	if !ok || pk.Disabled {
		fail(w, http.StatusUnauthorized, "unauthorized", "unknown or disabled project key")
		return http.StatusUnauthorized, 0
	}
	ct := strings.ToLower(strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0]))
	switch ct {
	case "application/json", "text/plain", "":
	default:
		fail(w, http.StatusUnsupportedMediaType, "unsupported_media_type", fmt.Sprintf("content type %q: send application/json (or text/plain from sendBeacon)", ct))
		return http.StatusUnsupportedMediaType, 0
	}
	body, err := sdkproto.ReadBody(r.Body, strings.ToLower(r.Header.Get("Content-Encoding")), s.cfg.Limits)
	if err != nil {
		st := decodeStatus(err)
		fail(w, st, string(codeOr(err, "bad_request")), err.Error())
		return st, 0
	}
	batch, rejected, err := sdkproto.Decode(body, s.cfg.Limits)
	if err != nil {
		st := decodeStatus(err)
		fail(w, st, string(codeOr(err, "bad_request")), err.Error())
		return st, 0
	}
	if !limiter.AllowN(time.Now(), len(batch.Events)) {
		w.Header().Set("Retry-After", "1")
		fail(w, http.StatusTooManyRequests, "rate_limited", fmt.Sprintf("project %s is over its rate of events per second", pk.Project))
		return http.StatusTooManyRequests, 0
	}
	in := body
	if len(rejected) > 0 {
		// The stage sees only valid events.
		if in, err = sdkproto.Encode(batch); err != nil {
			fail(w, http.StatusInternalServerError, "internal", err.Error())
			return http.StatusInternalServerError, 0
		}
	}
	n, err := s.process(r.Context(), pk.Project, r, in, batch, nil)
	if err != nil {
		if errors.Is(err, ErrNotReady) {
			// The gate above covers a stage that is a Readier; this
			// covers one that only guards itself.
			s.log.Warn("policy stage not ready", "project", pk.Project, "err", err)
			w.Header().Set("Retry-After", notReadyRetryAfter)
			fail(w, http.StatusServiceUnavailable, "not_ready", "policies are not loaded yet; retry later")
			return http.StatusServiceUnavailable, 0
		}
		var pe *publishError
		if errors.As(err, &pe) {
			s.log.Error("publish", "project", pk.Project, "err", err)
			w.Header().Set("Retry-After", "5")
			fail(w, http.StatusServiceUnavailable, "unavailable", "event bus unavailable; retry later")
			return http.StatusServiceUnavailable, 0
		}
		s.log.Error("policy stage", "project", pk.Project, "err", err)
		fail(w, http.StatusInternalServerError, "policy_failed", err.Error())
		return http.StatusInternalServerError, 0
	}
	writeJSON(w, http.StatusAccepted, Accepted{Accepted: n, Rejected: rejected})
	return http.StatusAccepted, n
}

func codeOr(err error, def sdkproto.Code) sdkproto.Code {
	if c := sdkproto.CodeOf(err); c != "" {
		return c
	}
	return def
}

func decodeStatus(err error) int {
	switch sdkproto.CodeOf(err) {
	case sdkproto.CodeTooLarge, sdkproto.CodeTooMany:
		return http.StatusRequestEntityTooLarge
	case sdkproto.CodeEncoding:
		if strings.HasPrefix(err.Error(), "unsupported") {
			return http.StatusUnsupportedMediaType
		}
		return http.StatusBadRequest
	case "":
		return http.StatusBadRequest
	}
	return http.StatusBadRequest
}

// publishError marks a failure to reach JetStream, which the client may
// retry (503), as opposed to a policy failure (500).
type publishError struct{ err error }

func (e *publishError) Error() string { return "publish: " + e.err.Error() }
func (e *publishError) Unwrap() error { return e.err }

// process runs the policy stage and publishes the result split by kind. It
// returns the number of events published. dropped counts what was left out
// before the stage (a Sentry envelope's unusable items); it is reported in
// the same outcome as the stage's drops.
func (s *Server) process(ctx context.Context, project string, r *http.Request, in []byte, decoded *sdkproto.Batch, dropped map[string]int) (int, error) {
	country := s.country(r)
	out, err := s.stage.Apply(ctx, StageInput{
		Project:   project,
		Region:    s.cfg.Region,
		Country:   country,
		UserAgent: r.UserAgent(),
		Now:       time.Now(),
		Batch:     in,
	})
	if err != nil {
		return 0, fmt.Errorf("apply policy: %w", err)
	}
	var kept *sdkproto.Batch
	switch {
	case len(out.Batch) > 0 && len(out.Batch) == len(in) && &out.Batch[0] == &in[0]:
		kept = decoded // the stage forwarded the batch untouched
	case len(out.Batch) > 0:
		// The stage's output is trusted but still parsed strictly: a
		// broken module must not be able to publish garbage.
		kept, _, err = sdkproto.Decode(out.Batch, s.cfg.Limits)
		var de *sdkproto.DecodeError
		switch {
		case errors.As(err, &de) && de.Path == "events" && de.Code == sdkproto.CodeInvalid:
			kept = nil // every event was dropped
		case err != nil:
			return 0, fmt.Errorf("policy output: %w", err)
		}
	}
	msgs, err := s.split(project, country, kept)
	if err != nil {
		return 0, err
	}
	if len(dropped) > 0 {
		all := make(map[string]int, len(out.Dropped)+len(dropped))
		for _, m := range []map[string]int{out.Dropped, dropped} {
			for reason, n := range m {
				all[reason] += n
			}
		}
		out.Dropped = all
	}
	if len(out.Dropped) > 0 {
		m, err := s.outcome(project, in, kept, out.Dropped)
		if err != nil {
			return 0, err
		}
		msgs = append(msgs, m)
	}
	if err := s.publish(ctx, msgs); err != nil {
		return 0, err
	}
	if kept == nil {
		return 0, nil
	}
	return len(kept.Events), nil
}

// split turns a batch into one message per kind, each a Batch holding only
// that kind's events, with a dedupe id derived from its bytes so that a
// retried batch is stored once.
func (s *Server) split(project, country string, b *sdkproto.Batch) ([]*nats.Msg, error) {
	if b == nil {
		return nil, nil
	}
	byKind := map[sdkproto.Kind][]sdkproto.Event{}
	for _, ev := range b.Events {
		byKind[ev.Kind] = append(byKind[ev.Kind], ev)
	}
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	var msgs []*nats.Msg
	for _, kind := range sdkproto.Kinds() {
		evs := byKind[kind]
		if len(evs) == 0 {
			continue
		}
		part := *b
		part.Events = evs
		data, err := sdkproto.Encode(&part)
		if err != nil {
			return nil, err
		}
		m := nats.NewMsg(sdkproto.Subject(s.cfg.Region, project, kind))
		m.Data = data
		sum := sha256.Sum256(data)
		m.Header.Set(sdkproto.HeaderMsgID, project+"."+string(kind)+"."+hex.EncodeToString(sum[:16]))
		m.Header.Set(sdkproto.HeaderProject, project)
		m.Header.Set(sdkproto.HeaderRegion, s.cfg.Region)
		m.Header.Set(sdkproto.HeaderReceivedAt, now)
		if country != "" {
			m.Header.Set(sdkproto.HeaderCountry, country)
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// batchKey is the dedupe key of the validated batch in: a retry of the
// same batch, plain or gzip, has the same key.
func batchKey(project string, in []byte) string {
	sum := sha256.Sum256(in)
	return project + "." + hex.EncodeToString(sum[:16])
}

// outcome reports the drops of batch in. Its dedupe id derives from the
// batch, not from the outcome's bytes (which carry the time): a retried
// batch must not count its drops twice.
func (s *Server) outcome(project string, in []byte, kept *sdkproto.Batch, dropped map[string]int) (*nats.Msg, error) {
	o := sdkproto.Outcome{Project: project, Region: s.cfg.Region, TS: time.Now().UnixMilli(), Dropped: dropped}
	if kept != nil {
		o.Accepted = len(kept.Events)
	}
	data, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("encode outcome: %w", err)
	}
	m := nats.NewMsg(sdkproto.Subject(s.cfg.Region, project, sdkproto.KindOutcome))
	m.Data = data
	m.Header.Set(sdkproto.HeaderMsgID, batchKey(project, in)+"."+string(sdkproto.KindOutcome))
	m.Header.Set(sdkproto.HeaderProject, project)
	m.Header.Set(sdkproto.HeaderRegion, s.cfg.Region)
	return m, nil
}

// publish sends all messages and waits for every JetStream ack.
func (s *Server) publish(ctx context.Context, msgs []*nats.Msg) error {
	if len(msgs) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.PublishTimeout)
	defer cancel()
	futures := make([]jetstream.PubAckFuture, 0, len(msgs))
	for _, m := range msgs {
		f, err := s.cfg.JetStream.PublishMsgAsync(m)
		if err != nil {
			return &publishError{err}
		}
		futures = append(futures, f)
	}
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return &publishError{err}
		case <-ctx.Done():
			return &publishError{ctx.Err()}
		}
	}
	return nil
}

// country is the client's country, "" when unknown. The trusted header
// wins when it carries a valid code; the remote address is looked up
// otherwise. Neither the address nor anything derived from it but the
// country leaves this function.
func (s *Server) country(r *http.Request) string {
	if s.cfg.CountryHeader != "" {
		if c := normalizeCountry(r.Header.Get(s.cfg.CountryHeader)); c != "" {
			return c
		}
	}
	if s.cfg.GeoIP == nil {
		return ""
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return "" // not a TCP peer (a test's fake request, a unix socket)
	}
	return normalizeCountry(s.cfg.GeoIP.Country(ap.Addr()))
}

// normalizeCountry accepts an ISO 3166-1 alpha-2 code; Cloudflare's XX (unknown)
// and T1 (Tor) become "".
func normalizeCountry(c string) string {
	c = strings.ToUpper(strings.TrimSpace(c))
	if len(c) != 2 || c == "XX" || c == "T1" || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
		return ""
	}
	return c
}
