package sourcemap_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/coordinator/blob"
	"github.com/rearview-dev/rearview/coordinator/sourcemap"
)

// flakyDeletes is a blob store whose next failures Deletes fail, as object
// storage does when it is briefly unreachable.
type flakyDeletes struct {
	blob.Store
	failures atomic.Int32
}

var errStorageDown = errors.New("object storage unavailable")

func (f *flakyDeletes) Delete(ctx context.Context, key string) error {
	if f.failures.Add(-1) >= 0 {
		return errStorageDown
	}
	return f.Store.Delete(ctx, key)
}

// TestDeleteRetriesFailedBlobDelete: when a map's blob cannot be deleted,
// its row must stay so that the next Delete or Sweep removes the blob;
// deleting the row first would orphan the object for good.
func TestDeleteRetriesFailedBlobDelete(t *testing.T) {
	cases := []struct {
		name   string
		remove func(e *env, m sourcemap.Map) (int, error) // maps removed
	}{
		{"delete", func(e *env, m sourcemap.Map) (int, error) {
			return 1, e.maps.Delete(context.Background(), "shop", m.ID)
		}},
		{"sweep", func(e *env, m sourcemap.Map) (int, error) {
			e.now = e.now.Add(sourcemap.MinRetention + time.Hour)
			return e.maps.Sweep(context.Background())
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, err := blob.NewDir(filepath.Join(t.TempDir(), "blobs"))
			if err != nil {
				t.Fatal(err)
			}
			flaky := &flakyDeletes{Store: dir}
			e := newEnv(t, flaky)
			ctx := context.Background()
			m, _, err := e.maps.Put(ctx, "shop", sourcemap.Upload{Release: "r1", Name: "main.js.map", URL: "~/main.js", Data: fixtureMap(t)})
			if err != nil {
				t.Fatal(err)
			}

			flaky.failures.Store(1)
			n, err := c.remove(e, m)
			if !errors.Is(err, errStorageDown) {
				t.Fatalf("failed blob delete reported %v", err)
			}
			if c.name == "sweep" && n != 0 {
				t.Errorf("sweep counted %d maps deleted while their blob stayed", n)
			}
			if _, err := e.maps.Get(ctx, "shop", m.ID); err != nil {
				t.Fatalf("row gone although its blob stayed: %v", err)
			}
			if countBlobs(t, dir) != 1 {
				t.Fatal("blob gone after a failed delete")
			}

			if n, err := c.remove(e, m); err != nil || n != 1 {
				t.Fatalf("retry removed %d: %v", n, err)
			}
			if _, err := e.maps.Get(ctx, "shop", m.ID); !errors.Is(err, sourcemap.ErrNotFound) {
				t.Errorf("row still there after retry: %v", err)
			}
			if n := countBlobs(t, dir); n != 0 {
				t.Errorf("%d blobs left after retry", n)
			}
		})
	}
}

// TestDeleteKeepsSharedBlob: identical content uploaded for two bundles is
// one object, deleted with the last row that uses it.
func TestDeleteKeepsSharedBlob(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	var ids []string
	for _, u := range []string{"~/a.js", "~/b.js"} {
		m, _, err := e.maps.Put(ctx, "shop", sourcemap.Upload{Release: "r1", Name: "main.js.map", URL: u, Data: fixtureMap(t)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	for i, id := range ids {
		if err := e.maps.Delete(ctx, "shop", id); err != nil {
			t.Fatal(err)
		}
		if got, want := countBlobs(t, e.blobs), len(ids)-1-i; got != min(want, 1) {
			t.Errorf("after deleting %d of %d maps: %d blobs", i+1, len(ids), got)
		}
	}
}
