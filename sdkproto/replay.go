package sdkproto

import (
	"bytes"
	"encoding/json"

	"github.com/rearview-dev/rearview/wasm/jsontext"
)

// SplitReplay returns the rrweb events of a replay segment (Replay.Events),
// each copied, and each one's rrweb type (its "type"; 0 when it has none or
// is null, -1 when it is neither an object nor null, or its type is not an
// integer), as json.Unmarshal into
// []json.RawMessage and then into struct{Type int} would give them, in one
// pass of wasm/jsontext's Reader without their reflection (they were most
// of the live tail's cost per segment, on every coordinator). A segment
// that is not a well-formed array is left to json.Unmarshal (nil when that
// fails too); so is the type of an event in an unusual form (an escaped
// key, a key that matches "type" only without regard to case, "type" given
// twice or not a plain integer).
func SplitReplay(raw []byte) (events []json.RawMessage, types []int) {
	ok := func() (ok bool) {
		defer func() {
			if r := recover(); r != nil {
				if _, syntax := r.(*jsontext.SyntaxError); !syntax {
					panic(r)
				}
				ok = false
			}
		}()
		var r jsontext.Reader
		r.Reset(raw, nil)
		if r.Peek() != '[' {
			return false
		}
		r.Open('[')
		for n := 0; r.NextElem(&n); {
			s := r.Pos
			t, plain := eventType(&r)
			e := json.RawMessage(append([]byte(nil), raw[s:r.Pos]...))
			if !plain {
				t = rrwebType(e)
			}
			events, types = append(events, e), append(types, t)
		}
		r.End()
		return true
	}()
	if ok {
		return events, types
	}
	events = nil
	if json.Unmarshal(raw, &events) != nil {
		return nil, nil
	}
	types = make([]int, len(events))
	for i, e := range events {
		types[i] = rrwebType(e)
	}
	return events, types
}

// eventType reads one event, returning its "type" and whether it was in the
// plain form in which json.Unmarshal reads it the same way.
func eventType(r *jsontext.Reader) (t int, plain bool) {
	if r.Peek() != '{' {
		r.Skip()
		return 0, false
	}
	r.Open('{')
	plain = true
	seen := false
	for n := 0; r.NextKey(&n); {
		k := r.In[r.KeyStart:r.KeyEnd]
		switch {
		case r.KeyEscaped || string(k) != "type" && bytes.EqualFold(k, []byte("type")):
			plain = false
		case string(k) == "type":
			if seen {
				plain = false
			}
			seen = true
			if c := r.Peek(); c < '0' || c > '9' {
				plain = false
				break
			}
			num := r.Number()
			if len(num) > 9 || bytes.ContainsAny(num, ".eE") {
				plain = false
				continue
			}
			t = 0
			for _, c := range num {
				t = t*10 + int(c-'0')
			}
			continue
		}
		r.Skip()
	}
	return t, plain
}

// rrwebType is an event's type as json.Unmarshal reads it.
func rrwebType(e json.RawMessage) int {
	var head struct {
		Type int `json:"type"`
	}
	if json.Unmarshal(e, &head) != nil {
		return -1
	}
	return head.Type
}
