package wasmhost

import (
	"bytes"
	"context"
	"encoding/binary"
	"regexp"
	"strings"
	"testing"

	"github.com/rearview-dev/rearview/wasm/engine"
)

// nativeRun runs requests through the built-in engine, its responses
// rewritten by edit.
func nativeRun(edit func(resp []byte) []byte) runFunc {
	eng := engine.New()
	return func(_ context.Context, req []byte) ([]byte, error) {
		out := append([]byte(nil), eng.Handle(req)...)
		if edit != nil {
			out = edit(out)
		}
		return out, nil
	}
}

// maskOneMore masks the first character of the first error value: the
// same events are kept with the same counts, and no personal data is
// unmasked, but the output is not the engine's.
func maskOneMore(resp []byte) []byte {
	const at = `"value":"`
	if i := bytes.Index(resp, []byte(at)); i >= 0 {
		resp[i+len(at)] = '*'
	}
	return resp
}

var maskedCount = regexp.MustCompile(`"masked":([1-9])[,}]`)

// countOneLess lowers the first non-zero masked count of an event.
func countOneLess(resp []byte) []byte {
	d := bytes.Index(resp, []byte(`"decisions"`))
	if d < 0 {
		return resp
	}
	if loc := maskedCount.FindSubmatchIndex(resp[d:]); loc != nil {
		resp[d+loc[2]]--
	}
	return resp
}

// dropFirstKept turns the first kept decision of the report into a drop.
// The envelope's report length is not fixed up, so it edits the parsed
// response and rebuilds the envelope.
func dropFirstKept(resp []byte) []byte {
	r, err := engine.ParseResponse(resp)
	if err != nil {
		return resp
	}
	rep := bytes.Replace(r.Report, []byte(`"kept":true`), []byte(`"kept":false`), 1)
	out := binary.LittleEndian.AppendUint32([]byte(engine.ResponseMagic), engine.StatusOK)
	for _, sec := range [][]byte{r.Batch, rep} {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(sec)))
		out = append(out, sec...)
	}
	return out
}

// TestSelfTest runs the self-test over modules built on the engine with
// one change each: masking more passes, anything that masks less or
// decides otherwise is refused.
func TestSelfTest(t *testing.T) {
	cases := []struct {
		name string
		run  runFunc
		want string // "" passes
	}{
		{"the engine", nativeRun(nil), ""},
		{"masks one more character", nativeRun(maskOneMore), ""},
		{"masks one value fewer", nativeRun(countOneLess), "fewer than the built-in engine's"},
		{"drops an event the engine keeps", nativeRun(dropFirstKept), "kept=false"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := selfTest(context.Background(), tc.run)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("self-test: %v, want ~%q", err, tc.want)
			}
		})
	}
}
