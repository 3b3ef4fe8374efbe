package tracecontext_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/rearview-dev/rearview/sdkproto/tracecontext"
)

// A backend wraps its handler; spans it starts for a request the browser SDK
// made carry the browser's trace id, which Rearview shows on the error.
func ExampleMiddleware() {
	tp := sdktrace.NewTracerProvider() // add your exporter: sdktrace.WithBatcher(exp)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/checkout", func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("trace", trace.SpanContextFromContext(r.Context()).TraceID())
		w.WriteHeader(http.StatusInternalServerError)
	})
	h := tracecontext.Middleware(mux, tracecontext.Options{Tracer: tp.Tracer("shop")})

	req := httptest.NewRequest("POST", "/api/checkout", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	h.ServeHTTP(httptest.NewRecorder(), req)
	// Output: trace 4bf92f3577b34da6a3ce929d0e0e4736
}
