package issues_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/coordinator/blob"
	"github.com/rearview-dev/rearview/coordinator/issues"
	"github.com/rearview-dev/rearview/coordinator/sourcemap"
	"github.com/rearview-dev/rearview/coordinator/store/storetest"
	"github.com/rearview-dev/rearview/coordinator/symbolicate"
	"github.com/rearview-dev/rearview/coordinator/symbolicate/symtest"
	"github.com/rearview-dev/rearview/sdkproto"
)

// TestSeedScenarioRealStacks is the seed's scenario end to end with nothing
// stood in: the TypeScript shop is built with esbuild during the test, the
// missing "items" field makes it throw TypeError reading 'map' in three
// components in headless Chromium, the map is uploaded to the real source
// map store and the real symbolicator resolves every event. 300 such events
// are three issues by default and one under one custom rule.
func TestSeedScenarioRealStacks(t *testing.T) {
	ctx := context.Background()
	app := symtest.Build(t)
	stacks := symtest.Throw(t, app)

	dir := t.TempDir()
	db := storetest.Open(t)
	blobs, err := blob.NewDir(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	maps, err := sourcemap.New(sourcemap.Config{DB: db, Blobs: blobs})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, symbolicate.New(maps, symbolicate.Options{}))
	for _, p := range e.projects {
		if _, _, err := maps.Put(ctx, p, sourcemap.Upload{Release: "r1", Name: "main.js.map", URL: "~" + symtest.BundlePath, Data: app.Map}); err != nil {
			t.Fatal(err)
		}
	}

	// 300 events: 100 from each component, over 30 sessions.
	send := func(project int) {
		for b := 0; b < 30; b++ {
			var evs []sdkproto.Event
			for i := 0; i < 10; i++ {
				s := stacks[symtest.Kinds[(b*10+i)%3]]
				evs = append(evs, sdkproto.Event{ID: fmt.Sprintf("p%d-%d-%d", project, b, i), TS: time.Now().UnixMilli(), Kind: sdkproto.KindError, Error: &sdkproto.Error{
					Type: s.Type, Value: s.Value, Mechanism: sdkproto.MechanismOnError,
					Stack: s.Frames, Release: "r1", URL: s.PageURL,
				}})
			}
			e.publish(t, e.projects[project], fmt.Sprintf("s-%d", b), "", evs...)
		}
		e.drain(t)
	}

	send(0)
	list := e.issues(t, 0, "")
	if len(list) != 3 {
		t.Fatalf("default grouping: %d issues, want 3: %+v", len(list), list)
	}
	culprits := map[string]bool{}
	for _, x := range list {
		if x.Count != 100 || !strings.Contains(x.Culprit, "components.ts") {
			t.Errorf("issue %q: count %d culprit %q, want 100 events in components.ts", x.Title, x.Count, x.Culprit)
		}
		culprits[x.Culprit] = true
	}
	if len(culprits) != 3 {
		t.Errorf("culprits %v: want one per component", culprits)
	}
	// The stored stack of each issue is the real one, resolved to the
	// component that threw.
	want := map[string]int{
		"ProductList":            symtest.SourceLine(t, "components.ts", "const rows = page.items!.map"),
		"CartSummary":            symtest.SourceLine(t, "components.ts", "page.items!.map((p) =>"),
		"Recommendations.render": symtest.SourceLine(t, "components.ts", "const names = this.source.items!.map"),
	}
	for _, x := range list {
		var one struct {
			LatestEvent *issues.Event `json:"latest_event"`
		}
		if st := e.do(t, http.MethodGet, e.tokens[0], "/api/v1/issues/"+x.ID, nil, &one); st != http.StatusOK || one.LatestEvent == nil {
			t.Fatalf("get issue %s: %d", x.ID, st)
		}
		var payload struct {
			Error struct{ Stack []symbolicate.Frame }
		}
		if err := json.Unmarshal(one.LatestEvent.Payload, &payload); err != nil {
			t.Fatal(err)
		}
		top := payload.Error.Stack[0].Original
		if top == nil {
			t.Fatalf("issue %s: top frame unresolved: %s", x.ID, payload.Error.Stack[0].UnresolvedReason)
		}
		line, ok := want[top.Function]
		if !ok || top.Line != line || !strings.HasSuffix(top.Source, "src/components.ts") {
			t.Errorf("issue %s: top frame %s:%d %s", x.ID, top.Source, top.Line, top.Function)
		}
		delete(want, top.Function)
	}
	if len(want) != 0 {
		t.Errorf("no issue for %v", want)
	}

	// The other project has one custom rule: the same 300 events are one issue.
	rules := `error.type:"TypeError" error.value:"*reading 'map'*" tags.url:"*/products*" -> products-map-undefined`
	var set issues.Rules
	if st := e.do(t, http.MethodPut, e.tokens[1], "/api/v1/projects/"+e.projects[1]+"/grouping", map[string]string{"rules": rules}, &set); st != http.StatusOK || set.FingerprintRules != 1 {
		t.Fatalf("set rules: %d %+v", st, set)
	}
	send(1)
	list = e.issues(t, 1, "")
	if len(list) != 1 || list[0].Count != 300 {
		t.Fatalf("custom rule: %d issues %+v, want one of 300 events", len(list), list)
	}
}
