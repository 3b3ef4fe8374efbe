package wasmhost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/rearview-dev/rearview/edge"
	"github.com/rearview-dev/rearview/internal/testenv"
	"github.com/rearview-dev/rearview/sdkproto"
	"github.com/rearview-dev/rearview/wasm"
)

const ingestKey = "rvk_wasmhost"

type harness struct {
	js    jetstream.JetStream
	stage *Stage
	edge  *edge.Server
	url   string
	ctx   context.Context
}

// newHarness starts a real NATS with the stream and keys bucket the
// coordinator creates, a wasm stage watching it, and an edge using the
// stage in region eu.
func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	h := newIdleHarness(t, cfg)
	h.watch(t)
	return h
}

// newIdleHarness is newHarness with the stage not yet watching the
// policy bucket (see watch), as in the first moments after a start.
func newIdleHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	_, js := testenv.JetStream(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: sdkproto.StreamName, Subjects: []string{sdkproto.SubjectAll}, Duplicates: time.Minute, MaxMsgSize: 8 << 20}); err != nil {
		t.Fatal(err)
	}
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: sdkproto.KeysBucket})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := json.Marshal(sdkproto.ProjectKey{Project: "shop", Name: "Shop", RateLimit: 1e6})
	if _, err := kv.Put(ctx, ingestKey, v); err != nil {
		t.Fatal(err)
	}
	cfg.JetStream = js
	st := newStage(t, cfg)
	ed, err := edge.New(edge.Config{Region: "eu", JetStream: js, Stage: st, CountryHeader: "CF-IPCountry"})
	if err != nil {
		t.Fatal(err)
	}
	go ed.Run(ctx)
	srv := httptest.NewServer(ed.Handler())
	t.Cleanup(srv.Close)
	return &harness{js: js, stage: st, edge: ed, url: srv.URL, ctx: ctx}
}

// watch starts the stage's watch and waits until the policies are loaded
// and the edge is ready.
func (h *harness) watch(t *testing.T) {
	t.Helper()
	go h.stage.Run(h.ctx)
	select {
	case <-h.stage.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("policies not loaded")
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		if !h.edge.Ready() {
			return fmt.Errorf("edge not ready")
		}
		return nil
	})
}

type answer struct {
	status int
	body   string
}

