package coordinator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/coordinator"
	"github.com/rearview-dev/rearview/internal/testenv"
)

// patch sends a PATCH with token and returns the status and decoded body.
func (s *system) patch(t testing.TB, token, path, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPatch, s.api+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("PATCH %s: %d %q is not JSON: %v", path, resp.StatusCode, b, err)
	}
	return resp.StatusCode, out
}

// postKey posts body to the edge with another project's ingest key.
func (s *system) postKey(t testing.TB, key string, body []byte) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.edge+"/v1/ingest", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Rearview-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestPatchProjectRetention(t *testing.T) {
	s := start(t, nil)
	tests := []struct {
		name, token, path, body string
		status                  int
		code                    string
	}{
		{name: "both", token: admin, path: "/api/v1/projects/shop", body: `{"replay_retention_days":14,"event_retention_days":30}`, status: 200},
		{name: "one keeps the other", token: admin, path: "/api/v1/projects/shop", body: `{"event_retention_days":45}`, status: 200},
		{name: "zero", token: admin, path: "/api/v1/projects/shop", body: `{"replay_retention_days":0}`, status: 400, code: "bad_retention"},
		{name: "negative", token: admin, path: "/api/v1/projects/shop", body: `{"event_retention_days":-3}`, status: 400, code: "bad_retention"},
		{name: "too long", token: admin, path: "/api/v1/projects/shop", body: fmt.Sprintf(`{"event_retention_days":%d}`, coordinator.MaxRetentionDays+1), status: 400, code: "bad_retention"},
		{name: "fraction", token: admin, path: "/api/v1/projects/shop", body: `{"event_retention_days":1.5}`, status: 400, code: "bad_request"},
		{name: "string", token: admin, path: "/api/v1/projects/shop", body: `{"event_retention_days":"30d"}`, status: 400, code: "bad_request"},
		{name: "unknown field", token: admin, path: "/api/v1/projects/shop", body: `{"name":"Renamed"}`, status: 400, code: "bad_request"},
		{name: "nothing to set", token: admin, path: "/api/v1/projects/shop", body: `{}`, status: 400, code: "bad_request"},
		{name: "unknown project", token: admin, path: "/api/v1/projects/nope", body: `{"event_retention_days":30}`, status: 404, code: "not_found"},
		{name: "project token", token: s.token, path: "/api/v1/projects/shop", body: `{"event_retention_days":30}`, status: 403, code: "forbidden"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, body := s.patch(t, tc.token, tc.path, tc.body)
			if st != tc.status {
				t.Fatalf("status %d %v, want %d", st, body, tc.status)
			}
			if tc.code != "" && (body["error"] != tc.code || body["detail"] == "") {
				t.Errorf("body %v, want error %q with a detail", body, tc.code)
			}
		})
	}
	// The rejected requests changed nothing after the two accepted ones.
	var rd, ed int
	if err := s.db.QueryRow(`SELECT replay_retention_days, event_retention_days FROM projects WHERE id = 'shop'`).Scan(&rd, &ed); err != nil || rd != 14 || ed != 45 {
		t.Fatalf("stored retention %d/%d (%v), want 14/45", rd, ed, err)
	}
}

// TestRetentionOverrideIsPerProject gives shop 14 days of replays and 30 of
// events through the API, leaves blog on the defaults (30 and 90), and
// checks that a sweep deletes only what each project's own policy expires.
func TestRetentionOverrideIsPerProject(t *testing.T) {
	s := start(t, nil)
	ctx := context.Background()
	blog, _, err := s.coord.CreateProject(ctx, "Blog", "")
	if err != nil {
		t.Fatal(err)
	}
	if st, body := s.patch(t, admin, "/api/v1/projects/shop", `{"replay_retention_days":14,"event_retention_days":30}`); st != 200 ||
		body["replay_retention_days"] != 14.0 || body["event_retention_days"] != 30.0 {
		t.Fatalf("set retention: %d %v", st, body)
	}
	for _, p := range []struct{ key, session string }{{s.key, "s-shop"}, {blog.IngestKey, "s-blog"}} {
		// The edge may not have seen blog's key yet.
		testenv.Eventually(t, 10*time.Second, func() error {
			for _, v := range []string{"replay-batch.json", "error-batch.json"} {
				if st := s.postKey(t, p.key, vectorWithSession(t, v, p.session)); st != http.StatusAccepted {
					return fmt.Errorf("post %s for %s: %d", v, p.session, st)
				}
			}
			return nil
		})
	}
	waitConsumed(t, s)
	count := func(table, project string) int {
		return s.count(t, `SELECT count(*) FROM `+table+` WHERE project = ? AND session_id = ?`, project, "s-"+project)
	}
	for _, p := range []string{"shop", "blog"} {
		if count("replay_segments", p) != 1 || count("events", p) == 0 {
			t.Fatalf("%s stored %d segments, %d events; want 1 and some", p, count("replay_segments", p), count("events", p))
		}
	}
	blogEvents := count("events", "blog")

	// The vector's segment ends on 2025-11-25: twenty days later it is past
	// shop's 14 days and within blog's default 30.
	segEnd := time.UnixMilli(1764028800000)
	if _, err := s.coord.Sweep(ctx, segEnd.Add(20*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := count("replay_segments", "shop"); n != 0 {
		t.Errorf("shop keeps %d segments past its 14 days", n)
	}
	if n := count("replay_segments", "blog"); n != 1 {
		t.Errorf("blog keeps %d segments within its default 30 days, want 1", n)
	}

	// The events arrived now: forty days on they are past shop's 30 days
	// and within blog's default 90.
	if _, err := s.coord.Sweep(ctx, time.Now().Add(40*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := count("events", "shop"); n != 0 {
		t.Errorf("shop keeps %d events past its 30 days", n)
	}
	if n := count("events", "blog"); n != blogEvents {
		t.Errorf("blog keeps %d of its %d events within its default 90 days", n, blogEvents)
	}
	if n := s.count(t, `SELECT count(*) FROM sessions WHERE project = 'shop' AND id = 's-shop'`); n != 0 {
		t.Errorf("shop's session with neither replay nor events is still indexed")
	}
}
