package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/coordinator/alert"
	"github.com/rearview-dev/rearview/coordinator/lease"
	"github.com/rearview-dev/rearview/coordinator/store/storetest"
	"github.com/rearview-dev/rearview/coordinator/synthetic"
	"github.com/rearview-dev/rearview/e2e/demo"
	"github.com/rearview-dev/rearview/internal/testenv"
)

// TestProbesFireAlert: --synthetic-config probes the demo shop's broken
// checkout in real Chromium under the synthetic lease, the failing probe is
// recorded, and a synthetic alert rule notifies its webhook.
func TestProbesFireAlert(t *testing.T) {
	chromium := testenv.ChromiumPath(t)
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	_, js := testenv.JetStream(t)
	ro, err := newRunOnce(ctx, js, lease.Options{Holder: "probe-test", TTL: 2 * time.Second}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.close()
	shop := httptest.NewServer(demo.Handler(demo.Options{HeroDelay: -1}))
	defer shop.Close()
	cfg := filepath.Join(t.TempDir(), "probes.yaml")
	os.WriteFile(cfg, []byte(`project: shop
base_url: `+shop.URL+`
schedule: 1m
journeys:
  - name: checkout
    steps:
      - goto: /checkout
      - wait-for-selector: 'body[data-ready="true"]'
      - type: {selector: '#email', text: probe@example.org}
      - type: {selector: '#card', text: '4242 4242 4242 4242'}
      - type: {selector: '#address', text: 1 Probe Road}
      - click: '#place-order'
      - assert-text: {selector: '#checkout-status', contains: Thank you}
`), 0o644)
	db := storetest.Open(t)
	store := synthetic.NewStore(db)
	if err := (SyntheticFlags{SyntheticConfig: cfg, SyntheticChromium: chromium}).startProbes(ro, store, log); err != nil {
		t.Fatal(err)
	}
	var runs []synthetic.Result
	testenv.Eventually(t, 60*time.Second, func() error {
		runs, err = store.Runs(ctx, "shop", synthetic.Filter{Source: synthetic.SourceProbe})
		if err == nil && len(runs) == 0 {
			err = io.EOF
		}
		return err
	})
	// The page throws as the order's answer arrives: while the click
	// returns (step 6) on a loaded machine, else while the text is awaited.
	if r := runs[0]; r.Passed || r.Check != "checkout" || !strings.Contains(r.Error, demo.CheckoutError) || len(r.Steps) < 6 || r.Steps[len(r.Steps)-1].Passed {
		t.Fatalf("probe result %+v", r)
	}

	var mu sync.Mutex
	var got []alert.Payload
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p alert.Payload
		json.NewDecoder(r.Body).Decode(&p)
		mu.Lock()
		got = append(got, p)
		mu.Unlock()
	}))
	defer hook.Close()
	a, err := alert.New(db, alert.Options{Interval: -1, Webhook: hook.URL, Probes: probeFailures{store}, Issues: noIssues{}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.PutRule(ctx, alert.Rule{ID: "probe", Project: "shop", Kind: alert.SyntheticFailure}); err != nil {
		t.Fatal(err)
	}
	if err := a.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0].Alert == nil || got[0].Alert.Key != "checkout" || !strings.Contains(got[0].Text, demo.CheckoutError) {
		t.Fatalf("notifications %+v", got)
	}
}

type noIssues struct{}

func (noIssues) NewIssues(context.Context, string, int64, int64) ([]alert.Issue, error) {
	return nil, nil
}

func (noIssues) Regressions(context.Context, string, int64, int64) ([]alert.Issue, error) {
	return nil, nil
}
