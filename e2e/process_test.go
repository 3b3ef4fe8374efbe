// Package e2e drives Rearview from outside, like a user: it builds the
// rearview binary, runs real nats-server, MinIO and Chromium processes, and
// talks HTTP.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/e2e/proc"
	"github.com/rearview-dev/rearview/internal/testenv"
)

// bins builds the rearview binary once per test binary run.
var bins proc.Builder

func rearviewBin(t *testing.T) string {
	t.Helper()
	return bins.Binary(t)
}

// waitHTTP waits until url answers 200.
func waitHTTP(t *testing.T, url string) {
	t.Helper()
	proc.WaitHTTP(t, url, 30*time.Second)
}

// natsServer starts the real nats-server binary with JetStream.
func natsServer(t *testing.T, logDir string) (url string, storeDir string) {
	t.Helper()
	bin := testenv.Binary(t, "nats-server", "REARVIEW_NATS_BIN")
	port := testenv.FreePort(t)
	storeDir = filepath.Join(t.TempDir(), "nats")
	conf := filepath.Join(t.TempDir(), "nats.conf")
	cfg := fmt.Sprintf("listen: 127.0.0.1:%d\nmax_payload: 8MB\njetstream {\n  store_dir: %q\n}\n", port, storeDir)
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	proc.Start(t, logDir, "nats-server", bin, nil, "-c", conf)
	waitTCP(t, port)
	return "nats://127.0.0.1:" + strconv.Itoa(port), storeDir
}

func waitTCP(t *testing.T, port int) {
	testenv.Eventually(t, 20*time.Second, func() error {
		resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(port))
		if err != nil && strings.Contains(err.Error(), "refused") {
			return err
		}
		if resp != nil {
			resp.Body.Close()
		}
		return nil
	})
}

// api calls the coordinator API.
func api(t *testing.T, method, url, token string, in, out any) int {
	t.Helper()
	st, _ := testenv.API(t, method, url, token, in, out)
	return st
}

func batch(session string, seq int) []byte {
	evs := []string{}
	for i := 0; i < 3; i++ {
		evs = append(evs, fmt.Sprintf(`{"id":"%s-%d","ts":%d,"kind":"error","error":{"type":"TypeError","value":"boom %d","mechanism":"onerror","stack":[{"url":"https://shop.example.com/app.js","function":"f","line":1,"column":%d}]}}`,
			session, i, time.Now().UnixMilli(), i, 10+i))
	}
	return []byte(fmt.Sprintf(`{"v":1,"sdk":{"name":"e2e","version":"1"},"session":{"id":"%s","seq":%d,"started_at":%d,"flags":{}},"page":{"url":"https://shop.example.com/"},"device":{"ua":"`+userUA+`","viewport":{"w":1280,"h":800}},"sent_at":%d,"events":[%s]}`,
		session, seq, time.Now().UnixMilli(), time.Now().UnixMilli(), strings.Join(evs, ",")))
}

