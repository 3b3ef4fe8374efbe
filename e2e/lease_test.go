package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/e2e/proc"
	"github.com/rearview-dev/rearview/internal/testenv"
)

// runOnceLeases are the leases a coordinator's run-once loops run under.
var runOnceLeases = []string{"alerts", "replay-pack", "retention", "sourcemap-retention", "vitals-fold"}

// readyLeases returns the leases a coordinator's /readyz reports it holds,
// or an error if it is not ready.
func readyLeases(base string) ([]string, error) {
	req, _ := http.NewRequest("GET", base+"/readyz", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Leases []string `json:"leases"`
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("readyz: %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("readyz: %w", err)
	}
	return body.Leases, nil
}

// TestLeasesMoveWhenCoordinatorKilled runs two coordinator processes on one
// nats-server and one data dir, SIGKILLs the one running the run-once work
// and checks the other takes every lease within TTL + poll interval; stops
// that one gracefully and checks a third takes them; then pauses the third
// (SIGSTOP) and checks a fourth takes them and keeps them after the third
// resumes.
func TestLeasesMoveWhenCoordinatorKilled(t *testing.T) {
	bin := rearviewBin(t)
	logDir := t.TempDir()
	natsURL, _ := natsServer(t, logDir)
	dataDir := filepath.Join(t.TempDir(), "data")
	const ttl = 2 * time.Second
	coordinator := func(name string) (*proc.Proc, string) {
		a := proc.Addr(t)
		p := proc.Start(t, logDir, name, bin, nil, "coordinator", "--nats-url", natsURL, "--listen", a, "--data-dir", dataDir,
			"--admin-token", "rva_e2e_lease", "--lease-ttl", ttl.String())
		waitHTTP(t, "http://"+a+"/readyz")
		return p, "http://" + a
	}
	procs, urls := map[string]*proc.Proc{}, map[string]string{}
	procs["c1"], urls["c1"] = coordinator("c1")
	procs["c2"], urls["c2"] = coordinator("c2")

	// holder waits until one of names holds every lease and the others none.
	holder := func(timeout time.Duration, names ...string) string {
		t.Helper()
		var who string
		start := time.Now()
		testenv.Eventually(t, timeout, func() error {
			who = ""
			for _, n := range names {
				ls, err := readyLeases(urls[n])
				if err != nil {
					return err
				}
				switch {
				case slices.Equal(ls, runOnceLeases):
					who = n
				case len(ls) != 0:
					return fmt.Errorf("%s holds %v", n, ls)
				}
			}
			if who == "" {
				return fmt.Errorf("no coordinator holds all of %v", runOnceLeases)
			}
			return nil
		})
		t.Logf("%s holds every lease after %s", who, time.Since(start).Round(time.Millisecond))
		return who
	}
	first := holder(15*time.Second, "c1", "c2")
	second := map[string]string{"c1": "c2", "c2": "c1"}[first]

	procs[first].Kill()
	// TTL + poll interval after the last renewal, plus slack for a loaded
	// machine.
	if got := holder(ttl+ttl/10+5*time.Second, second); got != second {
		t.Fatalf("%s holds the leases after %s was killed", got, first)
	}

	procs["c3"], urls["c3"] = coordinator("c3")
	if code := procs[second].Stop(t, syscall.SIGINT, 30*time.Second); code != 0 {
		t.Fatalf("%s exited %d on SIGINT", second, code)
	}
	if got := holder(10*time.Second, "c3"); got != "c3" {
		t.Fatalf("%s holds the leases after %s stopped", got, second)
	}

	// A paused holder (SIGSTOP) loses its leases like a dead one, and
	// once it runs again it gives up what it held rather than run beside
	// the new holder.
	procs["c4"], urls["c4"] = coordinator("c4")
	procs["c3"].Pause(t)
	if got := holder(ttl+ttl/10+5*time.Second, "c4"); got != "c4" {
		t.Fatalf("%s holds the leases while c3 is paused", got)
	}
	procs["c3"].Resume(t)
	if got := holder(10*time.Second, "c3", "c4"); got != "c4" {
		t.Fatalf("%s holds the leases after c3 resumed", got)
	}
}
