// Package replayscan reads rrweb recordings for what the session index
// needs: the text and the element ids, classes and test ids that were on
// screen (for "sessions where the error modal appeared"), clicks and rage
// clicks, and the pages visited.
//
// It reads the recording as recorded, after the edge masked it, so what it
// indexes is what a replay shows: masked text stays masked.
package replayscan

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// rrweb event and source numbers (rrweb's EventType and IncrementalSource).
const (
	eventFullSnapshot = 2
	eventIncremental  = 3
	eventMeta         = 4

	sourceMutation         = 0
	sourceMouseInteraction = 2

	interactionClick = 2

	nodeElement = 2
	nodeText    = 3
)

// Limits bound what one segment contributes to the index.
const (
	maxTextBytes = 64 << 10
	maxSelectors = 2000
	maxDepth     = 512
)

// Summary is what a segment contributes to its session's index.
type Summary struct {
	// Text is the visible text, space-joined, each distinct string once.
	Text string
	// Selectors are search tokens for ids, classes and test ids (see
	// SelectorToken), each once.
	Selectors []string
	// Pages are the URLs the recording navigated to, in order.
	Pages []string
	// Clicks counts clicks; RageClicks counts bursts of three or more
	// clicks on one element within a second.
	Clicks     int
	RageClicks int
	// FirstTS and LastTS bound the segment's events (ms).
	FirstTS, LastTS int64
}

type event struct {
	Type      int             `json:"type"`
	Data      json.RawMessage `json:"data"`
	Timestamp int64           `json:"timestamp"`
}

type node struct {
	Type        int               `json:"type"`
	TagName     string            `json:"tagName"`
	Attributes  map[string]any    `json:"attributes"`
	ChildNodes  []node            `json:"childNodes"`
	TextContent string            `json:"textContent"`
	ID          int               `json:"id"`
	extra       map[string]string `json:"-"`
}

type incremental struct {
	Source int `json:"source"`
	// Mutation
	Adds []struct {
		Node node `json:"node"`
	} `json:"adds"`
	Texts []struct {
		Value *string `json:"value"`
	} `json:"texts"`
	Attributes []struct {
		Attributes map[string]any `json:"attributes"`
	} `json:"attributes"`
	// MouseInteraction
	Type int `json:"type"`
	ID   int `json:"id"`
}

type meta struct {
	Href string `json:"href"`
}

type scanner struct {
	sum       Summary
	textSeen  map[string]bool
	textBytes int
	text      []string
	selSeen   map[string]bool
	clicks    []click
}

type click struct {
	id int
	ts int64
}

// Scan summarises a segment: a JSON array of rrweb events. Events it does not
// understand are skipped; only a body that is not an array is an error.
func Scan(events []byte) (Summary, error) {
	var evs []event
	if err := json.Unmarshal(events, &evs); err != nil {
		return Summary{}, fmt.Errorf("scan recording: %w", err)
	}
	s := &scanner{textSeen: map[string]bool{}, selSeen: map[string]bool{}}
	for _, ev := range evs {
		if ev.Timestamp > 0 {
			if s.sum.FirstTS == 0 || ev.Timestamp < s.sum.FirstTS {
				s.sum.FirstTS = ev.Timestamp
			}
			s.sum.LastTS = max(s.sum.LastTS, ev.Timestamp)
		}
		switch ev.Type {
		case eventMeta:
			var m meta
			if json.Unmarshal(ev.Data, &m) == nil && m.Href != "" {
				if n := len(s.sum.Pages); n == 0 || s.sum.Pages[n-1] != m.Href {
					s.sum.Pages = append(s.sum.Pages, m.Href)
				}
			}
		case eventFullSnapshot:
			var fs struct {
				Node node `json:"node"`
			}
			if json.Unmarshal(ev.Data, &fs) == nil {
				s.walk(&fs.Node, false, 0)
			}
		case eventIncremental:
			var inc incremental
			if json.Unmarshal(ev.Data, &inc) != nil {
				continue
			}
			switch inc.Source {
			case sourceMutation:
				for i := range inc.Adds {
					s.walk(&inc.Adds[i].Node, false, 0)
				}
				for _, t := range inc.Texts {
					if t.Value != nil {
						s.addText(*t.Value)
					}
				}
				for _, a := range inc.Attributes {
					s.attrs(a.Attributes)
				}
			case sourceMouseInteraction:
				if inc.Type == interactionClick {
					s.sum.Clicks++
					s.clicks = append(s.clicks, click{inc.ID, ev.Timestamp})
				}
			}
		}
	}
	s.sum.RageClicks = rageClicks(s.clicks)
	s.sum.Text = strings.Join(s.text, " ")
	sort.Strings(s.sum.Selectors)
	return s.sum, nil
}

