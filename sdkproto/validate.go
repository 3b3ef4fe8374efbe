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

func checkMap(path string, m map[string]string, maxEntries, maxValue int) *DecodeError {
	if len(m) > maxEntries {
		return invalid(path, "%d entries exceed the limit of %d", len(m), maxEntries)
	}
	for k, v := range m {
		if k == "" || len(k) > maxShortLen {
			return invalid(path, "key %q is empty or too long", k)
		}
		if len(v) > maxValue {
			return invalid(path+"."+k, "%d bytes exceed the limit of %d", len(v), maxValue)
		}
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

func validateEvent(ev *Event, p string) *DecodeError {
	if !validID(ev.ID) {
		return invalid(p+".id", "required: 1 to %d characters of [A-Za-z0-9_-]", maxIDLen)
	}
	if ev.TS <= 0 {
		return invalid(p+".ts", "required: milliseconds since the Unix epoch")
	}
	if !ev.Kind.Valid() {
		return invalid(p+".kind", "unknown kind %q", ev.Kind)
	}
	set := 0
	for _, ok := range []bool{ev.Error != nil, ev.Vital != nil, ev.Replay != nil, ev.Breadcrumb != nil, ev.Session != nil} {
		if ok {
			set++
		}
	}
	if set != 1 {
		return invalid(p, "exactly one payload must be set, the one kind %q names", ev.Kind)
	}
	switch ev.Kind {
	case KindError:
		if ev.Error == nil {
			return invalid(p+".error", "required for kind error")
		}
		return validateError(ev.Error, p+".error")
	case KindVital:
		if ev.Vital == nil {
			return invalid(p+".vital", "required for kind vital")
		}
		return validateVital(ev.Vital, p+".vital")
	case KindReplay:
		if ev.Replay == nil {
			return invalid(p+".replay", "required for kind replay")
		}
		return validateReplay(ev.Replay, p+".replay")
	case KindBreadcrumb:
		if ev.Breadcrumb == nil {
			return invalid(p+".breadcrumb", "required for kind breadcrumb")
		}
		return validateBreadcrumb(ev.Breadcrumb, p+".breadcrumb")
	case KindSession:
		if ev.Session == nil {
			return invalid(p+".session", "required for kind session")
		}
		if !sessionStates[ev.Session.State] {
			return invalid(p+".session.state", "unknown state %q (want start, page_view or end)", ev.Session.State)
		}
		return checkLen(p+".session.url", ev.Session.URL, maxURLLen)
	}
	return nil
}

func validateError(e *Error, p string) *DecodeError {
	if e.Type == "" && e.Value == "" {
		return invalid(p, "type or value is required")
	}
	if x := checkLen(p+".type", e.Type, maxShortLen); x != nil {
		return x
	}
	if x := checkLen(p+".value", e.Value, maxMessageLen); x != nil {
		return x
	}
	switch e.Mechanism {
	case MechanismOnError, MechanismUnhandledRejection, MechanismConsole, MechanismManual:
	default:
		return invalid(p+".mechanism", "unknown mechanism %q (want onerror, unhandledrejection, console or manual)", e.Mechanism)
	}
	switch e.Level {
	case "", "fatal", "error", "warning", "info", "debug":
	default:
		return invalid(p+".level", "unknown level %q", e.Level)
	}
	if len(e.Stack) > maxFrames {
		return invalid(p+".stack", "%d frames exceed the limit of %d", len(e.Stack), maxFrames)
	}
	for i, f := range e.Stack {
		fp := p + ".stack[" + strconv.Itoa(i) + "]"
		if x := checkLen(fp+".url", f.URL, maxURLLen); x != nil {
			return x
		}
		if x := checkLen(fp+".function", f.Function, maxShortLen*4); x != nil {
			return x
		}
		if f.Line < 0 || f.Column < 0 {
			return invalid(fp, "line and column must not be negative")
		}
	}
	for _, f := range []struct {
		path, v string
		max     int
	}{{".release", e.Release, maxShortLen}, {".dist", e.Dist, maxShortLen}, {".environment", e.Environment, maxShortLen}, {".url", e.URL, maxURLLen}} {
		if x := checkLen(p+f.path, f.v, f.max); x != nil {
			return x
		}
	}
	if e.TraceID != "" && !validHex(e.TraceID, 32) {
		return invalid(p+".trace_id", "must be 32 lowercase hex digits")
	}
	if e.SpanID != "" && !validHex(e.SpanID, 16) {
		return invalid(p+".span_id", "must be 16 lowercase hex digits")
	}
	if x := checkMap(p+".tags", e.Tags, maxTags, maxTagValueLen); x != nil {
		return x
	}
	if x := checkMap(p+".debug_ids", e.DebugIDs, maxFrames, maxShortLen); x != nil {
		return x
	}
	if len(e.Fingerprint) > 16 {
		return invalid(p+".fingerprint", "more than 16 parts")
	}
	if len(e.Breadcrumbs) > maxBreadcrumbs {
		return invalid(p+".breadcrumbs", "%d breadcrumbs exceed the limit of %d", len(e.Breadcrumbs), maxBreadcrumbs)
	}
	for i := range e.Breadcrumbs {
		if x := validateBreadcrumb(&e.Breadcrumbs[i], p+".breadcrumbs["+strconv.Itoa(i)+"]"); x != nil {
			return x
		}
	}
	return nil
}

var ratings = map[string]bool{"": true, "good": true, "needs-improvement": true, "poor": true}

func validateVital(v *Vital, p string) *DecodeError {
	if !vitalNames[v.Name] {
		return invalid(p+".name", "unknown vital %q (want LCP, INP, CLS, FCP or TTFB)", v.Name)
	}
	if math.IsNaN(v.Value) || math.IsInf(v.Value, 0) || v.Value < 0 {
		return invalid(p+".value", "must be a finite, non-negative number")
	}
	if !ratings[v.Rating] {
		return invalid(p+".rating", "unknown rating %q (want good, needs-improvement or poor)", v.Rating)
	}
	if x := checkLen(p+".url", v.URL, maxURLLen); x != nil {
		return x
	}
	if x := checkLen(p+".navigation_type", v.NavigationType, maxShortLen); x != nil {
		return x
	}
	if x := checkLen(p+".metric_id", v.MetricID, maxShortLen); x != nil {
		return x
	}
	return checkMap(p+".attribution", v.Attribution, maxMapEntries, maxURLLen)
}

func validateReplay(r *Replay, p string) *DecodeError {
	if r.Segment < 0 {
		return invalid(p+".segment", "must not be negative")
	}
	ev := bytes.TrimSpace(r.Events)
	if len(ev) < 2 || ev[0] != '[' {
		return invalid(p+".events", "must be an array of rrweb events")
	}
	if bytes.Equal(ev, []byte("[]")) {
		return invalid(p+".events", "must not be empty")
	}
	return nil
}

func validateBreadcrumb(b *Breadcrumb, p string) *DecodeError {
	if b.Category == "" {
		return invalid(p+".category", "required")
	}
	for _, f := range []struct {
		path, v string
		max     int
	}{{".category", b.Category, maxShortLen}, {".level", b.Level, maxShortLen}, {".message", b.Message, maxMessageLen}, {".selector", b.Selector, maxURLLen}, {".url", b.URL, maxURLLen}} {
		if x := checkLen(p+f.path, f.v, f.max); x != nil {
			return x
		}
	}
	if x := checkMap(p+".data", b.Data, maxMapEntries, maxURLLen); x != nil {
		return x
	}
	if h := b.HTTP; h != nil {
		hp := p + ".http"
		if x := checkLen(hp+".method", h.Method, 16); x != nil {
			return x
		}
		if x := checkLen(hp+".url", h.URL, maxURLLen); x != nil {
			return x
		}
		if h.Status < 0 || h.Status > 999 {
			return invalid(hp+".status", "must be 0 to 999")
		}
		if h.TraceID != "" && !validHex(h.TraceID, 32) {
			return invalid(hp+".trace_id", "must be 32 lowercase hex digits")
		}
		if x := checkMap(hp+".request_headers", h.RequestHeaders, maxMapEntries, maxURLLen); x != nil {
			return x
		}
		if x := checkMap(hp+".response_headers", h.ResponseHeaders, maxMapEntries, maxURLLen); x != nil {
			return x
		}
		if x := checkLen(hp+".request_body", h.RequestBody, maxBodyLen); x != nil {
			return x
		}
		if x := checkLen(hp+".response_body", h.ResponseBody, maxBodyLen); x != nil {
			return x
		}
	}
	return nil
}
