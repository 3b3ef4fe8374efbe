// Package chaos runs Rearview as separate processes (nats-server or a
// 3-node cluster with regional leaf nodes, MinIO, two edges, one
// coordinator on SQLite or two sharing Postgres) under a
// steady load from internal/loadgen and breaks one piece at a time while
// the events flow: a coordinator, an edge and NATS are killed with
// SIGKILL and restarted, MinIO is stopped for ten seconds and then frozen
// (SIGSTOP) for ten, Postgres is restarted. At the end every accepted
// event must be stored exactly once and every count (issues, users,
// vitals, replay segments) must be exact.
package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/e2e/proc"
	"github.com/rearview-dev/rearview/internal/loadgen"
	"github.com/rearview-dev/rearview/internal/testenv"
)

const adminToken = "rva_chaos_admin_token"

// bus is the NATS topology the system runs on: the URL coordinators
// connect to, the URL a region's edges connect to, and how one node is
// restarted. It is one nats-server, or a 3-node JetStream cluster with a
// leaf node per region (testenv.NATSCluster).
type bus interface {
	coordinatorURL() string
	// coordinatorArgs are the coordinators' flags for this topology.
	coordinatorArgs() []string
	edgeURL(region string) string
	// restartNode crashes one node, starts it again and returns which,
	// once it serves JetStream again.
	restartNode(t *testing.T) string
}

// singleNATS is one nats-server process with JetStream on a store
// directory and ports that survive its restarts.
type singleNATS struct {
	p       *proc.Proc
	url     string
	monitor string
}

func startSingleNATS(t *testing.T, logDir string) *singleNATS {
	t.Helper()
	bin := testenv.Binary(t, "nats-server", "REARVIEW_NATS_BIN")
	port, mport := testenv.FreePort(t), testenv.FreePort(t)
	conf := filepath.Join(t.TempDir(), "nats.conf")
	cfg := fmt.Sprintf("listen: 127.0.0.1:%d\nhttp: 127.0.0.1:%d\nmax_payload: 8MB\njetstream {\n  store_dir: %q\n}\n", port, mport, filepath.Join(t.TempDir(), "nats"))
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	n := &singleNATS{url: "nats://127.0.0.1:" + strconv.Itoa(port), monitor: "http://127.0.0.1:" + strconv.Itoa(mport)}
	n.p = proc.Start(t, logDir, "nats-server", bin, nil, "-c", conf)
	n.waitHealthy(t)
	return n
}

func (n *singleNATS) waitHealthy(t *testing.T) {
	proc.WaitHTTP(t, n.monitor+"/healthz?js-enabled-only=true", 60*time.Second)
}

func (n *singleNATS) coordinatorURL() string    { return n.url }
func (n *singleNATS) coordinatorArgs() []string { return nil }
func (n *singleNATS) edgeURL(string) string     { return n.url }
func (n *singleNATS) restartNode(t *testing.T) string {
	// A crash, not a clean stop: JetStream must hold every message it
	// acknowledged (it writes before it acks) and its dedupe window.
	n.p.Kill()
	n.p.Restart(t)
	n.waitHealthy(t)
	return "nats-server (the only node), killed with SIGKILL"
}

// database is where the coordinators keep their metadata: a SQLite file
// of each (so there is one coordinator), or one Postgres database they all
// share.
type database interface {
	// args are coordinator i's flags for it.
	args(t *testing.T, i int) []string
	// restart stops the server and starts it again, if there is one.
	restart(t *testing.T) string
}

type sqliteFiles struct{}

func (sqliteFiles) args(*testing.T, int) []string { return nil } // the data dir holds the file
func (sqliteFiles) restart(*testing.T) string     { return "" }

type sharedPostgres struct {
	pg  *testenv.Postgres
	url string
}

func startPostgres(t *testing.T) *sharedPostgres {
	pg := testenv.StartPostgres(t)
	return &sharedPostgres{pg: pg, url: pg.NewDatabase(t, "chaos")}
}

func (p *sharedPostgres) args(*testing.T, int) []string { return []string{"--database-url", p.url} }
func (p *sharedPostgres) restart(t *testing.T) string {
	p.pg.Stop(t)
	time.Sleep(5 * time.Second)
	p.pg.Start(t)
	return "Postgres stopped (fast shutdown), started after 5 s"
}

// natsCluster is a 3-node JetStream cluster the coordinators reach (any
// node: the client fails over) and a leaf node per region for the edges.
type natsCluster struct {
	c      *testenv.Cluster
	leaves map[string]*testenv.Leaf
}

func startNATSCluster(t *testing.T, regions ...string) *natsCluster {
	n := &natsCluster{c: testenv.NATSCluster(t, 3), leaves: map[string]*testenv.Leaf{}}
	for _, r := range regions {
		n.leaves[r] = n.c.Leaf(t, r)
	}
	return n
}

