package blob_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/rearview-dev/rearview/coordinator/blob"
	"github.com/rearview-dev/rearview/internal/testenv"
)

// testStore runs the same contract against every implementation.
func testStore(t *testing.T, s blob.Store) {
	ctx := context.Background()
	put := func(key, body string) {
		t.Helper()
		if err := s.Put(ctx, key, strings.NewReader(body), int64(len(body))); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}
	put("replays/p1/2026/11/24/s1/0.json.br", "segment zero")
	put("replays/p1/2026/11/24/s1/1.json.br", "segment one")
	put("replays/p2/2026/11/24/s9/0.json.br", "other project")
	put("replays/p1/2026/11/24/s1/1.json.br", "segment one again") // replace

	t.Run("get", func(t *testing.T) {
		rc, err := s.Get(ctx, "replays/p1/2026/11/24/s1/1.json.br")
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, _ := io.ReadAll(rc)
		if string(b) != "segment one again" {
			t.Fatalf("got %q", b)
		}
	})
	t.Run("missing", func(t *testing.T) {
		if _, err := s.Get(ctx, "replays/nope"); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("get missing: %v", err)
		}
		if _, err := s.Stat(ctx, "replays/nope"); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("stat missing: %v", err)
		}
	})
	t.Run("list prefix", func(t *testing.T) {
		var keys []string
		if err := s.List(ctx, "replays/p1/", func(i blob.Info) bool { keys = append(keys, i.Key); return true }); err != nil {
			t.Fatal(err)
		}
		if strings.Join(keys, ",") != "replays/p1/2026/11/24/s1/0.json.br,replays/p1/2026/11/24/s1/1.json.br" {
			t.Fatalf("list = %v", keys)
		}
	})
	t.Run("stat and delete", func(t *testing.T) {
		in, err := s.Stat(ctx, "replays/p1/2026/11/24/s1/0.json.br")
		if err != nil || in.Size != int64(len("segment zero")) {
			t.Fatalf("stat = %+v, %v", in, err)
		}
		if err := s.Delete(ctx, "replays/p1/2026/11/24/s1/0.json.br"); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, "replays/p1/2026/11/24/s1/0.json.br"); err != nil {
			t.Fatalf("second delete: %v", err)
		}
		if _, err := s.Stat(ctx, "replays/p1/2026/11/24/s1/0.json.br"); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("deleted object still there: %v", err)
		}
	})
	t.Run("bad keys", func(t *testing.T) {
		for _, k := range []string{"", "/abs", "a/../b", "a//b", "./a"} {
			if err := s.Put(ctx, k, bytes.NewReader(nil), 0); err == nil {
				t.Errorf("put %q accepted", k)
			}
		}
	})
}

func TestDir(t *testing.T) {
	d, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	testStore(t, d)
}

func TestS3MinIO(t *testing.T) {
	m := testenv.StartMinIO(t)
	s, err := blob.NewS3(context.Background(), blob.S3Config{Endpoint: m.Endpoint, Bucket: "rearview-test", AccessKey: m.AccessKey, SecretKey: m.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	testStore(t, s)
}

// BenchmarkDirPut writes replay-segment-sized objects as the coordinator
// does, each session's first into a new directory.
func BenchmarkDirPut(b *testing.B) {
	d, err := blob.NewDir(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	body := bytes.Repeat([]byte("x"), 8<<10)
	b.SetBytes(int64(len(body)))
	i := 0
	for b.Loop() {
		key := fmt.Sprintf("replays/p1/2026/12/03/s%d/%d.json.br", i/4, i%4)
		if err := d.Put(ctx, key, bytes.NewReader(body), int64(len(body))); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// TestDirRelativeRoot puts under a root given as a relative, uncleaned
// path, as a --data-dir may be.
func TestDirRelativeRoot(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, root := range []string{"./a", "b/", "c/./d"} {
		t.Run(root, func(t *testing.T) {
			d, err := blob.NewDir(root)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Put(context.Background(), "x/y/z.br", strings.NewReader("z"), 1); err != nil {
				t.Fatal(err)
			}
			if _, err := d.Stat(context.Background(), "x/y/z.br"); err != nil {
				t.Fatal(err)
			}
		})
	}
}
