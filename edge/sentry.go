package edge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/rearview-dev/rearview/edge/sentry"
	"github.com/rearview-dev/rearview/sdkproto"
)

// Sentry SDKs send to {DSN host}/api/{project id}/envelope/ (and, the oldest
// ones, /store/). The edge translates what they send into a Rearview batch
// (package edge/sentry) and hands it to the same policy stage and publisher
// as a batch of Rearview's SDK, so noise, bot, sampling and masking decisions
// hold for it unchanged. The DSN's public key is the project's ingest key;
// its project id is sdkproto.SentryProjectID of the key's project.

// sentryCORS answers browsers as Relay does.
func sentryCORS(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "x-sentry-auth, x-requested-with, x-forwarded-for, origin, referer, accept, content-type, authentication, authorization, content-encoding, transfer-encoding, sentry-trace, baggage")
	h.Set("Access-Control-Expose-Headers", "x-sentry-error, x-sentry-rate-limits, retry-after")
	h.Set("Access-Control-Max-Age", "3600")
}

// sentryFail answers an error the way Relay does: a JSON detail, repeated
// in X-Sentry-Error for SDKs that log it.
func sentryFail(w http.ResponseWriter, status int, detail string) (int, int) {
	w.Header().Set("X-Sentry-Error", detail)
	writeJSON(w, status, map[string]string{"detail": detail})
	return status, 0
}

func (s *Server) sentryEnvelope(w http.ResponseWriter, r *http.Request) { s.serveSentry(w, r, false) }
func (s *Server) sentryStore(w http.ResponseWriter, r *http.Request)    { s.serveSentry(w, r, true) }

