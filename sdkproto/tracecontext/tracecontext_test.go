package tracecontext_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/rearview-dev/rearview/sdkproto/tracecontext"
)

const (
	tid = "4bf92f3577b34da6a3ce929d0e0e4736"
	sid = "00f067aa0ba902b7"
)

func TestParseTraceparent(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		err     error // nil: valid
		sampled bool
	}{
		{"sampled", "00-" + tid + "-" + sid + "-01", nil, true},
		{"not sampled", "00-" + tid + "-" + sid + "-00", nil, false},
		{"unknown flags ignored", "00-" + tid + "-" + sid + "-fe", nil, false},
		{"random and sampled", "00-" + tid + "-" + sid + "-03", nil, true},
		{"surrounding whitespace", " \t00-" + tid + "-" + sid + "-01 ", nil, true},
		{"future version", "01-" + tid + "-" + sid + "-01", nil, true},
		{"future version with more fields", "cc-" + tid + "-" + sid + "-01-what-the-future-holds", nil, true},
		{"future version without dash after flags", "cc-" + tid + "-" + sid + "-01x", tracecontext.ErrFormat, false},
		{"version ff", "ff-" + tid + "-" + sid + "-01", tracecontext.ErrVersion, false},
		{"version 00 too long", "00-" + tid + "-" + sid + "-01-", tracecontext.ErrLength, false},
		{"uppercase version", "0A-" + tid + "-" + sid + "-01", tracecontext.ErrFormat, false},
		{"uppercase trace id", "00-" + strings.ToUpper(tid) + "-" + sid + "-01", tracecontext.ErrFormat, false},
		{"uppercase parent id", "00-" + tid + "-00F067AA0BA902B7-01", tracecontext.ErrFormat, false},
		{"uppercase flags", "00-" + tid + "-" + sid + "-0A", tracecontext.ErrFormat, false},
		{"all-zero trace id", "00-00000000000000000000000000000000-" + sid + "-01", tracecontext.ErrZeroID, false},
		{"all-zero parent id", "00-" + tid + "-0000000000000000-01", tracecontext.ErrZeroID, false},
		{"short trace id", "00-" + tid[:31] + "-" + sid + "-01", tracecontext.ErrLength, false},
		{"long trace id", "00-" + tid + "0-" + sid + "-01", tracecontext.ErrLength, false},
		{"short parent id", "00-" + tid + "-" + sid[:15] + "-01", tracecontext.ErrLength, false},
		{"shifted separator", "00-" + tid[:31] + "-0" + sid + "-01", tracecontext.ErrFormat, false},
		{"non-hex trace id", "00-" + tid[:31] + "g-" + sid + "-01", tracecontext.ErrFormat, false},
		{"non-hex parent id", "00-" + tid + "-" + sid[:15] + "z-01", tracecontext.ErrFormat, false},
		{"underscores", "00_" + tid + "_" + sid + "_01", tracecontext.ErrFormat, false},
		{"empty", "", tracecontext.ErrLength, false},
		{"bare trace id", tid, tracecontext.ErrLength, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := tracecontext.ParseTraceparent(tt.in)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("ParseTraceparent(%q) err = %v, want %v", tt.in, err, tt.err)
				}
				if sc.IsValid() {
					t.Fatalf("invalid input gave a valid span context %v", sc)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTraceparent(%q): %v", tt.in, err)
			}
			if got := sc.TraceID().String(); got != tid {
				t.Errorf("trace id %s, want %s", got, tid)
			}
			if got := sc.SpanID().String(); got != sid {
				t.Errorf("span id %s, want %s", got, sid)
			}
			if sc.IsSampled() != tt.sampled {
				t.Errorf("sampled %v, want %v", sc.IsSampled(), tt.sampled)
			}
			if !sc.IsRemote() {
				t.Error("span context not marked remote")
			}
		})
	}
}

func TestParseTraceID(t *testing.T) {
	tests := []struct {
		name string
		in   string
		err  error
	}{
		{"lowercase", tid, nil},
		{"uppercase accepted", strings.ToUpper(tid), nil},
		{"whitespace", " " + tid + "\t", nil},
		{"all zero", strings.Repeat("0", 32), tracecontext.ErrZeroID},
		{"short", tid[:31], tracecontext.ErrLength},
		{"long", tid + "0", tracecontext.ErrLength},
		{"64-bit id", tid[:16], tracecontext.ErrLength},
		{"non-hex", tid[:31] + "x", tracecontext.ErrFormat},
		{"uuid with dashes", "4bf92f35-77b3-4da6-a3ce-929d0e0e4736", tracecontext.ErrLength},
		{"traceparent", "00-" + tid + "-" + sid + "-01", tracecontext.ErrLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tracecontext.ParseTraceID(tt.in)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("ParseTraceID(%q) err = %v, want %v", tt.in, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTraceID(%q): %v", tt.in, err)
			}
			if got.String() != tid {
				t.Fatalf("trace id %s, want %s", got, tid)
			}
		})
	}
}

