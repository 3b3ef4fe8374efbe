// Package tracecontext joins a Go backend's OpenTelemetry traces to the
// browser sessions Rearview records.
//
// The Rearview browser SDK adds a W3C `traceparent` header (and, when asked,
// `X-Trace-ID`) to the fetch and XHR requests a page makes to its own origin
// and to `tracePropagationTargets`. Wrap your service's handler with
// [Middleware] and every span it starts for such a request carries the
// browser's trace id, so an error in Rearview links to the backend trace and
// the backend trace finds the replay:
//
//	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter))
//	h := tracecontext.Middleware(mux, tracecontext.Options{
//		Tracer: tp.Tracer("shop"), // optional: also start a server span
//	})
//	http.ListenAndServe(":8080", h)
//
// Without a Tracer the middleware only puts the remote span context into
// the request's context (see [Extract]); spans the service starts itself with
// any TracerProvider then become children of the browser's request.
//
// `traceparent` is parsed strictly as the W3C Trace Context recommendation
// says (lowercase hex, no all-zero ids, version ff invalid, exact length for
// version 00). An invalid `traceparent` is ignored, as the recommendation
// requires, and `X-Trace-ID` (32 hex digits) is used when present: it carries a
// trace id without a parent span, for proxies and clients that cannot send
// `traceparent`. Sentry's `sentry-trace` is read last, so pages instrumented
// with @sentry/browser (sending to Rearview's edge) join the backend as well.
package tracecontext

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Header names the middleware reads.
const (
	TraceparentHeader = "Traceparent"
	TracestateHeader  = "Tracestate"
	TraceIDHeader     = "X-Trace-Id"
	// SentryTraceHeader is what Sentry SDKs send: the same trace, so a
	// page instrumented with @sentry/browser joins the backend too.
	SentryTraceHeader = "Sentry-Trace"
)

// Errors returned by [ParseTraceparent] and [ParseTraceID], wrapped with
// details; test with errors.Is.
var (
	ErrLength  = errors.New("wrong length")
	ErrFormat  = errors.New("malformed")
	ErrVersion = errors.New("unsupported version")
	ErrZeroID  = errors.New("all-zero id")
)

// ParseTraceparent parses a W3C `traceparent` header value
// ("00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>") into a remote
// span context. Surrounding spaces and tabs are allowed; the hex digits must
// be lowercase. Versions above 00 are accepted as the recommendation asks:
// the known fields are read and anything after a further '-' is ignored.
// Only the sampled flag is kept.
func ParseTraceparent(s string) (trace.SpanContext, error) {
	s = strings.Trim(s, " \t")
	const v0len = 55 // 2+1+32+1+16+1+2
	if len(s) < v0len {
		return trace.SpanContext{}, fmt.Errorf("traceparent: %w: %d bytes, want %d", ErrLength, len(s), v0len)
	}
	ver, ok := hexByte(s[0], s[1])
	if !ok {
		return trace.SpanContext{}, fmt.Errorf("traceparent: version: %w", ErrFormat)
	}
	switch {
	case ver == 0xff:
		return trace.SpanContext{}, fmt.Errorf("traceparent: version ff: %w", ErrVersion)
	case ver == 0 && len(s) != v0len:
		return trace.SpanContext{}, fmt.Errorf("traceparent: %w: %d bytes for version 00, want %d", ErrLength, len(s), v0len)
	case ver > 0 && len(s) > v0len && s[v0len] != '-':
		return trace.SpanContext{}, fmt.Errorf("traceparent: %w: no '-' after flags", ErrFormat)
	}
	if s[2] != '-' || s[35] != '-' || s[52] != '-' {
		return trace.SpanContext{}, fmt.Errorf("traceparent: %w: separators", ErrFormat)
	}
	var tid trace.TraceID
	if !decodeHex(tid[:], s[3:35]) {
		return trace.SpanContext{}, fmt.Errorf("traceparent: trace id: %w", ErrFormat)
	}
	if !tid.IsValid() {
		return trace.SpanContext{}, fmt.Errorf("traceparent: trace id: %w", ErrZeroID)
	}
	var sid trace.SpanID
	if !decodeHex(sid[:], s[36:52]) {
		return trace.SpanContext{}, fmt.Errorf("traceparent: parent id: %w", ErrFormat)
	}
	if !sid.IsValid() {
		return trace.SpanContext{}, fmt.Errorf("traceparent: parent id: %w", ErrZeroID)
	}
	flags, ok := hexByte(s[53], s[54])
	if !ok {
		return trace.SpanContext{}, fmt.Errorf("traceparent: flags: %w", ErrFormat)
	}
	return trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    tid,
		SpanID:     sid,
		TraceFlags: trace.TraceFlags(flags) & trace.FlagsSampled,
		Remote:     true,
	}), nil
}

// ParseTraceID parses an `X-Trace-ID` header value: 32 hex digits, not all
// zero. Unlike `traceparent` either case is accepted, since the header has no
// standard that forbids uppercase and proxies differ.
func ParseTraceID(s string) (trace.TraceID, error) {
	s = strings.Trim(s, " \t")
	var tid trace.TraceID
	if len(s) != 32 {
		return tid, fmt.Errorf("x-trace-id: %w: %d bytes, want 32", ErrLength, len(s))
	}
	if !decodeHex(tid[:], strings.ToLower(s)) {
		return tid, fmt.Errorf("x-trace-id: %w", ErrFormat)
	}
	if !tid.IsValid() {
		return tid, fmt.Errorf("x-trace-id: %w", ErrZeroID)
	}
	return tid, nil
}

