package sdkproto

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/rearview-dev/rearview/wasm/jsontext"
)

// fastDecode decodes data into b exactly as strictUnmarshal (encoding/json,
// unknown fields disallowed) would, and also enforces lim's string and depth
// caps as walk does, in one pass without reflection. It only says yes when
// it is sure: it reports false for anything it does not take itself, valid
// or not (a null, a key that is escaped or matches a field only without
// regard to case, a key given twice, a number that is not an integer where
// one is wanted, a cap exceeded, trailing data), and the caller then runs
// the encoding/json path, which either accepts the batch or says precisely
// what is wrong with it. Every message, path and rejection therefore comes
// from one place, and this file only has to be right about what it accepts:
// fastdecode_test.go checks it against encoding/json on the golden vectors
// and under the fuzzer.
//
// It is built on wasm/jsontext's Reader, the policy module's strict,
// allocation-free reader (its syntax errors are panics, recovered here).
// What it allocates is what the Batch holds: its strings, slices, maps and
// the copy of each replay segment's raw rrweb events.
func fastDecode(data []byte, lim Limits, b *Batch) (ok bool) {
	d := fastDecoder{lim: lim}
	d.r.Reset(data, nil)
	defer func() {
		if !d.recovered(recover()) {
			*b = Batch{}
			ok = false
		}
	}()
	d.batch(b)
	d.r.End()
	return true
}

// fastDecodeEvent is fastDecode for one event of a batch whose limits walk
// has already checked: the slow path's first try at each event.
func fastDecodeEvent(data []byte, ev *Event) (ok bool) {
	var d fastDecoder
	d.r.Reset(data, nil)
	defer func() {
		if !d.recovered(recover()) {
			*ev = Event{}
			ok = false
		}
	}()
	d.event(ev)
	d.r.End()
	return true
}

// recovered reports whether r, what recover returned, is nil: the decoder
// ran to its end. A decoder's own giving up is recovered; any other panic
// is not.
func (d *fastDecoder) recovered(r any) bool {
	if r == nil {
		return true
	}
	if _, isSyntax := r.(*jsontext.SyntaxError); !isSyntax {
		panic(r)
	}
	return false
}

type fastDecoder struct {
	r     jsontext.Reader
	lim   Limits
	depth int // objects and arrays open, as walk counts them
}

// no gives up on the fast path. The message is for debugging only: no one
// sees it, the encoding/json path says what is wrong.
func (d *fastDecoder) no(why string) { d.r.Fail(why) }

// open enters an object or array, held to lim.MaxDepth as walk holds it.
func (d *fastDecoder) open(c byte) {
	if d.lim.MaxDepth > 0 && d.depth >= d.lim.MaxDepth {
		d.no("too deep")
	}
	d.depth++
	d.r.Open(c)
}

// key returns the next member's key of the object being read; false at its
// end. A key with escapes is given up on: encoding/json unescapes it and
// then matches fields without regard to case, which is not worth copying.
func (d *fastDecoder) key(n *int) ([]byte, bool) {
	if !d.r.NextKey(n) {
		d.depth--
		return nil, false
	}
	if d.r.KeyEscaped {
		d.no("escaped key")
	}
	return d.r.In[d.r.KeyStart:d.r.KeyEnd], true
}

// once marks a field as read, giving up on a key given twice (encoding/json
// keeps the last, merging objects into what the first one set).
func (d *fastDecoder) once(seen *uint32, bit uint32) {
	if *seen&bit != 0 {
		d.no("duplicate key")
	}
	*seen |= bit
}

func (d *fastDecoder) elem(n *int) bool {
	if !d.r.NextElem(n) {
		d.depth--
		return false
	}
	return true
}

// raw reads a string's bounds in In, held to lim.MaxString as walk holds
// every string that is not a key.
func (d *fastDecoder) raw() (s, e int, escaped bool) {
	if d.r.Peek() != '"' {
		d.no("not a string")
	}
	s, e, escaped = d.r.String()
	if d.lim.MaxString > 0 && e-s > d.lim.MaxString {
		d.no("string too long")
	}
	return s, e, escaped
}

func (d *fastDecoder) str() string {
	s, e, esc := d.raw()
	return unquote(d.r.In[s:e], esc)
}