func TestExtract(t *testing.T) {
	valid := "00-" + tid + "-" + sid + "-01"
	other := "0af7651916cd43dd8448eb211c80319c"
	tests := []struct {
		name    string
		headers map[string][]string
		source  string
		trace   string
		span    string // "" means no parent span id
		state   string
	}{
		{"none", nil, "", "", "", ""},
		{"traceparent", map[string][]string{"traceparent": {valid}}, "traceparent", tid, sid, ""},
		{"traceparent wins over x-trace-id", map[string][]string{"traceparent": {valid}, "x-trace-id": {other}}, "traceparent", tid, sid, ""},
		{"x-trace-id fallback", map[string][]string{"x-trace-id": {other}}, "x-trace-id", other, "", ""},
		{"invalid traceparent falls back", map[string][]string{"traceparent": {"00-" + strings.Repeat("0", 32) + "-" + sid + "-01"}, "x-trace-id": {other}}, "x-trace-id", other, "", ""},
		{"two traceparents are ignored", map[string][]string{"traceparent": {valid, valid}}, "", "", "", ""},
		{"invalid x-trace-id", map[string][]string{"x-trace-id": {"abc"}}, "", "", "", ""},
		{"tracestate kept", map[string][]string{"traceparent": {valid}, "tracestate": {"rv=abc", "vendor=x"}}, "traceparent", tid, sid, "rv=abc,vendor=x"},
		{"invalid tracestate dropped", map[string][]string{"traceparent": {valid}, "tracestate": {"==="}}, "traceparent", tid, sid, ""},
		{"sentry-trace", map[string][]string{"sentry-trace": {other + "-" + sid + "-1"}}, "sentry-trace", other, sid, ""},
		{"sentry-trace without a decision", map[string][]string{"sentry-trace": {other + "-" + sid}}, "sentry-trace", other, sid, ""},
		{"traceparent wins over sentry-trace", map[string][]string{"traceparent": {valid}, "sentry-trace": {other + "-" + sid + "-1"}}, "traceparent", tid, sid, ""},
		{"invalid sentry-trace", map[string][]string{"sentry-trace": {other + "-" + sid + "-2"}}, "", "", "", ""},
		{"sentry-trace with uppercase hex", map[string][]string{"sentry-trace": {strings.ToUpper(other) + "-" + sid}}, "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, vs := range tt.headers {
				for _, v := range vs {
					h.Add(k, v)
				}
			}
			ctx, source := tracecontext.Extract(context.Background(), h)
			if source != tt.source {
				t.Fatalf("source %q, want %q", source, tt.source)
			}
			sc := trace.SpanContextFromContext(ctx)
			if tt.trace == "" {
				if sc.HasTraceID() {
					t.Fatalf("unexpected span context %v", sc)
				}
				return
			}
			if sc.TraceID().String() != tt.trace {
				t.Errorf("trace id %s, want %s", sc.TraceID(), tt.trace)
			}
			if tt.span == "" && sc.HasSpanID() || tt.span != "" && sc.SpanID().String() != tt.span {
				t.Errorf("span id %s, want %q", sc.SpanID(), tt.span)
			}
			if sc.TraceState().String() != tt.state {
				t.Errorf("tracestate %q, want %q", sc.TraceState().String(), tt.state)
			}
		})
	}
}

