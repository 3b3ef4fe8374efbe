// Package fingerprint groups error events into issues. An event's
// fingerprint is one or more hashes: by default one over the error type and
// the top in-app frames (file and function after symbolication, never line
// or column, so a redeploy does not split an issue), one over all frames,
// and for events without a stack one over the type and the normalised
// message. An issue owns every hash its events produced, so an event joins
// the issue any of its hashes already belongs to: changing which frames are
// in-app changes the app hash, but the system hash still finds the issue.
//
// Projects can add rules in Sentry's syntax (see Rules): fingerprint rules
// that name the group, with {{ default }} and {{ tags.X }} in the output,
// and stack rules (+app / -app) that decide which frames are the
// application's.
package fingerprint

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"

	"github.com/rearview-dev/rearview/coordinator/symbolicate"
)

// How many frames the default fingerprint hashes at most.
const (
	MaxAppFrames    = 5
	MaxSystemFrames = 50
)

// Variant names what a hash was computed from.
type Variant string

// The hash variants, in order of precedence.
const (
	VariantCustom  Variant = "custom"  // a fingerprint rule or the SDK's fingerprint
	VariantApp     Variant = "app"     // type + top in-app frames
	VariantSystem  Variant = "system"  // type + all frames
	VariantMessage Variant = "message" // type + normalised message, for events without frames
)

// Hash is one of an event's grouping hashes: 32 hex digits.
type Hash struct {
	Variant Variant `json:"variant"`
	Value   string  `json:"hash"`
}

// Event is what grouping reads of an error event. Frames are innermost
// first, as symbolicated.
type Event struct {
	Type        string
	Value       string
	Frames      []symbolicate.Frame
	Tags        map[string]string
	URL         string
	Release     string
	Environment string
	Level       string
	// Fingerprint is the SDK's override; "{{ default }}" in it stands for
	// the default hashes. Project rules take precedence over it.
	Fingerprint []string
}

// tag resolves tags.<name>: the event's tags, then the built-in url,
// release, environment, level and type.
func (ev *Event) tag(name string) (string, bool) {
	if v, ok := ev.Tags[name]; ok {
		return v, true
	}
	switch name {
	case "url":
		return ev.URL, ev.URL != ""
	case "release":
		return ev.Release, ev.Release != ""
	case "environment":
		return ev.Environment, ev.Environment != ""
	case "level":
		return ev.Level, ev.Level != ""
	case "type":
		return ev.Type, ev.Type != ""
	}
	return "", false
}

// Result is how an event groups.
type Result struct {
	// Hashes are the event's fingerprints, best first; never empty.
	Hashes []Hash
	// Title is "Type: message" unless a rule set a title.
	Title string
	// Culprit names the top in-app frame: "src/cart/Summary.tsx in render".
	Culprit string
	// Rule is the fingerprint rule that matched, canonically formatted;
	// "sdk" when the SDK's fingerprint applied, "" for the default.
	Rule string
}

const maxTitle = 200

// Group computes ev's fingerprint under r (nil for no rules). It applies
// the stack rules to ev.Frames first, updating their InApp in place, so the
// stored stack shows what grouping used.
func (r *Rules) Group(ev *Event) Result {
	g := newGrouper(ev)
	defer g.release()
	for i := range ev.Frames {
		g.view(i)
	}
	if r != nil {
		for i := range g.views {
			for _, s := range r.stack {
				if s.matches(ev, &g.views[i]) {
					g.views[i].inApp = s.inApp
				}
			}
			ev.Frames[i].InApp = g.views[i].inApp
		}
	}
	res := Result{Title: title(ev), Culprit: g.culprit()}
	if r != nil {
		for i := range r.fingerprint {
			fr := &r.fingerprint[i]
			fv, ok := fr.matches(ev, g.views)
			if !ok {
				continue
			}
			res.Rule = fr.text
			res.Hashes = g.custom(fr.parts, fv)
			if fr.title != nil {
				res.Title = clip(g.expand(fr.title, fv), maxTitle)
			}
			return res
		}
	}
	if len(ev.Fingerprint) > 0 {
		parts := make([]part, len(ev.Fingerprint))
		for i, s := range ev.Fingerprint {
			parts[i] = part{literal: s}
			if t := strings.TrimSpace(s); strings.HasPrefix(t, "{{") && strings.HasSuffix(t, "}}") && strings.TrimSpace(t[2:len(t)-2]) == "default" {
				parts[i] = part{variable: "default"}
			}
		}
		res.Rule = "sdk"
		res.Hashes = g.custom(parts, nil)
		return res
	}
	res.Hashes = g.defaults()
	return res
}

func (s *stackRule) matches(ev *Event, f *frameView) bool {
	for i := range s.matchers {
		m := &s.matchers[i]
		if isFrameKey(m.key) {
			if !m.matchFrame(f) {
				return false
			}
		} else if !m.matchEvent(ev) {
			return false
		}
	}
	return true
}

