// Package engine is the edge policy engine: it applies a project's policy
// (package policy) to one batch in a single pass over its JSON, dropping
// noise (package noise), sampling sessions (package sample) and masking
// personal data (package mask), and says what it did with every event.
//
// The same code runs natively (the edge's --native mode and tests) and
// inside filter.wasm, built from wasm/cmd/filter; Handle is the function
// both call, over the byte envelope documented in wasm/README.md, so their
// outputs can be compared byte for byte.
//
// The walk copies the input to the output and rewrites only the strings it
// masks; what it copies unchanged is copied lazily (see jsontext.Reader),
// in spans, so masking first checks, without writing, whether a string
// changes. It allocates nothing per string: Go compiled to wasm pays for
// every allocation several times over.
package engine

import (
	"github.com/rearview-dev/rearview/wasm/jsontext"
	"github.com/rearview-dev/rearview/wasm/mask"
	"github.com/rearview-dev/rearview/wasm/noise"
	"github.com/rearview-dev/rearview/wasm/policy"
	"github.com/rearview-dev/rearview/wasm/sample"
)

// Context is what the host knows about the request a batch came with.
type Context struct {
	Project string
	Region  string
	Country string // ISO 3166-1 alpha-2 or ""
	UA      string // the request's User-Agent, checked for bots; when empty, the batch's device.ua is
	Now     int64  // milliseconds since the Unix epoch
}

// The drop reasons, in the order reports list them.
var reasons = [...]string{
	noise.ReasonCrawlers, noise.ReasonLocalhost, noise.ReasonExtensions, noise.ReasonBrowser,
	noise.ReasonKnown, noise.ReasonRelease, noise.ReasonSampled,
	noise.ReasonWebdriver, noise.ReasonHeadless,
}

const (
	rKept = iota - 1
	rCrawlers
	rLocalhost
	rExtensions
	rBrowser
	rKnown
	rRelease
	rSampled
	rWebdriver
	rHeadless
)

// kinds of events.
const (
	kUnknown = iota
	kError
	kVital
	kReplay
	kBreadcrumb
	kSession
)

type decision struct {
	id, kind [2]int // bounds of raw string content in the input
	reason   int
	masked   int
}

// Engine applies policies. It keeps its buffers between calls and is not
// safe for concurrent use: give each goroutine (or wasm instance) its own.
type Engine struct {
	r       jsontext.Reader
	p       *policy.Resolved
	cache   map[uint64]*cached
	scratch []byte
	spare   []byte
	fp      []byte
	ua      []byte
	memo    memo
	botList *noise.BotList // nil: noise.Builtin()
	botMemo botMemo

	// Per batch.
	ctx         Context
	session     sample.Session
	deviceUA    []byte
	webdriver   bool // device.webdriver: the SDK saw navigator.webdriver
	headless    bool // device.headless: the SDK saw a headless browser
	seenSession bool
	seenPage    bool
	seenDevice  bool
	envelope    bool // session, page and device are known
	batchDrop   int
	keepSession bool
	kept        int
	masked      int
	evMasked    int
	dropped     [len(reasons)]int
	decisions   []decision
	styleIDs    map[int64]bool
	maskIDs     map[int64]bool
	optimistic  int // walks of children that may yet be undone (see node)
	selFor      *policy.Resolved
	msgFor      *policy.Resolved
	msgSet      *noise.MessageSet // the noise messages of msgFor
	selAttrs    []string          // the mask selectors of selFor: attribute names
	selClasses  []string          // and class names
	journal     []idEntry         // ids they marked

	resp []byte
}

type cached struct {
	doc    []byte
	region string
	p      *policy.Resolved
	err    error
}

// New returns an Engine.
func New() *Engine {
	return &Engine{
		cache:    map[uint64]*cached{},
		styleIDs: map[int64]bool{},
		maskIDs:  map[int64]bool{},
	}
}

// policyFor resolves a policy document for a region, remembering the last
// ones: a host sends the same few documents over and over.
func (e *Engine) policyFor(doc []byte, region string) (*policy.Resolved, error) {
	h := uint64(14695981039346656037)
	for _, c := range doc {
		h = (h ^ uint64(c)) * 1099511628211
	}
	h = (h ^ 0xff) * 1099511628211
	for i := 0; i < len(region); i++ {
		h = (h ^ uint64(region[i])) * 1099511628211
	}
	if c, ok := e.cache[h]; ok && c.region == region && string(c.doc) == string(doc) {
		return c.p, c.err
	}
	p, err := policy.Resolve(doc, region)
	if len(e.cache) >= 64 {
		clear(e.cache)
	}
	e.cache[h] = &cached{doc: append([]byte(nil), doc...), region: region, p: p, err: err}
	return p, err
}

