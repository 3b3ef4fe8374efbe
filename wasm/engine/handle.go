package engine

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/rearview-dev/rearview/wasm/jsontext"
)

// The envelope magic numbers; see wasm/README.md.
const (
	RequestMagic  = "RVF1"
	ResponseMagic = "RVR1"
)

// Response status codes.
const (
	StatusOK       = 0
	StatusBadInput = 1
)

// AppendRequest appends the request envelope for one batch to dst.
func AppendRequest(dst, policyDoc []byte, ctx Context, batch []byte) []byte {
	dst = append(dst, RequestMagic...)
	dst = appendSection(dst, policyDoc)
	// The context is small JSON written by hand, so that hosts in any
	// language can build it with string concatenation.
	l := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = append(dst, `{"project":`...)
	dst = jsontext.AppendQuoted(dst, []byte(ctx.Project))
	dst = append(dst, `,"region":`...)
	dst = jsontext.AppendQuoted(dst, []byte(ctx.Region))
	dst = append(dst, `,"country":`...)
	dst = jsontext.AppendQuoted(dst, []byte(ctx.Country))
	dst = append(dst, `,"ua":`...)
	dst = jsontext.AppendQuoted(dst, []byte(ctx.UA))
	dst = append(dst, `,"now":`...)
	dst = strconv.AppendInt(dst, ctx.Now, 10)
	dst = append(dst, '}')
	binary.LittleEndian.PutUint32(dst[l:], uint32(len(dst)-l-4))
	return appendSection(dst, batch)
}

// AppendRequestHead appends the request envelope AppendRequest would
// for a batch of batchLen bytes, without the batch: a host that writes the
// batch straight after it, into the module's memory, copies it once.
func AppendRequestHead(dst, policyDoc []byte, ctx Context, batchLen int) []byte {
	dst = AppendRequest(dst, policyDoc, ctx, nil)
	binary.LittleEndian.PutUint32(dst[len(dst)-4:], uint32(batchLen))
	return dst
}

func appendSection(dst, b []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(b)))
	return append(dst, b...)
}

// ParseRequest splits a request envelope into its three sections.
func ParseRequest(req []byte) (policyDoc, ctxJSON, batch []byte, err error) {
	if len(req) < 4 || string(req[:4]) != RequestMagic {
		return nil, nil, nil, errors.New("request: bad magic, want " + RequestMagic)
	}
	rest := req[4:]
	var secs [3][]byte
	for i := range secs {
		if len(rest) < 4 {
			return nil, nil, nil, fmt.Errorf("request: section %d: truncated length", i)
		}
		n := binary.LittleEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(n) > uint64(len(rest)) {
			return nil, nil, nil, fmt.Errorf("request: section %d: length %d exceeds the %d bytes left", i, n, len(rest))
		}
		secs[i], rest = rest[:n], rest[n:]
	}
	if len(rest) != 0 {
		return nil, nil, nil, fmt.Errorf("request: %d bytes after the last section", len(rest))
	}
	return secs[0], secs[1], secs[2], nil
}

// parseContext reads the context JSON.
func (e *Engine) parseContext(b []byte) (ctx Context, err error) {
	defer jsontext.Catch(&err)
	var r jsontext.Reader
	r.Reset(b, nil)
	r.Open('{')
	n := 0
	for r.NextKey(&n) {
		k := string(r.Key())
		if string(k) == "now" {
			ctx.Now = r.Int()
			continue
		}
		if r.Peek() != '"' {
			r.Skip()
			continue
		}
		s, end, esc := r.String()
		v := r.In[s:end]
		if esc {
			v = jsontext.Unescape(nil, v)
		}
		// A host sends the same context over and over: reuse the last
		// batch's strings rather than allocate new ones per call (under
		// wasm allocation is what starts the collector).
		switch string(k) {
		case "project":
			ctx.Project = reuse(v, e.ctx.Project)
		case "region":
			ctx.Region = reuse(v, e.ctx.Region)
		case "country":
			ctx.Country = reuse(v, e.ctx.Country)
		case "ua":
			ctx.UA = reuse(v, e.ctx.UA)
		}
	}
	r.End()
	return ctx, nil
}

// reuse returns prev when it holds v, else v as a new string.
func reuse(v []byte, prev string) string {
	if string(v) == prev {
		return prev
	}
	return string(v)
}

