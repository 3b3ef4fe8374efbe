package issues_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/rearview-dev/rearview/coordinator"
	"github.com/rearview-dev/rearview/coordinator/blob"
	"github.com/rearview-dev/rearview/coordinator/issues"
	"github.com/rearview-dev/rearview/coordinator/store/storetest"
	"github.com/rearview-dev/rearview/coordinator/symbolicate"
	"github.com/rearview-dev/rearview/internal/testenv"
	"github.com/rearview-dev/rearview/sdkproto"
)

const admin = "rva_issues_admin"

// mapSymbolicator stands in for source maps: it resolves a minified
// function name of a bundle to an original file and function, ignoring
// line and column like a real map would not, which is enough to test that
// grouping uses originals.
type mapSymbolicator map[string]symbolicate.Position

func (m mapSymbolicator) Symbolicate(ctx context.Context, project string, e *sdkproto.Error) ([]symbolicate.Frame, error) {
	out := make([]symbolicate.Frame, len(e.Stack))
	for i, f := range e.Stack {
		out[i] = symbolicate.Frame{Frame: f, InApp: true}
		if p, ok := m[f.Function]; ok {
			p.Line, p.Column = f.Line+100, f.Column/7
			out[i].Original = &p
			out[i].Context = &symbolicate.Context{Line: "return props.items.map(render)"}
		} else {
			out[i].UnresolvedReason = "no source map for release"
		}
	}
	return out, nil
}

type env struct {
	js       jetstream.JetStream
	coord    *coordinator.Coordinator
	svc      *issues.Service
	api      string
	projects [2]string
	tokens   [2]string
	seq      int
}

