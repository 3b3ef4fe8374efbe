package lease_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/rearview-dev/rearview/coordinator/lease"
	"github.com/rearview-dev/rearview/internal/testenv"
)

// interval is one run of the work: who ran it, from when to when, and why
// it ended.
type interval struct {
	holder     string
	start, end time.Time
	cause      error
}

// recorder runs work that lasts until its context ends and records every
// run, to check that runs never overlap.
type recorder struct {
	mu   sync.Mutex
	runs []*interval
}

// work returns the work function for holder. It takes a little while to
// stop, as real work finishing a statement does, so that an overlap has
// room to show.
func (r *recorder) work(holder string) func(context.Context) {
	return func(ctx context.Context) {
		iv := &interval{holder: holder, start: time.Now()}
		r.mu.Lock()
		r.runs = append(r.runs, iv)
		r.mu.Unlock()
		<-ctx.Done()
		time.Sleep(50 * time.Millisecond)
		r.mu.Lock()
		iv.end, iv.cause = time.Now(), context.Cause(ctx)
		r.mu.Unlock()
	}
}

// running returns the holders whose work is running now.
func (r *recorder) running() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, iv := range r.runs {
		if iv.end.IsZero() {
			out = append(out, iv.holder)
		}
	}
	return out
}

// snapshot returns a copy of the runs so far.
func (r *recorder) snapshot() []interval {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]interval, len(r.runs))
	for i, iv := range r.runs {
		out[i] = *iv
	}
	return out
}

// noOverlap fails if two runs were ever under way at the same time.
func (r *recorder) noOverlap(t *testing.T) {
	t.Helper()
	runs := r.snapshot()
	slices.SortFunc(runs, func(a, b interval) int { return a.start.Compare(b.start) })
	for i := 1; i < len(runs); i++ {
		prev := runs[i-1]
		if prev.end.IsZero() || runs[i].start.Before(prev.end) {
			t.Fatalf("runs overlap: %s from %s to %v, then %s from %s", prev.holder, prev.start.Format(time.StampMilli), prev.end.Format(time.StampMilli), runs[i].holder, runs[i].start.Format(time.StampMilli))
		}
	}
}

// conn connects to ns; each manager gets its own connection, so closing one
// cuts one holder off like a killed process.
func conn(t *testing.T, ns *server.Server) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	return testenv.Connect(t, ns.ClientURL())
}

// runner is a Manager running one lease in the background.
type runner struct {
	m      *lease.Manager
	nc     *nats.Conn
	cancel context.CancelFunc
	done   chan struct{}
}

// stop cancels the Run and waits for it to return.
func (r *runner) stop() {
	r.cancel()
	<-r.done
}

