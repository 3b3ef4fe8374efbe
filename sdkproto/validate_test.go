package sdkproto

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestValidationPaths pins the path and message of a fault in each nested
// place validation looks, so that building paths only on failure (at) names
// them as the eager concatenation did.
func TestValidationPaths(t *testing.T) {
	long := strings.Repeat("x", 300)
	good := func() map[string]any {
		return map[string]any{"id": "bad-1", "ts": 5, "kind": "error", "error": map[string]any{"type": "E", "mechanism": "manual",
			"stack":       []any{map[string]any{"url": "u"}, map[string]any{"url": "u", "line": 2}},
			"breadcrumbs": []any{map[string]any{"category": "c"}, map[string]any{"category": "fetch", "http": map[string]any{"method": "GET", "url": "u", "status": 200}}}}}
	}
	errOf := func(ev map[string]any) map[string]any { return ev["error"].(map[string]any) }
	cases := []struct {
		name string
		ev   func() map[string]any
		path string
		msg  string
	}{
		{"frame url", func() map[string]any {
			ev := good()
			errOf(ev)["stack"].([]any)[1].(map[string]any)["url"] = strings.Repeat("u", 5000)
			return ev
		}, "events[2].error.stack[1].url", "5000 bytes exceed the limit of 4096"},
		{"frame line", func() map[string]any {
			ev := good()
			errOf(ev)["stack"].([]any)[1].(map[string]any)["line"] = -1
			return ev
		}, "events[2].error.stack[1]", "line and column must not be negative"},
		{"crumb category", func() map[string]any {
			ev := good()
			errOf(ev)["breadcrumbs"].([]any)[0].(map[string]any)["category"] = ""
			return ev
		}, "events[2].error.breadcrumbs[0].category", "required"},
		{"crumb http status", func() map[string]any {
			ev := good()
			errOf(ev)["breadcrumbs"].([]any)[1].(map[string]any)["http"].(map[string]any)["status"] = 1000
			return ev
		}, "events[2].error.breadcrumbs[1].http.status", "must be 0 to 999"},
		{"crumb http header", func() map[string]any {
			ev := good()
			errOf(ev)["breadcrumbs"].([]any)[1].(map[string]any)["http"].(map[string]any)["request_headers"] = map[string]any{"b": strings.Repeat("v", 5000), "a": strings.Repeat("v", 5000)}
			return ev
		}, "events[2].error.breadcrumbs[1].http.request_headers.a", "5000 bytes exceed the limit of 4096"},
		{"tag key", func() map[string]any {
			ev := good()
			errOf(ev)["tags"] = map[string]any{long: "v"}
			return ev
		}, "events[2].error.tags", "is empty or too long"},
		{"tag value", func() map[string]any {
			ev := good()
			errOf(ev)["tags"] = map[string]any{"k": long}
			return ev
		}, "events[2].error.tags.k", "300 bytes exceed the limit of 256"},
		{"error release", func() map[string]any {
			ev := good()
			errOf(ev)["release"] = long
			return ev
		}, "events[2].error.release", "300 bytes exceed the limit of 256"},
		{"error mechanism", func() map[string]any {
			ev := good()
			errOf(ev)["mechanism"] = "x"
			return ev
		}, "events[2].error.mechanism", `unknown mechanism "x"`},
		{"error without type", func() map[string]any {
			ev := good()
			errOf(ev)["type"] = ""
			return ev
		}, "events[2].error", "type or value is required"},
		{"two payloads", func() map[string]any {
			ev := good()
			ev["vital"] = map[string]any{"name": "LCP", "value": 1}
			return ev
		}, "events[2]", "exactly one payload"},
		{"vital attribution", func() map[string]any {
			return map[string]any{"id": "v", "ts": 5, "kind": "vital", "vital": map[string]any{"name": "LCP", "value": 1, "attribution": map[string]any{"el": strings.Repeat("a", 5000)}}}
		}, "events[2].vital.attribution.el", "exceed the limit of 4096"},
		{"vital rating", func() map[string]any {
			return map[string]any{"id": "v", "ts": 5, "kind": "vital", "vital": map[string]any{"name": "LCP", "value": 1, "rating": "meh"}}
		}, "events[2].vital.rating", `unknown rating "meh"`},
		{"replay segment", func() map[string]any {
			return map[string]any{"id": "r", "ts": 5, "kind": "replay", "replay": map[string]any{"segment": -1, "events": []any{1}}}
		}, "events[2].replay.segment", "must not be negative"},
		{"breadcrumb event data", func() map[string]any {
			return map[string]any{"id": "b", "ts": 5, "kind": "breadcrumb", "breadcrumb": map[string]any{"category": "c", "data": map[string]any{"k": strings.Repeat("d", 5000)}}}
		}, "events[2].breadcrumb.data.k", "exceed the limit of 4096"},
		{"session url", func() map[string]any {
			return map[string]any{"id": "s", "ts": 5, "kind": "session", "session": map[string]any{"state": "start", "url": strings.Repeat("u", 5000)}}
		}, "events[2].session.url", "exceed the limit of 4096"},
		{"session state", func() map[string]any {
			return map[string]any{"id": "s", "ts": 5, "kind": "session", "session": map[string]any{"state": "nap"}}
		}, "events[2].session.state", `unknown state "nap"`},
		{"event ts", func() map[string]any {
			return map[string]any{"id": "s", "ts": 0, "kind": "session", "session": map[string]any{"state": "start"}}
		}, "events[2].ts", "required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := mutate(t, func(m map[string]any) { m["events"] = append(events(m), tc.ev()) })
			var strict Batch
			if err := json.Unmarshal(body, &strict); err != nil {
				t.Fatal(err)
			}
			for _, dec := range []func([]byte, Limits) (*Batch, []Rejected, error){Decode, func(data []byte, lim Limits) (*Batch, []Rejected, error) { return decodeSlow(data, lim, false) }} {
				_, rej, err := dec(body, DefaultLimits())
				if err != nil || len(rej) != 1 || rej[0].Path != tc.path || !strings.Contains(rej[0].Error, tc.msg) {
					t.Fatalf("got %v %+v; want %q ~%q", err, rej, tc.path, tc.msg)
				}
			}
		})
	}
}