// apply runs the policy over batch, leaving the output batch in e.r.Out
// and one decision per event in e.decisions.
func (e *Engine) apply(p *policy.Resolved, ctx Context, batch []byte, out []byte) (err error) {
	e.p, e.ctx = p, ctx
	e.memo.reset()
	e.selectors()
	e.session = sample.Session{}
	e.deviceUA = nil
	e.webdriver, e.headless = false, false
	e.seenSession, e.seenPage, e.seenDevice, e.envelope = false, false, false, false
	e.batchDrop, e.keepSession = rKept, true
	e.kept, e.masked, e.evMasked = 0, 0, 0
	e.dropped = [len(reasons)]int{}
	e.decisions = e.decisions[:0]
	clear(e.styleIDs)
	clear(e.maskIDs)
	e.optimistic, e.journal = 0, e.journal[:0]
	e.r.Reset(batch, out)
	defer jsontext.Catch(&err)
	e.batch()
	e.r.End()
	e.r.Flush()
	return nil
}

func (e *Engine) batch() {
	r := &e.r
	r.OpenCopy('{')
	n := 0
	for r.NextKeyCopy(&n) {
		switch string(r.Key()) {
		case "events":
			if !e.envelope {
				e.lookahead()
			}
			e.decide()
			e.events()
		default:
			e.envelopeMember(r.Key())
		}
	}
}

// envelopeMember handles a top-level member other than events.
func (e *Engine) envelopeMember(k []byte) {
	switch string(k) {
	case "session":
		e.seenSession = true
		e.sessionObj()
	case "page":
		e.seenPage = true
		e.object(e.pageMember)
	case "device":
		e.seenDevice = true
		e.object(func(k []byte) {
			if string(k) == "ua" && e.r.Peek() == '"' {
				s, end, _ := e.r.String()
				e.deviceUA = e.r.In[s:end]
				e.r.Emit(s-1, end+1) // with its quotes
				return
			}
			if (string(k) == "webdriver" || string(k) == "headless") && (e.r.Peek() == 't' || e.r.Peek() == 'f') {
				s := e.r.Pos
				v := e.r.Bool()
				if string(k) == "webdriver" {
					e.webdriver = v
				} else {
					e.headless = v
				}
				e.r.Emit(s, e.r.Pos)
				return
			}
			e.r.Copy()
		})
	case "v", "sdk", "sent_at":
		e.r.Copy()
	default:
		e.generic()
	}
	e.envelope = e.seenSession && e.seenPage && e.seenDevice
}

// lookahead reads the envelope members that follow "events" so that the
// events can be decided on; their output is discarded and written again
// when the walk reaches them.
func (e *Engine) lookahead() {
	r := &e.r
	m, outLen, masked := r.Mark(), r.OutLen(), e.masked
	r.Skip()
	n := 1
	for r.NextKey(&n) {
		if string(r.Key()) == "events" {
			r.Skip()
			continue
		}
		e.envelopeMember(r.Key())
	}
	r.Restore(m)
	r.Truncate(outLen)
	e.masked = masked
	e.envelope = true
}

func (e *Engine) sessionObj() {
	e.object(func(k []byte) {
		r := &e.r
		switch string(k) {
		case "id":
			if r.Peek() == '"' {
				s, end, _ := r.String()
				e.session.ID = r.In[s:end]
				r.Emit(s-1, end+1) // with its quotes
				return
			}
			r.Copy()
		case "user_id":
			if r.Peek() == '"' {
				m := r.Mark()
				s, end, _ := r.String()
				e.session.UserID = r.In[s:end]
				r.Restore(m)
			}
			e.str(mDetect)
		case "flags":
			e.object(func(k []byte) {
				if (string(k) == "error" || string(k) == "support") && (r.Peek() == 't' || r.Peek() == 'f') {
					s := r.Pos
					v := r.Bool()
					if string(k) == "error" {
						e.session.Error = v
					} else {
						e.session.Support = v
					}
					r.Emit(s, r.Pos)
					return
				}
				r.Copy()
			})
		case "seq", "started_at":
			r.Copy()
		default:
			e.generic()
		}
	})
}