func (n *natsCluster) coordinatorURL() string { return strings.Join(n.c.URLs(), ",") }

// Three replicas of the stream and buckets survive the loss of a node.
func (n *natsCluster) coordinatorArgs() []string    { return []string{"--stream-replicas", "3"} }
func (n *natsCluster) edgeURL(region string) string { return n.leaves[region].URL() }
func (n *natsCluster) restartNode(t *testing.T) string {
	n.c.Kill(0)
	n.c.Start(0)
	return "cluster node 0 of 3, killed with SIGKILL (the stream is R3)"
}

// system is every process of the test.
type system struct {
	bin, logDir string
	bus         bus
	db          database
	minio       *testenv.MinIO
	coords      []*proc.Proc
	apis        []string // coordinator base URLs
	edges       []*proc.Proc
	edgeURLs    []string
	key         string
}

func (s *system) startCoordinator(t *testing.T, i int) {
	t.Helper()
	api := proc.Addr(t)
	args := []string{"coordinator", "--nats-url", s.bus.coordinatorURL(), "--listen", api, "--data-dir", filepath.Join(t.TempDir(), "coordinator"),
		"--admin-token", adminToken, "--s3-endpoint", s.minio.Endpoint, "--s3-access-key", s.minio.AccessKey, "--s3-secret-key", s.minio.SecretKey, "--s3-bucket", "chaos"}
	args = append(args, s.db.args(t, i)...)
	args = append(args, s.bus.coordinatorArgs()...)
	s.coords = append(s.coords, proc.Start(t, s.logDir, "coordinator-"+strconv.Itoa(i), s.bin, nil, args...))
	s.apis = append(s.apis, "http://"+api)
	proc.WaitHTTP(t, "http://"+api+"/readyz", 60*time.Second)
}

func (s *system) startEdge(t *testing.T, region string) {
	t.Helper()
	addr := proc.Addr(t)
	s.edges = append(s.edges, proc.Start(t, s.logDir, "edge-"+region, s.bin, nil, "edge", "--region", region, "--nats-url", s.bus.edgeURL(region), "--listen", addr))
	s.edgeURLs = append(s.edgeURLs, "http://"+addr)
	proc.WaitHTTP(t, "http://"+addr+"/readyz", 60*time.Second)
}