func start(t *testing.T, ns *server.Server, opts lease.Options, name string, rec *recorder) *runner {
	t.Helper()
	nc, js := conn(t, ns)
	m, err := lease.New(context.Background(), js, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &runner{m: m, nc: nc, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		if err := m.Run(ctx, name, rec.work(m.Holder())); err != nil {
			t.Errorf("run %s: %v", m.Holder(), err)
		}
	}()
	t.Cleanup(r.stop)
	return r
}

// oneRunning waits until exactly one holder's work runs and returns it.
func oneRunning(t *testing.T, rec *recorder, timeout time.Duration) string {
	t.Helper()
	var h string
	testenv.Eventually(t, timeout, func() error {
		rs := rec.running()
		if len(rs) != 1 {
			return fmt.Errorf("running: %v", rs)
		}
		h = rs[0]
		return nil
	})
	return h
}

func TestExactlyOneRunsAndKeepsItPastTTL(t *testing.T) {
	ns := testenv.NATS(t)
	rec := &recorder{}
	opts := lease.Options{TTL: time.Second}
	a := start(t, ns, withHolder(opts, "a"), "job", rec)
	b := start(t, ns, withHolder(opts, "b"), "job", rec)
	first := oneRunning(t, rec, 5*time.Second)
	// Several TTLs: only renewals keep the lease this long, and the other
	// manager polls all along.
	time.Sleep(3 * time.Second)
	if rs := rec.running(); !slices.Equal(rs, []string{first}) {
		t.Fatalf("after 3 TTLs running %v, want only %s", rs, first)
	}
	if n := len(rec.snapshot()); n != 1 {
		t.Fatalf("%d runs, want 1 (the lease moved or was re-acquired)", n)
	}
	held := map[string][]string{"a": a.m.Held(), "b": b.m.Held()}
	other := map[string]string{"a": "b", "b": "a"}[first]
	if !slices.Equal(held[first], []string{"job"}) || len(held[other]) != 0 {
		t.Fatalf("held %v, want job held by %s alone", held, first)
	}
	rec.noOverlap(t)
}

func withHolder(o lease.Options, h string) lease.Options {
	o.Holder = h
	return o
}

func TestGracefulStopHandsOverAtOnce(t *testing.T) {
	ns := testenv.NATS(t)
	rec := &recorder{}
	// A TTL far longer than the wait below: only the release on a graceful
	// stop, not the key expiring, can hand the lease over in time.
	opts := lease.Options{TTL: time.Minute, PollInterval: 2 * time.Second}
	rs := map[string]*runner{
		"a": start(t, ns, withHolder(opts, "a"), "job", rec),
		"b": start(t, ns, withHolder(opts, "b"), "job", rec),
	}
	first := oneRunning(t, rec, 5*time.Second)
	second := map[string]string{"a": "b", "b": "a"}[first]
	stopped := time.Now()
	rs[first].stop()
	if got := oneRunning(t, rec, 10*time.Second); got != second {
		t.Fatalf("after %s stopped, %s runs", first, got)
	}
	t.Logf("graceful takeover after %s", time.Since(stopped).Round(time.Millisecond))
	runs := rec.snapshot()
	if len(runs) != 2 || runs[0].holder != first || !errors.Is(runs[0].cause, context.Canceled) {
		t.Fatalf("runs %+v, want %s's cancelled by its stop, then %s's", runs, first, second)
	}
	if rs[first].m.Holds("job") || !rs[second].m.Holds("job") {
		t.Fatalf("held: %s %v, %s %v", first, rs[first].m.Held(), second, rs[second].m.Held())
	}
	rec.noOverlap(t)
}

func TestCutOffHolderLosesAndOtherTakesOver(t *testing.T) {
	ns := testenv.NATS(t)
	rec := &recorder{}
	const ttl = 2 * time.Second
	opts := lease.Options{TTL: ttl}
	rs := map[string]*runner{
		"a": start(t, ns, withHolder(opts, "a"), "job", rec),
		"b": start(t, ns, withHolder(opts, "b"), "job", rec),
	}
	first := oneRunning(t, rec, 5*time.Second)
	second := map[string]string{"a": "b", "b": "a"}[first]
	// Closing the connection is a kill as far as the bucket can tell: no
	// renewal and no release arrive any more.
	cut := time.Now()
	rs[first].nc.Close()
	// The stated bound is TTL + PollInterval after the last renewal, which
	// was before the cut; the rest is slack for a loaded machine.
	bound := ttl + ttl/10 + 3*time.Second
	testenv.Eventually(t, bound, func() error {
		if got := rec.running(); !slices.Equal(got, []string{second}) {
			return fmt.Errorf("running %v, want %s alone", got, second)
		}
		return nil
	})
	t.Logf("takeover %s after the holder was cut off (TTL %s)", time.Since(cut).Round(time.Millisecond), ttl)
	runs := rec.snapshot()
	if len(runs) != 2 || runs[0].holder != first || !errors.Is(runs[0].cause, lease.ErrLost) {
		t.Fatalf("runs %+v, want %s's ended by ErrLost, then %s's", runs, first, second)
	}
	rec.noOverlap(t)
}

// TestNeverTwoAtOnce moves one lease among three managers by graceful
// stops and cut connections, with new managers joining, and checks that
// the runs never overlap.
func TestNeverTwoAtOnce(t *testing.T) {
	ns := testenv.NATS(t)
	rec := &recorder{}
	opts := lease.Options{TTL: time.Second}
	live := map[string]*runner{}
	next := 0
	join := func() {
		h := fmt.Sprintf("m%d", next)
		next++
		live[h] = start(t, ns, withHolder(opts, h), "job", rec)
	}
	for range 3 {
		join()
	}
	steps := []string{"stop", "cut", "stop", "cut", "stop", "cut"}
	for i, how := range steps {
		t.Run(fmt.Sprintf("%d-%s", i, how), func(t *testing.T) {
			h := oneRunning(t, rec, 10*time.Second)
			if how == "stop" {
				live[h].stop()
			} else {
				live[h].nc.Close()
			}
			delete(live, h)
			join()
			testenv.Eventually(t, 10*time.Second, func() error {
				if got := rec.running(); len(got) != 1 || got[0] == h {
					return fmt.Errorf("running %v after %s left", got, h)
				}
				return nil
			})
		})
	}
	if n := len(rec.snapshot()); n != len(steps)+1 {
		t.Fatalf("%d runs, want %d", n, len(steps)+1)
	}
	rec.noOverlap(t)
}

func TestStableHolderTakesBackItsOwnLease(t *testing.T) {
	ns := testenv.NATS(t)
	rec := &recorder{}
	opts := lease.Options{Holder: "up:/data", TTL: time.Minute}
	old := start(t, ns, opts, "job", rec)
	oneRunning(t, rec, 5*time.Second)
	// A crash: the release cannot reach the server, the key stays.
	old.nc.Close()
	old.stop()
	if got := rec.running(); len(got) != 0 {
		t.Fatalf("running %v after the stop", got)
	}
	// Another holder must wait for the key to expire, a minute away; the
	// restarted process, under the same id, need not.
	start(t, ns, withHolder(opts, "other"), "job", rec)
	start(t, ns, opts, "job", rec)
	if got := oneRunning(t, rec, 10*time.Second); got != opts.Holder {
		t.Fatalf("%s runs, want the restarted %s", got, opts.Holder)
	}
	rec.noOverlap(t)
}

func TestRunRefusesMisuse(t *testing.T) {
	ns := testenv.NATS(t)
	_, js := conn(t, ns)
	m, err := lease.New(context.Background(), js, lease.Options{TTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, "job", func(ctx context.Context) { <-ctx.Done() }) }()
	testenv.Eventually(t, 5*time.Second, func() error {
		if !m.Holds("job") {
			return errors.New("job not held")
		}
		return nil
	})
	for _, tc := range []struct {
		name, lease string
	}{
		{"empty name", ""},
		{"dotted name", "a.b"},
		{"wildcard", "a*"},
		{"same name twice", "job"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := m.Run(context.Background(), tc.lease, func(context.Context) { t.Error("work ran") }); err == nil {
				t.Fatalf("Run(%q) = nil, want an error", tc.lease)
			}
		})
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run after cancel: %v", err)
	}
	if held := m.Held(); len(held) != 0 {
		t.Fatalf("held %v after Run returned", held)
	}
}