func (e *Engine) pageMember(k []byte) {
	r := &e.r
	switch string(k) {
	case "url":
		if r.Peek() == '"' {
			m := r.Mark()
			s, end, _ := r.String()
			e.session.PageURL = r.In[s:end]
			r.Restore(m)
		}
		e.str(mURL)
	case "referrer":
		e.str(mURL)
	default:
		e.generic()
	}
}

// decide makes the decisions that hold for every event of the batch.
func (e *Engine) decide() {
	p := e.p
	// One rule: the request's User-Agent when it has one, else the
	// batch's device.ua (a host that cannot see the header). The header
	// is what the client sent; device.ua is what the page's script says,
	// and automation that hides behind one is caught by the SDK's own
	// signals rather than by checking both.
	// A batch with neither is a bot too.
	e.ua = append(e.ua[:0], e.ctx.UA...) // no allocation per batch
	ua := e.ua
	if len(ua) == 0 {
		ua = e.deviceUA
	}
	isBot := e.bot(p, ua)
	// The SDK's signals, each with its own reason; a project's allowed
	// User-Agents (its own synthetic monitoring) pass them too.
	signal := p.Bots.Drop && (p.Bots.Webdriver && e.webdriver || p.Bots.Headless && e.headless) && !noise.Allowed(ua, p.Bots.Allow)
	switch {
	case p.Bots.Drop && isBot:
		e.batchDrop = rCrawlers
	case signal && p.Bots.Webdriver && e.webdriver:
		e.batchDrop = rWebdriver
	case signal:
		e.batchDrop = rHeadless
	case p.Noise.Localhost && noise.Localhost(e.session.PageURL):
		e.batchDrop = rLocalhost
	}
	e.keepSession = sample.Keep(e.session, &p.Sampling)
}

// object walks an object, writing it out, calling member for each member
// with the value not yet read; member must read the value and write it.
func (e *Engine) object(member func(k []byte)) {
	r := &e.r
	if r.Peek() != '{' {
		e.generic()
		return
	}
	r.OpenCopy('{')
	n := 0
	for r.NextKeyCopy(&n) {
		member(r.Key())
	}
}

// array walks an array, calling elem for each element.
func (e *Engine) array(elem func()) {
	r := &e.r
	if r.Peek() != '[' {
		e.generic()
		return
	}
	r.OpenCopy('[')
	n := 0
	for r.NextElemCopy(&n) {
		elem()
	}
}

func (e *Engine) events() {
	r := &e.r
	if r.Peek() != '[' {
		e.generic()
		return
	}
	r.OpenCopy('[')
	n := 0
	for r.NextElem(&n) {
		e.event()
	}
	r.Lit(']')
}

type eventState struct {
	id, kind         [2]int
	kindOf           int
	typ, value, rel  [2]int
	typEsc, valueEsc bool
	hasRelease       bool
	extension        bool
	fp               []byte // the SDK fingerprint joined with "/"
	hasFP            bool
}

// event walks one event and decides whether it is kept.
func (e *Engine) event() {
	r := &e.r
	mark := r.OutLen()
	if e.kept > 0 {
		r.Lit(',')
	}
	if r.Peek() != '{' {
		// Not an event: the strict decoder would have refused it. Drop it.
		r.Skip()
		r.Truncate(mark)
		return
	}
	e.evMasked = 0
	ev := eventState{}
	e.fp = e.fp[:0]
	r.OpenCopy('{')
	n := 0
	for r.NextKeyCopy(&n) {
		k := r.Key()
		switch string(k) {
		case "id", "kind":
			if r.Peek() != '"' {
				e.generic()
				continue
			}
			s, end, _ := r.String()
			r.Emit(s-1, end+1) // with its quotes
			if string(k) == "id" {
				ev.id = [2]int{s, end}
			} else {
				ev.kind = [2]int{s, end}
				ev.kindOf = kindOf(r.In[s:end])
			}
			continue
		case "ts":
			r.Copy()
			continue
		}
		if e.dropsEarly(&ev) {
			// The event is dropped whatever it holds: validate, don't mask.
			r.Skip()
			continue
		}
		switch string(k) {
		case "error":
			e.errorObj(&ev)
		case "vital":
			e.object(e.vitalMember)
		case "replay":
			e.object(e.replayMember)
		case "breadcrumb":
			e.breadcrumb()
		case "session":
			e.object(func(k []byte) {
				if string(k) == "url" {
					e.str(mURL)
					return
				}
				e.generic()
			})
		default:
			e.generic()
		}
	}
	reason := e.reason(&ev)
	d := decision{id: ev.id, kind: ev.kind, reason: reason, masked: e.evMasked}
	if reason != rKept {
		r.Truncate(mark)
		e.dropped[reason]++
		d.masked = 0
	} else {
		e.kept++
		e.masked += e.evMasked
	}
	e.decisions = append(e.decisions, d)
}

