package sample

import (
	"fmt"
	"testing"

	"github.com/rearview-dev/rearview/wasm/policy"
)

func TestKeep(t *testing.T) {
	p := &policy.Sampling{Rate: 0, Support: []string{"u-vip"}}
	tests := []struct {
		name string
		s    Session
		want bool
	}{
		{"error flag", Session{ID: []byte("s1"), Error: true}, true},
		{"support flag", Session{ID: []byte("s1"), Support: true}, true},
		{"support list", Session{ID: []byte("s1"), UserID: []byte("u-vip")}, true},
		{"other user", Session{ID: []byte("s1"), UserID: []byte("u-1")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Keep(tt.s, p); got != tt.want {
				t.Fatalf("got %v", got)
			}
		})
	}
}

// TestRateIsRespected checks that the share of sessions kept is close to
// the rate and that a decision never changes for a session.
func TestRateIsRespected(t *testing.T) {
	for _, rate := range []float64{0, 0.1, 0.5, 1} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			p := &policy.Sampling{Rate: rate}
			kept := 0
			const n = 20000
			for i := range n {
				s := Session{ID: fmt.Appendf(nil, "s-%08x", i)}
				k := Keep(s, p)
				if k != Keep(s, p) {
					t.Fatal("not deterministic")
				}
				if k {
					kept++
				}
			}
			if got := float64(kept) / n; got < rate-0.01 || got > rate+0.01 {
				t.Fatalf("kept %.3f of sessions, want %.2f", got, rate)
			}
		})
	}
}

func TestURLRates(t *testing.T) {
	p := &policy.Sampling{Rate: 0, URLs: []policy.URLRate{{Match: "/checkout*", Rate: 1}, {Match: "/", Rate: 1}}}
	tests := []struct {
		url  string
		want float64
	}{
		{"https://shop.example.com/checkout/pay?x=1", 1},
		{"https://shop.example.com", 1},
		{"https://shop.example.com/", 1},
		{"https://shop.example.com/products/1", 0},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			if got := Rate([]byte(tt.url), p); got != tt.want {
				t.Fatalf("got %v", got)
			}
		})
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"/a/*", "/a/b/c", true}, {"/a/*/c", "/a/b/c", true}, {"*", "", true},
		{"/a", "/a/b", false}, {"/*.html", "/x/y.html", true}, {"/a*b*c", "/aXbYc", true}, {"/a*b*c", "/aXbY", false},
	}
	for _, tt := range tests {
		if got := Glob(tt.pattern, []byte(tt.s)); got != tt.want {
			t.Errorf("Glob(%q, %q) = %v", tt.pattern, tt.s, got)
		}
	}
}
