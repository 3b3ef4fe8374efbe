package policy

import (
	"strings"
	"testing"

	"github.com/rearview-dev/rearview/wasm/mask"
)

func TestResolve(t *testing.T) {
	doc := []byte(`{"sampling":{"rate":0.5},"masking":{"detectors":["email","card"]},"regions":{"eu":{"masking":{"strict":true}}}}`)
	tests := []struct {
		name, region string
		check        func(*Resolved) bool
	}{
		{"base keeps defaults", "us", func(r *Resolved) bool {
			return r.Sampling.Rate == 0.5 && !r.Masking.Strict && r.Masking.Inputs && r.Noise.Extensions && r.Detectors == mask.Email|mask.Card
		}},
		{"override merges", "eu", func(r *Resolved) bool {
			return r.Masking.Strict && r.Sampling.Rate == 0.5 && r.Detectors == mask.Email|mask.Card
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Resolve(doc, tt.region)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(r) {
				t.Fatalf("unexpected policy: %+v", r.Policy)
			}
		})
	}
	d, err := Resolve(nil, "")
	if err != nil || d.Sampling.Rate != 0.1 || d.Detectors != mask.All || !d.Bots.Drop {
		t.Fatalf("default policy: %+v %v", d, err)
	}
}

func TestCheckRefuses(t *testing.T) {
	tests := []struct{ doc, want string }{
		{`{"sampling":{"rate":2}}`, "between 0 and 1"},
		{`{"masking":{"detectors":["dna"]}}`, "unknown detector"},
		{`{"nosie":{}}`, "unknown field"},
		{`{"masking":{"selectors":["div > p"]}}`, "selectors"},
		{`{"regions":{"eu":{"sampling":{"rate":-1}}}}`, "between 0 and 1"},
		{`{"sampling":{"urls":[{"match":"","rate":1}]}}`, "match is empty"},
		{`[`, "parse policy"},
	}
	for _, tt := range tests {
		t.Run(tt.doc, func(t *testing.T) {
			err := Check([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Check = %v, want an error with %q", err, tt.want)
			}
		})
	}
}
