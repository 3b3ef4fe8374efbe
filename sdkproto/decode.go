package sdkproto

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// rawBatch is a Batch whose events are decoded one by one, so that one bad
// event costs only itself.
type rawBatch struct {
	V       int               `json:"v"`
	SDK     SDK               `json:"sdk"`
	Session Session           `json:"session"`
	Page    Page              `json:"page"`
	Device  Device            `json:"device"`
	SentAt  int64             `json:"sent_at"`
	Events  []json.RawMessage `json:"events"`
}

// rawEventID returns the id of an event the strict decoder refused, read
// leniently (unknown fields and wrong types elsewhere ignored), so that a
// rejection names the event the client sent; "" when the id itself is
// missing or not a string.
func rawEventID(raw []byte) string {
	var ev struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(raw, &ev) != nil {
		return ""
	}
	var id string
	if json.Unmarshal(ev.ID, &id) != nil {
		return ""
	}
	return id
}

// Rejected is an event a decoder left out of a batch, and why.
type Rejected struct {
	Index int    `json:"index"`
	ID    string `json:"id,omitempty"`
	Path  string `json:"path"`
	Error string `json:"error"`
}

// Decode parses and validates a batch. An error (always an *DecodeError) means the
// batch as a whole is unusable. Events that are individually invalid are left
// out of the returned batch and described in rejected; the rest survive. A
// batch in which no event survives is an error.
func Decode(data []byte, lim Limits) (b *Batch, rejected []Rejected, err error) {
	if lim.MaxBody > 0 && int64(len(data)) > lim.MaxBody {
		return nil, nil, &DecodeError{Code: CodeTooLarge, Msg: fmt.Sprintf("decoded body exceeds %d bytes", lim.MaxBody)}
	}
	// Fast path: one strict pass into the final types, without reflection
	// (fastdecode.go). Anything it does not take, valid or not, is decoded
	// by encoding/json, which has the last word on what is wrong.
	var fast Batch
	if fastDecode(data, lim, &fast) {
		return finish(&fast, lim)
	}
	return decodeSlow(data, lim, true)
}

// decodeSlow is Decode on encoding/json. It first tries one strict pass
// into the final types; only when that fails is the body decoded event by
// event, to find which events are at fault and keep the others. With
// fastEvents each event is first tried on the fast path (which answers for
// most events of such a batch, the good ones); without, it is Decode as it
// was before there was a fast path, which tests compare Decode with.
func decodeSlow(data []byte, lim Limits, fastEvents bool) (b *Batch, rejected []Rejected, err error) {
	var strict Batch
	if strictUnmarshal(data, &strict) == nil {
		if _, e := walk(data, lim, -1); e != nil {
			return nil, nil, e
		}
		return finish(&strict, lim)
	}
	if !json.Valid(data) {
		return nil, nil, syntaxError(data)
	}
	if _, e := walk(data, lim, -1); e != nil {
		return nil, nil, e
	}
	var rb rawBatch
	if err := strictUnmarshal(data, &rb); err != nil {
		return nil, nil, jsonError(data, "", err)
	}
	if rb.V != Version {
		return nil, nil, &DecodeError{Code: CodeVersion, Path: "v", Msg: fmt.Sprintf("protocol version %d is not supported (want %d)", rb.V, Version)}
	}
	if len(rb.Events) == 0 {
		return nil, nil, &DecodeError{Code: CodeInvalid, Path: "events", Msg: "batch has no events"}
	}
	if lim.MaxEvents > 0 && len(rb.Events) > lim.MaxEvents {
		return nil, nil, &DecodeError{Code: CodeTooMany, Path: "events", Msg: fmt.Sprintf("%d events exceed the limit of %d", len(rb.Events), lim.MaxEvents)}
	}
	b = &Batch{V: rb.V, SDK: rb.SDK, Session: rb.Session, Page: rb.Page, Device: rb.Device, SentAt: rb.SentAt}
	if e := validateEnvelope(b); e != nil {
		return nil, nil, e
	}
	b.Events = make([]Event, 0, len(rb.Events))
	seen := make(map[string]bool, len(rb.Events))
	for i, raw := range rb.Events {
		var ev Event
		if !fastEvents || !fastDecodeEvent(raw, &ev) {
			if err := strictUnmarshal(raw, &ev); err != nil {
				var de *DecodeError
				errors.As(jsonError(raw, fmt.Sprintf("events[%d]", i), err), &de)
				rejected = append(rejected, Rejected{Index: i, ID: rawEventID(raw), Path: de.Path, Error: de.Msg})
				continue
			}
		}
		p := eventAt(i)
		if e := validateEvent(&ev, &p); e != nil {
			rejected = append(rejected, Rejected{Index: i, ID: ev.ID, Path: e.Path, Error: e.Msg})
			continue
		}
		if seen[ev.ID] {
			rejected = append(rejected, Rejected{Index: i, ID: ev.ID, Path: fmt.Sprintf("events[%d].id", i), Error: "duplicate event id in batch"})
			continue
		}
		seen[ev.ID] = true
		b.Events = append(b.Events, ev)
	}
	if len(b.Events) == 0 {
		r := rejected[0]
		return nil, rejected, &DecodeError{Code: CodeInvalid, Path: r.Path, Msg: "no valid event in batch: " + r.Error}
	}
	return b, rejected, nil
}

