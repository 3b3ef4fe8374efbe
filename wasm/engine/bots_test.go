package engine

import (
	"errors"
	"testing"
)

// TestHandleBots replaces the built-in list, refuses a bad one keeping
// the previous, and goes back to the built-in list on an empty document.
func TestHandleBots(t *testing.T) {
	noise := corpus(t, "noise-batch")
	const audit = "MainWP/4.2.7.1; +http://mainwp.com"                               // in the built-in list only
	const probe = "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0 InternalProbe/2" // in the published list only
	e := New()
	dropped := func(ua string) bool {
		t.Helper()
		resp, err := ParseResponse(e.Handle(AppendRequest(nil, nil, Context{UA: ua}, noise)))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := resp.ParseCounts()
		if err != nil {
			t.Fatal(err)
		}
		return rep.Dropped["web-crawlers"] > 0
	}
	bots := func(doc string) error {
		t.Helper()
		resp, err := ParseResponse(e.HandleBots([]byte(doc)))
		if err == nil && len(resp.Batch) != 0 {
			t.Fatalf("bots answered a batch: %q", resp.Batch)
		}
		return err
	}
	steps := []struct {
		doc          string
		err          bool
		audit, probe bool
	}{
		{"", false, true, false},
		{`[{"pattern":"InternalProbe\\/"}]`, false, false, true},
		{`[{"pattern":"(unclosed"}]`, true, false, true}, // refused: the published list stays
		{`["x?"]`, true, false, true},                    // would match everything
		{`{}`, true, false, true},
		{"", false, true, false},
	}
	for i, s := range steps {
		err := bots(s.doc)
		if (err != nil) != s.err {
			t.Fatalf("step %d: HandleBots(%s) = %v", i, s.doc, err)
		}
		if err != nil && !errors.Is(err, ErrBadInput) {
			t.Fatalf("step %d: %v does not wrap ErrBadInput", i, err)
		}
		if got := dropped(audit); got != s.audit {
			t.Errorf("step %d: audit crawler dropped = %v", i, got)
		}
		if got := dropped(probe); got != s.probe {
			t.Errorf("step %d: probe dropped = %v", i, got)
		}
	}
}
