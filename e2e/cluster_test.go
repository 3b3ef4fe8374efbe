package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/rearview-dev/rearview/coordinator/lease"
	"github.com/rearview-dev/rearview/e2e/proc"
	"github.com/rearview-dev/rearview/internal/testenv"
	"github.com/rearview-dev/rearview/sdkproto"
)

// errorKind is one kind of error a region's shop throws; every event of
// one kind groups into one issue.
type errorKind struct {
	region, typ, value, function, file string
}

// errorBatch is a batch of error events of kind k in session, one per id.
// Each event's ts comes from clock, so that no two events of the test share
// one and the events API (ordered by ts, paged with before=) lists each
// exactly once.
func errorBatch(k errorKind, session string, ids []string, clock *atomic.Int64) []byte {
	var evs []string
	for _, id := range ids {
		evs = append(evs, fmt.Sprintf(`{"id":%q,"ts":%d,"kind":"error","error":{"type":%q,"value":%q,"mechanism":"onerror","stack":[{"url":"https://shop.example.com/%s","function":%q,"line":3,"column":7}]}}`,
			id, clock.Add(1), k.typ, k.value, k.file, k.function))
	}
	now := time.Now().UnixMilli()
	return []byte(fmt.Sprintf(`{"v":1,"sdk":{"name":"e2e","version":"1"},"session":{"id":%q,"seq":0,"started_at":%d,"flags":{}},"page":{"url":"https://shop.example.com/"},"device":{"ua":%q,"viewport":{"w":1280,"h":800}},"sent_at":%d,"events":[%s]}`,
		session, now, userUA, now, strings.Join(evs, ",")))
}

// sendUntilAccepted posts body until the edge answers 202, as the SDK
// does, and returns how many attempts failed; it gives up after a minute.
func sendUntilAccepted(edgeURL, key string, body []byte) (failed int, err error) {
	deadline := time.Now().Add(time.Minute)
	for {
		st, err := post(edgeURL, key, body)
		if err == nil && st == http.StatusAccepted {
			return failed, nil
		}
		failed++
		if time.Now().After(deadline) {
			return failed, fmt.Errorf("not accepted within a minute: status %d, %v", st, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// regionTraffic sends batches of kind k through one edge, one after the
// other, until stop is closed; accepted counts the batches answered 202.
type regionTraffic struct {
	kind     errorKind
	edgeURL  string
	accepted atomic.Int64
	failed   atomic.Int64
	slowest  atomic.Int64 // longest wait for a 202, retries included, in ns
	done     chan struct{}

	mu  sync.Mutex
	ids []string // of the accepted batches' events
	err error    // why it stopped before stop was closed
}

func (r *regionTraffic) result() ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ids, r.err
}

func (r *regionTraffic) run(key string, clock *atomic.Int64, stop <-chan struct{}) {
	defer close(r.done)
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		session := fmt.Sprintf("%s-%04d", r.kind.region, i)
		ids := []string{session + "-0", session + "-1"}
		start := time.Now()
		failed, err := sendUntilAccepted(r.edgeURL, key, errorBatch(r.kind, session, ids, clock))
		r.failed.Add(int64(failed))
		if d := int64(time.Since(start)); d > r.slowest.Load() {
			r.slowest.Store(d)
		}
		r.mu.Lock()
		if err != nil {
			r.err = fmt.Errorf("%s batch %d: %w", r.kind.region, i, err)
		} else {
			r.ids = append(r.ids, ids...)
		}
		r.mu.Unlock()
		if err != nil {
			return
		}
		r.accepted.Add(1)
		time.Sleep(10 * time.Millisecond)
	}
}

// storedEvent is what the test reads back of an event.
type storedEvent struct {
	ID      string `json:"id"`
	TS      int64  `json:"ts"`
	Region  string `json:"region"`
	IssueID string `json:"issue_id"`
}

// allEvents lists every event of project, paging by ts.
func allEvents(t *testing.T, apiURL, token, project string) []storedEvent {
	t.Helper()
	var all []storedEvent
	before := ""
	for {
		var page struct {
			Events []storedEvent `json:"events"`
		}
		if st := api(t, "GET", apiURL+"/api/v1/events?project="+project+"&limit=1000"+before, token, nil, &page); st != http.StatusOK {
			t.Fatalf("list events: %d", st)
		}
		all = append(all, page.Events...)
		if len(page.Events) < 1000 {
			return all
		}
		before = "&before=" + strconv.FormatInt(page.Events[len(page.Events)-1].TS, 10)
	}
}

// logTails logs the end of every process log in dir, for a failed test.
func logTails(t *testing.T, dir string) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		t.Logf("last lines of %s:\n%s", filepath.Base(f), strings.Join(lines[max(0, len(lines)-30):], "\n"))
	}
}

