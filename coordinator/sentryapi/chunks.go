package sentryapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/rearview-dev/rearview/coordinator/blob"
)

// chunkPrefix is where uploaded chunks wait in object storage until an
// assemble request joins them. They are content-addressed within the
// caller's namespace (its project, or the admin), so one tenant cannot
// learn which chunks another uploaded.
const chunkPrefix = "sentry-chunks/"

// ChunkTTL is how long an uploaded chunk is kept. Chunks stay after a
// bundle is assembled, so that a second CI job uploading the same build at
// the same moment still finds them; the sweep deletes them a day later.
const ChunkTTL = 24 * time.Hour

// errBadRequest marks decoding errors that are the client's fault.
type errBadRequest struct{ msg string }

func (e errBadRequest) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return errBadRequest{fmt.Sprintf(format, args...)}
}

// errTooLarge marks input over a documented bound (answered 413).
type errTooLarge struct{ msg string }

func (e errTooLarge) Error() string { return e.msg }

// errChunkGone reports a chunk that was there when the assemble request
// looked and was swept before it was read: the client uploads it again.
type errChunkGone struct{ sum string }

func (e errChunkGone) Error() string { return "chunk " + e.sum + " is missing" }

// Chunk is one decoded chunk of an upload: its SHA-1 and content.
type Chunk struct {
	SHA1 string
	Data []byte
}

// isSHA1 reports whether s is a lower-case hex SHA-1 as sentry-cli sends.
func isSHA1(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// ReadChunks decodes the body of a chunk upload: multipart parts named
// "file" (raw) or "file_gzip" (gzip), each with its SHA-1 as file name.
// Every chunk is at most chunkSize bytes after decompression, there are at
// most maxChunks, and each must hash to its name. fn is called per chunk as
// it is decoded.
func ReadChunks(mr *multipart.Reader, chunkSize int64, maxChunks int, fn func(Chunk) error) (int, error) {
	n := 0
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, bodyError("multipart body", err)
		}
		name := part.FormName()
		if name != "file" && name != "file_gzip" {
			part.Close()
			return n, badRequest("unexpected form field %q: chunks are sent as \"file\" or \"file_gzip\"", name)
		}
		sum := strings.ToLower(part.FileName())
		if !isSHA1(sum) {
			part.Close()
			return n, badRequest("chunk file name %q is not a SHA-1 checksum", truncate(part.FileName(), 64))
		}
		if n++; n > maxChunks {
			part.Close()
			return n, errTooLarge{fmt.Sprintf("more than %d chunks in one request", maxChunks)}
		}
		var r io.Reader = part
		if name == "file_gzip" {
			gz, err := gzip.NewReader(part)
			if err != nil {
				part.Close()
				return n, badRequest("chunk %s: not gzip: %v", sum, err)
			}
			r = gz
		}
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(io.LimitReader(r, chunkSize+1)); err != nil {
			part.Close()
			return n, bodyError("chunk "+sum, err)
		}
		part.Close()
		if int64(buf.Len()) > chunkSize {
			return n, errTooLarge{fmt.Sprintf("chunk %s is larger than the chunk size of %d bytes", sum, chunkSize)}
		}
		h := sha1.Sum(buf.Bytes())
		if got := hex.EncodeToString(h[:]); got != sum {
			return n, badRequest("chunk checksum mismatch: the chunk named %s hashes to %s", sum, got)
		}
		if err := fn(Chunk{SHA1: sum, Data: buf.Bytes()}); err != nil {
			return n, err
		}
	}
	if n == 0 {
		return 0, badRequest("no chunks in the request")
	}
	return n, nil
}

// bodyError classifies a failure to read the request body: over the
// request limit (413) or malformed (400).
func bodyError(what string, err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errTooLarge{fmt.Sprintf("request body is larger than %d bytes", tooBig.Limit)}
	}
	return badRequest("%s: %v", what, err)
}

type chunks struct {
	blobs blob.Store
	now   func() time.Time
}

func (c chunks) key(ns, sum string) string { return chunkPrefix + ns + "/" + sum }

// put stores a chunk; an existing one is replaced, which renews its TTL.
func (c chunks) put(ctx context.Context, ns string, ch Chunk) error {
	if err := c.blobs.Put(ctx, c.key(ns, ch.SHA1), bytes.NewReader(ch.Data), int64(len(ch.Data))); err != nil {
		return fmt.Errorf("store chunk %s: %w", ch.SHA1, err)
	}
	return nil
}

// missing returns the distinct chunks of sums that are not stored, in
// request order.
func (c chunks) missing(ctx context.Context, ns string, sums []string) ([]string, error) {
	out := []string{}
	seen := map[string]bool{}
	for _, s := range sums {
		if seen[s] {
			continue
		}
		seen[s] = true
		_, err := c.blobs.Stat(ctx, c.key(ns, s))
		if errors.Is(err, blob.ErrNotFound) {
			out = append(out, s)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("look up chunk %s: %w", s, err)
		}
	}
	return out, nil
}

// join writes the chunks in order to a temporary file and returns it with
// the whole file's SHA-1. A chunk that vanished meanwhile (swept) is
// reported by name, so the client can upload it again.
func (c chunks) join(ctx context.Context, ns string, sums []string, maxSize int64, dir string) (*os.File, int64, string, error) {
	f, err := os.CreateTemp(dir, "sentry-bundle-*.zip")
	if err != nil {
		return nil, 0, "", fmt.Errorf("assemble: %w", err)
	}
	fail := func(err error) (*os.File, int64, string, error) {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, "", err
	}
	h := sha1.New()
	w := io.MultiWriter(f, h)
	var size int64
	for _, s := range sums {
		rc, err := c.blobs.Get(ctx, c.key(ns, s))
		if errors.Is(err, blob.ErrNotFound) {
			return fail(errChunkGone{s})
		}
		if err != nil {
			return fail(fmt.Errorf("read chunk %s: %w", s, err))
		}
		n, err := io.Copy(w, io.LimitReader(rc, maxSize-size+1))
		rc.Close()
		if err != nil {
			return fail(fmt.Errorf("read chunk %s: %w", s, err))
		}
		if size += n; size > maxSize {
			return fail(errTooLarge{fmt.Sprintf("the file is larger than the limit of %d bytes", maxSize)})
		}
	}
	return f, size, hex.EncodeToString(h.Sum(nil)), nil
}

// sweep deletes chunks older than ChunkTTL and returns how many.
func (c chunks) sweep(ctx context.Context) (int, error) {
	cutoff := c.now().Add(-ChunkTTL)
	var old []string
	err := c.blobs.List(ctx, chunkPrefix, func(i blob.Info) bool {
		if i.Modified.Before(cutoff) {
			old = append(old, i.Key)
		}
		return true
	})
	if err != nil {
		return 0, fmt.Errorf("list chunks: %w", err)
	}
	n := 0
	for _, k := range old {
		if err := c.blobs.Delete(ctx, k); err != nil && !errors.Is(err, blob.ErrNotFound) {
			return n, fmt.Errorf("delete chunk %s: %w", k, err)
		}
		n++
	}
	return n, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
