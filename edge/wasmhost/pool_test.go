package wasmhost

import (
	"strings"
	"testing"
)

// TestStderrHead checks what a failing call's error quotes of the
// module's stderr: its first line, bounded, and nothing when it wrote
// nothing.
func TestStderrHead(t *testing.T) {
	cases := []struct {
		name   string
		writes []string
		want   string
	}{
		{"nothing", nil, ""},
		{"blank", []string{"\n \n"}, ""},
		{"first line", []string{"fatal error: morestack on g0\n", "goroutine 1 [running]:\n"}, ` (it wrote "fatal error: morestack on g0")`},
		{"split write", []string{"panic: run", "time error\n\nmore"}, ` (it wrote "panic: runtime error")`},
		{"long", []string{strings.Repeat("x", 300)}, ` (it wrote "` + strings.Repeat("x", 200) + `…")`},
		{"flood", []string{"why\n", strings.Repeat("y", 64<<10)}, ` (it wrote "why")`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var h stderrHead
			for _, w := range tc.writes {
				if n, err := h.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("write: %d, %v", n, err)
				}
			}
			if len(h.b) > stderrKeep {
				t.Fatalf("kept %d bytes", len(h.b))
			}
			if got := h.said(); got != tc.want {
				t.Fatalf("said %q, want %q", got, tc.want)
			}
		})
	}
}