// streamLeader returns the node leading the REARVIEW stream. With offNode0
// it first asks the leader to step down for as long as it is node 0 (the
// one the first coordinator is connected to, which the test keeps up).
func streamLeader(t *testing.T, cluster *testenv.Cluster, offNode0 bool) int {
	t.Helper()
	nc, err := nats.Connect(strings.Join(cluster.URLs(), ","))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	leader := -1
	testenv.Eventually(t, time.Minute, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s, err := js.Stream(ctx, sdkproto.StreamName)
		if err != nil {
			return err
		}
		cl := s.CachedInfo().Cluster
		if cl == nil || cl.Leader == "" {
			return fmt.Errorf("stream %s has no leader", sdkproto.StreamName)
		}
		if leader = cluster.Node(cl.Leader); leader != 0 || !offNode0 {
			return nil
		}
		if _, err := nc.RequestWithContext(ctx, "$JS.API.STREAM.LEADER.STEPDOWN."+sdkproto.StreamName, nil); err != nil {
			return fmt.Errorf("step down: %w", err)
		}
		return fmt.Errorf("stream %s was led by node 0", sdkproto.StreamName)
	})
	return leader
}

// liveViewer follows one session on a coordinator's live tail and notes
// when each error event arrives.
type liveViewer struct {
	mu       sync.Mutex
	received map[string]time.Time
}

func watchLive(t *testing.T, apiAddr, token, project, session string) *liveViewer {
	t.Helper()
	hdr := http.Header{"Authorization": {"Bearer " + token}}
	ws, resp, err := websocket.DefaultDialer.Dial("ws://"+apiAddr+"/api/v1/live?project="+project+"&session="+session, hdr)
	if err != nil {
		t.Fatalf("dial live on %s: %v (%v)", apiAddr, err, resp)
	}
	t.Cleanup(func() { ws.Close() })
	var first struct {
		Type string `json:"type"`
	}
	if err := ws.ReadJSON(&first); err != nil || first.Type != "snapshot" {
		t.Fatalf("first live message on %s: %+v, %v; want the snapshot", apiAddr, first, err)
	}
	v := &liveViewer{received: map[string]time.Time{}}
	go func() {
		for {
			var m struct {
				Type  string `json:"type"`
				Event struct {
					ID string `json:"id"`
				} `json:"event"`
			}
			if err := ws.ReadJSON(&m); err != nil {
				return
			}
			if m.Type == "error" {
				v.mu.Lock()
				v.received[m.Event.ID] = time.Now()
				v.mu.Unlock()
			}
		}
	}()
	return v
}

// arrivals returns a copy of what arrived so far.
func (v *liveViewer) arrivals() map[string]time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make(map[string]time.Time, len(v.received))
	for id, at := range v.received {
		out[id] = at
	}
	return out
}