// Handle runs one request envelope and returns the response envelope. The
// response aliases a buffer of e, valid until the next call.
func (e *Engine) Handle(req []byte) []byte {
	resp, err := e.handle(req)
	if err != nil {
		e.resp = append(e.resp[:0], ResponseMagic...)
		e.resp = binary.LittleEndian.AppendUint32(e.resp, StatusBadInput)
		e.resp = appendSection(e.resp, nil)
		msg := err.Error()
		l := len(e.resp)
		e.resp = append(e.resp, 0, 0, 0, 0)
		e.resp = append(e.resp, `{"error":`...)
		e.resp = jsontext.AppendQuoted(e.resp, []byte(msg))
		e.resp = append(e.resp, '}')
		binary.LittleEndian.PutUint32(e.resp[l:], uint32(len(e.resp)-l-4))
		return e.resp
	}
	return resp
}

func (e *Engine) handle(req []byte) ([]byte, error) {
	doc, ctxJSON, batch, err := ParseRequest(req)
	if err != nil {
		return nil, err
	}
	ctx, err := e.parseContext(ctxJSON)
	if err != nil {
		return nil, fmt.Errorf("context: %w", err)
	}
	p, err := e.policyFor(doc, ctx.Region)
	if err != nil {
		return nil, err
	}
	// The batch is written straight after the response header so that it
	// is never copied again. The buffer is sized for the whole answer at
	// once: masking keeps lengths, so the output is at most the batch and
	// the report. Grown step by step instead (Go grows a large slice by a
	// quarter at a time), a batch with a masked string every hundred bytes
	// allocated five times its size in abandoned buffers, and under wasm,
	// where the collector runs only as the module allocates, a fresh
	// instance ran out of memory on a segment its limit could hold. (The
	// output never outgrows it: masked strings keep their length or
	// shrink, and the report holds a decision per event.)
	if need := 12 + len(batch) + 4 + reportSize(len(batch)); cap(e.resp) < need {
		e.resp = make([]byte, 0, need)
	}
	out := append(e.resp[:0], ResponseMagic...)
	out = binary.LittleEndian.AppendUint32(out, StatusOK)
	out = append(out, 0, 0, 0, 0)
	if err := e.apply(p, ctx, batch, out); err != nil {
		e.resp = e.r.Out[:0]
		return nil, fmt.Errorf("batch: %w", err)
	}
	out = e.r.Out
	e.r.Out = nil
	if e.kept == 0 {
		out = out[:12] // nothing to forward
	}
	binary.LittleEndian.PutUint32(out[8:], uint32(len(out)-12))
	l := len(out)
	out = append(out, 0, 0, 0, 0)
	out = e.appendReport(out)
	binary.LittleEndian.PutUint32(out[l:], uint32(len(out)-l-4))
	e.resp = out
	return out, nil
}

// reportSize is room for the report of a batch of n bytes: its counts and
// a decision per event, for as many events as the batch can hold (each
// takes 40 bytes or more) up to a thousand; a longer report grows the
// buffer.
func reportSize(n int) int { return 256 + min(n/40, 1000)*64 }

func (e *Engine) appendReport(b []byte) []byte {
	b = append(b, `{"kept":`...)
	b = strconv.AppendInt(b, int64(e.kept), 10)
	b = append(b, `,"masked":`...)
	b = strconv.AppendInt(b, int64(e.masked), 10)
	b = append(b, `,"dropped":{`...)
	first := true
	for i, n := range e.dropped {
		if n == 0 {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, reasons[i]...)
		b = append(b, `":`...)
		b = strconv.AppendInt(b, int64(n), 10)
	}
	b = append(b, `},"decisions":[`...)
	in := e.r.In
	for i, d := range e.decisions {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":"`...)
		b = append(b, in[d.id[0]:d.id[1]]...)
		b = append(b, `","kind":"`...)
		b = append(b, in[d.kind[0]:d.kind[1]]...)
		if d.reason == rKept {
			b = append(b, `","kept":true,"masked":`...)
			b = strconv.AppendInt(b, int64(d.masked), 10)
		} else {
			b = append(b, `","kept":false,"reason":"`...)
			b = append(b, reasons[d.reason]...)
			b = append(b, '"')
		}
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// Decision is what the engine did with one event.
type Decision struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	Kept   bool   `json:"kept"`
	Reason string `json:"reason,omitempty"`
	// Masked counts the event's values that were masked.
	Masked int `json:"masked,omitempty"`
}

// Report is what the engine did with one batch.
type Report struct {
	Kept      int            `json:"kept"`
	Masked    int            `json:"masked"`
	Dropped   map[string]int `json:"dropped"`
	Decisions []Decision     `json:"decisions"`
}