// rageClicks counts bursts of at least three clicks on the same element
// with at most a second between the first and the last.
func rageClicks(cs []click) int {
	n := 0
	for i := 0; i < len(cs); {
		j := i
		for j+1 < len(cs) && cs[j+1].id == cs[i].id && cs[j+1].ts-cs[i].ts <= 1000 {
			j++
		}
		if j-i+1 >= 3 {
			n++
		}
		i = j + 1
	}
	return n
}

// walk collects text and selectors, skipping what is not on screen as text:
// <style> and <script> contents (CSS must not be indexed as words).
func (s *scanner) walk(n *node, hidden bool, depth int) {
	if depth > maxDepth {
		return
	}
	switch n.Type {
	case nodeText:
		if !hidden {
			s.addText(n.TextContent)
		}
		return
	case nodeElement:
		tag := strings.ToLower(n.TagName)
		hidden = hidden || tag == "style" || tag == "script" || tag == "noscript"
		s.attrs(n.Attributes)
	}
	for i := range n.ChildNodes {
		s.walk(&n.ChildNodes[i], hidden, depth+1)
	}
}

func (s *scanner) attrs(a map[string]any) {
	for k, v := range a {
		str, ok := v.(string)
		if !ok || str == "" {
			continue
		}
		switch {
		case k == "id":
			s.addSelector("#" + str)
		case k == "class":
			for _, c := range strings.Fields(str) {
				s.addSelector("." + c)
			}
		case k == "data-testid" || k == "data-test-id" || k == "data-test" || k == "data-cy" || k == "data-qa":
			s.addSelector("[" + k + "=" + str + "]")
		case k == "title" || k == "alt" || k == "placeholder" || k == "aria-label":
			s.addText(str)
		}
	}
}

func (s *scanner) addText(t string) {
	t = strings.Join(strings.Fields(t), " ")
	if t == "" || s.textSeen[t] || s.textBytes+len(t) > maxTextBytes {
		return
	}
	s.textSeen[t] = true
	s.textBytes += len(t) + 1
	s.text = append(s.text, t)
}

func (s *scanner) addSelector(sel string) {
	tok := SelectorToken(sel)
	if tok == "" || s.selSeen[tok] || len(s.sum.Selectors) >= maxSelectors {
		return
	}
	s.selSeen[tok] = true
	s.sum.Selectors = append(s.sum.Selectors, tok)
}

// SelectorToken turns a simple selector (#id, .class or [data-testid=x]) into
// one full-text token: sel_id_…, sel_class_… or sel_testid_…, with every
// character that is not a letter or digit replaced by '_'. The same function
// builds index entries and queries, so "#error-modal" finds what was indexed
// from id="error-modal". It returns "" for anything else.
func SelectorToken(sel string) string {
	var kind, name string
	switch {
	case strings.HasPrefix(sel, "#"):
		kind, name = "id", sel[1:]
	case strings.HasPrefix(sel, "."):
		kind, name = "class", sel[1:]
	case strings.HasPrefix(sel, "[") && strings.HasSuffix(sel, "]"):
		k, v, ok := strings.Cut(sel[1:len(sel)-1], "=")
		if !ok || !strings.HasPrefix(k, "data-") {
			return ""
		}
		kind, name = "testid", strings.Trim(v, `"'`)
	default:
		return ""
	}
	if name == "" || len(name) > 128 {
		return ""
	}
	var b strings.Builder
	b.WriteString("sel_" + kind + "_")
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}