// unquote decodes the content of a valid JSON string as encoding/json does:
// escapes decoded, invalid UTF-8 and lone surrogates each replaced by
// U+FFFD.
func unquote(raw []byte, escaped bool) string {
	if !escaped && utf8.Valid(raw) {
		return string(raw)
	}
	out := make([]byte, 0, len(raw)+utf8.UTFMax)
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\\':
			i++
			switch raw[i] {
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r := hex4(raw[i+1:])
				i += 5
				if r >= 0xD800 && r < 0xE000 {
					// A high surrogate followed by a low one is one
					// rune; anything else is U+FFFD, and what follows
					// is read on its own.
					if r < 0xDC00 && i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
						if r2 := hex4(raw[i+2:]); r2 >= 0xDC00 && r2 < 0xE000 {
							out = utf8.AppendRune(out, (r-0xD800)<<10|(r2-0xDC00)+0x10000)
							i += 6
							continue
						}
					}
					r = utf8.RuneError
				}
				out = utf8.AppendRune(out, r)
				continue
			default: // " \ /, the only others the Reader lets through
				out = append(out, raw[i])
			}
			i++
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(raw[i:])
			out = utf8.AppendRune(out, r) // RuneError for each invalid byte
			i += size
		}
	}
	return string(out)
}

// hex4 reads the four hex digits the Reader has checked.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case c <= '9':
			r |= rune(c - '0')
		case c >= 'a':
			r |= rune(c - 'a' + 10)
		default:
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}

// int64 reads an integer as encoding/json does into an int64: a number with
// a fraction or an exponent, or one out of range, is given up on.
func (d *fastDecoder) int64() int64 {
	if c := d.r.Peek(); c != '-' && (c < '0' || c > '9') {
		d.no("not a number")
	}
	num := d.r.Number()
	neg := num[0] == '-'
	digits := num
	if neg {
		digits = num[1:]
	}
	if len(digits) > 18 {
		// Rare, and near the limits: let strconv decide, as
		// encoding/json does.
		v, err := strconv.ParseInt(string(num), 10, 64)
		if err != nil {
			d.no("integer out of range")
		}
		return v
	}
	var v int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			d.no("not an integer")
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		return -v
	}
	return v
}

func (d *fastDecoder) int() int {
	v := d.int64()
	if int64(int(v)) != v {
		d.no("integer out of range")
	}
	return int(v)
}

func (d *fastDecoder) float() float64 {
	if c := d.r.Peek(); c != '-' && (c < '0' || c > '9') {
		d.no("not a number")
	}
	v, err := strconv.ParseFloat(string(d.r.Number()), 64)
	if err != nil {
		d.no("number out of range")
	}
	return v
}

func (d *fastDecoder) bool() bool {
	if c := d.r.Peek(); c != 't' && c != 'f' {
		d.no("not a boolean")
	}
	return d.r.Bool()
}

// strMap reads an object of strings. Keys are unescaped as encoding/json
// unescapes them; a key given twice keeps its last value, as there.
func (d *fastDecoder) strMap() map[string]string {
	if d.r.Peek() != '{' {
		d.no("not an object")
	}
	d.open('{')
	m := make(map[string]string)
	for n := 0; d.r.NextKey(&n); {
		k := unquote(d.r.In[d.r.KeyStart:d.r.KeyEnd], d.r.KeyEscaped)
		m[k] = d.str()
	}
	d.depth--
	return m
}

func (d *fastDecoder) strs() []string {
	d.openArray()
	out := []string{}
	for n := 0; d.elem(&n); {
		out = append(out, d.str())
	}
	return out
}

func (d *fastDecoder) openObject() {
	if d.r.Peek() != '{' {
		d.no("not an object")
	}
	d.open('{')
}

func (d *fastDecoder) openArray() {
	if d.r.Peek() != '[' {
		d.no("not an array")
	}
	d.open('[')
}

// rawValue copies one value, checked for syntax and held to lim's caps, as
// encoding/json fills a json.RawMessage: its bytes without surrounding
// white space.
func (d *fastDecoder) rawValue() json.RawMessage {
	if d.r.Peek() == 'n' {
		d.no("null")
	}
	s := d.r.Pos
	d.skip()
	return append(json.RawMessage(nil), d.r.In[s:d.r.Pos]...)
}

func (d *fastDecoder) skip() {
	switch d.r.Peek() {
	case '"':
		d.raw()
	case '{':
		d.open('{')
		for n := 0; d.r.NextKey(&n); {
			d.skip()
		}
		d.depth--
	case '[':
		d.open('[')
		for n := 0; d.elem(&n); {
			d.skip()
		}
	case 't', 'f':
		d.r.Bool()
	case 'n':
		if !d.r.Null() {
			d.no("invalid literal")
		}
	default:
		d.r.Number()
	}
}

