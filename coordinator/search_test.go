package coordinator_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/rearview-dev/rearview/coordinator"
)

func TestParseSessionQuery(t *testing.T) {
	cases := []struct {
		q    string
		want coordinator.SessionQuery
		err  string
	}{
		{`text:"Payment failed" selector:#error-modal`, coordinator.SessionQuery{Text: []string{"Payment failed"}, Selectors: []string{"#error-modal"}}, ""},
		{`checkout has:error user:u-42 country:de`, coordinator.SessionQuery{Text: []string{"checkout"}, HasError: true, User: "u-42", Country: "DE"}, ""},
		{`url:/checkout from:1000 to:2000 has:rage`, coordinator.SessionQuery{URL: "/checkout", From: 1000, To: 2000, HasRage: true}, ""},
		{`source:synthetic has:error`, coordinator.SessionQuery{Source: "synthetic", HasError: true}, ""},
		{`source:robots`, coordinator.SessionQuery{}, "want synthetic or real"},
		{`route:/orders/8812?tab=items`, coordinator.SessionQuery{Route: "/orders/:id"}, ""},
		{`colour:red`, coordinator.SessionQuery{}, `unknown key "colour"`},
		{`selector:div`, coordinator.SessionQuery{}, "use #id"},
		{`text:"unclosed`, coordinator.SessionQuery{}, "unclosed quote"},
		{`has:cake`, coordinator.SessionQuery{}, "has:cake"},
	}
	for _, tc := range cases {
		t.Run(tc.q, func(t *testing.T) {
			got, err := coordinator.ParseSessionQuery(tc.q)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want ~%q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			a, _ := json.Marshal(got)
			b, _ := json.Marshal(tc.want)
			if string(a) != string(b) {
				t.Fatalf("got %s want %s", a, b)
			}
		})
	}
}

// replayBatch wraps the replayscan fixture (an error modal appears) in a batch.
func replayBatch(t *testing.T, session string) []byte {
	rec, err := os.ReadFile("replayscan/testdata/checkout.json")
	if err != nil {
		t.Fatal(err)
	}
	return []byte(fmt.Sprintf(`{"v":1,"sdk":{"name":"t","version":"1"},"session":{"id":%q,"seq":0,"started_at":1000,"flags":{}},"page":{"url":"https://shop.example.com/checkout"},"device":{"ua":"Mozilla/5.0","viewport":{"w":1280,"h":800}},"sent_at":9000,
"events":[{"id":"%s-r0","ts":1000,"kind":"replay","replay":{"segment":0,"events":%s}}]}`, session, session, rec))
}

func TestSearchSessionsByWhatWasOnScreen(t *testing.T) {
	s := start(t, nil)
	if st := s.post(t, replayBatch(t, "s-modal")); st != 202 {
		t.Fatalf("post: %d", st)
	}
	if st := s.post(t, vectorWithSession(t, "error-batch.json", "s-plain")); st != 202 {
		t.Fatalf("post: %d", st)
	}
	waitConsumed(t, s)
	search := func(q string) ([]coordinator.Session, int) {
		var out struct{ Sessions []coordinator.Session }
		st := s.get(t, s.token, "/api/v1/sessions?q="+url.QueryEscape(q), &out)
		return out.Sessions, st
	}
	cases := []struct {
		q    string
		want []string
	}{
		{`text:"Payment failed" selector:#error-modal`, []string{"s-modal"}},
		{`selector:[data-testid=checkout-button] has:rage`, []string{"s-modal"}},
		{`"try again"`, []string{"s-modal"}},
		{`text:"Payment succeeded"`, nil},
		{`has:error`, []string{"s-plain"}},
		{`url:/checkout/failed`, []string{"s-modal"}},
		// A route is the whole path, not a substring of it.
		{`route:/check`, nil},
		{`route:https://shop.example.com/checkout/failed?x=1`, []string{"s-modal"}},
		{`user:u-42`, []string{"s-plain"}},
		{`text:"body"`, nil}, // CSS is never indexed as text
	}
	for _, tc := range cases {
		t.Run(tc.q, func(t *testing.T) {
			got, st := search(tc.q)
			if st != 200 {
				t.Fatalf("status %d", st)
			}
			var ids []string
			for _, x := range got {
				if x.ID != "warmup" {
					ids = append(ids, x.ID)
				}
			}
			if fmt.Sprint(ids) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v want %v", ids, tc.want)
			}
		})
	}
	if _, st := search(`colour:red`); st != 400 {
		t.Fatalf("bad query: %d", st)
	}
	var sess coordinator.Session
	s.get(t, s.token, "/api/v1/sessions/s-modal", &sess)
	if sess.Clicks != 5 || sess.RageClicks != 1 || sess.Pages != 2 || sess.Segments != 1 {
		t.Fatalf("session index %+v", sess)
	}
}
