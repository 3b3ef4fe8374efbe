package sdkproto

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/rearview-dev/rearview/wasm/jsontext"
)

// fastEncode appends b's JSON exactly as json.Marshal writes it (field
// order, omitempty, sorted map keys, HTML-safe string escapes, U+FFFD for
// invalid UTF-8, ES6 number format, raw rrweb events compacted), without
// reflection. It reports false, having written garbage, for what it leaves
// to json.Marshal: a NaN or infinite number, raw events that are not valid
// JSON, for which json.Marshal's error is the answer. fastencode_test.go
// holds it to json.Marshal's bytes.
func fastEncode(dst []byte, b *Batch) ([]byte, bool) {
	// Room for a typical event's JSON up front, so that the buffer is
	// seldom copied as it grows.
	n := 512 + 1024*len(b.Events)
	for i := range b.Events {
		if r := b.Events[i].Replay; r != nil {
			n += len(r.Events)
		}
	}
	e := encoder{buf: slices.Grow(dst, n), ok: true}
	e.batch(b)
	return e.buf, e.ok
}

type encoder struct {
	buf []byte
	ok  bool
}

func (e *encoder) raw(s string) { e.buf = append(e.buf, s...) }

// key writes a member's key (with its comma unless first, and colon),
// given as its JSON already: `"name":`.
func (e *encoder) key(first *bool, k string) {
	if !*first {
		e.buf = append(e.buf, ',')
	}
	*first = false
	e.buf = append(e.buf, k...)
}

func (e *encoder) str(s string) { e.buf = appendJSONString(e.buf, s) }

func (e *encoder) int(v int64) { e.buf = strconv.AppendInt(e.buf, v, 10) }

func (e *encoder) bool(v bool) {
	if v {
		e.raw("true")
	} else {
		e.raw("false")
	}
}

// float is encoding/json's floatEncoder for 64 bits.
func (e *encoder) float(f float64) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		e.ok = false
		return
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	e.buf = strconv.AppendFloat(e.buf, f, format, -1, 64)
	if format == 'e' {
		// e-09 becomes e-9, as there.
		n := len(e.buf)
		if n >= 4 && e.buf[n-4] == 'e' && e.buf[n-3] == '-' && e.buf[n-2] == '0' {
			e.buf[n-2] = e.buf[n-1]
			e.buf = e.buf[:n-1]
		}
	}
}

