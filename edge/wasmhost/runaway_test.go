package wasmhost

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/edge"
	"github.com/rearview-dev/rearview/wasm/engine"
)

// oddRequest returns an input whose request envelope has odd (or even)
// length, by padding the batch with a space.
func parityInput(odd bool) edge.StageInput {
	batch := []byte(`{"v":1,"events":[]}`)
	in := edge.StageInput{Project: "p", Region: "eu", UserAgent: selfTestUA, Now: time.UnixMilli(0), Batch: batch}
	n := len(engine.AppendRequest(nil, nil, engine.Context{Project: "p", Region: "eu", UA: selfTestUA}, batch))
	if (n%2 == 1) != odd {
		in.Batch = append(append([]byte(nil), batch...), ' ')
	}
	return in
}

func loadUnchecked(t *testing.T, cfg Config, bin []byte) *Stage {
	t.Helper()
	s := newStage(t, cfg)
	s.skipSelfTest = true
	if err := s.LoadModule(context.Background(), bin); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRunawayHardDeadline runs a module that loops forever on some
// batches: the call is interrupted at its deadline, only that batch fails,
// and the next one is served by a fresh instance.
func TestRunawayHardDeadline(t *testing.T) {
	s := loadUnchecked(t, Config{HardDeadline: true, Instances: 1, Timeout: 100 * time.Millisecond}, loopModule(0))
	ctx := context.Background()
	for round := range 2 {
		start := time.Now()
		_, err := s.Apply(ctx, parityInput(true))
		if err == nil || !strings.Contains(err.Error(), "deadline") {
			t.Fatalf("round %d: err = %v, want a deadline error", round, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("the runaway call took %v to stop", d)
		}
		out, err := s.Apply(ctx, parityInput(false))
		if err != nil {
			t.Fatalf("round %d: next batch: %v", round, err)
		}
		if len(out.Batch) != 0 {
			t.Fatalf("unexpected output %q", out.Batch)
		}
	}
}

// TestRunawaySoftDeadline: without interruption the late call fails its
// batch, its instance is abandoned and a new one serves the next batch.
func TestRunawaySoftDeadline(t *testing.T) {
	// The loop runs far past the deadline, which leaves the next batch room
	// on a busy machine: its instance is new and the abandoned call still
	// spins on a core.
	s := loadUnchecked(t, Config{Instances: 1, Timeout: 200 * time.Millisecond}, loopModule(2_000_000_000))
	ctx := context.Background()
	_, err := s.Apply(ctx, parityInput(true))
	if err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("err = %v, want a deadline error", err)
	}
	if _, err := s.Apply(ctx, parityInput(false)); err != nil {
		t.Fatalf("next batch: %v", err)
	}
	if st := s.Stats(); st.Abandoned != 1 {
		t.Fatalf("stats %+v, want one abandoned call", st)
	}
}

func TestRefusesBadModules(t *testing.T) {
	ctx := context.Background()
	s := newStage(t, Config{Instances: 1, Timeout: 200 * time.Millisecond})
	good := s.ModuleDigest()
	tests := []struct{ name, want string }{
		{"not wasm", "compile"},
		{"wrong answers", "self-test"},
		{"runaway", "self-test"},
	}
	bins := map[string][]byte{
		"not wasm":      []byte("\x00asm garbage"),
		"wrong answers": loopModule(1),
		"runaway":       loopModule(0),
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.LoadModule(ctx, bins[tt.name])
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if s.ModuleDigest() != good {
				t.Fatal("the active module changed")
			}
			if _, err := s.Apply(ctx, parityInput(true)); err != nil {
				t.Fatalf("the old module no longer serves: %v", err)
			}
		})
	}
}

func TestMemoryLimit(t *testing.T) {
	_, err := New(context.Background(), Config{MemoryLimit: 1 << 20})
	if err == nil {
		t.Fatal("the module ran in 1 MiB")
	}
}