func (d *fastDecoder) batch(b *Batch) {
	d.openObject()
	var seen uint32
	for n := 0; ; {
		k, more := d.key(&n)
		if !more {
			return
		}
		switch string(k) {
		case "v":
			d.once(&seen, 1<<0)
			b.V = d.int()
		case "sdk":
			d.once(&seen, 1<<1)
			d.sdk(&b.SDK)
		case "session":
			d.once(&seen, 1<<2)
			d.session(&b.Session)
		case "page":
			d.once(&seen, 1<<3)
			d.page(&b.Page)
		case "device":
			d.once(&seen, 1<<4)
			d.device(&b.Device)
		case "sent_at":
			d.once(&seen, 1<<5)
			b.SentAt = d.int64()
		case "events":
			d.once(&seen, 1<<6)
			d.openArray()
			b.Events = []Event{}
			for n := 0; d.elem(&n); {
				b.Events = append(b.Events, Event{})
				d.event(&b.Events[len(b.Events)-1])
			}
		default:
			d.no("unknown field")
		}
	}
}

func (d *fastDecoder) sdk(s *SDK) {
	d.openObject()
	var seen uint32
	for n := 0; ; {
		k, more := d.key(&n)
		if !more {
			return
		}
		switch string(k) {
		case "name":
			d.once(&seen, 1<<0)
			s.Name = d.str()
		case "version":
			d.once(&seen, 1<<1)
			s.Version = d.str()
		default:
			d.no("unknown field")
		}
	}
}

func (d *fastDecoder) session(s *Session) {
	d.openObject()
	var seen uint32
	for n := 0; ; {
		k, more := d.key(&n)
		if !more {
			return
		}
		switch string(k) {
		case "id":
			d.once(&seen, 1<<0)
			s.ID = d.str()
		case "seq":
			d.once(&seen, 1<<1)
			s.Seq = d.int64()
		case "started_at":
			d.once(&seen, 1<<2)
			s.StartedAt = d.int64()
		case "user_id":
			d.once(&seen, 1<<3)
			s.UserID = d.str()
		case "flags":
			d.once(&seen, 1<<4)
			d.flags(&s.Flags)
		default:
			d.no("unknown field")
		}
	}
}

func (d *fastDecoder) flags(f *SessionFlags) {
	d.openObject()
	var seen uint32
	for n := 0; ; {
		k, more := d.key(&n)
		if !more {
			return
		}
		switch string(k) {
		case "error":
			d.once(&seen, 1<<0)
			f.Error = d.bool()
		case "support":
			d.once(&seen, 1<<1)
			f.Support = d.bool()
		case "synthetic":
			d.once(&seen, 1<<2)
			f.Synthetic = d.bool()
		default:
			d.no("unknown field")
		}
	}
}

func (d *fastDecoder) page(p *Page) {
	d.openObject()
	var seen uint32
	for n := 0; ; {
		k, more := d.key(&n)
		if !more {
			return
		}
		switch string(k) {
		case "url":
			d.once(&seen, 1<<0)
			p.URL = d.str()
		case "referrer":
			d.once(&seen, 1<<1)
			p.Referrer = d.str()
		default:
			d.no("unknown field")
		}
	}
}

func (d *fastDecoder) device(v *Device) {
	d.openObject()
	var seen uint32
	for n := 0; ; {
		k, more := d.key(&n)
		if !more {
			return
		}
		switch string(k) {
		case "ua":
			d.once(&seen, 1<<0)
			v.UA = d.str()
		case "viewport":
			d.once(&seen, 1<<1)
			d.size(&v.Viewport)
		case "screen":
			d.once(&seen, 1<<2)
			v.Screen = new(Size)
			d.size(v.Screen)
		case "dpr":
			d.once(&seen, 1<<3)
			v.DPR = d.float()
		case "language":
			d.once(&seen, 1<<4)
			v.Language = d.str()
		case "timezone":
			d.once(&seen, 1<<5)
			v.Timezone = d.str()
		case "connection":
			d.once(&seen, 1<<6)
			v.Connection = d.str()
		case "webdriver":
			d.once(&seen, 1<<7)
			v.Webdriver = d.bool()
		case "headless":
			d.once(&seen, 1<<8)
			v.Headless = d.bool()
		default:
			d.no("unknown field")
		}
	}
}