func (s *Server) serveSentry(w http.ResponseWriter, r *http.Request, store bool) {
	sentryCORS(w)
	switch r.Method {
	case http.MethodOptions:
		w.WriteHeader(http.StatusOK)
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "POST, OPTIONS")
		sentryFail(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	var items []string
	status, n := s.ingestSentry(w, r, store, &items)
	s.log.Debug("sentry ingest", "status", status, "events", n, "items", strings.Join(items, ","), "detail", w.Header().Get("X-Sentry-Error"))
}

// ingestSentry handles one POST and returns the status and the events
// published; items gets the envelope's item types, for the log.
func (s *Server) ingestSentry(w http.ResponseWriter, r *http.Request, store bool, items *[]string) (int, int) {
	if why := s.notReady(); why != "" {
		w.Header().Set("Retry-After", notReadyRetryAfter)
		return sentryFail(w, http.StatusServiceUnavailable, why)
	}
	pid := r.PathValue("project")
	if !sentry.ValidProjectID(pid) {
		return sentryFail(w, http.StatusBadRequest, fmt.Sprintf("project id %q in the URL is not a number: use the DSN `rearview projects create` printed", pid))
	}
	lim := s.cfg.SentryLimits
	auth, authed := sentry.RequestAuth(r)
	if authed {
		if st, msg := s.sentryKey(auth.Key); st != 0 {
			return sentryFail(w, st, msg)
		}
	}
	body, err := sentry.ReadBody(r.Body, r.Header.Get("Content-Encoding"), lim)
	if err != nil {
		return sentryFail(w, sentryStatus(err), err.Error())
	}
	var env *sentry.Envelope
	if store {
		env, err = storeEnvelope(body, lim)
	} else {
		env, err = sentry.Parse(body, lim)
	}
	if err != nil {
		return sentryFail(w, sentryStatus(err), err.Error())
	}
	for _, it := range env.Items {
		*items = append(*items, it.Type)
	}
	if !authed {
		if auth, authed = sentry.DSNAuth(env.Header.DSN); !authed {
			return sentryFail(w, http.StatusUnauthorized, "missing authorization: send X-Sentry-Auth, the sentry_key query parameter or a dsn in the envelope header")
		}
		if auth.ProjectID != pid {
			return sentryFail(w, http.StatusBadRequest, fmt.Sprintf("the envelope's DSN names project %s, the URL project %s", auth.ProjectID, pid))
		}
		if st, msg := s.sentryKey(auth.Key); st != 0 {
			return sentryFail(w, st, msg)
		}
	}
	pk, limiter, _ := s.lookup(auth.Key)
	if want := sdkproto.SentryProjectID(pk.Project); pid != want {
		return sentryFail(w, http.StatusForbidden, fmt.Sprintf("project id %s does not belong to this key (its DSN ends in /%s)", pid, want))
	}

	tr := sentry.Translate(env, sentry.Request{UserAgent: r.UserAgent(), Now: time.Now()}, lim)
	answer := map[string]string{"id": tr.EventID}
	if tr.Batch == nil {
		// Nothing to publish but, perhaps, what the SDK and this edge
		// dropped; its dedupe id derives from the envelope's bytes.
		if len(tr.Dropped) > 0 {
			m, err := s.outcome(pk.Project, body, nil, tr.Dropped)
			if err == nil {
				err = s.publish(r.Context(), []*nats.Msg{m})
			}
			if err != nil {
				s.log.Error("publish outcome", "project", pk.Project, "err", err)
				w.Header().Set("Retry-After", "5")
				return sentryFail(w, http.StatusServiceUnavailable, "event bus unavailable; retry later")
			}
		}
		writeJSON(w, http.StatusOK, answer)
		return http.StatusOK, 0
	}

	now := time.Now()
	if res := limiter.ReserveN(now, len(tr.Batch.Events)); !res.OK() || res.DelayFrom(now) > 0 {
		wait := time.Minute
		if res.OK() {
			wait = res.DelayFrom(now)
			res.CancelAt(now)
		}
		secs := strconv.Itoa(int(math.Ceil(wait.Seconds())))
		w.Header().Set("Retry-After", secs)
		// All categories, scope project: what Sentry SDKs read to back off.
		w.Header().Set("X-Sentry-Rate-Limits", secs+"::project:rate_limited")
		return sentryFail(w, http.StatusTooManyRequests, fmt.Sprintf("project %s is over its rate of events per second", pk.Project))
	}
	in, err := sdkproto.Encode(tr.Batch)
	if err != nil {
		return sentryFail(w, http.StatusInternalServerError, err.Error())
	}
	batch, rejected, err := sdkproto.Decode(in, s.cfg.Limits)
	if err != nil {
		// The translation keeps to the protocol's field caps, so what is
		// left is size: a replay segment, say, beyond what this edge
		// forwards in one batch.
		st := decodeStatus(err)
		if c := sdkproto.CodeOf(err); c == sdkproto.CodeTooLong || c == sdkproto.CodeTooDeep {
			st = http.StatusRequestEntityTooLarge
		}
		return sentryFail(w, st, "translated envelope: "+err.Error())
	}
	dropped := tr.Dropped
	if len(rejected) > 0 {
		if dropped == nil {
			dropped = map[string]int{}
		}
		dropped[sdkproto.ReasonInvalid] += len(rejected)
		if in, err = sdkproto.Encode(batch); err != nil {
			return sentryFail(w, http.StatusInternalServerError, err.Error())
		}
	}
	n, err := s.process(r.Context(), pk.Project, r, in, batch, dropped)
	if err != nil {
		var pe *publishError
		switch {
		case errors.Is(err, ErrNotReady):
			w.Header().Set("Retry-After", notReadyRetryAfter)
			return sentryFail(w, http.StatusServiceUnavailable, "policies are not loaded yet; retry later")
		case errors.As(err, &pe):
			s.log.Error("publish", "project", pk.Project, "err", err)
			w.Header().Set("Retry-After", "5")
			return sentryFail(w, http.StatusServiceUnavailable, "event bus unavailable; retry later")
		}
		s.log.Error("policy stage", "project", pk.Project, "err", err)
		return sentryFail(w, http.StatusInternalServerError, "policy failed: "+err.Error())
	}
	writeJSON(w, http.StatusOK, answer)
	return http.StatusOK, n
}

// sentryKey checks a DSN public key: 0 when it names an enabled project.
func (s *Server) sentryKey(key string) (int, string) {
	pk, _, ok := s.lookup(key)
	switch {
	case !ok:
		return http.StatusUnauthorized, "unknown public key: use the DSN `rearview projects create` printed"
	case pk.Disabled:
		return http.StatusForbidden, "this project key is disabled"
	}
	return 0, ""
}

func sentryStatus(err error) int {
	var e *sentry.Error
	if errors.As(err, &e) {
		return e.Status
	}
	return http.StatusBadRequest
}

// storeEnvelope wraps the legacy store endpoint's body, one event as JSON,
// as an envelope of that one item.
func storeEnvelope(body []byte, lim sentry.Limits) (*sentry.Envelope, error) {
	if int64(len(body)) > lim.MaxEvent {
		return nil, &sentry.Error{Status: http.StatusRequestEntityTooLarge, Msg: fmt.Sprintf("event of %d bytes exceeds the limit of %d", len(body), lim.MaxEvent)}
	}
	var head struct {
		EventID string `json:"event_id"`
		Type    string `json:"type"`
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' || json.Unmarshal(body, &head) != nil {
		return nil, &sentry.Error{Status: http.StatusBadRequest, Msg: "store: the body must be one event as a JSON object (base64 and zlib bodies of very old SDKs are not supported)"}
	}
	typ := "event"
	if head.Type == "transaction" {
		typ = "transaction"
	}
	return &sentry.Envelope{Header: sentry.Header{EventID: head.EventID}, Items: []sentry.Item{{Type: typ, Payload: body}}}, nil
}