func post(url, key string, body []byte) (int, error) {
	req, _ := http.NewRequest(http.MethodPost, url+"/v1/ingest", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Rearview-Key", key)
	// A browser's User-Agent: the edge drops scripted clients as bots.
	req.Header.Set("User-Agent", userUA)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestCoordinatorKilledLosesNothing runs nats-server, an edge and a
// coordinator as separate processes, SIGKILLs the coordinator while batches
// stream in, restarts it, and checks every accepted event is stored once.
func TestCoordinatorKilledLosesNothing(t *testing.T) {
	bin := rearviewBin(t)
	logDir := t.TempDir()
	natsURL, _ := natsServer(t, logDir)
	dataDir := t.TempDir()
	const token = "rva_e2e_admin_token"
	apiAddr, edgeAddr := proc.Addr(t), proc.Addr(t)
	coordArgs := []string{"coordinator", "--nats-url", natsURL, "--listen", apiAddr, "--data-dir", dataDir, "--admin-token", token}
	coord := proc.Start(t, logDir, "coordinator", bin, nil, coordArgs...)
	waitHTTP(t, "http://"+apiAddr+"/readyz")
	var proj struct {
		ID        string `json:"id"`
		IngestKey string `json:"ingest_key"`
	}
	if st := api(t, "POST", "http://"+apiAddr+"/api/v1/projects", token, map[string]string{"name": "Shop"}, &proj); st != 201 {
		t.Fatalf("create project: %d", st)
	}
	proc.Start(t, logDir, "edge", bin, nil, "edge", "--region", "eu", "--nats-url", natsURL, "--listen", edgeAddr)
	waitHTTP(t, "http://"+edgeAddr+"/readyz")
	edgeURL := "http://" + edgeAddr

	const sessions = 150
	accepted := make(chan string, sessions)
	go func() {
		defer close(accepted)
		for i := 0; i < sessions; i++ {
			sid := fmt.Sprintf("k-%03d", i)
			body := batch(sid, 0)
			for {
				st, err := post(edgeURL, proj.IngestKey, body)
				if err == nil && st == 202 {
					accepted <- sid
					break
				}
				time.Sleep(50 * time.Millisecond) // like the SDK: retry until accepted
			}
			time.Sleep(3 * time.Millisecond)
		}
	}()
	// Kill the coordinator hard twice while the stream flows.
	for i := 0; i < 2; i++ {
		time.Sleep(250 * time.Millisecond)
		coord.Kill()
		coord = proc.Start(t, logDir, fmt.Sprintf("coordinator-%d", i+1), bin, nil, coordArgs...)
		waitHTTP(t, "http://"+apiAddr+"/readyz")
	}
	n := 0
	for range accepted {
		n++
	}
	if n != sessions {
		t.Fatalf("%d of %d sessions accepted", n, sessions)
	}
	var total int
	testenv.Eventually(t, 60*time.Second, func() error {
		var out struct {
			Sessions []struct {
				ID     string `json:"id"`
				Events int    `json:"events"`
			} `json:"sessions"`
		}
		api(t, "GET", "http://"+apiAddr+"/api/v1/sessions?project="+proj.ID+"&limit=500", token, nil, &out)
		total = 0
		for _, s := range out.Sessions {
			if s.Events != 3 {
				return fmt.Errorf("session %s has %d events, want 3", s.ID, s.Events)
			}
			total += s.Events
		}
		if len(out.Sessions) != sessions {
			return fmt.Errorf("%d sessions stored, want %d", len(out.Sessions), sessions)
		}
		return nil
	})
	var evs struct {
		Events []json.RawMessage `json:"events"`
	}
	api(t, "GET", "http://"+apiAddr+"/api/v1/events?project="+proj.ID+"&limit=1000", token, nil, &evs)
	if len(evs.Events) != 3*sessions || total != 3*sessions {
		t.Fatalf("%d events listed, sessions count %d; want %d", len(evs.Events), total, 3*sessions)
	}
	if code := coord.Stop(t, syscall.SIGINT, 30*time.Second); code != 0 {
		t.Fatalf("coordinator exited %d after SIGINT", code)
	}
}

// TestUpStartsAndDrains runs `rearview up` as a user would, sends a batch to
// the printed edge URL, reads it back through the API with the printed admin
// token, and stops it with Ctrl-C (exit 0).
// startUp runs `rearview up` on dataDir and returns what it printed (by
// label: "Ingest edge", "Admin token", "Player & API") once it is ready.
func startUp(t *testing.T, dataDir string) (*exec.Cmd, map[string]string) {
	t.Helper()
	edgeAddr, apiAddr := proc.Addr(t), proc.Addr(t)
	cmd := exec.CommandContext(context.Background(), rearviewBin(t), "up", "--data-dir", dataDir, "--nats-listen", "127.0.0.1:0", "--edge-listen", edgeAddr, "--api-listen", apiAddr)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	printed := map[string]string{}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		for _, k := range []string{"Ingest edge", "Admin token", "Player & API"} {
			if v, ok := strings.CutPrefix(line, k); ok {
				printed[k] = strings.Fields(v)[0]
			}
		}
		if strings.HasPrefix(line, "Press Ctrl-C") {
			break
		}
	}
	go io.Copy(io.Discard, stdout)
	if printed["Ingest edge"] != "http://"+edgeAddr+"/v1/ingest" || printed["Admin token"] == "" {
		t.Fatalf("printed %v", printed)
	}
	waitHTTP(t, "http://"+edgeAddr+"/readyz")
	return cmd, printed
}

func TestUpStartsAndDrains(t *testing.T) {
	dataDir := t.TempDir()
	cmd, printed := startUp(t, dataDir)
	edgeURL := strings.TrimSuffix(printed["Ingest edge"], "/v1/ingest")
	apiURL := printed["Player & API"]

	t.Run("landing page, demo shop and its source maps", func(t *testing.T) {
		for _, c := range []struct{ path, want string }{
			{"", `href="/demo/"`},
			{"", `href="/player/"`},
			{"demo/", "Rearview.init"},
		} {
			resp, err := http.Get(apiURL + c.path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(b), c.want) {
				t.Errorf("GET /%s: %d, want a page with %q", c.path, resp.StatusCode, c.want)
			}
		}
		// The demo's errors are symbolicated out of the box: its maps
		// are uploaded for release "demo" at the URL the bundle is served.
		var maps struct {
			Sourcemaps []struct {
				Release string `json:"release"`
				URL     string `json:"url"`
			} `json:"sourcemaps"`
		}
		if st := api(t, "GET", apiURL+"api/v1/sourcemaps?project=demo", printed["Admin token"], nil, &maps); st != 200 || len(maps.Sourcemaps) != 2 {
			t.Fatalf("demo source maps: %d %+v", st, maps)
		}
		for _, m := range maps.Sourcemaps {
			if m.Release != "demo" || !strings.HasPrefix(m.URL, "~/demo/assets/app-") {
				t.Errorf("demo source map %+v", m)
			}
		}
	})

	// Ctrl-C while batches stream in: every batch answered 202 must be
	// there after a restart, whatever was in flight.
	var (
		mu       sync.Mutex
		accepted []string
	)
	stopped := make(chan struct{})
	streaming := make(chan struct{})
	go func() {
		defer close(stopped)
		for i := 0; ; i++ {
			id := fmt.Sprintf("up-%d", i)
			st, err := post(edgeURL, "rvk_demo", batch(id, 0))
			if err != nil {
				return // the edge is gone
			}
			if st == 202 {
				mu.Lock()
				accepted = append(accepted, id)
				if len(accepted) == 20 {
					close(streaming)
				}
				mu.Unlock()
			}
		}
	}()
	select {
	case <-streaming:
	case <-time.After(30 * time.Second):
		t.Fatal("fewer than 20 batches accepted in 30s")
	}
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("up exited with %v after Ctrl-C", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("up did not stop within 30s of Ctrl-C")
	}
	<-stopped

	_, printed = startUp(t, dataDir)
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d batches accepted before and during shutdown", len(accepted))
	testenv.Eventually(t, 20*time.Second, func() error {
		for _, id := range accepted {
			var out struct{ Events []json.RawMessage }
			api(t, "GET", printed["Player & API"]+"api/v1/events?project=demo&session="+id, printed["Admin token"], nil, &out)
			if len(out.Events) != 3 {
				return fmt.Errorf("session %s: %d events after the restart, want 3", id, len(out.Events))
			}
		}
		return nil
	})
}
