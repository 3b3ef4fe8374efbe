package sdkproto

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
)

// Limits are the hard caps a decoder enforces. Every cap is checked before the
// work it protects is done: a body is never read past MaxCompressed, a gzip
// stream is never inflated past MaxBody.
type Limits struct {
	// MaxCompressed caps the bytes read from the wire.
	MaxCompressed int64
	// MaxBody caps the decoded (inflated) body.
	MaxBody int64
	// MaxEvents caps events per batch.
	MaxEvents int
	// MaxString caps any JSON string, in bytes, anywhere in the body,
	// including inside replay events (rrweb inlines stylesheets as strings).
	MaxString int
	// MaxDepth caps nesting of objects and arrays. rrweb snapshots nest two
	// levels per DOM level, so this must leave room for deep pages.
	MaxDepth int
}

// DefaultLimits are the limits an edge applies unless configured otherwise.
func DefaultLimits() Limits {
	return Limits{
		MaxCompressed: 1 << 20,
		MaxBody:       8 << 20,
		MaxEvents:     500,
		MaxString:     1 << 20,
		MaxDepth:      256,
	}
}

// Code classifies a decode failure so that a transport can map it to a status.
type Code string

// The failure codes. CodeTooLarge maps to HTTP 413, the rest to 400.
const (
	CodeTooLarge     Code = "too_large"
	CodeEncoding     Code = "bad_encoding"
	CodeSyntax       Code = "malformed_json"
	CodeTooDeep      Code = "too_deep"
	CodeTooLong      Code = "string_too_long"
	CodeTooMany      Code = "too_many_events"
	CodeInvalid      Code = "invalid"
	CodeVersion      Code = "unsupported_version"
	CodeUnknownField Code = "unknown_field"
)

// DecodeError is a decode failure: what is wrong, where (a JSON path such as
// events[3].error.stack[0].line; empty for the body as a whole) and a code.
type DecodeError struct {
	Code Code
	Path string
	Msg  string
}

func (e *DecodeError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// CodeOf returns the Code of the first *DecodeError in err's chain, or "".
func CodeOf(err error) Code {
	var e *DecodeError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// ReadBody reads a request body of at most lim.MaxCompressed bytes and, when
// it is gzip (by contentEncoding or by its magic number, which lets
// navigator.sendBeacon send gzip without a header), inflates at most
// lim.MaxBody bytes of it. A gzip bomb costs at most MaxBody bytes of work.
func ReadBody(r io.Reader, contentEncoding string, lim Limits) ([]byte, error) {
	raw, err := io.ReadAll(io.LimitReader(r, lim.MaxCompressed+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(raw)) > lim.MaxCompressed {
		return nil, &DecodeError{Code: CodeTooLarge, Msg: fmt.Sprintf("body exceeds %d bytes", lim.MaxCompressed)}
	}
	switch contentEncoding {
	case "", "identity", "gzip", "x-gzip":
	default:
		return nil, &DecodeError{Code: CodeEncoding, Msg: fmt.Sprintf("unsupported content encoding %q", contentEncoding)}
	}
	isGzip := len(raw) >= 2 && raw[0] == 0x1f && raw[1] == 0x8b
	if (contentEncoding == "gzip" || contentEncoding == "x-gzip") && !isGzip {
		return nil, &DecodeError{Code: CodeEncoding, Msg: "content-encoding is gzip but body is not"}
	}
	if !isGzip {
		if int64(len(raw)) > lim.MaxBody {
			return nil, &DecodeError{Code: CodeTooLarge, Msg: fmt.Sprintf("decoded body exceeds %d bytes", lim.MaxBody)}
		}
		return raw, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, &DecodeError{Code: CodeEncoding, Msg: "invalid gzip: " + err.Error()}
	}
	out, err := io.ReadAll(io.LimitReader(zr, lim.MaxBody+1))
	if err != nil {
		return nil, &DecodeError{Code: CodeEncoding, Msg: "invalid gzip: " + err.Error()}
	}
	if int64(len(out)) > lim.MaxBody {
		return nil, &DecodeError{Code: CodeTooLarge, Msg: fmt.Sprintf("decoded body exceeds %d bytes", lim.MaxBody)}
	}
	return out, nil
}