func (h *harness) post(t testing.TB, body []byte) answer {
	req, _ := http.NewRequest("POST", h.url+"/v1/ingest", bytes.NewReader(body))
	req.Header.Set("X-Rearview-Key", ingestKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", selfTestUA)
	req.Header.Set("CF-IPCountry", "DE")
	req.Header.Set("X-Forwarded-For", "198.51.100.23")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return answer{resp.StatusCode, b.String()}
}

// published returns every message in the stream, headers and data.
func (h *harness) published(t *testing.T) [][]byte {
	t.Helper()
	ctx := context.Background()
	c, err := h.js.OrderedConsumer(ctx, sdkproto.StreamName, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for {
		batch, err := c.FetchNoWait(100)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			var all bytes.Buffer
			all.WriteString(m.Subject())
			for k, vs := range m.Headers() {
				all.WriteString("\n" + k + ": " + strings.Join(vs, ","))
			}
			all.WriteString("\n")
			all.Write(m.Data())
			out = append(out, all.Bytes())
		}
		if n == 0 {
			return out
		}
	}
}

func corpusBatch(t testing.TB, name string) []byte {
	for _, v := range wasm.Corpus() {
		if v.Name == name {
			return v.Batch
		}
	}
	t.Fatalf("no vector %s", name)
	return nil
}

// TestNothingPersonalReachesNATS posts a batch with personal data in every
// field, under the default and a strict policy: not one byte published to
// NATS may carry it, nor the client's IP.
func TestNothingPersonalReachesNATS(t *testing.T) {
	for _, native := range []bool{false, true} {
		t.Run(fmt.Sprintf("native=%v", native), func(t *testing.T) {
			h := newHarness(t, Config{Native: native})
			if a := h.post(t, corpusBatch(t, "pii-batch")); a.status != http.StatusAccepted || !strings.Contains(a.body, `"accepted":4`) {
				t.Fatalf("post: %+v", a)
			}
			msgs := h.published(t)
			if len(msgs) < 4 {
				t.Fatalf("%d messages published, want one per kind", len(msgs))
			}
			for _, m := range msgs {
				for _, c := range append(wasm.Canaries(), "198.51.100.23", "127.0.0.1") {
					if bytes.Contains(m, []byte(c)) {
						t.Fatalf("published message carries %q:\n%s", c, m)
					}
				}
				if !bytes.Contains(m, []byte("Rv-Country: DE")) && !bytes.Contains(m, []byte(".outcome")) {
					t.Fatalf("message lacks the country:\n%.300s", m)
				}
			}
		})
	}
}

// TestNoBatchBeforePolicies stores a strict eu override for a project,
// then starts an edge whose stage has not loaded the bucket yet: every
// batch is refused with 503 (not filtered under the default policy, which
// would forward replay text the override masks) and nothing is published.
// Once the watch has delivered the stored policies the batch is accepted
// with the override applied.
func TestNoBatchBeforePolicies(t *testing.T) {
	for _, native := range []bool{false, true} {
		t.Run(fmt.Sprintf("native=%v", native), func(t *testing.T) {
			h := newIdleHarness(t, Config{Native: native})
			strict := []byte(`{"regions":{"eu":{"masking":{"strict":true}}}}`)
			if _, err := SetPolicyKV(context.Background(), h.js, "shop", strict); err != nil {
				t.Fatal(err)
			}
			batch := corpusBatch(t, "replay-batch")
			const text = "Welcome back" // replay DOM text: kept by default, masked by strict
			res, err := h.stage.FilterWith(context.Background(), nil, edge.StageInput{Project: "shop", Region: "eu", Now: time.Now(), Batch: batch})
			if err != nil || !bytes.Contains(res.Batch, []byte(text)) {
				t.Fatalf("the default policy must forward %q for this test to mean anything: %v", text, err)
			}
			testenv.Eventually(t, 10*time.Second, func() error {
				if a := h.post(t, batch); a.status != http.StatusServiceUnavailable || !strings.Contains(a.body, `"error":"not_ready"`) || !strings.Contains(a.body, "policies") {
					return fmt.Errorf("before the policies: %+v", a)
				}
				return nil
			})
			if h.edge.Ready() {
				t.Fatal("edge ready before the policies were loaded")
			}
			// The stage refuses by itself too, for hosts other than the edge.
			if _, err := h.stage.Apply(context.Background(), edge.StageInput{Project: "shop", Region: "eu", Now: time.Now(), Batch: batch}); !errors.Is(err, edge.ErrNotReady) {
				t.Fatalf("Apply before the policies: %v, want edge.ErrNotReady", err)
			}
			if msgs := h.published(t); len(msgs) != 0 {
				t.Fatalf("%d messages published before the policies were loaded:\n%s", len(msgs), msgs[0])
			}

			h.watch(t)
			if a := h.post(t, batch); a.status != http.StatusAccepted || !strings.Contains(a.body, `"accepted":1`) {
				t.Fatalf("after the policies: %+v", a)
			}
			msgs := h.published(t)
			if len(msgs) == 0 {
				t.Fatal("nothing published after the policies were loaded")
			}
			for _, m := range msgs {
				if bytes.Contains(m, []byte(text)) {
					t.Fatalf("the strict eu override was not applied:\n%s", m)
				}
			}
		})
	}
}

// TestPolicySwapFromKV changes a project's policy in KV under way: the
// next batches follow it within a second; a broken policy is refused and
// the previous one kept; the region override of the edge applies.
func TestPolicySwapFromKV(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := context.Background()
	noise := corpusBatch(t, "noise-batch")
	accepted := func() string {
		a := h.post(t, noise)
		if a.status != http.StatusAccepted {
			t.Fatalf("post: %+v", a)
		}
		return a.body
	}
	if got := accepted(); !strings.Contains(got, `"accepted":2`) { // the real error and the vital
		t.Fatalf("default policy: %s", got)
	}
	steps := []struct {
		name, doc, want string
	}{
		{"sample everything", `{"sampling":{"rate":1}}`, `"accepted":4`},
		{"broken policy keeps the last", `{"sampling":{"rate":7}}`, `"accepted":4`},
		{"region override", `{"sampling":{"rate":1},"regions":{"eu":{"noise":{"deny_releases":["1.4.*"]}}}}`, `"accepted":3`},
		{"other region's override", `{"sampling":{"rate":1},"regions":{"us":{"noise":{"deny_releases":["1.4.*"]}}}}`, `"accepted":4`},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			start := time.Now()
			if _, err := SetPolicyKV(ctx, h.js, "shop", []byte(s.doc)); err != nil {
				t.Fatal(err)
			}
			testenv.Eventually(t, time.Second, func() error {
				if got := accepted(); !strings.Contains(got, s.want) {
					return fmt.Errorf("answer %s, want %s", got, s.want)
				}
				return nil
			})
			t.Logf("took effect within %v", time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestModuleSwapUnderLoad publishes a new module while batches keep
// coming: it is verified and swapped in, and no request fails. A broken
// module published next is refused and the good one keeps serving.
func TestModuleSwapUnderLoad(t *testing.T) {
	h := newHarness(t, Config{Instances: 2})
	ctx := context.Background()
	first := h.stage.ModuleDigest()
	batch := corpusBatch(t, "error-batch")

	var stop atomic.Bool
	var sent, failed atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				if a := h.post(t, batch); a.status != http.StatusAccepted {
					failed.Add(1)
					t.Errorf("request failed during the swap: %+v", a)
				}
				sent.Add(1)
			}
		}()
	}
	// However the test ends, the senders stop first: one that reports
	// after the test returned would panic.
	defer func() {
		stop.Store(true)
		wg.Wait()
	}()
	next := withCustomSection(wasm.Module(), "v2")
	digest, err := PublishModule(ctx, h.js, next, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Compiling and self-testing the module takes seconds alone; on a
	// loaded 2-core machine, with four senders, much longer.
	testenv.Eventually(t, 2*time.Minute, func() error {
		if got := h.stage.ModuleDigest(); got != digest {
			return fmt.Errorf("active module %.12s, want %.12s", got, digest)
		}
		return nil
	})
	if _, err := PublishModule(ctx, h.js, loopModule(1), nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	if h.stage.ModuleDigest() != digest {
		t.Fatalf("the broken module replaced the good one")
	}
	if failed.Load() > 0 || sent.Load() == 0 {
		t.Fatalf("%d of %d requests failed", failed.Load(), sent.Load())
	}
	t.Logf("%d requests during the swaps, none failed; modules %.12s → %.12s", sent.Load(), first, digest)
}

// TestBucketSettingsKept checks that storing a policy or a module leaves
// the settings of buckets that exist alone: the coordinator sets their
// history and replica count, and an edge or the CLI writing with defaults
// must not reduce them.
func TestBucketSettingsKept(t *testing.T) {
	_, js := testenv.JetStream(t)
	ctx := context.Background()
	if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: sdkproto.PolicyBucket, History: 5, MaxBytes: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: sdkproto.ModulesBucket, MaxBytes: 64 << 20}); err != nil {
		t.Fatal(err)
	}
	if _, err := SetPolicyKV(ctx, js, "shop", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := PublishModule(ctx, js, loopModule(1), nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		stream     string
		perSubject int64 // a KV bucket's history
		maxBytes   int64
	}{
		{"KV_" + sdkproto.PolicyBucket, 5, 1 << 20},
		{"OBJ_" + sdkproto.ModulesBucket, -1, 64 << 20},
	} {
		t.Run(c.stream, func(t *testing.T) {
			s, err := js.Stream(ctx, c.stream)
			if err != nil {
				t.Fatal(err)
			}
			cfg := s.CachedInfo().Config
			if cfg.MaxMsgsPerSubject != c.perSubject || cfg.MaxBytes != c.maxBytes {
				t.Fatalf("%s: %d per subject, max bytes %d; want %d and %d as created", c.stream, cfg.MaxMsgsPerSubject, cfg.MaxBytes, c.perSubject, c.maxBytes)
			}
		})
	}
}
