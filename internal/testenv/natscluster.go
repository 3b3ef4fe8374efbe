package testenv

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// NATSDomain is the JetStream domain of the central cluster. Leaf nodes map
// their clients' JetStream API to it (see Leaf), so an edge connected to a
// leaf needs no JetStream options of its own.
const NATSDomain = "central"

// centralNodeConf is one node of the central JetStream cluster. The domain
// is what lets JetStream requests cross a leaf node connection: a server
// denies the plain $JS.API.> on leaf connections (each side may have its own
// JetStream), but answers $JS.<domain>.API.> on behalf of its domain.
var centralNodeConf = template.Must(template.New("central").Parse(`server_name: {{.Name}}
listen: 127.0.0.1:{{.Client}}
http: 127.0.0.1:{{.Monitor}}
max_payload: 8MB

jetstream {
  store_dir: {{printf "%q" .StoreDir}}
  domain: {{.Domain}}
}

{{if gt (len .Routes) 1}}
cluster {
  name: {{.Cluster}}
  listen: 127.0.0.1:{{.Route}}
  routes: [{{range .Routes}}
    nats-route://127.0.0.1:{{.}}{{end}}
  ]
}
{{end}}
leafnodes {
  listen: 127.0.0.1:{{.Leaf}}
}
`))

// leafNodeConf is a regional leaf node without JetStream. Its mappings send
// the JetStream API ($JS.API.>) and KV writes ($KV.>) of local clients to the
// central domain; everything else (ingest publishes, their acks, consumer
// deliveries) crosses the leaf connection by subject interest.
var leafNodeConf = template.Must(template.New("leaf").Parse(`server_name: {{.Name}}
listen: 127.0.0.1:{{.Client}}
http: 127.0.0.1:{{.Monitor}}
max_payload: 8MB

leafnodes {
  remotes: [
    {
      urls: [{{range .Remotes}}
        nats-leaf://127.0.0.1:{{.}}{{end}}
      ]
    }
  ]
}

mappings {
  "$JS.API.>": "$JS.{{.Domain}}.API.>"
  "$KV.>": "$JS.{{.Domain}}.API.$KV.>"
}
`))

// Cluster is a JetStream cluster of nats-server processes on loopback, in
// domain NATSDomain. Each node keeps its ports and store directory across
// Stop and Start, so a restarted node rejoins with its data.
type Cluster struct {
	tb    testing.TB
	bin   string
	mu    sync.Mutex
	nodes []*natsProcess
	// leafPorts are the nodes' leaf node listeners, for Leaf.
	leafPorts []int
}

// natsProcess is one nats-server process and where it keeps its config and
// log; its command is replaced on every start.
type natsProcess struct {
	name    string
	bin     string
	conf    string
	logPath string
	client  int
	monitor int
	cmd     *exec.Cmd
	done    chan struct{}
}

// NATSCluster starts an n-node JetStream cluster of the pinned nats-server
// binary, waits until every node reports healthy and JetStream answers, and
// stops it when the test ends. With n = 1 it is a single server (a cluster
// of one never elects a JetStream leader), still with the domain and a leaf
// node port.
func NATSCluster(tb testing.TB, n int) *Cluster {
	tb.Helper()
	if n < 1 {
		tb.Fatalf("nats cluster: %d nodes", n)
	}
	c := &Cluster{tb: tb, bin: Binary(tb, "nats-server", "REARVIEW_NATS_BIN")}
	dir := tb.TempDir()
	type ports struct{ client, route, leaf, monitor int }
	ps := make([]ports, n)
	routes := make([]int, n)
	for i := range ps {
		ps[i] = ports{FreePort(tb), FreePort(tb), FreePort(tb), FreePort(tb)}
		routes[i] = ps[i].route
		c.leafPorts = append(c.leafPorts, ps[i].leaf)
	}
	for i, p := range ps {
		name := "central-" + strconv.Itoa(i)
		conf := filepath.Join(dir, name+".conf")
		err := writeTemplate(conf, centralNodeConf, map[string]any{
			"Name": name, "Client": p.client, "Monitor": p.monitor, "Route": p.route, "Leaf": p.leaf,
			"StoreDir": filepath.Join(dir, name), "Domain": NATSDomain, "Cluster": "rearview", "Routes": routes,
		})
		if err != nil {
			tb.Fatalf("nats cluster: %v", err)
		}
		c.nodes = append(c.nodes, &natsProcess{name: name, bin: c.bin, conf: conf, logPath: filepath.Join(dir, name+".log"), client: p.client, monitor: p.monitor})
	}
	tb.Cleanup(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, p := range c.nodes {
			p.kill()
		}
		if tb.Failed() {
			for _, p := range c.nodes {
				p.logTail(tb)
			}
		}
	})
	// All nodes first: a meta leader needs a quorum to be elected.
	for _, p := range c.nodes {
		if err := p.start(); err != nil {
			tb.Fatalf("nats cluster: %v", err)
		}
	}
	for i := range c.nodes {
		c.waitHealthy(i)
	}
	waitJetStream(tb, c.URL(0))
	return c
}