func kindOf(b []byte) int {
	switch string(b) {
	case "error":
		return kError
	case "vital":
		return kVital
	case "replay":
		return kReplay
	case "breadcrumb":
		return kBreadcrumb
	case "session":
		return kSession
	}
	return kUnknown
}

func sampled(kind int) bool { return kind == kReplay || kind == kBreadcrumb }

// dropsEarly reports whether the event is dropped whatever its payload.
func (e *Engine) dropsEarly(ev *eventState) bool {
	return e.batchDrop != rKept || ev.kindOf != kUnknown && sampled(ev.kindOf) && !e.keepSession
}

// reason decides an event once it has been read.
func (e *Engine) reason(ev *eventState) int {
	if e.batchDrop != rKept {
		return e.batchDrop
	}
	if sampled(ev.kindOf) && !e.keepSession {
		return rSampled
	}
	if ev.kindOf != kError {
		return rKept
	}
	p := &e.p.Noise
	if p.Extensions && ev.extension {
		return rExtensions
	}
	in := e.r.In
	typ := e.text(in[ev.typ[0]:ev.typ[1]], ev.typEsc, &e.scratch)
	val := e.text(in[ev.value[0]:ev.value[1]], ev.valueEsc, &e.spare)
	if e.messages().Match(typ, val) {
		return rBrowser
	}
	if len(p.Fingerprints) > 0 {
		var hex [16]byte
		Fingerprint(hex[:0], typ, val)
		for _, f := range p.Fingerprints {
			if f == string(hex[:]) || ev.hasFP && f == string(ev.fp) {
				return rKnown
			}
		}
	}
	if ev.hasRelease || len(p.AllowReleases) > 0 {
		if noise.Release(in[ev.rel[0]:ev.rel[1]], p.DenyReleases, p.AllowReleases) {
			return rRelease
		}
	}
	return rKept
}

// messages returns the noise messages of the policy, prepared once per
// policy rather than searched for one by one in every error.
func (e *Engine) messages() *noise.MessageSet {
	if e.msgFor != e.p {
		e.msgFor, e.msgSet = e.p, noise.NewMessageSet(e.p.Noise.Messages)
	}
	return e.msgSet
}

// text returns raw string content, unescaped into buf when it has escapes.
func (e *Engine) text(raw []byte, esc bool, buf *[]byte) []byte {
	if !esc {
		return raw
	}
	*buf = jsontext.Unescape((*buf)[:0], raw)
	return *buf
}

// Fingerprint appends the edge fingerprint of an error, the one a
// project's known-noise list holds: 16 lower-case hex digits of the FNV-1a
// 64 hash of its type, a zero byte and its message.
func Fingerprint(dst, typ, value []byte) []byte {
	h := uint64(14695981039346656037)
	for _, c := range typ {
		h = (h ^ uint64(c)) * 1099511628211
	}
	h *= 1099511628211 // the zero byte
	for _, c := range value {
		h = (h ^ uint64(c)) * 1099511628211
	}
	const digits = "0123456789abcdef"
	for s := 60; s >= 0; s -= 4 {
		dst = append(dst, digits[h>>uint(s)&0xf])
	}
	return dst
}

func (e *Engine) errorObj(ev *eventState) {
	r := &e.r
	if r.Peek() != '{' {
		e.generic()
		return
	}
	r.OpenCopy('{')
	n := 0
	for r.NextKeyCopy(&n) {
		k := r.Key()
		switch string(k) {
		case "type", "value", "release":
			if r.Peek() != '"' {
				e.generic()
				continue
			}
			s, end, esc := r.String()
			switch string(k) {
			case "type":
				ev.typ, ev.typEsc = [2]int{s, end}, esc
				r.Emit(s-1, end+1) // with its quotes
			case "value":
				ev.value, ev.valueEsc = [2]int{s, end}, esc
				e.strRead(s, end, esc, mDetect)
			case "release":
				ev.rel, ev.hasRelease = [2]int{s, end}, true
				r.Emit(s-1, end+1) // with its quotes
			}
		case "stack":
			e.stack(ev)
		case "url":
			e.str(mURL)
		case "tags":
			e.stringMap(false)
		case "breadcrumbs":
			e.breadcrumbs()
		case "fingerprint":
			e.array(func() {
				if r.Peek() == '"' {
					m := r.Mark()
					s, end, esc := r.String()
					if ev.hasFP {
						e.fp = append(e.fp, '/')
					}
					ev.hasFP = true
					if esc {
						e.fp = jsontext.Unescape(e.fp, r.In[s:end])
					} else {
						e.fp = append(e.fp, r.In[s:end]...)
					}
					r.Restore(m)
				}
				e.str(mDetect)
			})
			ev.fp = e.fp
		case "level", "mechanism", "handled", "dist", "environment", "trace_id", "span_id", "debug_ids":
			r.Copy()
		default:
			e.generic()
		}
	}
}