func newEnv(t testing.TB, sym issues.Symbolicator) *env {
	t.Helper()
	_, js := testenv.JetStream(t)
	ctx := context.Background()
	db := storetest.Open(t)
	blobs, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c, err := coordinator.New(ctx, coordinator.Config{JetStream: js, DB: db, Blobs: blobs, AdminToken: admin, FetchBatch: 64})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{js: js, coord: c}
	e.svc = issues.Register(c, sym, issues.Options{})
	for i, name := range []string{"Shop", "Blog"} {
		p, tok, err := c.CreateProject(ctx, name, "")
		if err != nil {
			t.Fatal(err)
		}
		e.projects[i], e.tokens[i] = p.ID, tok
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { c.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	srv := httptest.NewServer(c.Handler(e.svc.Mount))
	t.Cleanup(srv.Close)
	e.api = srv.URL
	return e
}

// errorEvent builds an error event thrown by the given minified functions
// of a bundle, innermost first.
func errorEvent(id, release, bundle string, fns ...string) sdkproto.Event {
	var stack []sdkproto.Frame
	for i, fn := range fns {
		stack = append(stack, sdkproto.Frame{URL: "https://shop.example.com/static/js/" + bundle, Function: fn, Line: 1, Column: 1000*(i+1) + len(id)})
	}
	return sdkproto.Event{ID: id, TS: time.Now().UnixMilli(), Kind: sdkproto.KindError, Error: &sdkproto.Error{
		Type: "TypeError", Value: "Cannot read properties of undefined (reading 'map')",
		Mechanism: sdkproto.MechanismOnError, Stack: stack, Release: release,
		URL: "https://shop.example.com/products/42",
	}}
}

// publish sends a batch of error events for a session the way an edge
// does, bypassing JetStream's dedupe so redelivery can be simulated.
func (e *env) publish(t testing.TB, project, session, user string, evs ...sdkproto.Event) {
	t.Helper()
	b := sdkproto.Batch{
		V: sdkproto.Version, SDK: sdkproto.SDK{Name: "test", Version: "1"},
		Session: sdkproto.Session{ID: session, Seq: 1, StartedAt: time.Now().UnixMilli(), UserID: user},
		Page:    sdkproto.Page{URL: "https://shop.example.com/products/42"},
		Device:  sdkproto.Device{UA: "Mozilla/5.0", Viewport: sdkproto.Size{W: 1280, H: 720}},
		SentAt:  time.Now().UnixMilli(), Events: evs,
	}
	data, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := sdkproto.Decode(data, sdkproto.DefaultLimits()); err != nil {
		t.Fatalf("test batch does not decode: %v", err)
	}
	e.seq++
	msg := &nats.Msg{Subject: sdkproto.Subject("eu", project, sdkproto.KindError), Data: data, Header: nats.Header{}}
	msg.Header.Set(sdkproto.HeaderMsgID, fmt.Sprintf("m-%d-%d", time.Now().UnixNano(), e.seq))
	if _, err := e.js.PublishMsg(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
}

// drain waits until the coordinator acknowledged everything published.
func (e *env) drain(t testing.TB) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, func() error {
		return testenv.Drained(context.Background(), e.js, sdkproto.StreamName, "coordinator")
	})
}

func (e *env) do(t testing.TB, method, token, path string, body any, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			r = strings.NewReader(s)
		} else {
			b, _ := json.Marshal(body)
			r = bytes.NewReader(b)
		}
	}
	req, _ := http.NewRequest(method, e.api+path, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

func (e *env) issues(t testing.TB, project int, query string) []issues.Issue {
	t.Helper()
	var out struct{ Issues []issues.Issue }
	if st := e.do(t, http.MethodGet, e.tokens[project], "/api/v1/issues"+query, nil, &out); st != http.StatusOK {
		t.Fatalf("list issues: %d", st)
	}
	return out.Issues
}

// TestThousandNearIdenticalErrors: 1000 errors differing in positions, ids
// and bundle hash (a redeploy) are one issue with the right count and users,
// and a redelivered message counts nothing.
func TestThousandNearIdenticalErrors(t *testing.T) {
	e := newEnv(t, nil)
	users := map[string]bool{}
	var redeliver []sdkproto.Event
	for b := 0; b < 100; b++ {
		bundle := "main.a7f3e2.js"
		if b >= 50 {
			bundle = "main.19bc04.js" // redeploy: new hash, new positions
		}
		var evs []sdkproto.Event
		for i := 0; i < 10; i++ {
			evs = append(evs, errorEvent(fmt.Sprintf("ev-%d-%d", b, i), "r1", bundle, "n", "onClick", "t"))
		}
		session, user := fmt.Sprintf("s-%d", b%40), ""
		if b%40 < 25 {
			user = fmt.Sprintf("u-%d", b%40%20) // 20 signed-in users over 25 sessions
			users["u:"+user] = true
		} else {
			users["s:"+session] = true
		}
		e.publish(t, e.projects[0], session, user, evs...)
		if b == 7 {
			redeliver = evs
		}
	}
	e.drain(t)
	list := e.issues(t, 0, "")
	if len(list) != 1 {
		t.Fatalf("got %d issues, want 1: %+v", len(list), list)
	}
	x := list[0]
	if x.Count != 1000 || x.Users != int64(len(users)) {
		t.Fatalf("count %d users %d, want 1000 and %d", x.Count, x.Users, len(users))
	}
	var trend int64
	for _, n := range x.Trend {
		trend += n
	}
	if trend != 1000 || x.Trend[23] == 0 {
		t.Errorf("trend %v: want 1000 events ending in the current hour", x.Trend)
	}
	if len(x.Releases) != 1 || x.Releases[0] != "r1" || x.Status != issues.StatusUnresolved {
		t.Errorf("releases %v status %s", x.Releases, x.Status)
	}
	if !strings.HasPrefix(x.Title, "TypeError: Cannot read properties of undefined") || x.Culprit != "static/js/main.js" {
		t.Errorf("title %q culprit %q", x.Title, x.Culprit)
	}

	// Redelivery: the same events again (another message id, so JetStream
	// does not dedupe) change nothing.
	e.publish(t, e.projects[0], "s-7", "u-7", redeliver...)
	e.drain(t)
	if x := e.issues(t, 0, "")[0]; x.Count != 1000 || x.Users != int64(len(users)) {
		t.Fatalf("after redelivery: count %d users %d", x.Count, x.Users)
	}

	var one struct {
		Issue       issues.Issue
		LatestEvent *issues.Event `json:"latest_event"`
	}
	if st := e.do(t, http.MethodGet, e.tokens[0], "/api/v1/issues/"+x.ID, nil, &one); st != http.StatusOK {
		t.Fatalf("get issue: %d", st)
	}
	var payload struct {
		Error struct {
			Stack []symbolicate.Frame `json:"stack"`
		} `json:"error"`
		Grouping struct{ Issue string } `json:"grouping"`
	}
	if one.LatestEvent == nil {
		t.Fatal("no latest event")
	}
	if err := json.Unmarshal(one.LatestEvent.Payload, &payload); err != nil {
		t.Fatal(err)
	}
	if len(payload.Error.Stack) != 3 || payload.Error.Stack[0].UnresolvedReason == "" || !payload.Error.Stack[0].InApp || payload.Grouping.Issue != x.ID {
		t.Errorf("stored payload: %s", one.LatestEvent.Payload)
	}
	var evs struct{ Events []issues.Event }
	if st := e.do(t, http.MethodGet, e.tokens[0], "/api/v1/issues/"+x.ID+"/events?limit=1000", nil, &evs); st != http.StatusOK || len(evs.Events) != 500 {
		t.Errorf("issue events: %d, %d events", st, len(evs.Events))
	}
}

// TestSeedScenario: TypeError reading 'map' thrown in three components is
// three issues by default and one issue under one custom rule; redeploys
// with new minified names keep the same issues.
func TestSeedScenario(t *testing.T) {
	sym := mapSymbolicator{}
	for _, build := range []struct{ prefix, comp string }{{"a", "ProductList"}, {"b", "CartSummary"}, {"c", "Recommendations"}, {"x", "ProductList"}, {"y", "CartSummary"}, {"z", "Recommendations"}} {
		sym[build.prefix] = symbolicate.Position{Source: "webpack://shop/./src/components/" + build.comp + ".tsx", Function: build.comp}
	}
	sym["r"] = symbolicate.Position{Source: "webpack://shop/./node_modules/react-dom/cjs/react-dom.production.js", Function: "renderWithHooks"}
	e := newEnv(t, sym)
	send := func(round, build string, fns [3]string) {
		for b := 0; b < 30; b++ {
			var evs []sdkproto.Event
			for i := 0; i < 10; i++ {
				evs = append(evs, errorEvent(fmt.Sprintf("%s-%d-%d", round, b, i), "r1", build, fns[b%3], "r"))
			}
			e.publish(t, e.projects[0], fmt.Sprintf("s-%d", b), "", evs...)
		}
		e.drain(t)
	}
	send("one", "main.a7f3e2.js", [3]string{"a", "b", "c"})
	if n := len(e.issues(t, 0, "")); n != 3 {
		t.Fatalf("default grouping: %d issues, want 3", n)
	}
	// Redeploy: other minified names and hash, same originals.
	send("two", "main.ffee11.js", [3]string{"x", "y", "z"})
	list := e.issues(t, 0, "")
	if len(list) != 3 {
		t.Fatalf("after redeploy: %d issues, want 3", len(list))
	}
	for _, x := range list {
		if x.Count != 200 || !strings.HasPrefix(x.Culprit, "src/components/") {
			t.Errorf("issue %s: count %d culprit %q", x.ID, x.Count, x.Culprit)
		}
	}
	rules := `# one missing API field breaks three components
error.type:"TypeError" error.value:"*reading 'map'*" tags.url:"*/products*" -> products-map-undefined title="products.map on missing field"
stack.abs_path:"**/node_modules/**" -app`
	var set issues.Rules
	if st := e.do(t, http.MethodPut, e.tokens[0], "/api/v1/projects/"+e.projects[0]+"/grouping", map[string]string{"rules": rules}, &set); st != http.StatusOK || set.FingerprintRules != 1 || set.StackRules != 1 {
		t.Fatalf("set rules: %d %+v", st, set)
	}
	send("three", "main.a7f3e2.js", [3]string{"a", "b", "c"})
	list = e.issues(t, 0, "?q=products.map")
	if len(list) != 1 || list[0].Count != 300 || list[0].Title != "products.map on missing field" {
		t.Fatalf("custom rule: %+v", list)
	}
	var one struct {
		LatestEvent *issues.Event `json:"latest_event"`
	}
	e.do(t, http.MethodGet, e.tokens[0], "/api/v1/issues/"+list[0].ID, nil, &one)
	var payload struct {
		Error struct{ Stack []symbolicate.Frame }
	}
	json.Unmarshal(one.LatestEvent.Payload, &payload)
	st := payload.Error.Stack
	if len(st) != 2 || st[0].Original == nil || !strings.HasSuffix(st[0].Original.Source, ".tsx") || !st[0].InApp || st[1].InApp || st[0].Context == nil {
		t.Errorf("symbolicated stack as stored: %s", one.LatestEvent.Payload)
	}
}

// TestRegression: a resolved issue stays resolved for events of its own
// release and reopens as regressed in a newer one.
func TestRegression(t *testing.T) {
	e := newEnv(t, nil)
	e.publish(t, e.projects[0], "s-1", "u-1", errorEvent("r1-a", "r1", "main.js", "loadCart"))
	e.drain(t)
	x := e.issues(t, 0, "")[0]
	var got issues.Issue
	if st := e.do(t, http.MethodPatch, e.tokens[0], "/api/v1/issues/"+x.ID, map[string]string{"status": "resolved"}, &got); st != http.StatusOK || got.Status != "resolved" || got.ResolvedIn != "r1" {
		t.Fatalf("resolve: %d %+v", st, got)
	}
	// Old clients still on r1 (and ones without a release) do not reopen it.
	e.publish(t, e.projects[0], "s-2", "u-2", errorEvent("r1-b", "r1", "main.js", "loadCart"), errorEvent("r1-c", "", "main.js", "loadCart"))
	e.drain(t)
	if x := e.issues(t, 0, "")[0]; x.Status != "resolved" || x.Count != 3 {
		t.Fatalf("after old-release event: %+v", x)
	}
	if n := len(e.issues(t, 0, "?status=unresolved")); n != 0 {
		t.Fatalf("%d unresolved issues", n)
	}
	e.publish(t, e.projects[0], "s-3", "u-3", errorEvent("r2-a", "r2", "main.js", "loadCart"))
	e.drain(t)
	list := e.issues(t, 0, "?status=unresolved")
	if len(list) != 1 || !list[0].Regressed || list[0].Substatus != "regressed" || list[0].Count != 4 || len(list[0].Releases) != 2 {
		t.Fatalf("after newer release: %+v", list)
	}
	// Ignored issues stay ignored and keep counting.
	e.do(t, http.MethodPatch, e.tokens[0], "/api/v1/issues/"+x.ID, map[string]string{"status": "ignored"}, &got)
	e.publish(t, e.projects[0], "s-4", "u-4", errorEvent("r3-a", "r3", "main.js", "loadCart"))
	e.drain(t)
	if x := e.issues(t, 0, "")[0]; x.Status != "ignored" || x.Count != 5 || x.Users != 4 {
		t.Fatalf("ignored: %+v", x)
	}
}

// TestAPI: authentication, project isolation, validation.
func TestAPI(t *testing.T) {
	e := newEnv(t, nil)
	e.publish(t, e.projects[0], "s-1", "u-1", errorEvent("a", "r1", "main.js", "loadCart"))
	e.publish(t, e.projects[1], "s-1", "u-1", errorEvent("a", "r1", "blog.js", "renderPost"))
	e.drain(t)
	shop := e.issues(t, 0, "")
	blog := e.issues(t, 1, "")
	if len(shop) != 1 || len(blog) != 1 || shop[0].ID == blog[0].ID {
		t.Fatalf("shop %+v blog %+v", shop, blog)
	}
	p0, p1 := e.projects[0], e.projects[1]
	cases := []struct {
		name, method, token, path string
		body                      any
		want                      int
	}{
		{"no token", "GET", "", "/api/v1/issues", nil, 401},
		{"bad token", "GET", "rvt_nope", "/api/v1/issues", nil, 401},
		{"other project's list", "GET", e.tokens[0], "/api/v1/issues?project=" + p1, nil, 403},
		{"other project's issue", "GET", e.tokens[0], "/api/v1/issues/" + blog[0].ID, nil, 404},
		{"other project's issue events", "GET", e.tokens[0], "/api/v1/issues/" + blog[0].ID + "/events", nil, 404},
		{"patch other project's issue", "PATCH", e.tokens[0], "/api/v1/issues/" + blog[0].ID, map[string]string{"status": "resolved"}, 404},
		{"admin needs project for lists", "GET", admin, "/api/v1/issues", nil, 400},
		{"admin lists a project", "GET", admin, "/api/v1/issues?project=" + p1, nil, 200},
		{"admin gets any issue", "GET", admin, "/api/v1/issues/" + blog[0].ID, nil, 200},
		{"bad status filter", "GET", e.tokens[0], "/api/v1/issues?status=open", nil, 400},
		{"bad limit", "GET", e.tokens[0], "/api/v1/issues?limit=-3", nil, 400},
		{"unknown issue", "GET", e.tokens[0], "/api/v1/issues/nope", nil, 404},
		{"bad status change", "PATCH", e.tokens[0], "/api/v1/issues/" + shop[0].ID, map[string]string{"status": "done"}, 400},
		{"unknown field", "PATCH", e.tokens[0], "/api/v1/issues/" + shop[0].ID, map[string]string{"status": "ignored", "x": "y"}, 400},
		{"release without resolve", "PATCH", e.tokens[0], "/api/v1/issues/" + shop[0].ID, map[string]string{"status": "ignored", "release": "r1"}, 400},
		{"not JSON", "PATCH", e.tokens[0], "/api/v1/issues/" + shop[0].ID, "status=ignored", 400},
		{"ignore", "PATCH", e.tokens[0], "/api/v1/issues/" + shop[0].ID, map[string]string{"status": "ignored"}, 200},
		{"other project's rules", "GET", e.tokens[0], "/api/v1/projects/" + p1 + "/grouping", nil, 403},
		{"set other project's rules", "PUT", e.tokens[0], "/api/v1/projects/" + p1 + "/grouping", map[string]string{"rules": ""}, 403},
		{"unknown project's rules", "GET", admin, "/api/v1/projects/nope/grouping", nil, 404},
		{"own rules", "GET", e.tokens[0], "/api/v1/projects/" + p0 + "/grouping", nil, 200},
		{"rules body not JSON", "PUT", e.tokens[0], "/api/v1/projects/" + p0 + "/grouping", "error.type:X -> y", 400},
		{"rules too large", "PUT", e.tokens[0], "/api/v1/projects/" + p0 + "/grouping", map[string]string{"rules": strings.Repeat("# comment\n", 7000)}, 413},
		{"rules over the parser's limit", "PUT", e.tokens[0], "/api/v1/projects/" + p0 + "/grouping", map[string]string{"rules": strings.Repeat("#", 65537)}, 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out map[string]any
			if st := e.do(t, c.method, c.token, c.path, c.body, &out); st != c.want {
				t.Errorf("status %d, want %d: %v", st, c.want, out)
			} else if st >= 400 && (out["error"] == nil || out["detail"] == nil) {
				t.Errorf("error body %v lacks error/detail", out)
			}
		})
	}
	if x := e.issues(t, 0, "?status=ignored"); len(x) != 1 || x[0].Status != "ignored" {
		t.Errorf("status change not visible: %+v", x)
	}
	if x := e.issues(t, 1, ""); x[0].Status != "unresolved" {
		t.Errorf("other project's issue changed: %+v", x)
	}

	// Rules are validated with the parser's position.
	var bad struct {
		Error        string
		Detail       string
		Line, Column int
	}
	rules := "# ok\nerror.type:TypeError -> a\nerror.typo:\"X\" -> b\n"
	if st := e.do(t, http.MethodPut, e.tokens[0], "/api/v1/projects/"+p0+"/grouping", map[string]string{"rules": rules}, &bad); st != 400 || bad.Error != "invalid_rules" || bad.Line != 3 || bad.Column != 1 || !strings.Contains(bad.Detail, "error.typo") {
		t.Errorf("invalid rules: %d %+v", st, bad)
	}
	req, _ := http.NewRequest(http.MethodPut, e.api+"/api/v1/projects/"+p0+"/grouping", strings.NewReader("stack.module:\"vendor/*\" -app\n"))
	req.Header.Set("Authorization", "Bearer "+e.tokens[0])
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var got issues.Rules
	if st := e.do(t, http.MethodGet, e.tokens[0], "/api/v1/projects/"+p0+"/grouping", nil, &got); resp.StatusCode != 200 || st != 200 || got.StackRules != 1 || got.Version != 1 || !strings.Contains(got.Rules, "vendor/*") {
		t.Errorf("text/plain rules: %d, then %d %+v", resp.StatusCode, st, got)
	}
}

