package coordinator_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/rearview-dev/rearview/coordinator"
	"github.com/rearview-dev/rearview/coordinator/blob"
	"github.com/rearview-dev/rearview/coordinator/store"
	"github.com/rearview-dev/rearview/coordinator/store/storetest"
	"github.com/rearview-dev/rearview/edge"
	"github.com/rearview-dev/rearview/internal/testenv"
	"github.com/rearview-dev/rearview/sdkproto"
)

const admin = "rva_test_admin"

type system struct {
	js     jetstream.JetStream
	db     *sql.DB
	blobs  blob.Store
	coord  *coordinator.Coordinator
	api    string
	edge   string
	key    string
	token  string
	stop   func()
	dbPath string
}

// start runs NATS, a coordinator (consuming) and an edge, all real.
func start(t *testing.T, blobs blob.Store) *system {
	t.Helper()
	_, js := testenv.JetStream(t)
	ctx := context.Background()
	dbPath := storetest.DSN(t)
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if blobs == nil {
		blobs, _ = blob.NewDir(t.TempDir())
	}
	s := &system{js: js, db: db, blobs: blobs, dbPath: dbPath}
	s.startCoordinator(t)
	p, tok, err := s.coord.CreateProject(ctx, "Shop", "")
	if err != nil {
		t.Fatal(err)
	}
	s.key, s.token = p.IngestKey, tok
	ed, err := edge.New(edge.Config{Region: "eu", JetStream: js})
	if err != nil {
		t.Fatal(err)
	}
	ectx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	go ed.Run(ectx)
	es := httptest.NewServer(ed.Handler())
	t.Cleanup(es.Close)
	s.edge = es.URL
	testenv.Eventually(t, 10*time.Second, func() error {
		if !ed.Ready() {
			return fmt.Errorf("edge not ready")
		}
		return nil
	})
	// The key was published before the watch started or after: either
	// way the edge must know it.
	testenv.Eventually(t, 10*time.Second, func() error {
		if st := s.post(t, vectorWithSession(t, "vitals-batch.json", "warmup")); st != http.StatusAccepted {
			return fmt.Errorf("warm-up post: %d", st)
		}
		return nil
	})
	return s
}

func (s *system) startCoordinator(t *testing.T) {
	t.Helper()
	c, err := coordinator.New(context.Background(), coordinator.Config{JetStream: s.js, DB: s.db, Blobs: s.blobs, AdminToken: admin, FetchBatch: 16})
	if err != nil {
		t.Fatal(err)
	}
	s.coord = c
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	s.stop = func() { cancel(); <-done }
	t.Cleanup(func() { s.stop() })
	as := httptest.NewServer(c.Handler())
	t.Cleanup(as.Close)
	s.api = as.URL
}

func vectorWithSession(t testing.TB, name, session string) []byte {
	b, err := os.ReadFile("../sdkproto/testdata/valid/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	m["session"].(map[string]any)["id"] = session
	for i, ev := range m["events"].([]any) {
		// Unique across the vectors too: two of them in one session must
		// not share an event id, whichever is stored first.
		ev.(map[string]any)["id"] = fmt.Sprintf("%s-%s-%d", session, strings.TrimSuffix(name, ".json"), i)
	}
	out, _ := json.Marshal(m)
	return out
}

func (s *system) post(t testing.TB, body []byte) int {
	req, _ := http.NewRequest(http.MethodPost, s.edge+"/v1/ingest", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Rearview-Key", s.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func (s *system) get(t testing.TB, token, path string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.api+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("decode %s: %v: %s", path, err, b)
		}
	}
	return resp.StatusCode
}