func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	// Decoder stops after one value; anything but white space after it
	// makes the body malformed.
	if rest := bytes.TrimSpace(data[dec.InputOffset():]); len(rest) > 0 {
		return &json.SyntaxError{Offset: dec.InputOffset() + 1}
	}
	return nil
}

func syntaxError(data []byte) *DecodeError {
	var v any
	err := json.Unmarshal(data, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &DecodeError{Code: CodeSyntax, Path: pathAt(data, int(se.Offset)-1), Msg: fmt.Sprintf("malformed JSON at byte %d: %s", se.Offset, se.Error())}
	}
	return &DecodeError{Code: CodeSyntax, Msg: "malformed JSON"}
}

// jsonError turns encoding/json's errors into an *DecodeError with a JSON path.
func jsonError(data []byte, prefix string, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		p := pathAt(data, int(te.Offset)-1)
		return &DecodeError{Code: CodeInvalid, Path: joinPath(prefix, p), Msg: fmt.Sprintf("expected %s, got %s", jsonKind(te.Type), te.Value)}
	}
	msg := err.Error()
	if field, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return &DecodeError{Code: CodeUnknownField, Path: prefix, Msg: "unknown field " + field}
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &DecodeError{Code: CodeSyntax, Path: joinPath(prefix, pathAt(data, int(se.Offset)-1)), Msg: se.Error()}
	}
	return &DecodeError{Code: CodeInvalid, Path: prefix, Msg: strings.TrimPrefix(msg, "json: ")}
}

// finish validates a batch decoded in one pass, removing invalid events.
func finish(b *Batch, lim Limits) (*Batch, []Rejected, error) {
	if b.V != Version {
		return nil, nil, &DecodeError{Code: CodeVersion, Path: "v", Msg: fmt.Sprintf("protocol version %d is not supported (want %d)", b.V, Version)}
	}
	if len(b.Events) == 0 {
		return nil, nil, &DecodeError{Code: CodeInvalid, Path: "events", Msg: "batch has no events"}
	}
	if lim.MaxEvents > 0 && len(b.Events) > lim.MaxEvents {
		return nil, nil, &DecodeError{Code: CodeTooMany, Path: "events", Msg: fmt.Sprintf("%d events exceed the limit of %d", len(b.Events), lim.MaxEvents)}
	}
	if e := validateEnvelope(b); e != nil {
		return nil, nil, e
	}
	var rejected []Rejected
	kept := b.Events[:0]
	seen := make(map[string]bool, len(b.Events))
	for i := range b.Events {
		ev := b.Events[i]
		p := eventAt(i)
		if e := validateEvent(&ev, &p); e != nil {
			rejected = append(rejected, Rejected{Index: i, ID: ev.ID, Path: e.Path, Error: e.Msg})
			continue
		}
		if seen[ev.ID] {
			rejected = append(rejected, Rejected{Index: i, ID: ev.ID, Path: "events[" + strconv.Itoa(i) + "].id", Error: "duplicate event id in batch"})
			continue
		}
		seen[ev.ID] = true
		kept = append(kept, ev)
	}
	b.Events = kept
	if len(kept) == 0 {
		r := rejected[0]
		return nil, rejected, &DecodeError{Code: CodeInvalid, Path: r.Path, Msg: "no valid event in batch: " + r.Error}
	}
	return b, rejected, nil
}

// jsonKind names a Go type the way a JSON author thinks of it.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	}
	return t.String()
}

// Encode returns the canonical JSON of a batch: json.Marshal's bytes,
// written without reflection (fastencode.go) unless json.Marshal has an
// error to report.
func Encode(b *Batch) ([]byte, error) {
	if b != nil {
		if out, ok := fastEncode(nil, b); ok {
			return out, nil
		}
	}
	out, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("encode batch: %w", err)
	}
	return out, nil
}

// Unmarshal decodes a batch as json.Unmarshal would (unknown fields
// ignored, nothing validated or limited), for readers of batches an edge
// already validated, such as the live tail. It takes Decode's fast path
// when it can: what that path accepts, json.Unmarshal decodes identically.
func Unmarshal(data []byte, b *Batch) error {
	if fastDecode(data, Limits{}, b) {
		return nil
	}
	if err := json.Unmarshal(data, b); err != nil {
		return fmt.Errorf("unmarshal batch: %w", err)
	}
	return nil
}