// TestMiddleware runs the middleware with a real SDK TracerProvider and
// checks the recorded spans, the way a backend would export them.
func TestMiddleware(t *testing.T) {
	other := "0af7651916cd43dd8448eb211c80319c"
	tests := []struct {
		name       string
		header     string
		value      string
		status     int
		wantTrace  string // "" means a fresh trace
		wantParent string
		wantSource string
	}{
		{"traceparent", "traceparent", "00-" + tid + "-" + sid + "-01", 200, tid, sid, "traceparent"},
		{"x-trace-id", "X-Trace-ID", other, 200, other, "", "x-trace-id"},
		{"server error", "traceparent", "00-" + tid + "-" + sid + "-01", 503, tid, sid, "traceparent"},
		{"no header", "", "", 200, "", "", ""},
		{"uppercase traceparent starts a new trace", "traceparent", "00-" + strings.ToUpper(tid) + "-" + sid + "-01", 200, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
			tracer := tp.Tracer("test")
			mux := http.NewServeMux()
			var inner trace.SpanContext
			mux.HandleFunc("POST /api/items/{id}", func(w http.ResponseWriter, r *http.Request) {
				// A span the service starts itself must join the same trace.
				_, span := tracer.Start(r.Context(), "db")
				inner = span.SpanContext()
				span.End()
				w.WriteHeader(tt.status)
			})
			h := tracecontext.Middleware(mux, tracecontext.Options{Tracer: tracer})
			req := httptest.NewRequest("POST", "/api/items/7", nil)
			if tt.header != "" {
				req.Header.Set(tt.header, tt.value)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d", w.Code, tt.status)
			}
			spans := rec.Ended()
			if len(spans) != 2 {
				t.Fatalf("%d spans, want 2", len(spans))
			}
			server := spans[1]
			if server.Name() != "POST /api/items/{id}" {
				t.Errorf("span name %q", server.Name())
			}
			if server.SpanKind() != trace.SpanKindServer {
				t.Errorf("span kind %v", server.SpanKind())
			}
			got := server.SpanContext().TraceID().String()
			if tt.wantTrace != "" && got != tt.wantTrace {
				t.Errorf("server span trace id %s, want %s", got, tt.wantTrace)
			}
			if tt.wantTrace == "" && (got == tid || !server.SpanContext().TraceID().IsValid()) {
				t.Errorf("server span trace id %s, want a fresh one", got)
			}
			if p := server.Parent(); tt.wantParent != "" && p.SpanID().String() != tt.wantParent {
				t.Errorf("parent %s, want %s", p.SpanID(), tt.wantParent)
			} else if tt.wantParent == "" && p.HasSpanID() {
				t.Errorf("parent %s, want none", p.SpanID())
			}
			if inner.TraceID() != server.SpanContext().TraceID() {
				t.Errorf("inner span trace %s, server span trace %s", inner.TraceID(), server.SpanContext().TraceID())
			}
			if spans[0].Parent().SpanID() != server.SpanContext().SpanID() {
				t.Error("inner span is not a child of the server span")
			}
			attrs := map[attribute.Key]attribute.Value{}
			for _, kv := range server.Attributes() {
				attrs[kv.Key] = kv.Value
			}
			if attrs["http.response.status_code"].AsInt64() != int64(tt.status) {
				t.Errorf("status attribute %v", attrs["http.response.status_code"])
			}
			if attrs["http.route"].AsString() != "/api/items/{id}" {
				t.Errorf("route attribute %v", attrs["http.route"])
			}
			if attrs["rearview.trace.source"].AsString() != tt.wantSource {
				t.Errorf("source attribute %q, want %q", attrs["rearview.trace.source"].AsString(), tt.wantSource)
			}
			wantCode := codes.Unset
			if tt.status >= 500 {
				wantCode = codes.Error
			}
			if server.Status().Code != wantCode {
				t.Errorf("span status %v, want %v", server.Status().Code, wantCode)
			}
		})
	}
}

// TestMiddlewareWithoutTracer checks that without a Tracer the handler
// still sees the browser's trace in its context.
func TestMiddlewareWithoutTracer(t *testing.T) {
	var got trace.SpanContext
	h := tracecontext.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = trace.SpanContextFromContext(r.Context())
	}), tracecontext.Options{})
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("traceparent", "00-"+tid+"-"+sid+"-01")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got.TraceID().String() != tid || got.SpanID().String() != sid || !got.IsRemote() {
		t.Fatalf("span context %v, want remote %s/%s", got, tid, sid)
	}
}

// TestMiddlewareFlush checks that wrapping keeps streaming responses working.
func TestMiddlewareFlush(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	h := tracecontext.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("flush: %v", err)
		}
	}), tracecontext.Options{Tracer: tp.Tracer("test")})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if !w.Flushed {
		t.Fatal("response not flushed through the middleware")
	}
}

func FuzzParseTraceparent(f *testing.F) {
	for _, s := range []string{
		"00-" + tid + "-" + sid + "-01",
		"01-" + tid + "-" + sid + "-01-extra",
		"ff-" + tid + "-" + sid + "-01",
		"00-" + strings.ToUpper(tid) + "-" + sid + "-01",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc, err := tracecontext.ParseTraceparent(s)
		if err != nil {
			if sc.IsValid() {
				t.Fatalf("error %v with a valid span context", err)
			}
			return
		}
		if !sc.IsValid() || !sc.IsRemote() {
			t.Fatalf("accepted %q as %v", s, sc)
		}
		// Whatever is accepted must be the lowercase hex fields of the input.
		trimmed := strings.Trim(s, " \t")
		if trimmed[3:35] != sc.TraceID().String() || trimmed[36:52] != sc.SpanID().String() {
			t.Fatalf("accepted %q but parsed %s-%s", s, sc.TraceID(), sc.SpanID())
		}
		if trimmed[:2] == "00" && len(trimmed) != 55 {
			t.Fatalf("accepted version 00 of length %d", len(trimmed))
		}
	})
}

func BenchmarkParseTraceparent(b *testing.B) {
	s := "00-" + tid + "-" + sid + "-01"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tracecontext.ParseTraceparent(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMiddleware(b *testing.B) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	for _, bc := range []struct {
		name   string
		tracer trace.Tracer
	}{
		{"extract-only", nil},
		{"server-span", sdktrace.NewTracerProvider().Tracer("bench")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := tracecontext.Middleware(ok, tracecontext.Options{Tracer: bc.tracer})
			req := httptest.NewRequest("GET", "/api/cart", nil)
			req.Header.Set("traceparent", "00-"+tid+"-"+sid+"-01")
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, req)
			}
		})
	}
}
