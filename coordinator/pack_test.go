package coordinator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/coordinator"
	"github.com/rearview-dev/rearview/coordinator/blob"
	"github.com/rearview-dev/rearview/internal/testenv"
)

// segmentBatch is a batch holding segment n of session, the fixture
// recording's events [from, to).
func segmentBatch(t *testing.T, session string, n int, evs []json.RawMessage, eventID string) []byte {
	t.Helper()
	var ts struct {
		Timestamp int64 `json:"timestamp"`
	}
	json.Unmarshal(evs[0], &ts)
	first := ts.Timestamp
	json.Unmarshal(evs[len(evs)-1], &ts)
	b, _ := json.Marshal(map[string]any{
		"v": 1, "sdk": map[string]any{"name": "@rearview/browser", "version": "0.1.0"},
		"session": map[string]any{"id": session, "seq": n + 1, "started_at": first, "flags": map[string]any{}},
		"page":    map[string]any{"url": "https://shop.example.com/"},
		"device":  map[string]any{"ua": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "viewport": map[string]any{"w": 1280, "h": 720}},
		"sent_at": ts.Timestamp,
		"events":  []any{map[string]any{"id": eventID, "ts": first, "kind": "replay", "replay": map[string]any{"segment": n, "end_ts": ts.Timestamp, "events": evs}}},
	})
	return b
}

// fixtureEvents is n events of the recorded fixture session, after its
// 211 KB full snapshot: packing that at quality 11 would take the tests a
// second each time.
func fixtureEvents(t *testing.T, n int) []json.RawMessage {
	t.Helper()
	raw, err := os.ReadFile("testdata/session.json")
	if err != nil {
		t.Fatal(err)
	}
	var evs []json.RawMessage
	if err := json.Unmarshal(raw, &evs); err != nil {
		t.Fatal(err)
	}
	return evs[4 : 4+n]
}

// rawSegment is segment n of session as the player reads it.
func (s *system) rawSegment(t *testing.T, session string, n int) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/api/v1/sessions/%s/segments/%d", s.api, session, n), nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// recordSession stores segments of 20 fixture events each and returns
// each as the API serves it before any packing.
func recordSession(t *testing.T, s *system, session string, segments int) [][]byte {
	t.Helper()
	evs := fixtureEvents(t, 20*segments)
	for i := 0; i < segments; i++ {
		if st := s.post(t, segmentBatch(t, session, i, evs[20*i:20*i+20], fmt.Sprintf("%s-r%d", session, i))); st != http.StatusAccepted {
			t.Fatalf("post segment %d: %d", i, st)
		}
	}
	waitConsumed(t, s)
	var want [][]byte
	for i := 0; i < segments; i++ {
		st, b := s.rawSegment(t, session, i)
		if st != http.StatusOK || !bytes.HasPrefix(b, []byte(`[{"type"`)) {
			t.Fatalf("segment %d before packing: %d %.60q", i, st, b)
		}
		want = append(want, b)
	}
	return want
}