// ParseSentryTrace parses a Sentry `sentry-trace` header value
// ("<32 hex trace id>-<16 hex span id>" with an optional "-0" or "-1"
// sampling decision) into a remote span context.
func ParseSentryTrace(s string) (trace.SpanContext, error) {
	s = strings.Trim(s, " \t")
	parts := strings.Split(s, "-")
	if len(parts) < 2 || len(parts) > 3 || len(parts[0]) != 32 || len(parts[1]) != 16 {
		return trace.SpanContext{}, fmt.Errorf("sentry-trace: %w: want <trace id>-<span id>[-<sampled>]", ErrFormat)
	}
	var tid trace.TraceID
	var sid trace.SpanID
	if !decodeHex(tid[:], parts[0]) || !decodeHex(sid[:], parts[1]) {
		return trace.SpanContext{}, fmt.Errorf("sentry-trace: %w", ErrFormat)
	}
	if !tid.IsValid() || !sid.IsValid() {
		return trace.SpanContext{}, fmt.Errorf("sentry-trace: %w", ErrZeroID)
	}
	flags := trace.FlagsSampled // no decision: the backend decides; keep it
	if len(parts) == 3 {
		switch parts[2] {
		case "0":
			flags = 0
		case "1":
		default:
			return trace.SpanContext{}, fmt.Errorf("sentry-trace: %w: sampled must be 0 or 1", ErrFormat)
		}
	}
	return trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: flags, Remote: true}), nil
}

// Extract returns ctx carrying the remote span context found in h, and
// which header it came from ("traceparent", "x-trace-id", "sentry-trace" or
// "" when none was valid). A valid `traceparent` wins; otherwise a valid
// `X-Trace-ID` yields a span context that has a trace id but no parent span
// id, which the OpenTelemetry SDK continues as the same trace; otherwise a
// valid `sentry-trace` (what @sentry/browser sends) is used. A valid
// `tracestate` is kept with `traceparent` and dropped when invalid.
func Extract(ctx context.Context, h http.Header) (context.Context, string) {
	if vals := h.Values(TraceparentHeader); len(vals) == 1 {
		if sc, err := ParseTraceparent(vals[0]); err == nil {
			if ts := h.Values(TracestateHeader); len(ts) > 0 {
				if state, err := trace.ParseTraceState(strings.Join(ts, ",")); err == nil {
					sc = sc.WithTraceState(state)
				}
			}
			return trace.ContextWithRemoteSpanContext(ctx, sc), "traceparent"
		}
	}
	if v := h.Get(TraceIDHeader); v != "" {
		if tid, err := ParseTraceID(v); err == nil {
			sc := trace.NewSpanContext(trace.SpanContextConfig{
				TraceID:    tid,
				TraceFlags: trace.FlagsSampled,
				Remote:     true,
			})
			return trace.ContextWithRemoteSpanContext(ctx, sc), "x-trace-id"
		}
	}
	if vals := h.Values(SentryTraceHeader); len(vals) == 1 {
		if sc, err := ParseSentryTrace(vals[0]); err == nil {
			return trace.ContextWithRemoteSpanContext(ctx, sc), "sentry-trace"
		}
	}
	return ctx, ""
}

// Options configure [Middleware]. The zero value only extracts.
type Options struct {
	// Tracer, when set, starts a server span for every request, named by
	// SpanName, as a child of the extracted context; the span records the
	// method, route, status code and which header carried the trace, and is
	// marked as an error for 5xx responses.
	Tracer trace.Tracer
	// SpanName names the server span; default: "METHOD pattern" when the
	// request was routed by an http.ServeMux pattern, else "METHOD".
	SpanName func(r *http.Request) string
}

// Middleware returns next wrapped so that each request's context carries
// the browser's trace (see [Extract]) and, with opts.Tracer, a server span.
func Middleware(next http.Handler, opts Options) http.Handler {
	if opts.Tracer == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, source := Extract(r.Context(), r.Header)
			if source == "" {
				next.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, source := Extract(r.Context(), r.Header)
		name := r.Method
		if opts.SpanName != nil {
			name = opts.SpanName(r)
		}
		ctx, span := opts.Tracer.Start(ctx, name,
			trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(
				attribute.String("http.request.method", r.Method),
				attribute.String("url.path", r.URL.Path),
			))
		defer span.End()
		if source != "" {
			span.SetAttributes(attribute.String("rearview.trace.source", source))
		}
		rec := &statusRecorder{ResponseWriter: w}
		r = r.WithContext(ctx)
		next.ServeHTTP(rec, r)
		// The pattern is known only after the mux routed the request; a
		// default name with it reads like the routes users know.
		if opts.SpanName == nil && r.Pattern != "" {
			span.SetName(r.Method + " " + routeOf(r.Pattern))
			span.SetAttributes(attribute.String("http.route", routeOf(r.Pattern)))
		}
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		span.SetAttributes(attribute.Int("http.response.status_code", status))
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
	})
}

// routeOf drops the method and host of a ServeMux pattern ("POST /a/{id}").
func routeOf(pattern string) string {
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		pattern = strings.TrimLeft(pattern[i+1:], " \t")
	}
	if i := strings.IndexByte(pattern, '/'); i > 0 {
		pattern = pattern[i:]
	}
	return pattern
}

// statusRecorder remembers the status code; Unwrap keeps
// http.ResponseController (Flush, deadlines) working through it.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// decodeHex decodes lowercase hex src into dst (len(src) == 2*len(dst)).
func decodeHex(dst []byte, src string) bool {
	for i := range dst {
		b, ok := hexByte(src[2*i], src[2*i+1])
		if !ok {
			return false
		}
		dst[i] = b
	}
	return true
}

func hexByte(hi, lo byte) (byte, bool) {
	h, ok1 := nibble(hi)
	l, ok2 := nibble(lo)
	return h<<4 | l, ok1 && ok2
}

func nibble(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