// stack walks an error's frames. It loops itself rather than through
// array, object and closures: under wasm an indirect call costs several
// times a direct one, and frames are most of an error event.
func (e *Engine) stack(ev *eventState) {
	r := &e.r
	if r.Peek() != '[' {
		e.generic()
		return
	}
	r.OpenCopy('[')
	n := 0
	for r.NextElemCopy(&n) {
		if r.Peek() != '{' {
			e.generic()
			continue
		}
		r.OpenCopy('{')
		m := 0
		for r.NextKeyCopy(&m) {
			switch string(r.Key()) {
			case "url":
				if r.Peek() == '"' {
					s, end, esc := r.String()
					if noise.Extension(r.In[s:end]) {
						ev.extension = true
					}
					e.strRead(s, end, esc, mDetect)
					continue
				}
				e.generic()
			case "function":
				e.str(mDetect)
			case "line", "column":
				r.Copy()
			default:
				e.generic()
			}
		}
	}
}

func (e *Engine) vitalMember(k []byte) {
	switch string(k) {
	case "url":
		e.str(mURL)
	case "attribution":
		e.stringMap(false)
	case "name", "value", "delta", "rating", "navigation_type", "metric_id":
		e.r.Copy()
	default:
		e.generic()
	}
}

func (e *Engine) breadcrumb() { e.object(e.breadcrumbMember) }

// breadcrumbs walks an error's breadcrumbs, looping itself rather than
// through array, object and closures (see stack).
func (e *Engine) breadcrumbs() {
	r := &e.r
	if r.Peek() != '[' {
		e.generic()
		return
	}
	r.OpenCopy('[')
	n := 0
	for r.NextElemCopy(&n) {
		if r.Peek() != '{' {
			e.generic()
			continue
		}
		r.OpenCopy('{')
		m := 0
		for r.NextKeyCopy(&m) {
			e.breadcrumbMember(r.Key())
		}
	}
}

func (e *Engine) breadcrumbMember(k []byte) {
	switch string(k) {
	case "message", "selector":
		e.str(mDetect)
	case "url":
		e.str(mURL)
	case "data":
		e.stringMap(false)
	case "http":
		e.object(func(k []byte) {
			switch string(k) {
			case "url":
				e.str(mURL)
			case "request_headers", "response_headers":
				e.stringMap(true)
			case "request_body", "response_body":
				e.str(mDetect)
			case "method", "status", "duration_ms", "trace_id":
				e.r.Copy()
			default:
				e.generic()
			}
		})
	case "ts", "category", "level":
		e.r.Copy()
	default:
		e.generic()
	}
}

// stringMap walks {name: value}: values of sensitive names (or denied
// headers) are masked whole, the others run through the detectors.
func (e *Engine) stringMap(headers bool) {
	e.object(func(k []byte) {
		whole := mask.SensitiveKey(e.r.Key())
		if headers {
			whole = mask.Header(e.r.Key(), e.p.Masking.DenyHeaders)
		}
		if whole {
			e.str(mStars)
		} else {
			e.str(mDetect)
		}
	})
}

// cssKeys hold CSS, which masking must never touch.
func cssKey(k []byte) bool {
	switch string(k) {
	case "style", "styles", "_cssText", "cssText", "css", "rule", "rules", "set", "replace", "replaceSync":
		return true
	}
	return false
}

// generic walks a value of unknown meaning: every string runs through the
// detectors, values of sensitive keys are masked whole, CSS is copied.
func (e *Engine) generic() {
	r := &e.r
	switch r.Peek() {
	case '"':
		e.str(mDetect)
	case '{':
		r.OpenCopy('{')
		n := 0
		for r.NextKeyCopy(&n) {
			switch {
			case cssKey(r.Key()):
				r.Copy()
			case mask.SensitiveKey(r.Key()) && r.Peek() == '"':
				e.str(mStars)
			default:
				e.generic()
			}
		}
	case '[':
		e.array(e.generic)
	default:
		r.Copy()
	}
}