// sessionObjects lists the objects stored under session's folder.
func sessionObjects(t *testing.T, s *system, session string) []string {
	t.Helper()
	var out []string
	err := s.blobs.List(context.Background(), "replays/", func(i blob.Info) bool {
		if strings.Contains(i.Key, "/"+session+"/") {
			out = append(out, i.Key[strings.LastIndex(i.Key, "/")+1:])
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// playable checks that every segment reads as it did before packing.
func playable(t *testing.T, s *system, session string, want [][]byte) {
	t.Helper()
	for i, w := range want {
		st, b := s.rawSegment(t, session, i)
		if st != http.StatusOK || !bytes.Equal(b, w) {
			t.Fatalf("segment %d: %d, %d bytes, want the %d bytes stored", i, st, len(b), len(w))
		}
	}
}

// packedWhole checks the layout after packing: one object holds every
// segment, nothing else is left, and the sizes add up.
func packedWhole(t *testing.T, s *system, session string, segments int) {
	t.Helper()
	objs := sessionObjects(t, s, session)
	if want := fmt.Sprintf("pack-%d-%d.rvp", segments-1, segments); len(objs) != 1 || objs[0] != want {
		t.Fatalf("objects of the session %v, want only %s", objs, want)
	}
	if n := s.count(t, `SELECT count(DISTINCT blob_key) FROM replay_segments WHERE session_id = ?`, session); n != 1 {
		t.Errorf("rows name %d objects", n)
	}
	if n := s.count(t, `SELECT count(*) FROM replay_garbage`); n != 0 {
		t.Errorf("%d garbage rows left", n)
	}
	var key string
	if err := s.db.QueryRow(`SELECT blob_key FROM replay_segments WHERE session_id = ? LIMIT 1`, session).Scan(&key); err != nil {
		t.Fatal(err)
	}
	info, err := s.blobs.Stat(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if sum, total := s.count(t, `SELECT sum(bytes) FROM replay_segments WHERE session_id = ?`, session), s.count(t, `SELECT replay_bytes FROM sessions WHERE id = ?`, session); int64(sum) != info.Size || int64(total) != info.Size {
		t.Errorf("segments' bytes add up to %d, session says %d, the pack is %d", sum, total, info.Size)
	}
}

func projectOf(t *testing.T, s *system, session string) string {
	t.Helper()
	var p string
	if err := s.db.QueryRow(`SELECT project FROM sessions WHERE id = ?`, session).Scan(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestReplayPack packs a session on the filesystem and on MinIO: the
// player reads the same segments from one object, packing again changes
// nothing, a late segment is stored on its own and packed in with the rest,
// and a redelivered segment does not bring its deleted object back.
func TestReplayPack(t *testing.T) {
	stores := map[string]func(t *testing.T) blob.Store{
		"dir": func(t *testing.T) blob.Store {
			d, err := blob.NewDir(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return d
		},
		"minio": func(t *testing.T) blob.Store {
			m := testenv.StartMinIO(t)
			st, err := blob.NewS3(context.Background(), blob.S3Config{Endpoint: m.Endpoint, Bucket: "rearview-pack", AccessKey: m.AccessKey, SecretKey: m.SecretKey})
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
	}
	for name, store := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := start(t, store(t))
			want := recordSession(t, s, "s-pack", 4)
			project := projectOf(t, s, "s-pack")
			before := s.count(t, `SELECT replay_bytes FROM sessions WHERE id = 's-pack'`)
			ok, err := s.coord.PackSession(ctx, project, "s-pack")
			if err != nil || !ok {
				t.Fatalf("pack: %v %v", ok, err)
			}
			playable(t, s, "s-pack", want)
			packedWhole(t, s, "s-pack", 4)
			after := s.count(t, `SELECT replay_bytes FROM sessions WHERE id = 's-pack'`)
			t.Logf("4 segments: %d bytes stored alone, %d packed", before, after)
			if after >= before {
				t.Errorf("packed %d bytes, %d before", after, before)
			}
			if ok, err := s.coord.PackSession(ctx, project, "s-pack"); err != nil || ok {
				t.Errorf("second pack: %v %v, want nothing to do", ok, err)
			}

			// Segment 2 again under another event id: already stored, not written.
			evs := fixtureEvents(t, 100)
			if st := s.post(t, segmentBatch(t, "s-pack", 2, evs[40:60], "s-pack-again")); st != http.StatusAccepted {
				t.Fatalf("post: %d", st)
			}
			// The session resumes: segment 4 is stored on its own.
			if st := s.post(t, segmentBatch(t, "s-pack", 4, evs[80:100], "s-pack-r4")); st != http.StatusAccepted {
				t.Fatalf("post: %d", st)
			}
			waitConsumed(t, s)
			if objs := sessionObjects(t, s, "s-pack"); len(objs) != 2 {
				t.Fatalf("after a late segment: objects %v, want the pack and segment 4", objs)
			}
			st, seg4 := s.rawSegment(t, "s-pack", 4)
			if st != http.StatusOK {
				t.Fatalf("segment 4: %d", st)
			}
			want = append(want, seg4)
			if n, err := s.coord.PackDue(ctx, nowPlus(coordinator.DefaultReplayPackAfter), 10); err != nil || n != 1 {
				t.Fatalf("pack due: %d %v", n, err)
			}
			playable(t, s, "s-pack", want)
			packedWhole(t, s, "s-pack", 5)
		})
	}
}

// TestReplayPackCrash stops packing after each step as a crash would: the
// session plays from whatever the rows name, and the next pass finishes
// the work with nothing left over.
func TestReplayPackCrash(t *testing.T) {
	s := start(t, nil)
	ctx := context.Background()
	crash := errors.New("crash")
	for _, step := range []string{"packed", "switched", "deleted"} {
		t.Run(step, func(t *testing.T) {
			session := "s-crash-" + step
			want := recordSession(t, s, session, 3)
			project := projectOf(t, s, session)
			coordinator.SetPackFault(s.coord, func(at string) error {
				if at == step {
					return crash
				}
				return nil
			})
			if _, err := s.coord.PackSession(ctx, project, session); !errors.Is(err, crash) {
				t.Fatalf("pack: %v, want the crash", err)
			}
			coordinator.SetPackFault(s.coord, func(string) error { return nil })
			playable(t, s, session, want)
			// Still due, so the next pass picks it up.
			if n, err := s.coord.PackDue(ctx, nowPlus(coordinator.DefaultReplayPackAfter), 10); err != nil {
				t.Fatalf("next pass: %d %v", n, err)
			}
			playable(t, s, session, want)
			packedWhole(t, s, session, 3)
			if n := s.count(t, `SELECT count(*) FROM sessions WHERE id = ? AND replay_pack_due > 0`, session); n != 0 {
				t.Errorf("session still due after packing")
			}
		})
	}
}

// TestReplayPackTwoCoordinators packs one session from two coordinators
// at once (as two lease holders overlapping would): one pack results and
// every segment plays.
func TestReplayPackTwoCoordinators(t *testing.T) {
	s := start(t, nil)
	ctx := context.Background()
	want := recordSession(t, s, "s-two", 3)
	project := projectOf(t, s, "s-two")
	other, err := coordinator.New(ctx, coordinator.Config{JetStream: s.js, DB: s.db, Blobs: s.blobs, AdminToken: admin})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, c := range []*coordinator.Coordinator{s.coord, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One may find the rows switched under it and fail: nothing is lost.
			c.PackSession(ctx, project, "s-two")
		}()
	}
	wg.Wait()
	if _, err := s.coord.PackSession(ctx, project, "s-two"); err != nil {
		t.Fatal(err)
	}
	playable(t, s, "s-two", want)
	packedWhole(t, s, "s-two", 3)
}

func nowPlus(d time.Duration) time.Time { return time.Now().Add(d + time.Second) }

// TestReplayPackSkipsBrokenSession: a session whose segment object is gone
// is put off, and the next session due is packed all the same.
func TestReplayPackSkipsBrokenSession(t *testing.T) {
	s := start(t, nil)
	ctx := context.Background()
	recordSession(t, s, "s-broken", 2)
	want := recordSession(t, s, "s-fine", 2)
	var key string
	if err := s.db.QueryRow(`SELECT blob_key FROM replay_segments WHERE session_id = 's-broken' AND segment = 1`).Scan(&key); err != nil {
		t.Fatal(err)
	}
	if err := s.blobs.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	// s-broken is due first.
	if _, err := s.db.Exec(`UPDATE sessions SET replay_pack_due = 1 WHERE id = 's-broken'`); err != nil {
		t.Fatal(err)
	}
	n, err := s.coord.PackDue(ctx, nowPlus(coordinator.DefaultReplayPackAfter), 10)
	if err != nil || n != 1 {
		t.Fatalf("pack due: %d %v, want s-fine packed", n, err)
	}
	playable(t, s, "s-fine", want)
	packedWhole(t, s, "s-fine", 2)
	if n := s.count(t, `SELECT count(*) FROM sessions WHERE id = 's-broken' AND replay_pack_due > ?`, time.Now().UnixMilli()); n != 1 {
		t.Errorf("the broken session is not put off")
	}
	if objs := sessionObjects(t, s, "s-broken"); len(objs) != 1 || objs[0] != "0.json.br" {
		t.Errorf("broken session's objects %v, want its segment 0 left as it was", objs)
	}
}

// TestReplayPackOnSessionEnd: a session that says it ended is due at once,
// not after ReplayPackAfter.
func TestReplayPackOnSessionEnd(t *testing.T) {
	s := start(t, nil)
	ctx := context.Background()
	want := recordSession(t, s, "s-end", 2)
	if n, err := s.coord.PackDue(ctx, time.Now(), 10); err != nil || n != 0 {
		t.Fatalf("pack due before the end: %d %v, want none (idle for less than %s)", n, err, coordinator.DefaultReplayPackAfter)
	}
	var batch map[string]any
	json.Unmarshal(segmentBatch(t, "s-end", 9, fixtureEvents(t, 1), "x"), &batch)
	batch["events"] = []any{map[string]any{"id": "s-end-end", "ts": time.Now().UnixMilli(), "kind": "session", "session": map[string]any{"state": "end"}}}
	body, _ := json.Marshal(batch)
	if st := s.post(t, body); st != http.StatusAccepted {
		t.Fatalf("post end: %d", st)
	}
	waitConsumed(t, s)
	if n, err := s.coord.PackDue(ctx, time.Now().Add(time.Second), 10); err != nil || n != 1 {
		t.Fatalf("pack due after the end: %d %v, want the session packed", n, err)
	}
	playable(t, s, "s-end", want)
	packedWhole(t, s, "s-end", 2)
}

// packOnRead is a blob store that packs the session the first time the
// player reads one of its segment objects, between the API reading the
// segment's row and reading its object: the object is gone by then.
type packOnRead struct {
	blob.Store
	pack    atomic.Pointer[func()]
	tripped atomic.Bool
}

func (p *packOnRead) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	// Swapped out first: the packer's own reads pass through.
	if f := p.pack.Swap(nil); f != nil && strings.HasSuffix(key, ".json.br") {
		(*f)()
		p.tripped.Store(true)
	}
	return p.Store.Get(ctx, key)
}

// TestReplayPackedWhileRead: a segment whose object is deleted by packing
// while the player reads it is served from the pack.
func TestReplayPackedWhileRead(t *testing.T) {
	dir, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p := &packOnRead{Store: dir}
	s := start(t, p)
	evs := fixtureEvents(t, 40)
	for i := 0; i < 2; i++ {
		if st := s.post(t, segmentBatch(t, "s-race", i, evs[20*i:20*i+20], fmt.Sprintf("s-race-r%d", i))); st != http.StatusAccepted {
			t.Fatalf("post: %d", st)
		}
	}
	waitConsumed(t, s)
	project := projectOf(t, s, "s-race")
	pack := func() {
		if _, err := s.coord.PackSession(context.Background(), project, "s-race"); err != nil {
			t.Errorf("pack: %v", err)
		}
	}
	p.pack.Store(&pack)
	st, b := s.rawSegment(t, "s-race", 1)
	if !p.tripped.Load() {
		t.Fatal("the read did not race the packing")
	}
	if st != http.StatusOK || !bytes.HasPrefix(b, []byte(`[{"type"`)) {
		t.Fatalf("segment 1 read while packed: %d %.80q", st, b)
	}
	packedWhole(t, s, "s-race", 2)
}