// TestClusterWithRegionalLeaves runs the scale-out topology as separate
// processes: a 3-node JetStream cluster holding the stream and buckets
// with three replicas, a leaf node per region with that region's edge
// connected to it, and two coordinators, on nodes 0 and 1, sharing one
// Postgres database and one durable consumer. NATS nodes are restarted and
// killed while both regions send; every accepted event must be stored once
// and counted once in its issue. A live tail viewer on each coordinator
// then follows a session sent through the eu leaf.
func TestClusterWithRegionalLeaves(t *testing.T) {
	bin := rearviewBin(t)
	logDir := t.TempDir()
	t.Cleanup(func() {
		if t.Failed() {
			logTails(t, logDir)
		}
	})
	cluster := testenv.NATSCluster(t, 3)
	leaves := map[string]*testenv.Leaf{"eu": cluster.Leaf(t, "eu"), "us": cluster.Leaf(t, "us")}

	dbURL := testenv.StartPostgres(t).NewDatabase(t, "rearview")

	const token = "rva_e2e_cluster_token"
	// One after the other: the first creates the schema, the stream and
	// the buckets, the second finds them.
	var apiAddrs []string
	for i, node := range []int{0, 1} {
		a := proc.Addr(t)
		proc.Start(t, logDir, fmt.Sprintf("coordinator-%d", i), bin, nil, "coordinator", "--nats-url", cluster.URL(node), "--stream-replicas", "3",
			"--database-url", dbURL, "--listen", a, "--data-dir", t.TempDir(), "--admin-token", token)
		waitHTTP(t, "http://"+a+"/readyz")
		apiAddrs = append(apiAddrs, a)
	}
	apiURL := "http://" + apiAddrs[0]
	var proj struct {
		ID        string `json:"id"`
		IngestKey string `json:"ingest_key"`
	}
	if st := api(t, "POST", apiURL+"/api/v1/projects", token, map[string]string{"name": "Shop"}, &proj); st != http.StatusCreated {
		t.Fatalf("create project: %d", st)
	}
	edgeURLs := map[string]string{}
	for _, region := range []string{"eu", "us"} {
		a := proc.Addr(t)
		proc.Start(t, logDir, "edge-"+region, bin, nil, "edge", "--region", region, "--nats-url", leaves[region].URL(), "--listen", a)
		edgeURLs[region] = "http://" + a
		waitHTTP(t, edgeURLs[region]+"/readyz")
	}

	t.Run("stream, consumer and buckets have three replicas", func(t *testing.T) {
		nc, err := nats.Connect(strings.Join(cluster.URLs(), ","))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// The edges opened the policy and module buckets after the
		// coordinator made them: they must have left them at R3.
		for _, name := range []string{sdkproto.StreamName, "KV_" + sdkproto.KeysBucket, "KV_" + sdkproto.PolicyBucket, "OBJ_" + sdkproto.ModulesBucket, "KV_" + lease.DefaultBucket} {
			s, err := js.Stream(ctx, name)
			if err != nil {
				t.Fatalf("stream %s: %v", name, err)
			}
			if r := s.CachedInfo().Config.Replicas; r != 3 {
				t.Errorf("stream %s has %d replicas, want 3", name, r)
			}
		}
		cons, err := js.Consumer(ctx, sdkproto.StreamName, "coordinator")
		if err != nil {
			t.Fatal(err)
		}
		// Replicas 0 in its config: the consumer follows the stream's.
		if info := cons.CachedInfo(); info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
			t.Errorf("consumer coordinator: cluster %+v, want a leader and 2 replicas", info.Cluster)
		}
		// Both coordinators pull from it: idle, each has a fetch waiting.
		testenv.Eventually(t, 20*time.Second, func() error {
			info, err := cons.Info(ctx)
			if err != nil {
				return err
			}
			if info.NumWaiting < 2 {
				return fmt.Errorf("consumer coordinator has %d pull requests waiting, want one per coordinator", info.NumWaiting)
			}
			return nil
		})
	})

	t.Run("nothing lost or doubled across node restarts", func(t *testing.T) {
		var clock atomic.Int64
		clock.Store(time.Now().UnixMilli() - 24*time.Hour.Milliseconds())
		stop := make(chan struct{})
		traffic := []*regionTraffic{
			{kind: errorKind{"eu", "PaymentError", "card declined", "pay", "checkout.js"}},
			{kind: errorKind{"us", "CartError", "cart is empty", "addToCart", "cart.js"}},
		}
		for _, r := range traffic {
			r.edgeURL, r.done = edgeURLs[r.kind.region], make(chan struct{})
			go r.run(proj.IngestKey, &clock, stop)
		}
		stopped := false
		stopTraffic := func() {
			if !stopped {
				stopped = true
				close(stop)
			}
			for _, r := range traffic {
				<-r.done
			}
		}
		defer stopTraffic()
		// flowing waits until every region has had n more batches
		// accepted, so each fault lands while both regions send.
		flowing := func(n int64) {
			t.Helper()
			from := make([]int64, len(traffic))
			for i, r := range traffic {
				from[i] = r.accepted.Load()
			}
			testenv.Eventually(t, 2*time.Minute, func() error {
				for i, r := range traffic {
					if got := r.accepted.Load() - from[i]; got < n {
						if _, err := r.result(); err != nil {
							return err
						}
						return fmt.Errorf("%s: %d of %d batches accepted", r.kind.region, got, n)
					}
				}
				return nil
			})
		}
		flowing(20)
		// First the stream's leader, gracefully: the publishes in flight
		// meet a leader election. Then the remaining node, hard.
		leader := streamLeader(t, cluster, true)
		other := 3 - leader // of nodes 1 and 2
		t.Logf("restarting node %d, the stream leader", leader)
		cluster.Restart(leader)
		flowing(20)
		t.Logf("killing node %d; the stream leader is node %d", other, streamLeader(t, cluster, false))
		cluster.Kill(other)
		flowing(20) // two of three nodes hold the quorum
		cluster.Start(other)
		flowing(20)
		stopTraffic()

		want := map[string]string{} // event id -> region
		perRegion := map[string]int64{}
		for _, r := range traffic {
			ids, err := r.result()
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				want[id] = r.kind.region
			}
			perRegion[r.kind.region] = int64(len(ids))
			t.Logf("%s: %d batches accepted, %d attempts failed and were retried, longest wait for a 202 %v",
				r.kind.region, r.accepted.Load(), r.failed.Load(), time.Duration(r.slowest.Load()).Round(time.Millisecond))
		}
		var events []storedEvent
		testenv.Eventually(t, 90*time.Second, func() error {
			events = allEvents(t, apiURL, token, proj.ID)
			if len(events) < len(want) {
				return fmt.Errorf("%d of %d events stored", len(events), len(want))
			}
			return nil
		})
		issueRegion := map[string]string{}
		seen := map[string]bool{}
		for _, e := range events {
			region, ok := want[e.ID]
			switch {
			case seen[e.ID]:
				t.Fatalf("event %s listed twice", e.ID)
			case !ok:
				t.Fatalf("event %s stored but never accepted", e.ID)
			case e.Region != region:
				t.Fatalf("event %s stored with region %q, sent through %s", e.ID, e.Region, region)
			case e.IssueID == "":
				t.Fatalf("event %s has no issue", e.ID)
			}
			seen[e.ID] = true
			if r, ok := issueRegion[e.IssueID]; ok && r != region {
				t.Fatalf("issue %s groups events of %s and %s", e.IssueID, r, region)
			}
			issueRegion[e.IssueID] = region
		}
		if len(seen) != len(want) {
			t.Fatalf("%d distinct events stored, %d accepted", len(seen), len(want))
		}
		// Both coordinators answer from the one database.
		for i, a := range apiAddrs {
			var issues struct {
				Issues []struct {
					ID    string `json:"id"`
					Type  string `json:"type"`
					Count int64  `json:"count"`
				} `json:"issues"`
			}
			if st := api(t, "GET", "http://"+a+"/api/v1/issues?project="+proj.ID, token, nil, &issues); st != http.StatusOK {
				t.Fatalf("coordinator %d: list issues: %d", i, st)
			}
			if len(issues.Issues) != len(traffic) {
				t.Fatalf("coordinator %d: %d issues, want one per region: %+v", i, len(issues.Issues), issues.Issues)
			}
			for _, x := range issues.Issues {
				if region := issueRegion[x.ID]; x.Count != perRegion[region] {
					t.Errorf("coordinator %d: issue %s (%s, region %q) counts %d events, %d accepted", i, x.ID, x.Type, region, x.Count, perRegion[region])
				}
			}
		}
	})

	t.Run("live tail on each coordinator follows a session through the eu leaf", func(t *testing.T) {
		const session, n = "live-eu", 50
		var viewers []*liveViewer
		for _, a := range apiAddrs {
			viewers = append(viewers, watchLive(t, a, token, proj.ID, session))
		}
		var clock atomic.Int64
		clock.Store(time.Now().UnixMilli())
		kind := errorKind{"eu", "LiveError", "tail me", "watch", "live.js"}
		sent, accepted := map[string]time.Time{}, map[string]time.Time{}
		for i := 0; i < n; i++ {
			id := fmt.Sprintf("%s-%02d", session, i)
			body := errorBatch(kind, session, []string{id}, &clock)
			sent[id] = time.Now()
			if _, err := sendUntilAccepted(edgeURLs["eu"], proj.IngestKey, body); err != nil {
				t.Fatal(err)
			}
			accepted[id] = time.Now()
			time.Sleep(20 * time.Millisecond)
		}
		p := func(ds []time.Duration, q float64) time.Duration {
			slices.Sort(ds)
			return ds[int(q*float64(len(ds)-1))]
		}
		for i, v := range viewers {
			testenv.Eventually(t, 30*time.Second, func() error {
				if got := len(v.arrivals()); got < n {
					return fmt.Errorf("coordinator %d: %d of %d live events received", i, got, n)
				}
				return nil
			})
			var fromPost, from202 []time.Duration
			for id, at := range v.arrivals() {
				if _, ok := sent[id]; !ok {
					t.Fatalf("coordinator %d: live event %s was never sent", i, id)
				}
				fromPost = append(fromPost, at.Sub(sent[id]))
				from202 = append(from202, at.Sub(accepted[id]))
			}
			// The live subscription sees a message when JetStream does,
			// so it may arrive before the edge's 202: a negative latency.
			t.Logf("live tail on coordinator %d (node %d) via leaf eu, %d events: from POST p50 %v p99 %v; from 202 p50 %v p99 %v",
				i, i, n, p(fromPost, 0.5), p(fromPost, 0.99), p(from202, 0.5), p(from202, 0.99))
		}
	})
}
