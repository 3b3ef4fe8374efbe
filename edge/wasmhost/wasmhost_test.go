package wasmhost

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/wasm"
	"github.com/rearview-dev/rearview/wasm/engine"
)

func newStage(t testing.TB, cfg Config) *Stage {
	t.Helper()
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("new stage: %v", err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

// TestNativeMatchesWasm runs the golden corpus under every test policy
// through the module and natively: the response envelopes must be the
// same bytes.
func TestNativeMatchesWasm(t *testing.T) {
	ctx := context.Background()
	w := newStage(t, Config{Instances: 1})
	n := newStage(t, Config{Native: true})
	for _, v := range wasm.Corpus() {
		for _, p := range testPolicies {
			t.Run(v.Name+"/"+p.name, func(t *testing.T) {
				req := engine.AppendRequest(nil, []byte(p.doc), engine.Context{Project: "p", Region: "eu", UA: selfTestUA, Now: time.Now().UnixMilli()}, v.Batch)
				got, err := w.Raw(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				want, err := n.Raw(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("wasm and native differ:\nwasm:   %q\nnative: %q", got, want)
				}
			})
		}
	}
}

var testPolicies = []struct{ name, doc string }{
	{"default", ``},
	{"strict", `{"masking":{"strict":true}}`},
	{"eu-override", `{"sampling":{"rate":0},"regions":{"eu":{"masking":{"strict":true,"query_all":true}}}}`},
	{"lenient", `{"noise":{"extensions":false,"messages":[]},"bots":{"drop":false},"masking":{"inputs":false,"detectors":[]}}`},
}