type failingSymbolicator struct{}

func (failingSymbolicator) Symbolicate(context.Context, string, *sdkproto.Error) ([]symbolicate.Frame, error) {
	return nil, fmt.Errorf("object store unavailable")
}

// TestRulesChangeKeepsIssues: a stack rule that changes which frames are
// in-app does not split an existing issue (its system hash still matches),
// and a failing symbolicator never drops an event.
func TestRulesChangeKeepsIssues(t *testing.T) {
	e := newEnv(t, failingSymbolicator{})
	e.publish(t, e.projects[0], "s-1", "", errorEvent("a", "r1", "main.js", "loadCart", "onClick", "dispatch"))
	e.drain(t)
	var set issues.Rules
	if st := e.do(t, http.MethodPut, e.tokens[0], "/api/v1/projects/"+e.projects[0]+"/grouping", map[string]string{"rules": `stack.function:loadCart -app`}, &set); st != 200 {
		t.Fatalf("set rules: %d", st)
	}
	e.publish(t, e.projects[0], "s-2", "", errorEvent("b", "r1", "main.js", "loadCart", "onClick", "dispatch"))
	e.drain(t)
	list := e.issues(t, 0, "")
	if len(list) != 1 || list[0].Count != 2 || list[0].Users != 2 {
		t.Fatalf("after a stack rule change: %+v", list)
	}
	var evs struct{ Events []issues.Event }
	e.do(t, http.MethodGet, e.tokens[0], "/api/v1/issues/"+list[0].ID+"/events", nil, &evs)
	if len(evs.Events) != 2 {
		t.Fatalf("%d events", len(evs.Events))
	}
	var newest struct {
		Error    struct{ Stack []symbolicate.Frame }
		Grouping struct {
			Hashes []struct{ Variant string }
		}
	}
	json.Unmarshal(evs.Events[0].Payload, &newest)
	st := newest.Error.Stack
	if len(st) != 3 || st[0].InApp || !st[1].InApp || !strings.Contains(st[0].UnresolvedReason, "object store unavailable") {
		t.Errorf("stored stack: %s", evs.Events[0].Payload)
	}
	if len(newest.Grouping.Hashes) != 2 {
		t.Errorf("grouping hashes: %s", evs.Events[0].Payload)
	}
}