// matches reports whether the rule holds for ev and returns the frame that
// satisfied its frame matchers (nil when it has none).
func (fr *fingerprintRule) matches(ev *Event, views []frameView) (*frameView, bool) {
	hasFrame := false
	for i := range fr.matchers {
		m := &fr.matchers[i]
		if isFrameKey(m.key) {
			hasFrame = true
		} else if !m.matchEvent(ev) {
			return nil, false
		}
	}
	if !hasFrame {
		return nil, true
	}
	for i := range views {
		ok := true
		for j := range fr.matchers {
			m := &fr.matchers[j]
			if isFrameKey(m.key) && !m.matchFrame(&views[i]) {
				ok = false
				break
			}
		}
		if ok {
			return &views[i], true
		}
	}
	return nil, false
}

type grouper struct {
	ev    *Event
	views []frameView
	buf   []byte // hash input, reused
	// Frames of one event mostly share a bundle URL, and consecutive
	// frames often the same original source (a library's internals): the
	// last normalised form of each is remembered.
	url, src pathMemo
	// defaultSums' results, reused.
	defVars [2]Variant
	defSums [2]digest
}

// pathMemo remembers NormalizePath and modulePath of the last path asked
// for.
type pathMemo struct {
	raw, norm, module string
	set               bool
}

func (m *pathMemo) get(p string) (norm, module string) {
	if !m.set || p != m.raw {
		m.raw, m.norm, m.set = p, NormalizePath(p), true
		m.module = modulePath(m.norm)
	}
	return m.norm, m.module
}

// Groupers are pooled: their frame views and hash buffer are most of
// what grouping an event would otherwise allocate.
var grouperPool = sync.Pool{New: func() any { return &grouper{buf: make([]byte, 0, 512)} }}

// Events with more frames than this, or hash inputs longer, get buffers
// that are not kept in the pool.
const (
	maxPooledViews = 256
	maxPooledBuf   = 16 << 10
)

func newGrouper(ev *Event) *grouper {
	g := grouperPool.Get().(*grouper)
	g.ev = ev
	// Pooled views are cleared up to their capacity (see release).
	if n := len(ev.Frames); cap(g.views) >= n {
		g.views = g.views[:n]
	} else {
		g.views = make([]frameView, n)
	}
	return g
}

// release returns g to the pool without references to the event, so a
// pooled grouper keeps no event alive.
func (g *grouper) release() {
	if cap(g.views) > maxPooledViews || cap(g.buf) > maxPooledBuf {
		return
	}
	// Only the views in use can be non-zero: the rest of the capacity
	// stays cleared from earlier releases.
	clear(g.views)
	g.views = g.views[:0]
	g.ev = nil
	g.url, g.src = pathMemo{}, pathMemo{}
	grouperPool.Put(g)
}

func (g *grouper) normURL(u string) string {
	norm, _ := g.url.get(u)
	return norm
}

// view fills g.views[i], which is zero (newGrouper hands out cleared
// views): assigning fields rather than a whole frameView avoids a bulk
// copy of its pointers per frame.
func (g *grouper) view(i int) {
	f := &g.ev.Frames[i]
	v := &g.views[i]
	v.frame, v.inApp, v.g = f, f.InApp, g
	if f.Original != nil {
		v.file, v.module = g.src.get(f.Original.Source)
		v.fn = normalizeFunction(f.Original.Function)
		v.function = v.fn
	} else {
		v.file, v.module = g.url.get(f.URL)
		v.function = normalizeFunction(f.Function)
		// A minified name (one or two characters) changes with every
		// build; without a source map only longer names are kept.
		if len(v.function) > 2 {
			v.fn = v.function
		}
	}
}

// digest is the first 16 bytes of a SHA-256: a Hash before hex encoding.
type digest [16]byte

// sum hashes the variant and parts.
func (g *grouper) sum(variant Variant, parts ...string) digest {
	g.buf = append(g.buf[:0], variant...)
	for _, p := range parts {
		g.buf = append(g.buf, 0)
		g.buf = append(g.buf, p...)
	}
	return g.hash()
}

func (g *grouper) hash() digest {
	sum := sha256.Sum256(g.buf)
	return digest(sum[:16])
}

// hashes hex-encodes sums into Hashes of variant (or vars[i]) with one
// allocation for all their values and one for the slice.
func hashes(variant Variant, vars []Variant, sums []digest) []Hash {
	var b strings.Builder
	b.Grow(2 * len(digest{}) * len(sums))
	var h [2 * len(digest{})]byte
	for i := range sums {
		hex.Encode(h[:], sums[i][:])
		b.Write(h[:])
	}
	s := b.String()
	out := make([]Hash, len(sums))
	for i := range out {
		out[i] = Hash{Variant: variant, Value: s[i*len(h) : (i+1)*len(h)]}
		if vars != nil {
			out[i].Variant = vars[i]
		}
	}
	return out
}