// Response is a parsed response envelope.
type Response struct {
	// Batch is the batch to forward; empty when every event was dropped.
	Batch []byte
	// Report is the report's JSON as the engine wrote it.
	Report []byte
}

// ErrBadInput wraps the engine's message about a request it refused.
var ErrBadInput = errors.New("policy engine refused the request")

// ParseResponse splits a response envelope. A refused request returns an
// error wrapping ErrBadInput with the engine's message.
func ParseResponse(resp []byte) (Response, error) {
	if len(resp) < 12 || string(resp[:4]) != ResponseMagic {
		return Response{}, errors.New("response: bad magic, want " + ResponseMagic)
	}
	status := binary.LittleEndian.Uint32(resp[4:])
	rest := resp[8:]
	var secs [2][]byte
	for i := range secs {
		if len(rest) < 4 {
			return Response{}, fmt.Errorf("response: section %d: truncated length", i)
		}
		n := binary.LittleEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(n) > uint64(len(rest)) {
			return Response{}, fmt.Errorf("response: section %d: length %d exceeds the %d bytes left", i, n, len(rest))
		}
		secs[i], rest = rest[:n], rest[n:]
	}
	if len(rest) != 0 {
		return Response{}, fmt.Errorf("response: %d bytes after the last section", len(rest))
	}
	switch status {
	case StatusOK:
		return Response{Batch: secs[0], Report: secs[1]}, nil
	case StatusBadInput:
		var m struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal(secs[1], &m); err != nil {
			return Response{}, fmt.Errorf("response: error report: %w", err)
		}
		return Response{}, fmt.Errorf("%w: %s", ErrBadInput, m.Error)
	}
	return Response{}, fmt.Errorf("response: unknown status %d", status)
}

// ParseReport decodes a response's report. It reads the JSON with
// package jsontext rather than encoding/json, which took a quarter of the
// host's own time per batch (a decision per event, each with its strings).
func (r Response) ParseReport() (Report, error) { return r.parseReport(true) }

// ParseCounts is ParseReport without the decisions, which it validates
// but does not decode: what a host that only counts needs.
func (r Response) ParseCounts() (Report, error) { return r.parseReport(false) }

func (r Response) parseReport(decisions bool) (rep Report, err error) {
	defer func() {
		if err != nil {
			rep, err = Report{}, fmt.Errorf("response: report: %w", err)
		}
	}()
	defer jsontext.Catch(&err)
	var rd jsontext.Reader
	rd.Reset(r.Report, nil)
	str := func() string {
		s, e, esc := rd.String()
		if esc {
			return string(jsontext.Unescape(nil, rd.In[s:e]))
		}
		return string(rd.In[s:e])
	}
	num := func() int {
		v := rd.Number()
		n, perr := strconv.Atoi(string(v))
		if perr != nil {
			rd.Fail("not an integer: " + string(v))
		}
		return n
	}
	rd.Open('{')
	n := 0
	for rd.NextKey(&n) {
		switch string(rd.Key()) {
		case "kept":
			rep.Kept = num()
		case "masked":
			rep.Masked = num()
		case "dropped":
			rep.Dropped = map[string]int{}
			rd.Open('{')
			m := 0
			for rd.NextKey(&m) {
				k := string(rd.Key())
				rep.Dropped[k] = num()
			}
		case "decisions":
			if !decisions {
				rd.Skip()
				continue
			}
			rd.Open('[')
			rep.Decisions = []Decision{} // as encoding/json gives for []
			m := 0
			for rd.NextElem(&m) {
				var d Decision
				rd.Open('{')
				f := 0
				for rd.NextKey(&f) {
					switch string(rd.Key()) {
					case "id":
						d.ID = str()
					case "kind":
						d.Kind = str()
					case "kept":
						d.Kept = rd.Bool()
					case "reason":
						d.Reason = str()
					case "masked":
						d.Masked = num()
					default:
						rd.Skip()
					}
				}
				rep.Decisions = append(rep.Decisions, d)
			}
		default:
			rd.Skip()
		}
	}
	rd.End()
	return rep, nil
}

// Clone returns a copy of r that does not alias the engine's buffers.
func (r Response) Clone() Response {
	buf := make([]byte, len(r.Batch)+len(r.Report))
	n := copy(buf, r.Batch)
	copy(buf[n:], r.Report)
	c := Response{Report: buf[n:]}
	if len(r.Batch) > 0 {
		c.Batch = buf[:n:n]
	}
	return c
}