func TestNewOptions(t *testing.T) {
	ns := testenv.NATS(t)
	_, js := conn(t, ns)
	ctx := context.Background()
	if _, err := lease.New(ctx, js, lease.Options{Bucket: "existing", TTL: 4 * time.Second}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		opts    lease.Options
		wantTTL time.Duration
		wantErr bool
	}{
		{"defaults", lease.Options{Bucket: "fresh"}, lease.DefaultTTL, false},
		{"existing bucket's TTL wins", lease.Options{Bucket: "existing", TTL: time.Minute}, 4 * time.Second, false},
		{"renewal too rare", lease.Options{Bucket: "rare", TTL: 2 * time.Second, RenewInterval: 1500 * time.Millisecond}, 0, true},
		{"negative TTL", lease.Options{Bucket: "neg", TTL: -time.Second}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := lease.New(ctx, js, tc.opts)
			if tc.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.TTL() != tc.wantTTL {
				t.Fatalf("TTL %s, want %s", m.TTL(), tc.wantTTL)
			}
			if m.Holder() == "" {
				t.Fatal("empty holder id")
			}
			if m2, err := lease.New(ctx, js, tc.opts); err != nil || m2.Holder() == m.Holder() {
				t.Fatalf("second manager: holder %q (err %v), want another than %q", m2.Holder(), err, m.Holder())
			}
		})
	}
	t.Run("bucket without TTL", func(t *testing.T) {
		if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "forever"}); err != nil {
			t.Fatal(err)
		}
		if _, err := lease.New(ctx, js, lease.Options{Bucket: "forever"}); err == nil {
			t.Fatal("a bucket whose keys never expire was accepted")
		}
	})
}

func TestOverwrittenKeyStopsWorkAtNextRenewal(t *testing.T) {
	ns := testenv.NATS(t)
	rec := &recorder{}
	// A TTL far beyond the wait below: only the failed renewal, not the
	// renewal deadline, can stop the work in time.
	opts := lease.Options{Holder: "a", TTL: time.Minute, RenewInterval: time.Second}
	start(t, ns, opts, "job", rec)
	oneRunning(t, rec, 5*time.Second)
	// Someone else writes the key, as a holder would that acquired it
	// while this one was paused past its deadline.
	_, js := conn(t, ns)
	kv, err := js.KeyValue(context.Background(), lease.DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(context.Background(), "job", []byte("intruder")); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		if got := rec.running(); len(got) != 0 {
			return fmt.Errorf("running %v after the key was taken", got)
		}
		return nil
	})
	if runs := rec.snapshot(); len(runs) != 1 || !errors.Is(runs[0].cause, lease.ErrLost) {
		t.Fatalf("runs %+v, want one ended by ErrLost", runs)
	}
	// The intruder's key is not ours to take back.
	if e, err := kv.Get(context.Background(), "job"); err != nil || string(e.Value()) != "intruder" {
		t.Fatalf("key after the loss: %v, %v", e, err)
	}
}

func TestWorkThatReturnsRunsAgain(t *testing.T) {
	ns := testenv.NATS(t)
	_, js := conn(t, ns)
	m, err := lease.New(context.Background(), js, lease.Options{TTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	runs := 0
	go m.Run(ctx, "job", func(ctx context.Context) {
		mu.Lock()
		runs++
		mu.Unlock()
	})
	testenv.Eventually(t, 10*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if runs < 3 {
			return fmt.Errorf("%d runs", runs)
		}
		return nil
	})
}
