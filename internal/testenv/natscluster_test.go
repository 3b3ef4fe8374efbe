package testenv

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func connectJS(t *testing.T, urls ...string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	return Connect(t, strings.Join(urls, ","), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
}

// retry calls fn, each attempt with its own few seconds, until it returns
// nil or timeout passes. A request can go unanswered rather than fail: a
// leaf forwards it on the mapping's interest even while the central node
// has no subscriber for the mapped subject yet (a bucket just created),
// and the message is dropped there.
func retry(t *testing.T, timeout time.Duration, fn func(ctx context.Context) error) {
	t.Helper()
	Eventually(t, timeout, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		return fn(ctx)
	})
}

// publishAccepted publishes through js until JetStream acknowledges the
// message, with a fixed message id so that a retry after a lost ack is
// stored once; a node going away makes single attempts fail.
func publishAccepted(t *testing.T, js jetstream.JetStream, subject, id string) *jetstream.PubAck {
	t.Helper()
	var ack *jetstream.PubAck
	retry(t, 60*time.Second, func(ctx context.Context) error {
		var err error
		ack, err = js.Publish(ctx, subject, []byte(id), jetstream.WithMsgID(id))
		return err
	})
	return ack
}

func TestNATSCluster(t *testing.T) {
	c := NATSCluster(t, 3)
	leaf := c.Leaf(t, "eu")
	hubNC, hub := connectJS(t, c.URLs()...)
	_, edge := connectJS(t, leaf.URL())

	var stream jetstream.Stream
	retry(t, 30*time.Second, func(ctx context.Context) (err error) {
		stream, err = hub.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}, Storage: jetstream.FileStorage, Replicas: 3, Duplicates: time.Hour})
		return err
	})
	// current waits until the stream has a leader and two current
	// followers, and returns the leader's node index.
	current := func(t *testing.T) int {
		t.Helper()
		leader := -1
		retry(t, 60*time.Second, func(ctx context.Context) error {
			info, err := stream.Info(ctx)
			if err != nil {
				return err
			}
			cl := info.Cluster
			if cl == nil || cl.Leader == "" {
				return errors.New("stream T has no leader")
			}
			if len(cl.Replicas) != 2 {
				return fmt.Errorf("stream T has %d followers, want 2", len(cl.Replicas))
			}
			for _, r := range cl.Replicas {
				if !r.Current || r.Offline {
					return fmt.Errorf("follower %s of stream T is not current", r.Name)
				}
			}
			if leader = c.Node(cl.Leader); leader < 0 {
				return fmt.Errorf("leader %q is no node of the cluster", cl.Leader)
			}
			return nil
		})
		return leader
	}
	// stored checks the stream holds exactly the messages ids, in order.
	stored := func(t *testing.T, ids []string) {
		t.Helper()
		retry(t, 30*time.Second, func(ctx context.Context) error {
			info, err := stream.Info(ctx)
			if err != nil {
				return err
			}
			if info.State.Msgs != uint64(len(ids)) {
				return fmt.Errorf("stream T holds %d messages, want %d", info.State.Msgs, len(ids))
			}
			return nil
		})
		for i, id := range ids {
			var m *jetstream.RawStreamMsg
			retry(t, 30*time.Second, func(ctx context.Context) (err error) {
				m, err = stream.GetMsg(ctx, uint64(i+1))
				return err
			})
			if string(m.Data) != id {
				t.Fatalf("message %d is %q, want %q", i+1, m.Data, id)
			}
		}
	}

	t.Run("stream has three replicas", func(t *testing.T) {
		current(t)
	})

	var ids []string
	t.Run("publish through a leaf is stored in the domain", func(t *testing.T) {
		ack := publishAccepted(t, edge, "t.eu", "leaf-1")
		if ack.Stream != "T" || ack.Domain != NATSDomain {
			t.Fatalf("ack %+v, want stream T in domain %s", ack, NATSDomain)
		}
		ids = append(ids, "leaf-1")
		// The same id again is a duplicate, not a second message.
		if ack := publishAccepted(t, edge, "t.eu", "leaf-1"); !ack.Duplicate {
			t.Fatalf("second publish of leaf-1: %+v, want a duplicate", ack)
		}
		stored(t, ids)
	})

	t.Run("key-value writes through a leaf", func(t *testing.T) {
		var kv jetstream.KeyValue
		retry(t, 30*time.Second, func(ctx context.Context) (err error) {
			kv, err = edge.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "leafkv", Replicas: 3})
			return err
		})
		retry(t, 30*time.Second, func(ctx context.Context) error {
			_, err := kv.Put(ctx, "policy", []byte("v1"))
			return err
		})
		retry(t, 30*time.Second, func(ctx context.Context) error {
			central, err := hub.KeyValue(ctx, "leafkv")
			if err != nil {
				return err
			}
			e, err := central.Get(ctx, "policy")
			if err != nil {
				return fmt.Errorf("policy read centrally: %w", err)
			}
			if string(e.Value()) != "v1" {
				return fmt.Errorf("policy read centrally is %q, want v1", e.Value())
			}
			return nil
		})
	})

	t.Run("core subscribers on the cluster see leaf publishes", func(t *testing.T) {
		sub, err := hubNC.SubscribeSync("live.>")
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Unsubscribe()
		leafNC, err := nats.Connect(leaf.URL())
		if err != nil {
			t.Fatal(err)
		}
		defer leafNC.Close()
		// Interest reaches the leaf asynchronously: publish until one
		// arrives.
		Eventually(t, 10*time.Second, func() error {
			if err := leafNC.Publish("live.eu", []byte("hello")); err != nil {
				return err
			}
			m, err := sub.NextMsg(100 * time.Millisecond)
			if err != nil {
				return fmt.Errorf("no message from the leaf: %w", err)
			}
			if string(m.Data) != "hello" {
				return fmt.Errorf("got %q", m.Data)
			}
			return nil
		})
	})

	for _, tc := range []struct {
		name string
		pick func(leader int) int
		down func(i int)
	}{
		{"stream leader stopped gracefully", func(l int) int { return l }, c.Stop},
		{"follower killed", func(l int) int { return (l + 1) % 3 }, c.Kill},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.pick(current(t))
			tc.down(n)
			// Two of three replicas are a quorum: the stream accepts
			// while the node is away.
			id := fmt.Sprintf("down-%d-%d", n, len(ids))
			publishAccepted(t, edge, "t.eu", id)
			ids = append(ids, id)
			c.Start(n)
			id = fmt.Sprintf("back-%d-%d", n, len(ids))
			publishAccepted(t, edge, "t.eu", id)
			ids = append(ids, id)
			current(t)
			stored(t, ids)
		})
	}
}