func createProject(t *testing.T, api string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"name": "Chaos"})
	req, _ := http.NewRequest(http.MethodPost, api+"/api/v1/projects", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		IngestKey string `json:"ingest_key"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create project: %d %v", resp.StatusCode, err)
	}
	return out.IngestKey
}

// fault is one thing broken and repaired while the load runs.
type fault struct {
	name string
	do   func(t *testing.T) string // breaks, waits, repairs; says what it did
}

func TestFaultsLoseNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("a fault run takes about two minutes per setup")
	}
	bin := (&proc.Builder{}).Binary(t)
	// Each setup runs at a rate it sustains with room to catch up after
	// an outage: on a busy 2-core box SQLite stores about 1000 events/s,
	// Postgres with one coordinator about 170, two coordinators on a
	// 3-node R3 cluster with leaves well under 100.
	setups := []struct {
		name         string
		coordinators int
		rate         float64
		bus          func(t *testing.T, logDir string) bus
		db           func(t *testing.T) database
	}{
		{"one nats-server, sqlite, one coordinator", 1, 300,
			func(t *testing.T, logDir string) bus { return startSingleNATS(t, logDir) },
			func(*testing.T) database { return sqliteFiles{} }},
		{"nats cluster with leaves, postgres, two coordinators", 2, 40,
			func(t *testing.T, _ string) bus { return startNATSCluster(t, "eu", "us") },
			func(t *testing.T) database { return startPostgres(t) }},
	}
	for _, setup := range setups {
		t.Run(setup.name, func(t *testing.T) {
			logDir := t.TempDir()
			s := &system{bin: bin, logDir: logDir}
			s.bus = setup.bus(t, logDir)
			s.db = setup.db(t)
			s.minio = testenv.StartMinIO(t)
			for i := range setup.coordinators {
				s.startCoordinator(t, i)
			}
			s.key = createProject(t, s.apis[0])
			for _, region := range []string{"eu", "us"} {
				s.startEdge(t, region)
			}
			t.Cleanup(func() {
				if t.Failed() {
					for _, p := range append(append([]*proc.Proc{}, s.coords...), s.edges...) {
						b, _ := os.ReadFile(p.Log)
						t.Logf("--- tail of %s ---\n%s", filepath.Base(p.Log), tail(b, 40))
					}
				}
			})
			runFaults(t, s, setup.rate)
		})
	}
}

// runFaults drives events through both edges while it breaks one thing at
// a time, then verifies every count.
func runFaults(t *testing.T, s *system, rate float64) {
	g, err := loadgen.New(loadgen.Config{
		Edges: s.edgeURLs, Key: s.key, Rate: rate, Duration: 10 * time.Minute, BatchSize: 20, Concurrency: 8,
		Issues: 6, Sessions: 30, Users: 12, VitalEvery: 10, ReplayEvery: 20, RetryFor: 90 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	results := make(chan *loadgen.Result, 1)
	go func() {
		res, err := g.Run(ctx)
		if err != nil {
			t.Errorf("load: %v", err)
		}
		results <- res
	}()
	type verdict struct {
		rep *loadgen.Report
		err error
	}
	verified := make(chan verdict, 1)
	go func() {
		rep, err := loadgen.Verify(ctx, loadgen.VerifyConfig{API: s.apis[0], Token: adminToken, Key: s.key, Timeout: 150 * time.Second}, g, results)
		verified <- verdict{rep, err}
	}()

	// With two coordinators the second is killed, and the first keeps
	// consuming meanwhile.
	victim := len(s.coords) - 1
	coordinator, edgeEU := s.coords[victim], s.edges[0]
	faults := []fault{
		{"kill -9 coordinator", func(t *testing.T) string {
			coordinator.Kill()
			time.Sleep(2 * time.Second)
			coordinator.Restart(t)
			proc.WaitHTTP(t, s.apis[victim]+"/readyz", 60*time.Second)
			return coordinator.Name + " killed, restarted after 2 s"
		}},
		{"kill -9 edge", func(t *testing.T) string {
			edgeEU.Kill()
			time.Sleep(2 * time.Second)
			edgeEU.Restart(t)
			proc.WaitHTTP(t, s.edgeURLs[0]+"/readyz", 60*time.Second)
			return edgeEU.Name + " killed, restarted after 2 s"
		}},
		{"restart NATS", func(t *testing.T) string {
			return "restarted " + s.bus.restartNode(t)
		}},
		{"stop MinIO 10 s", func(t *testing.T) string {
			s.minio.Stop(t)
			time.Sleep(10 * time.Second)
			s.minio.Start(t)
			return "MinIO stopped, started after 10 s"
		}},
		{"pause MinIO 10 s", func(t *testing.T) string {
			// Frozen, not gone: blob writes hang instead of failing, past
			// the consumer's AckWait, so the batch in hand comes back
			// while it is still being processed.
			s.minio.Pause(t)
			time.Sleep(10 * time.Second)
			s.minio.Resume(t)
			return "MinIO paused (SIGSTOP), resumed after 10 s"
		}},
	}
	if _, ok := s.db.(*sharedPostgres); ok {
		faults = append(faults, fault{"restart Postgres", s.db.restart})
	}
	begin := time.Now()
	var timeline []string
	const settle = 6 * time.Second // steady flow before and after each fault
	for _, f := range faults {
		time.Sleep(settle)
		at := time.Since(begin)
		what := f.do(t)
		timeline = append(timeline, fmt.Sprintf("  %5.1fs - %5.1fs  %-22s %s", at.Seconds(), time.Since(begin).Seconds(), f.name, what))
	}
	time.Sleep(settle)
	g.Finish()
	t.Logf("faults:\n%s", strings.Join(timeline, "\n"))

	v := <-verified
	if v.err != nil {
		t.Fatal(v.err)
	}
	rep := v.rep
	var buf bytes.Buffer
	rep.WriteTable(&buf)
	t.Logf("\n%s", buf.String())
	if err := rep.Err(); err != nil {
		t.Error(err)
	}
	if rep.Failed > 0 {
		t.Errorf("%d events never accepted within the retry window", rep.Failed)
	}
	// The faults must have bitten, or the run proves nothing: batches
	// were refused or cut off and retried, and a coordinator failed to
	// write replay blobs while MinIO was away (and so did not ack).
	if rep.Retried == 0 {
		t.Error("no batch was retried: the edge kill and the NATS restart went unnoticed")
	}
	var blobFailures bool
	for _, c := range s.coords {
		logs, _ := os.ReadFile(c.Log)
		blobFailures = blobFailures || bytes.Contains(logs, []byte("store segment"))
	}
	if !blobFailures {
		t.Error("no coordinator ever failed to store a replay segment: the MinIO outage went unnoticed")
	}
	for _, c := range s.coords {
		if code := c.Stop(t, syscall.SIGINT, 30*time.Second); code != 0 {
			t.Errorf("%s exited %d after SIGINT; want a drain and 0", c.Name, code)
		}
	}
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