func writeTemplate(path string, t *template.Template, data any) error {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return fmt.Errorf("render %s: %w", filepath.Base(path), err)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// URLs returns the client URL of every node, for a connection that fails
// over between them.
func (c *Cluster) URLs() []string {
	out := make([]string, len(c.nodes))
	for i := range c.nodes {
		out[i] = c.URL(i)
	}
	return out
}

// URL returns node i's client URL.
func (c *Cluster) URL(i int) string { return "nats://127.0.0.1:" + strconv.Itoa(c.nodes[i].client) }

// Node returns the index of the node whose server_name is name (as
// JetStream reports stream and consumer leaders), or -1.
func (c *Cluster) Node(name string) int {
	for i, p := range c.nodes {
		if p.name == name {
			return i
		}
	}
	return -1
}

// Stop stops node i gracefully (SIGTERM) and waits for it to exit.
func (c *Cluster) Stop(i int) {
	c.tb.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.nodes[i].stop(syscall.SIGTERM); err != nil {
		c.tb.Fatalf("nats cluster: %v", err)
	}
}

// Kill stops node i with SIGKILL, as a crash would.
func (c *Cluster) Kill(i int) {
	c.tb.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.nodes[i].stop(syscall.SIGKILL); err != nil {
		c.tb.Fatalf("nats cluster: %v", err)
	}
}

// Start starts node i again on its ports and store directory and waits
// until it is healthy, which for a JetStream node means it has caught up
// with the cluster's streams and consumers.
func (c *Cluster) Start(i int) {
	c.tb.Helper()
	c.mu.Lock()
	err := c.nodes[i].start()
	c.mu.Unlock()
	if err != nil {
		c.tb.Fatalf("nats cluster: %v", err)
	}
	c.waitHealthy(i)
}

// Restart stops node i gracefully and starts it again.
func (c *Cluster) Restart(i int) {
	c.tb.Helper()
	c.Stop(i)
	c.Start(i)
}

// waitHealthy waits for node i's /healthz, which answers 200 only once the
// node is connected to a meta leader and current with its assets.
func (c *Cluster) waitHealthy(i int) {
	c.tb.Helper()
	p := c.nodes[i]
	Eventually(c.tb, 60*time.Second, func() error { return p.healthy() })
}

// Leaf is a regional leaf node server connected to a Cluster.
type Leaf struct {
	proc *natsProcess
}

// Leaf starts a leaf node server for region whose remote lists every node
// of the cluster, waits until JetStream answers through it, and stops it
// when the test ends. The leaf has no JetStream: its clients' JetStream API
// requests, KV writes and stream publishes are served by the cluster.
func (c *Cluster) Leaf(tb testing.TB, region string) *Leaf {
	tb.Helper()
	dir := tb.TempDir()
	name := "leaf-" + region
	p := &natsProcess{name: name, bin: c.bin, conf: filepath.Join(dir, name+".conf"), logPath: filepath.Join(dir, name+".log"), client: FreePort(tb), monitor: FreePort(tb)}
	err := writeTemplate(p.conf, leafNodeConf, map[string]any{
		"Name": name, "Client": p.client, "Monitor": p.monitor, "Remotes": c.leafPorts, "Domain": NATSDomain,
	})
	if err != nil {
		tb.Fatalf("leaf %s: %v", region, err)
	}
	tb.Cleanup(func() {
		p.kill()
		if tb.Failed() {
			p.logTail(tb)
		}
	})
	if err := p.start(); err != nil {
		tb.Fatalf("leaf %s: %v", region, err)
	}
	Eventually(tb, 30*time.Second, p.healthy)
	waitJetStream(tb, "nats://127.0.0.1:"+strconv.Itoa(p.client))
	return &Leaf{proc: p}
}

// URL returns the leaf node's client URL, the one a region's edges use.
func (l *Leaf) URL() string { return "nats://127.0.0.1:" + strconv.Itoa(l.proc.client) }

// waitJetStream waits until a JetStream account info request through url
// is answered: the meta leader is known and, through a leaf, the mapping
// to the central domain is in place.
func waitJetStream(tb testing.TB, url string) {
	tb.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1))
	if err != nil {
		tb.Fatalf("connect %s: %v", url, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatalf("jetstream %s: %v", url, err)
	}
	Eventually(tb, 60*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if _, err := js.AccountInfo(ctx); err != nil {
			return fmt.Errorf("jetstream account info through %s: %w", url, err)
		}
		return nil
	})
}

func (p *natsProcess) start() error {
	if p.cmd != nil {
		select {
		case <-p.done:
		default:
			return fmt.Errorf("start %s: already running", p.name)
		}
	}
	f, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	cmd := exec.Command(p.bin, "-c", p.conf)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(done)
	}()
	p.cmd, p.done = cmd, done
	return nil
}

// stop signals the process and waits for it to exit; a graceful stop that
// hangs is an error (and the process is killed).
func (p *natsProcess) stop(sig syscall.Signal) error {
	if p.cmd == nil {
		return fmt.Errorf("stop %s: never started", p.name)
	}
	select {
	case <-p.done:
		return fmt.Errorf("stop %s: not running", p.name)
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return nil
	case <-time.After(30 * time.Second):
		p.kill()
		return fmt.Errorf("stop %s: still running 30s after %v", p.name, sig)
	}
}

func (p *natsProcess) kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

func (p *natsProcess) healthy() error {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://127.0.0.1:" + strconv.Itoa(p.monitor) + "/healthz")
	if err != nil {
		return fmt.Errorf("%s healthz: %w", p.name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s healthz: %s", p.name, resp.Status)
	}
	return nil
}

// logTail logs the end of the process's log, for a failed test.
func (p *natsProcess) logTail(tb testing.TB) {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	tb.Logf("last lines of %s:\n%s", p.name, strings.Join(lines[max(0, len(lines)-40):], "\n"))
}