func (s *system) count(t testing.TB, q string, args ...any) int {
	var n int
	if err := s.db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPostIsVisibleThroughAPI(t *testing.T) {
	s := start(t, nil)
	if st := s.post(t, vectorWithSession(t, "error-batch.json", "s-api")); st != 202 {
		t.Fatalf("post: %d", st)
	}
	var evs struct{ Events []coordinator.Event }
	testenv.Eventually(t, 10*time.Second, func() error {
		if s.get(t, s.token, "/api/v1/events?session=s-api", &evs); len(evs.Events) != 2 {
			return fmt.Errorf("%d events visible", len(evs.Events))
		}
		return nil
	})
	var sess coordinator.Session
	if st := s.get(t, s.token, "/api/v1/sessions/s-api", &sess); st != 200 || sess.Events != 2 || sess.Errors != 1 || sess.Region != "eu" || !sess.FlagError {
		t.Fatalf("session %d %+v", st, sess)
	}
	t.Run("auth", func(t *testing.T) {
		if st := s.get(t, "", "/api/v1/events", nil); st != 401 {
			t.Errorf("no token: %d", st)
		}
		if st := s.get(t, "rvt_wrong", "/api/v1/events", nil); st != 401 {
			t.Errorf("wrong token: %d", st)
		}
		if st := s.get(t, admin, "/api/v1/events", nil); st != 400 {
			t.Errorf("admin without project: %d", st)
		}
		if st := s.get(t, admin, "/api/v1/events?project=shop", nil); st != 200 {
			t.Errorf("admin with project: %d", st)
		}
		if st := s.get(t, s.token, "/api/v1/events?project=other", nil); st != 403 {
			t.Errorf("project token on other project: %d", st)
		}
	})
}

func TestSameBatchTwiceCountsOnce(t *testing.T) {
	s := start(t, nil)
	body := vectorWithSession(t, "error-batch.json", "s-twice")
	for i := 0; i < 2; i++ {
		if st := s.post(t, body); st != 202 {
			t.Fatalf("post %d: %d", i, st)
		}
	}
	// Bypass the stream's dedupe window too: publish the same events under
	// fresh message ids, as a redelivery after a crash would.
	b, _, _ := sdkproto.Decode(body, sdkproto.DefaultLimits())
	b.Events = b.Events[:1]
	data, _ := sdkproto.Encode(b)
	for i := 0; i < 3; i++ {
		m := nats.NewMsg(sdkproto.Subject("eu", "shop", sdkproto.KindError))
		m.Data = data
		m.Header.Set(sdkproto.HeaderMsgID, fmt.Sprintf("redelivery-%d", i))
		if _, err := s.js.PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	waitConsumed(t, s)
	if n := s.count(t, `SELECT count(*) FROM events WHERE session_id = 's-twice'`); n != 2 {
		t.Fatalf("%d events stored, want 2", n)
	}
	if n := s.count(t, `SELECT events FROM sessions WHERE id = 's-twice'`); n != 2 {
		t.Fatalf("session counts %d events, want 2", n)
	}
}

// waitConsumed waits until the consumer has acknowledged everything.
func waitConsumed(t *testing.T, s *system) {
	t.Helper()
	testenv.Eventually(t, 20*time.Second, func() error {
		return testenv.Drained(context.Background(), s.js, sdkproto.StreamName, "coordinator")
	})
}

func TestRestartMidStreamLosesNothing(t *testing.T) {
	s := start(t, nil)
	const sessions = 60
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < sessions; i++ {
			if st := s.post(t, vectorWithSession(t, "error-batch.json", fmt.Sprintf("r-%03d", i))); st == 202 {
				mu.Lock()
				accepted++
				mu.Unlock()
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	// Stop and restart the coordinator twice while batches arrive.
	for i := 0; i < 2; i++ {
		time.Sleep(60 * time.Millisecond)
		s.stop()
		time.Sleep(30 * time.Millisecond)
		s.startCoordinator(t)
	}
	wg.Wait()
	if accepted != sessions {
		t.Fatalf("edge accepted %d of %d", accepted, sessions)
	}
	waitConsumed(t, s)
	if n := s.count(t, `SELECT count(*) FROM events WHERE session_id LIKE 'r-%'`); n != 2*sessions {
		t.Fatalf("%d events stored, want %d", n, 2*sessions)
	}
	if n := s.count(t, `SELECT sum(events) FROM sessions WHERE id LIKE 'r-%'`); n != 2*sessions {
		t.Fatalf("sessions count %d events, want %d", n, 2*sessions)
	}
}

func TestReplaySegmentsInMinIO(t *testing.T) {
	m := testenv.StartMinIO(t)
	s3, err := blob.NewS3(context.Background(), blob.S3Config{Endpoint: m.Endpoint, Bucket: "replays-test", AccessKey: m.AccessKey, SecretKey: m.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	s := start(t, s3)
	if st := s.post(t, vectorWithSession(t, "replay-batch.json", "s-rep")); st != 202 {
		t.Fatalf("post: %d", st)
	}
	waitConsumed(t, s)
	var segs struct{ Segments []coordinator.Segment }
	if st := s.get(t, s.token, "/api/v1/sessions/s-rep/segments", &segs); st != 200 || len(segs.Segments) != 1 || !segs.Segments[0].FromBuffer {
		t.Fatalf("segments %d %+v", st, segs)
	}
	key := coordinator.ReplayKey("shop", "s-rep", 1764028800000, 0)
	if key != "replays/shop/2025/11/25/s-rep/0.json.br" {
		t.Fatalf("key %s", key)
	}
	rc, err := s3.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("object not in MinIO: %v", err)
	}
	raw, _ := io.ReadAll(brotli.NewReader(rc))
	rc.Close()
	var events []map[string]any
	if err := json.Unmarshal(raw, &events); err != nil || len(events) != 3 {
		t.Fatalf("stored segment: %v %d", err, len(events))
	}
	var viaAPI []map[string]any
	if st := s.get(t, s.token, "/api/v1/sessions/s-rep/segments/0", &viaAPI); st != 200 || len(viaAPI) != 3 {
		t.Fatalf("segment via API: %d %d", st, len(viaAPI))
	}

	t.Run("live tail history", func(t *testing.T) {
		evs, err := s.coord.ReplaySince(context.Background(), "shop", "s-rep")
		if err != nil || len(evs) == 0 || !bytes.Contains(evs[0], []byte(`"type":4`)) {
			t.Fatalf("ReplaySince = %d events (%v), want from the meta event on", len(evs), err)
		}
	})

	t.Run("retention deletes expired objects", func(t *testing.T) {
		ctx := context.Background()
		// The vector's segment is from 2025, past the 30-day default;
		// its events arrived just now and stay for 90 days.
		swept, err := s.coord.Sweep(ctx, time.Now())
		if err != nil || swept.Segments != 1 || swept.Events != 0 || swept.Sessions != 0 {
			t.Fatalf("sweep = %+v, %v; want one segment", swept, err)
		}
		if _, err := s3.Stat(ctx, key); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("expired object still in MinIO: %v", err)
		}
		if n := s.count(t, `SELECT count(*) FROM replay_segments WHERE session_id = 's-rep'`); n != 0 {
			t.Fatalf("%d segment rows left", n)
		}
		swept, err = s.coord.Sweep(ctx, time.Now().Add(91*24*time.Hour))
		if err != nil || swept.Events == 0 || swept.Sessions == 0 {
			t.Fatalf("sweep 91 days on = %+v, %v; want events and sessions deleted", swept, err)
		}
		if n := s.count(t, `SELECT count(*) FROM sessions WHERE id = 's-rep'`); n != 0 {
			t.Fatal("expired session still indexed")
		}
		if again, err := s.coord.Sweep(ctx, time.Now().Add(91*24*time.Hour)); err != nil || again != (coordinator.Swept{}) {
			t.Fatalf("second sweep = %+v, %v; want nothing left to do", again, err)
		}
	})
}
