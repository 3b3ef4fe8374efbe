package sdkproto

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
)

// Field caps. They keep one event's cost bounded and documented; see README.
const (
	maxIDLen       = 64
	maxURLLen      = 4096
	maxMessageLen  = 8192
	maxShortLen    = 256
	maxFrames      = 128
	maxTags        = 64
	maxTagValueLen = 256
	maxBreadcrumbs = 100
	maxMapEntries  = 64
	maxBodyLen     = 64 << 10
)

func invalid(path, format string, args ...any) *DecodeError {
	return &DecodeError{Code: CodeInvalid, Path: path, Msg: fmt.Sprintf(format, args...)}
}

// validID accepts ids that are safe in a NATS subject token and a file name.
func validID(s string) bool {
	if s == "" || len(s) > maxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func validHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func checkLen(path, s string, max int) *DecodeError {
	if len(s) > max {
		return invalid(path, "%d bytes exceed the limit of %d", len(s), max)
	}
	return nil
}

func validateEnvelope(b *Batch) *DecodeError {
	if b.SDK.Name == "" {
		return invalid("sdk.name", "required")
	}
	if e := checkLen("sdk.name", b.SDK.Name, maxShortLen); e != nil {
		return e
	}
	if e := checkLen("sdk.version", b.SDK.Version, maxShortLen); e != nil {
		return e
	}
	if !validID(b.Session.ID) {
		return invalid("session.id", "required: 1 to %d characters of [A-Za-z0-9_-]", maxIDLen)
	}
	if b.Session.Seq < 0 {
		return invalid("session.seq", "must not be negative")
	}
	if b.Session.StartedAt < 0 {
		return invalid("session.started_at", "must not be negative")
	}
	if e := checkLen("session.user_id", b.Session.UserID, maxShortLen); e != nil {
		return e
	}
	if e := checkLen("page.url", b.Page.URL, maxURLLen); e != nil {
		return e
	}
	if e := checkLen("page.referrer", b.Page.Referrer, maxURLLen); e != nil {
		return e
	}
	if e := checkLen("device.ua", b.Device.UA, 1024); e != nil {
		return e
	}
	if b.Device.Viewport.W < 0 || b.Device.Viewport.H < 0 {
		return invalid("device.viewport", "must not be negative")
	}
	for _, f := range []struct{ p, v string }{{"device.language", b.Device.Language}, {"device.timezone", b.Device.Timezone}, {"device.connection", b.Device.Connection}} {
		if e := checkLen(f.p, f.v, maxShortLen); e != nil {
			return e
		}
	}
	return nil
}

// at is where a value sits, made into a JSON path only when an error names
// it: a valid event, the common case, is then checked without building a
// string for every field.
type at struct {
	up  *at
	key string // ".name", or "" for the index
	idx int
}

func (p *at) field(k string) at { return at{up: p, key: k} }
func (p *at) index(i int) at    { return at{up: p, idx: i} }

func (p *at) String() string { return string(p.append(nil)) }

func (p *at) append(b []byte) []byte {
	if p == nil {
		return b
	}
	b = p.up.append(b)
	if p.key != "" {
		return append(b, p.key...)
	}
	return append(strconv.AppendInt(append(b, '['), int64(p.idx), 10), ']')
}

// eventAt is where events[i] sits.
func eventAt(i int) at { return at{up: &at{key: "events"}, idx: i} }

func invalidAt(p *at, k, format string, args ...any) *DecodeError {
	f := p.field(k)
	return invalid(f.String(), format, args...)
}

func checkLenAt(p *at, k, s string, max int) *DecodeError {
	if len(s) > max {
		return invalidAt(p, k, "%d bytes exceed the limit of %d", len(s), max)
	}
	return nil
}

func checkMapAt(p *at, k string, m map[string]string, maxEntries, maxValue int) *DecodeError {
	if len(m) > maxEntries {
		return invalidAt(p, k, "%d entries exceed the limit of %d", len(m), maxEntries)
	}
	// Of several bad entries the first in key order is named, so that the
	// same batch always gets the same answer.
	bad, found := "", false
	for key, v := range m {
		if (key == "" || len(key) > maxShortLen || len(v) > maxValue) && (!found || key < bad) {
			bad, found = key, true
		}
	}
	switch {
	case !found:
		return nil
	case bad == "" || len(bad) > maxShortLen:
		return invalidAt(p, k, "key %q is empty or too long", bad)
	}
	return invalidAt(p, k+"."+bad, "%d bytes exceed the limit of %d", len(m[bad]), maxValue)
}

func validateEvent(ev *Event, p *at) *DecodeError {
	if !validID(ev.ID) {
		return invalidAt(p, ".id", "required: 1 to %d characters of [A-Za-z0-9_-]", maxIDLen)
	}
	if ev.TS <= 0 {
		return invalidAt(p, ".ts", "required: milliseconds since the Unix epoch")
	}
	if !ev.Kind.Valid() {
		return invalidAt(p, ".kind", "unknown kind %q", ev.Kind)
	}
	set := 0
	for _, ok := range []bool{ev.Error != nil, ev.Vital != nil, ev.Replay != nil, ev.Breadcrumb != nil, ev.Session != nil} {
		if ok {
			set++
		}
	}
	if set != 1 {
		return invalid(p.String(), "exactly one payload must be set, the one kind %q names", ev.Kind)
	}
	switch ev.Kind {
	case KindError:
		if ev.Error == nil {
			return invalidAt(p, ".error", "required for kind error")
		}
		sub := p.field(".error")
		return validateError(ev.Error, &sub)
	case KindVital:
		if ev.Vital == nil {
			return invalidAt(p, ".vital", "required for kind vital")
		}
		sub := p.field(".vital")
		return validateVital(ev.Vital, &sub)
	case KindReplay:
		if ev.Replay == nil {
			return invalidAt(p, ".replay", "required for kind replay")
		}
		sub := p.field(".replay")
		return validateReplay(ev.Replay, &sub)
	case KindBreadcrumb:
		if ev.Breadcrumb == nil {
			return invalidAt(p, ".breadcrumb", "required for kind breadcrumb")
		}
		sub := p.field(".breadcrumb")
		return validateBreadcrumb(ev.Breadcrumb, &sub)
	case KindSession:
		if ev.Session == nil {
			return invalidAt(p, ".session", "required for kind session")
		}
		if !sessionStates[ev.Session.State] {
			return invalidAt(p, ".session.state", "unknown state %q (want start, page_view or end)", ev.Session.State)
		}
		return checkLenAt(p, ".session.url", ev.Session.URL, maxURLLen)
	}
	return nil
}

func validateError(e *Error, p *at) *DecodeError {
	if e.Type == "" && e.Value == "" {
		return invalid(p.String(), "type or value is required")
	}
	if x := checkLenAt(p, ".type", e.Type, maxShortLen); x != nil {
		return x
	}
	if x := checkLenAt(p, ".value", e.Value, maxMessageLen); x != nil {
		return x
	}
	switch e.Mechanism {
	case MechanismOnError, MechanismUnhandledRejection, MechanismConsole, MechanismManual:
	default:
		return invalidAt(p, ".mechanism", "unknown mechanism %q (want onerror, unhandledrejection, console or manual)", e.Mechanism)
	}
	switch e.Level {
	case "", "fatal", "error", "warning", "info", "debug":
	default:
		return invalidAt(p, ".level", "unknown level %q", e.Level)
	}
	if len(e.Stack) > maxFrames {
		return invalidAt(p, ".stack", "%d frames exceed the limit of %d", len(e.Stack), maxFrames)
	}
	stack := p.field(".stack")
	for i, f := range e.Stack {
		fp := stack.index(i)
		if x := checkLenAt(&fp, ".url", f.URL, maxURLLen); x != nil {
			return x
		}
		if x := checkLenAt(&fp, ".function", f.Function, maxShortLen*4); x != nil {
			return x
		}
		if f.Line < 0 || f.Column < 0 {
			return invalid(fp.String(), "line and column must not be negative")
		}
	}
	for _, f := range [...]struct {
		path, v string
		max     int
	}{{".release", e.Release, maxShortLen}, {".dist", e.Dist, maxShortLen}, {".environment", e.Environment, maxShortLen}, {".url", e.URL, maxURLLen}} {
		if x := checkLenAt(p, f.path, f.v, f.max); x != nil {
			return x
		}
	}
	if e.TraceID != "" && !validHex(e.TraceID, 32) {
		return invalidAt(p, ".trace_id", "must be 32 lowercase hex digits")
	}
	if e.SpanID != "" && !validHex(e.SpanID, 16) {
		return invalidAt(p, ".span_id", "must be 16 lowercase hex digits")
	}
	if x := checkMapAt(p, ".tags", e.Tags, maxTags, maxTagValueLen); x != nil {
		return x
	}
	if x := checkMapAt(p, ".debug_ids", e.DebugIDs, maxFrames, maxShortLen); x != nil {
		return x
	}
	if len(e.Fingerprint) > 16 {
		return invalidAt(p, ".fingerprint", "more than 16 parts")
	}
	if len(e.Breadcrumbs) > maxBreadcrumbs {
		return invalidAt(p, ".breadcrumbs", "%d breadcrumbs exceed the limit of %d", len(e.Breadcrumbs), maxBreadcrumbs)
	}
	crumbs := p.field(".breadcrumbs")
	for i := range e.Breadcrumbs {
		bp := crumbs.index(i)
		if x := validateBreadcrumb(&e.Breadcrumbs[i], &bp); x != nil {
			return x
		}
	}
	return nil
}

var ratings = map[string]bool{"": true, "good": true, "needs-improvement": true, "poor": true}

func validateVital(v *Vital, p *at) *DecodeError {
	if !vitalNames[v.Name] {
		return invalidAt(p, ".name", "unknown vital %q (want LCP, INP, CLS, FCP or TTFB)", v.Name)
	}
	if math.IsNaN(v.Value) || math.IsInf(v.Value, 0) || v.Value < 0 {
		return invalidAt(p, ".value", "must be a finite, non-negative number")
	}
	if !ratings[v.Rating] {
		return invalidAt(p, ".rating", "unknown rating %q (want good, needs-improvement or poor)", v.Rating)
	}
	if x := checkLenAt(p, ".url", v.URL, maxURLLen); x != nil {
		return x
	}
	if x := checkLenAt(p, ".navigation_type", v.NavigationType, maxShortLen); x != nil {
		return x
	}
	if x := checkLenAt(p, ".metric_id", v.MetricID, maxShortLen); x != nil {
		return x
	}
	return checkMapAt(p, ".attribution", v.Attribution, maxMapEntries, maxURLLen)
}

func validateReplay(r *Replay, p *at) *DecodeError {
	if r.Segment < 0 {
		return invalidAt(p, ".segment", "must not be negative")
	}
	ev := bytes.TrimSpace(r.Events)
	if len(ev) < 2 || ev[0] != '[' {
		return invalidAt(p, ".events", "must be an array of rrweb events")
	}
	if bytes.Equal(ev, []byte("[]")) {
		return invalidAt(p, ".events", "must not be empty")
	}
	return nil
}

func validateBreadcrumb(b *Breadcrumb, p *at) *DecodeError {
	if b.Category == "" {
		return invalidAt(p, ".category", "required")
	}
	for _, f := range [...]struct {
		path, v string
		max     int
	}{{".category", b.Category, maxShortLen}, {".level", b.Level, maxShortLen}, {".message", b.Message, maxMessageLen}, {".selector", b.Selector, maxURLLen}, {".url", b.URL, maxURLLen}} {
		if x := checkLenAt(p, f.path, f.v, f.max); x != nil {
			return x
		}
	}
	if x := checkMapAt(p, ".data", b.Data, maxMapEntries, maxURLLen); x != nil {
		return x
	}
	if h := b.HTTP; h != nil {
		hp := p.field(".http")
		if x := checkLenAt(&hp, ".method", h.Method, 16); x != nil {
			return x
		}
		if x := checkLenAt(&hp, ".url", h.URL, maxURLLen); x != nil {
			return x
		}
		if h.Status < 0 || h.Status > 999 {
			return invalidAt(&hp, ".status", "must be 0 to 999")
		}
		if h.TraceID != "" && !validHex(h.TraceID, 32) {
			return invalidAt(&hp, ".trace_id", "must be 32 lowercase hex digits")
		}
		if x := checkMapAt(&hp, ".request_headers", h.RequestHeaders, maxMapEntries, maxURLLen); x != nil {
			return x
		}
		if x := checkMapAt(&hp, ".response_headers", h.ResponseHeaders, maxMapEntries, maxURLLen); x != nil {
			return x
		}
		if x := checkLenAt(&hp, ".request_body", h.RequestBody, maxBodyLen); x != nil {
			return x
		}
		if x := checkLenAt(&hp, ".response_body", h.ResponseBody, maxBodyLen); x != nil {
			return x
		}
	}
	return nil
}
