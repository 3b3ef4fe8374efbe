package wasmhost

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/internal/testenv"
	"github.com/rearview-dev/rearview/sdkproto"
)

// TestBotListFromKV publishes a bot list in NATS KV: every edge, wasm and
// native, matches User-Agents against it within a second; a list that does
// not compile is refused and the last one kept; deleting it brings back
// the module's built-in list.
func TestBotListFromKV(t *testing.T) {
	const (
		listed = "MainWP/4.2.7.1; +http://mainwp.com"                               // in the built-in list
		probe  = "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0 InternalProbe/2" // in the published list
	)
	for _, native := range []bool{false, true} {
		t.Run(map[bool]string{false: "wasm", true: "native"}[native], func(t *testing.T) {
			h := newHarness(t, Config{Native: native, Instances: 2})
			ctx := context.Background()
			batch := corpusBatch(t, "noise-batch")
			accepted := func(ua string) string {
				req, _ := http.NewRequest("POST", h.url+"/v1/ingest", bytes.NewReader(batch))
				req.Header.Set("X-Rearview-Key", ingestKey)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("User-Agent", ua)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var b bytes.Buffer
				b.ReadFrom(resp.Body)
				if resp.StatusCode != http.StatusAccepted {
					t.Fatalf("post: %d %s", resp.StatusCode, b.String())
				}
				return b.String()
			}
			// Both instances of the pool must have switched: post twice as
			// many batches as there are instances in each check.
			want := func(listedKept, probeKept bool) func() error {
				return func() error {
					for range 4 {
						for ua, kept := range map[string]bool{listed: listedKept, probe: probeKept} {
							got := accepted(ua)
							if kept != !strings.Contains(got, `"accepted":0`) {
								return fmt.Errorf("%s: answer %s, want kept=%v", ua, got, kept)
							}
						}
					}
					return nil
				}
			}
			testenv.Eventually(t, time.Second, want(false, true))
			if _, err := SetBotsKV(ctx, h.js, []byte(`[{"pattern":"InternalProbe\\/","instances":["x"]}]`)); err != nil {
				t.Fatal(err)
			}
			testenv.Eventually(t, time.Second, want(true, false))
			if _, err := SetBotsKV(ctx, h.js, []byte(`[{"pattern":"(unclosed"}]`)); err == nil {
				t.Fatal("SetBotsKV accepted a pattern that does not compile")
			}
			kv, err := h.js.KeyValue(ctx, sdkproto.PolicyBucket)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := kv.Put(ctx, sdkproto.BotListKey, []byte(`[{"pattern":"(unclosed"}]`)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond)
			if err := want(true, false)(); err != nil {
				t.Fatalf("a broken list replaced the last one: %v", err)
			}
			if _, err := SetBotsKV(ctx, h.js, nil); err != nil {
				t.Fatal(err)
			}
			testenv.Eventually(t, time.Second, want(false, true))
		})
	}
}