// strMap writes a map of strings with its keys in order, as json.Marshal
// sorts them.
func (e *encoder) strMap(m map[string]string) {
	if m == nil {
		e.raw("null")
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.buf = append(e.buf, '{')
	for i, k := range keys {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.str(k)
		e.buf = append(e.buf, ':')
		e.str(m[k])
	}
	e.buf = append(e.buf, '}')
}

// rawJSON writes a json.RawMessage as json.Marshal does: null when nil,
// else compacted with <, >, &, U+2028 and U+2029 escaped (which can appear
// only inside its strings).
func (e *encoder) rawJSON(m json.RawMessage) {
	if m == nil {
		e.raw("null")
		return
	}
	// What the edge publishes is already compact and holds none of those
	// (its module writes them escaped): then checking it is valid is all
	// there is to do, and wasm/jsontext's Reader does that several times
	// faster than encoding/json's scanner.
	if plainCompact(m) && validJSON(m) {
		e.buf = append(e.buf, m...)
		return
	}
	var compact bytes.Buffer
	if json.Compact(&compact, m) != nil {
		e.ok = false
		return
	}
	out := bytes.NewBuffer(e.buf)
	json.HTMLEscape(out, compact.Bytes())
	e.buf = out.Bytes()
}

// plainCompact reports whether JSON m has no white space outside its
// strings and none of the bytes json.Marshal escapes in a raw message.
func plainCompact(m []byte) bool {
	in := false
	for i := 0; i < len(m); i++ {
		c := m[i]
		if !rawPlain[c] {
			if !in || c == '<' || c == '>' || c == '&' || c == 0xE2 {
				return false
			}
			continue // white space inside a string stays
		}
		switch {
		case in && c == '\\':
			i++ // the escaped byte, never one of those
		case c == '"':
			in = !in
		}
	}
	return true
}

func (e *encoder) batch(b *Batch) {
	e.raw(`{"v":`)
	e.int(int64(b.V))
	e.raw(`,"sdk":{"name":`)
	e.str(b.SDK.Name)
	e.raw(`,"version":`)
	e.str(b.SDK.Version)
	e.raw(`},"session":{"id":`)
	s := &b.Session
	e.str(s.ID)
	e.raw(`,"seq":`)
	e.int(s.Seq)
	e.raw(`,"started_at":`)
	e.int(s.StartedAt)
	if s.UserID != "" {
		e.raw(`,"user_id":`)
		e.str(s.UserID)
	}
	e.raw(`,"flags":{`)
	first := true
	if s.Flags.Error {
		e.key(&first, `"error":true`)
	}
	if s.Flags.Support {
		e.key(&first, `"support":true`)
	}
	if s.Flags.Synthetic {
		e.key(&first, `"synthetic":true`)
	}
	e.raw(`}},"page":{"url":`)
	e.str(b.Page.URL)
	if b.Page.Referrer != "" {
		e.raw(`,"referrer":`)
		e.str(b.Page.Referrer)
	}
	d := &b.Device
	e.raw(`},"device":{"ua":`)
	e.str(d.UA)
	e.raw(`,"viewport":`)
	e.size(d.Viewport)
	if d.Screen != nil {
		e.raw(`,"screen":`)
		e.size(*d.Screen)
	}
	if d.DPR != 0 {
		e.raw(`,"dpr":`)
		e.float(d.DPR)
	}
	for _, f := range [...]struct{ k, v string }{{`,"language":`, d.Language}, {`,"timezone":`, d.Timezone}, {`,"connection":`, d.Connection}} {
		if f.v != "" {
			e.raw(f.k)
			e.str(f.v)
		}
	}
	if d.Webdriver {
		e.raw(`,"webdriver":true`)
	}
	if d.Headless {
		e.raw(`,"headless":true`)
	}
	e.raw(`},"sent_at":`)
	e.int(b.SentAt)
	e.raw(`,"events":`)
	if b.Events == nil {
		e.raw("null")
	} else {
		e.buf = append(e.buf, '[')
		for i := range b.Events {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.event(&b.Events[i])
		}
		e.buf = append(e.buf, ']')
	}
	e.buf = append(e.buf, '}')
}

func (e *encoder) size(s Size) {
	e.raw(`{"w":`)
	e.int(int64(s.W))
	e.raw(`,"h":`)
	e.int(int64(s.H))
	e.buf = append(e.buf, '}')
}

func (e *encoder) event(ev *Event) {
	e.raw(`{"id":`)
	e.str(ev.ID)
	e.raw(`,"ts":`)
	e.int(ev.TS)
	e.raw(`,"kind":`)
	e.str(string(ev.Kind))
	if ev.Error != nil {
		e.raw(`,"error":`)
		e.error(ev.Error)
	}
	if ev.Vital != nil {
		e.raw(`,"vital":`)
		e.vital(ev.Vital)
	}
	if ev.Replay != nil {
		e.raw(`,"replay":`)
		e.replay(ev.Replay)
	}
	if ev.Breadcrumb != nil {
		e.raw(`,"breadcrumb":`)
		e.breadcrumb(ev.Breadcrumb)
	}
	if ev.Session != nil {
		e.raw(`,"session":{"state":`)
		e.str(ev.Session.State)
		if ev.Session.URL != "" {
			e.raw(`,"url":`)
			e.str(ev.Session.URL)
		}
		e.buf = append(e.buf, '}')
	}
	e.buf = append(e.buf, '}')
}

func (e *encoder) error(x *Error) {
	e.raw(`{"type":`)
	e.str(x.Type)
	e.raw(`,"value":`)
	e.str(x.Value)
	if x.Level != "" {
		e.raw(`,"level":`)
		e.str(x.Level)
	}
	e.raw(`,"mechanism":`)
	e.str(string(x.Mechanism))
	e.raw(`,"handled":`)
	e.bool(x.Handled)
	if len(x.Stack) > 0 {
		e.raw(`,"stack":[`)
		for i := range x.Stack {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			f := &x.Stack[i]
			e.raw(`{"url":`)
			e.str(f.URL)
			if f.Function != "" {
				e.raw(`,"function":`)
				e.str(f.Function)
			}
			if f.Line != 0 {
				e.raw(`,"line":`)
				e.int(int64(f.Line))
			}
			if f.Column != 0 {
				e.raw(`,"column":`)
				e.int(int64(f.Column))
			}
			e.buf = append(e.buf, '}')
		}
		e.buf = append(e.buf, ']')
	}
	for _, f := range [...]struct{ k, v string }{{`,"release":`, x.Release}, {`,"dist":`, x.Dist}, {`,"environment":`, x.Environment}, {`,"url":`, x.URL}} {
		if f.v != "" {
			e.raw(f.k)
			e.str(f.v)
		}
	}
	if len(x.Tags) > 0 {
		e.raw(`,"tags":`)
		e.strMap(x.Tags)
	}
	if x.TraceID != "" {
		e.raw(`,"trace_id":`)
		e.str(x.TraceID)
	}
	if x.SpanID != "" {
		e.raw(`,"span_id":`)
		e.str(x.SpanID)
	}
	if len(x.Breadcrumbs) > 0 {
		e.raw(`,"breadcrumbs":[`)
		for i := range x.Breadcrumbs {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.breadcrumb(&x.Breadcrumbs[i])
		}
		e.buf = append(e.buf, ']')
	}
	if len(x.DebugIDs) > 0 {
		e.raw(`,"debug_ids":`)
		e.strMap(x.DebugIDs)
	}
	if len(x.Fingerprint) > 0 {
		e.raw(`,"fingerprint":[`)
		for i, s := range x.Fingerprint {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.str(s)
		}
		e.buf = append(e.buf, ']')
	}
	e.buf = append(e.buf, '}')
}

func (e *encoder) vital(v *Vital) {
	e.raw(`{"name":`)
	e.str(v.Name)
	e.raw(`,"value":`)
	e.float(v.Value)
	if v.Delta != 0 {
		e.raw(`,"delta":`)
		e.float(v.Delta)
	}
	for _, f := range [...]struct{ k, v string }{{`,"rating":`, v.Rating}, {`,"navigation_type":`, v.NavigationType}, {`,"metric_id":`, v.MetricID}, {`,"url":`, v.URL}} {
		if f.v != "" {
			e.raw(f.k)
			e.str(f.v)
		}
	}
	if len(v.Attribution) > 0 {
		e.raw(`,"attribution":`)
		e.strMap(v.Attribution)
	}
	e.buf = append(e.buf, '}')
}

func (e *encoder) replay(r *Replay) {
	e.raw(`{"segment":`)
	e.int(int64(r.Segment))
	e.raw(`,"events":`)
	e.rawJSON(r.Events)
	if r.FromBuffer {
		e.raw(`,"from_buffer":true`)
	}
	if r.EndTS != 0 {
		e.raw(`,"end_ts":`)
		e.int(r.EndTS)
	}
	e.buf = append(e.buf, '}')
}

func (e *encoder) breadcrumb(c *Breadcrumb) {
	first := true
	e.buf = append(e.buf, '{')
	if c.TS != 0 {
		e.key(&first, `"ts":`)
		e.int(c.TS)
	}
	e.key(&first, `"category":`)
	e.str(c.Category)
	for _, f := range [...]struct{ k, v string }{{`,"level":`, c.Level}, {`,"message":`, c.Message}, {`,"selector":`, c.Selector}, {`,"url":`, c.URL}} {
		if f.v != "" {
			e.raw(f.k)
			e.str(f.v)
		}
	}
	if h := c.HTTP; h != nil {
		e.raw(`,"http":{"method":`)
		e.str(h.Method)
		e.raw(`,"url":`)
		e.str(h.URL)
		if h.Status != 0 {
			e.raw(`,"status":`)
			e.int(int64(h.Status))
		}
		if h.DurationMS != 0 {
			e.raw(`,"duration_ms":`)
			e.float(h.DurationMS)
		}
		if h.TraceID != "" {
			e.raw(`,"trace_id":`)
			e.str(h.TraceID)
		}
		if len(h.RequestHeaders) > 0 {
			e.raw(`,"request_headers":`)
			e.strMap(h.RequestHeaders)
		}
		if h.RequestBody != "" {
			e.raw(`,"request_body":`)
			e.str(h.RequestBody)
		}
		if len(h.ResponseHeaders) > 0 {
			e.raw(`,"response_headers":`)
			e.strMap(h.ResponseHeaders)
		}
		if h.ResponseBody != "" {
			e.raw(`,"response_body":`)
			e.str(h.ResponseBody)
		}
		e.buf = append(e.buf, '}')
	}
	if len(c.Data) > 0 {
		e.raw(`,"data":`)
		e.strMap(c.Data)
	}
	e.buf = append(e.buf, '}')
}

// rawPlain marks the bytes that compacting and escaping leave as they are
// wherever they appear: not white space, <, >, & or 0xE2 (which starts
// U+2028 and U+2029).
var rawPlain = func() (t [256]bool) {
	for c := range t {
		t[c] = true
	}
	for _, c := range []byte(" \t\n\r<>&\xe2") {
		t[c] = false
	}
	return t
}()

// validJSON reports whether m is one JSON value and nothing else.
func validJSON(m []byte) (ok bool) {
	var r jsontext.Reader
	r.Reset(m, nil)
	defer func() {
		if p := recover(); p != nil {
			if _, syntax := p.(*jsontext.SyntaxError); !syntax {
				panic(p)
			}
			ok = false
		}
	}()
	r.Skip()
	r.End()
	return true
}

// htmlSafe marks the ASCII bytes json.Marshal writes as they are.
var htmlSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	t['"'], t['\\'], t['<'], t['>'], t['&'] = false, false, false, false, false
	return t
}()

// appendJSONString is encoding/json's appendString with HTML escaping, as
// json.Marshal uses it.
func appendJSONString(dst []byte, src string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(src); {
		if b := src[i]; b < utf8.RuneSelf {
			if htmlSafe[b] {
				i++
				continue
			}
			dst = append(dst, src[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(src[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, src[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, src[start:]...)
	return append(dst, '"')
}