// TestNATSSingleNode checks a one-node "cluster": a plain JetStream
// server with the domain, that a leaf reaches and that keeps its store
// across a restart.
func TestNATSSingleNode(t *testing.T) {
	c := NATSCluster(t, 1)
	_, edge := connectJS(t, c.Leaf(t, "eu").URL())
	var s jetstream.Stream
	retry(t, 30*time.Second, func(ctx context.Context) (err error) {
		s, err = edge.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}, Storage: jetstream.FileStorage})
		return err
	})
	publishAccepted(t, edge, "t.eu", "before")
	c.Restart(0)
	publishAccepted(t, edge, "t.eu", "after")
	retry(t, 30*time.Second, func(ctx context.Context) error {
		info, err := s.Info(ctx)
		if err != nil {
			return err
		}
		if info.State.Msgs != 2 {
			return fmt.Errorf("stream T holds %d messages after a restart, want 2", info.State.Msgs)
		}
		return nil
	})
}

// TestExampleConfigsParse checks the example configurations under
// docs/nats are ones the pinned nats-server accepts.
func TestExampleConfigsParse(t *testing.T) {
	bin := Binary(t, "nats-server", "REARVIEW_NATS_BIN")
	files, err := filepath.Glob(filepath.Join(RepoRoot(), "docs", "nats", "*.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no example configurations under docs/nats")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			out, err := exec.Command(bin, "-t", "-c", f).CombinedOutput()
			if err != nil {
				t.Fatalf("nats-server -t -c %s: %v\n%s", f, err, out)
			}
		})
	}
}