// frameHash hashes the type and up to max frames' file and function
// (innermost first), collapsing direct recursion. It returns false when no
// frame qualified.
func (g *grouper) frameHash(variant Variant, appOnly bool, max int) (digest, bool) {
	g.buf = append(g.buf[:0], variant...)
	g.buf = append(g.buf, 0)
	g.buf = append(g.buf, g.ev.Type...)
	var prev *frameView
	n := 0
	for i := range g.views {
		v := &g.views[i]
		if v.empty() || appOnly && !v.inApp || prev != nil && v.file == prev.file && v.fn == prev.fn {
			continue
		}
		g.buf = append(g.buf, 0)
		g.buf = append(g.buf, v.file...)
		g.buf = append(g.buf, 1)
		g.buf = append(g.buf, v.fn...)
		prev = v
		if n++; n == max {
			break
		}
	}
	if n == 0 {
		return digest{}, false
	}
	return g.hash(), true
}

func (g *grouper) defaults() []Hash {
	vars, sums := g.defaultSums()
	return hashes("", vars, sums)
}

// defaultSums are the default hashes before encoding. The returned slices
// are reused by the next call.
func (g *grouper) defaultSums() ([]Variant, []digest) {
	vars, sums := g.defVars[:0], g.defSums[:0]
	if h, ok := g.frameHash(VariantApp, true, MaxAppFrames); ok {
		vars, sums = append(vars, VariantApp), append(sums, h)
	}
	if h, ok := g.frameHash(VariantSystem, false, MaxSystemFrames); ok {
		vars, sums = append(vars, VariantSystem), append(sums, h)
	}
	if len(sums) == 0 {
		vars, sums = append(vars, VariantMessage), append(sums, g.sum(VariantMessage, g.ev.Type, NormalizeMessage(g.ev.Value)))
	}
	return vars, sums
}

// custom hashes a rule's output; {{ default }} yields one hash per default
// hash, so that such a rule splits default groups further but never merges
// across them. The default hashes are computed only when a part asks for
// them.
func (g *grouper) custom(parts []part, fv *frameView) []Hash {
	vals := make([]string, len(parts))
	dflt := -1
	for i, pt := range parts {
		if pt.variable == "default" {
			dflt = i
			continue
		}
		vals[i] = g.value(pt, fv)
	}
	if dflt < 0 {
		return hashes(VariantCustom, nil, []digest{g.sum(VariantCustom, vals...)})
	}
	def := g.defaults()
	sums := make([]digest, len(def))
	for i, d := range def {
		vals[dflt] = d.Value
		sums[i] = g.sum(VariantCustom, vals...)
	}
	return hashes(VariantCustom, nil, sums)
}

// value resolves a fingerprint or title part.
func (g *grouper) value(pt part, fv *frameView) string {
	ev := g.ev
	switch pt.variable {
	case "":
		return pt.literal
	case "tags":
		if v, ok := ev.tag(pt.tag); ok {
			return v
		}
		return "<no-value-for-tag-" + pt.tag + ">"
	case "error.type":
		return ev.Type
	case "error.value", "message":
		return ev.Value
	case "release":
		return ev.Release
	case "level":
		return ev.Level
	case "environment":
		return ev.Environment
	}
	if fv == nil {
		fv = g.topFrame()
	}
	if fv == nil {
		return "<no-frame>"
	}
	switch pt.variable {
	case "stack.function":
		return fv.function
	case "stack.module":
		return fv.module
	case "stack.abs_path":
		if p := fv.pathList(); len(p) > 0 {
			return p[0]
		}
	}
	return ""
}

func (g *grouper) expand(t []part, fv *frameView) string {
	var b strings.Builder
	for _, pt := range t {
		b.WriteString(g.value(pt, fv))
	}
	return b.String()
}

// topFrame is the innermost in-app frame, or the innermost frame.
func (g *grouper) topFrame() *frameView {
	for i := range g.views {
		if g.views[i].inApp && !g.views[i].empty() {
			return &g.views[i]
		}
	}
	for i := range g.views {
		if !g.views[i].empty() {
			return &g.views[i]
		}
	}
	return nil
}

func (g *grouper) culprit() string {
	for _, pass := range []bool{true, false} {
		for i := range g.views {
			v := &g.views[i]
			if pass && !v.inApp || v.empty() {
				continue
			}
			file, fn := v.file, v.fn
			switch {
			case fn == "":
				return clip(file, maxTitle)
			case file == "":
				return clip(fn, maxTitle)
			}
			return clip(file+" in "+fn, maxTitle)
		}
	}
	return ""
}

func title(ev *Event) string {
	t := ev.Type
	switch {
	case t == "" && ev.Value == "":
		t = "Error"
	case t == "":
		t = ev.Value
	case ev.Value != "":
		t += ": " + ev.Value
	}
	if i := strings.IndexByte(t, '\n'); i >= 0 {
		t = t[:i]
	}
	return clip(t, maxTitle)
}

// clip cuts s to at most n bytes on a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
