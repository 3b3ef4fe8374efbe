// Package blob stores opaque objects (replay segments, source maps) under
// slash-separated keys. Two implementations: a directory on the local
// filesystem (the default) and S3/MinIO through minio-go.
package blob

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrNotFound is returned by Get and Stat when no object has the key.
var ErrNotFound = errors.New("blob not found")

// Info describes a stored object.
type Info struct {
	Key      string
	Size     int64
	Modified time.Time
}

// Store is an object store. Keys are slash-separated paths without a leading
// slash and without "." or ".." elements. Put replaces an existing object
// atomically, which makes writes idempotent.
type Store interface {
	Put(ctx context.Context, key string, r io.Reader, size int64) error
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	Stat(ctx context.Context, key string) (Info, error)
	Delete(ctx context.Context, key string) error
	// List calls fn for every object whose key starts with prefix, in key
	// order, until fn returns false.
	List(ctx context.Context, prefix string, fn func(Info) bool) error
}
