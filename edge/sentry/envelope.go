// Package sentry reads what Sentry SDKs send — envelopes, and the legacy
// store endpoint's single events — and translates it into Rearview's own
// batch (sdkproto.Batch), so that the edge runs the same policy module on it
// as on batches from Rearview's SDK: noise, bots, sampling and masking hold
// for Sentry payloads unchanged.
//
// The parser is strict about the envelope's structure and lenient about
// items, as Sentry's Relay is: a header that is not JSON, an item whose
// length runs past the end, or an item over its size limit fails the whole
// envelope (a *Error with an HTTP status); an item whose payload cannot be
// used is dropped with a reason and the other items are kept.
package sentry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// Limits are the caps on what a Sentry client may send. The defaults are
// Relay's.
type Limits struct {
	// MaxRequest caps the request body as it comes over the wire
	// (Relay's max_api_payload_size).
	MaxRequest int64
	// MaxEnvelope caps the envelope after Content-Encoding is undone
	// (Relay's max_envelope_size).
	MaxEnvelope int64
	// MaxEvent caps the payload of an event, transaction, replay_event,
	// span, client_report or session item (Relay's max_event_size).
	MaxEvent int64
	// MaxReplayCompressed caps a replay_recording item as sent, and
	// MaxReplayRaw the recording after it is inflated (Relay's
	// max_replay_compressed_size and max_replay_uncompressed_size).
	MaxReplayCompressed int64
	MaxReplayRaw        int64
	// MaxItems caps the items of one envelope.
	MaxItems int
}

// DefaultLimits are Relay's defaults.
func DefaultLimits() Limits {
	return Limits{
		MaxRequest:          20 << 20,
		MaxEnvelope:         100 << 20,
		MaxEvent:            1 << 20,
		MaxReplayCompressed: 10 << 20,
		MaxReplayRaw:        100 << 20,
		MaxItems:            1000,
	}
}

// Error is a request the edge refuses as a whole: Status is the HTTP status
// to answer with, Msg says what is wrong.
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

func errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Msg: fmt.Sprintf(format, args...)}
}

// Envelope is a parsed Sentry envelope.
type Envelope struct {
	Header Header
	Items  []Item
}

// Header is an envelope's first line. Fields Rearview does not use are not
// kept.
type Header struct {
	EventID string `json:"event_id,omitempty"`
	DSN     string `json:"dsn,omitempty"`
	SentAt  string `json:"sent_at,omitempty"`
	SDK     *SDK   `json:"sdk,omitempty"`
	// Trace is the dynamic sampling context: the trace the envelope's
	// items belong to and, with replays on, the replay id.
	Trace *DSC `json:"trace,omitempty"`
}

// SDK names the Sentry SDK that sent an envelope or event.
type SDK struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// DSC is the dynamic sampling context of an envelope header.
type DSC struct {
	TraceID  string `json:"trace_id,omitempty"`
	ReplayID string `json:"replay_id,omitempty"`
	Release  string `json:"release,omitempty"`
}

// Item is one item of an envelope: its type, the header's content type
// and item count, and the payload bytes.
type Item struct {
	Type        string
	ContentType string
	// ItemCount is the header's item_count: how many spans (or logs) a
	// container item holds; 0 when not given.
	ItemCount int
	Payload   []byte
}

type itemHeader struct {
	Type        string          `json:"type"`
	Length      json.RawMessage `json:"length"`
	ContentType string          `json:"content_type"`
	ItemCount   int             `json:"item_count"`
}

// itemLimit is the size limit of an item of type t; 0 means only the
// envelope's limit applies (attachments, which are skipped anyway).
func (lim Limits) itemLimit(t string) int64 {
	switch t {
	case "replay_recording", "replay_video":
		return lim.MaxReplayCompressed
	case "attachment", "profile", "profile_chunk":
		return 0
	}
	return lim.MaxEvent
}

// Parse reads an envelope (Content-Encoding already undone). Every error is
// an *Error: 400 for a malformed envelope, 413 for one over a limit.
func Parse(data []byte, lim Limits) (*Envelope, error) {
	if lim.MaxEnvelope > 0 && int64(len(data)) > lim.MaxEnvelope {
		return nil, errorf(http.StatusRequestEntityTooLarge, "envelope of %d bytes exceeds the limit of %d", len(data), lim.MaxEnvelope)
	}
	line, rest, _ := bytes.Cut(data, []byte("\n"))
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return nil, errorf(http.StatusBadRequest, "empty envelope: the first line must be the envelope header (a JSON object)")
	}
	env := &Envelope{}
	if line[0] != '{' || json.Unmarshal(line, &env.Header) != nil {
		return nil, errorf(http.StatusBadRequest, "envelope header: not a JSON object")
	}
	for n := 0; len(rest) > 0; n++ {
		line, after, found := bytes.Cut(rest, []byte("\n"))
		if len(bytes.TrimSpace(line)) == 0 {
			if !found {
				break // a trailing newline
			}
			rest = after
			n--
			continue
		}
		if lim.MaxItems > 0 && n >= lim.MaxItems {
			return nil, errorf(http.StatusRequestEntityTooLarge, "envelope has more than %d items", lim.MaxItems)
		}
		var h itemHeader
		if line[0] != '{' || json.Unmarshal(line, &h) != nil {
			return nil, errorf(http.StatusBadRequest, "item %d: header is not a JSON object", n)
		}
		if h.Type == "" {
			return nil, errorf(http.StatusBadRequest, "item %d: header has no type", n)
		}
		var payload []byte
		if len(h.Length) > 0 && string(h.Length) != "null" {
			length, err := strconv.ParseInt(string(h.Length), 10, 64)
			if err != nil || length < 0 {
				return nil, errorf(http.StatusBadRequest, "item %d (%s): length %s is not a non-negative integer", n, h.Type, h.Length)
			}
			if !found || length > int64(len(after)) {
				return nil, errorf(http.StatusBadRequest, "item %d (%s): length %d runs past the end of the envelope (%d bytes left): truncated or a length that lies", n, h.Type, length, len(after))
			}
			payload, rest = after[:length], after[length:]
			// The payload may be followed by a newline; anything else
			// means the length was wrong.
			if len(rest) > 0 {
				if rest[0] != '\n' {
					return nil, errorf(http.StatusBadRequest, "item %d (%s): %d bytes of payload are not followed by a newline: a length that lies", n, h.Type, length)
				}
				rest = rest[1:]
			}
		} else {
			payload, rest, _ = bytes.Cut(after, []byte("\n"))
			if !found {
				payload, rest = nil, nil
			}
		}
		if max := lim.itemLimit(h.Type); max > 0 && int64(len(payload)) > max {
			return nil, errorf(http.StatusRequestEntityTooLarge, "item %d (%s): %d bytes exceed the limit of %d", n, h.Type, len(payload), max)
		}
		env.Items = append(env.Items, Item{Type: h.Type, ContentType: h.ContentType, ItemCount: h.ItemCount, Payload: payload})
	}
	return env, nil
}