func (d *fastDecoder) size(s *Size) {
	d.openObject()
	var seen uint32
	for n := 0; ; {
		k, more := d.key(&n)
		if !more {
			return
		}
		switch string(k) {
		case "w":
			d.once(&seen, 1<<0)
			s.W = d.int()
		case "h":
			d.once(&seen, 1<<1)
			s.H = d.int()
		default:
			d.no("unknown field")
		}
	}
}

func (d *fastDecoder) event(ev *Event) {
	d.openObject()
	var seen uint32
	for n := 0; ; {
		k, more := d.key(&n)
		if !more {
			return
		}
		switch string(k) {
		case "id":
			d.once(&seen, 1<<0)
			ev.ID = d.str()
		case "ts":
			d.once(&seen, 1<<1)
			ev.TS = d.int64()
		case "kind":
			d.once(&seen, 1<<2)
			ev.Kind = d.kind()
		case "error":
			d.once(&seen, 1<<3)
			ev.Error = new(Error)
			d.error(ev.Error)
		case "vital":
			d.once(&seen, 1<<4)
			ev.Vital = new(Vital)
			d.vital(ev.Vital)
		case "replay":
			d.once(&seen, 1<<5)
			ev.Replay = new(Replay)
			d.replay(ev.Replay)
		case "breadcrumb":
			d.once(&seen, 1<<6)
			ev.Breadcrumb = new(Breadcrumb)
			d.breadcrumb(ev.Breadcrumb)
		case "session":
			d.once(&seen, 1<<7)
			ev.Session = new(SessionEvent)
			d.sessionEvent(ev.Session)
		default:
			d.no("unknown field")
		}
	}
}

// kind reads an event's kind; the kinds of this version cost no
// allocation.
func (d *fastDecoder) kind() Kind {
	s, e, esc := d.raw()
	if !esc {
		switch string(d.r.In[s:e]) {
		case "error":
			return KindError
		case "vital":
			return KindVital
		case "replay":
			return KindReplay
		case "breadcrumb":
			return KindBreadcrumb
		case "session":
			return KindSession
		}
	}
	return Kind(unquote(d.r.In[s:e], esc))
}

func (d *fastDecoder) error(x *Error) {
	d.openObject()
	var seen uint32
	for n := 0; ; {
		k, more := d.key(&n)
		if !more {
			return
		}
		switch string(k) {
		case "type":
			d.once(&seen, 1<<0)
			x.Type = d.str()
		case "value":
			d.once(&seen, 1<<1)
			x.Value = d.str()
		case "level":
			d.once(&seen, 1<<2)
			x.Level = d.str()
		case "mechanism":
			d.once(&seen, 1<<3)
			x.Mechanism = Mechanism(d.str())
		case "handled":
			d.once(&seen, 1<<4)
			x.Handled = d.bool()
		case "stack":
			d.once(&seen, 1<<5)
			d.openArray()
			x.Stack = []Frame{}
			for n := 0; d.elem(&n); {
				x.Stack = append(x.Stack, Frame{})
				d.frame(&x.Stack[len(x.Stack)-1])
			}
		case "release":
			d.once(&seen, 1<<6)
			x.Release = d.str()
		case "dist":
			d.once(&seen, 1<<7)
			x.Dist = d.str()
		case "environment":
			d.once(&seen, 1<<8)
			x.Environment = d.str()
		case "url":
			d.once(&seen, 1<<9)
			x.URL = d.str()
		case "tags":
			d.once(&seen, 1<<10)
			x.Tags = d.strMap()
		case "trace_id":
			d.once(&seen, 1<<11)
			x.TraceID = d.str()
		case "span_id":
			d.once(&seen, 1<<12)
			x.SpanID = d.str()
		case "breadcrumbs":
			d.once(&seen, 1<<13)
			d.openArray()
			x.Breadcrumbs = []Breadcrumb{}
			for n := 0; d.elem(&n); {
				x.Breadcrumbs = append(x.Breadcrumbs, Breadcrumb{})
				d.breadcrumb(&x.Breadcrumbs[len(x.Breadcrumbs)-1])
			}
		case "debug_ids":
			d.once(&seen, 1<<14)
			x.DebugIDs = d.strMap()
		case "fingerprint":
			d.once(&seen, 1<<15)
			x.Fingerprint = d.strs()
		default:
			d.no("unknown field")
		}
	}
}

func (d *fastDecoder) frame(f *Frame) {
	d.openObject()
	var seen uint32
	for n := 0; ; {
		k, more := d.key(&n)
		if !more {
			return
		}
		switch string(k) {
		case "url":
			d.once(&seen, 1<<0)
			f.URL = d.str()
		case "function":
			d.once(&seen, 1<<1)
			f.Function = d.str()
		case "line":
			d.once(&seen, 1<<2)
			f.Line = d.int()
		case "column":
			d.once(&seen, 1<<3)
			f.Column = d.int()
		default:
			d.no("unknown field")
		}
	}
}

