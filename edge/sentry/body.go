package sentry

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/andybalholm/brotli"
)

// ReadBody reads a request body of at most lim.MaxRequest bytes and undoes
// its Content-Encoding (gzip, deflate — zlib-wrapped as HTTP defines it, or
// raw as some clients send it — br, or identity), inflating at most
// lim.MaxEnvelope bytes: a compression bomb costs no more than that.
func ReadBody(r io.Reader, contentEncoding string, lim Limits) ([]byte, error) {
	raw, err := io.ReadAll(io.LimitReader(r, lim.MaxRequest+1))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "read body: %v", err)
	}
	if int64(len(raw)) > lim.MaxRequest {
		return nil, errorf(http.StatusRequestEntityTooLarge, "request body exceeds %d bytes", lim.MaxRequest)
	}
	enc := strings.ToLower(strings.TrimSpace(contentEncoding))
	var zr io.Reader
	switch enc {
	case "", "identity":
		if int64(len(raw)) > lim.MaxEnvelope {
			return nil, errorf(http.StatusRequestEntityTooLarge, "envelope exceeds %d bytes", lim.MaxEnvelope)
		}
		return raw, nil
	case "gzip", "x-gzip":
		g, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "content-encoding gzip: invalid gzip: %v", err)
		}
		zr = g
	case "deflate":
		out, err := inflateDeflate(raw, lim.MaxEnvelope)
		if err != nil {
			return nil, errorf(statusOf(err), "content-encoding deflate: %v", err)
		}
		return out, nil
	case "br":
		zr = brotli.NewReader(bytes.NewReader(raw))
	default:
		return nil, errorf(http.StatusUnsupportedMediaType, "unsupported content encoding %q (want gzip, deflate, br or identity)", contentEncoding)
	}
	out, err := inflate(zr, lim.MaxEnvelope)
	if err != nil {
		return nil, errorf(statusOf(err), "content-encoding %s: %v", enc, err)
	}
	return out, nil
}

// inflateDeflate reads zlib data, or raw deflate when it is not zlib:
// HTTP's "deflate" is zlib, but clients have sent both.
func inflateDeflate(raw []byte, max int64) ([]byte, error) {
	if zr, err := zlib.NewReader(bytes.NewReader(raw)); err == nil {
		out, err := inflate(zr, max)
		if err == nil {
			return out, nil
		}
		if _, ok := err.(errTooLarge); ok {
			return nil, err
		}
	}
	return inflate(flate.NewReader(bufio.NewReader(bytes.NewReader(raw))), max)
}

// errTooLarge marks an inflated body over its cap.
type errTooLarge struct{ max int64 }

func (e errTooLarge) Error() string { return fmt.Sprintf("inflates to more than %d bytes", e.max) }

func statusOf(err error) int {
	if _, ok := err.(errTooLarge); ok {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

// inflate reads at most max bytes from zr.
func inflate(zr io.Reader, max int64) ([]byte, error) {
	out, err := io.ReadAll(io.LimitReader(zr, max+1))
	if err != nil {
		return nil, fmt.Errorf("corrupt data: %w", err)
	}
	if int64(len(out)) > max {
		return nil, errTooLarge{max}
	}
	return out, nil
}