func (d *fastDecoder) vital(v *Vital) {
	d.openObject()
	var seen uint32
	for n := 0; ; {
		k, more := d.key(&n)
		if !more {
			return
		}
		switch string(k) {
		case "name":
			d.once(&seen, 1<<0)
			v.Name = d.str()
		case "value":
			d.once(&seen, 1<<1)
			v.Value = d.float()
		case "delta":
			d.once(&seen, 1<<2)
			v.Delta = d.float()
		case "rating":
			d.once(&seen, 1<<3)
			v.Rating = d.str()
		case "navigation_type":
			d.once(&seen, 1<<4)
			v.NavigationType = d.str()
		case "metric_id":
			d.once(&seen, 1<<5)
			v.MetricID = d.str()
		case "url":
			d.once(&seen, 1<<6)
			v.URL = d.str()
		case "attribution":
			d.once(&seen, 1<<7)
			v.Attribution = d.strMap()
		default:
			d.no("unknown field")
		}
	}
}

func (d *fastDecoder) replay(x *Replay) {
	d.openObject()
	var seen uint32
	for n := 0; ; {
		k, more := d.key(&n)
		if !more {
			return
		}
		switch string(k) {
		case "segment":
			d.once(&seen, 1<<0)
			x.Segment = d.int()
		case "events":
			d.once(&seen, 1<<1)
			x.Events = d.rawValue()
		case "from_buffer":
			d.once(&seen, 1<<2)
			x.FromBuffer = d.bool()
		case "end_ts":
			d.once(&seen, 1<<3)
			x.EndTS = d.int64()
		default:
			d.no("unknown field")
		}
	}
}

func (d *fastDecoder) breadcrumb(c *Breadcrumb) {
	d.openObject()
	var seen uint32
	for n := 0; ; {
		k, more := d.key(&n)
		if !more {
			return
		}
		switch string(k) {
		case "ts":
			d.once(&seen, 1<<0)
			c.TS = d.int64()
		case "category":
			d.once(&seen, 1<<1)
			c.Category = d.str()
		case "level":
			d.once(&seen, 1<<2)
			c.Level = d.str()
		case "message":
			d.once(&seen, 1<<3)
			c.Message = d.str()
		case "selector":
			d.once(&seen, 1<<4)
			c.Selector = d.str()
		case "url":
			d.once(&seen, 1<<5)
			c.URL = d.str()
		case "http":
			d.once(&seen, 1<<6)
			c.HTTP = new(HTTP)
			d.http(c.HTTP)
		case "data":
			d.once(&seen, 1<<7)
			c.Data = d.strMap()
		default:
			d.no("unknown field")
		}
	}
}

func (d *fastDecoder) http(h *HTTP) {
	d.openObject()
	var seen uint32
	for n := 0; ; {
		k, more := d.key(&n)
		if !more {
			return
		}
		switch string(k) {
		case "method":
			d.once(&seen, 1<<0)
			h.Method = d.str()
		case "url":
			d.once(&seen, 1<<1)
			h.URL = d.str()
		case "status":
			d.once(&seen, 1<<2)
			h.Status = d.int()
		case "duration_ms":
			d.once(&seen, 1<<3)
			h.DurationMS = d.float()
		case "trace_id":
			d.once(&seen, 1<<4)
			h.TraceID = d.str()
		case "request_headers":
			d.once(&seen, 1<<5)
			h.RequestHeaders = d.strMap()
		case "request_body":
			d.once(&seen, 1<<6)
			h.RequestBody = d.str()
		case "response_headers":
			d.once(&seen, 1<<7)
			h.ResponseHeaders = d.strMap()
		case "response_body":
			d.once(&seen, 1<<8)
			h.ResponseBody = d.str()
		default:
			d.no("unknown field")
		}
	}
}

func (d *fastDecoder) sessionEvent(s *SessionEvent) {
	d.openObject()
	var seen uint32
	for n := 0; ; {
		k, more := d.key(&n)
		if !more {
			return
		}
		switch string(k) {
		case "state":
			d.once(&seen, 1<<0)
			s.State = d.str()
		case "url":
			d.once(&seen, 1<<1)
			s.URL = d.str()
		default:
			d.no("unknown field")
		}
	}
}
