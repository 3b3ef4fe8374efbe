// Package lease keeps run-once work (retention sweeps, vitals folding,
// alert evaluation) running in exactly one coordinator at a time, and moves
// it to another coordinator when its holder stops or dies.
//
// A lease is a key in a NATS KV bucket whose TTL bounds how long a key lives
// after its last write. Acquiring is a Create of the key (it fails while
// another holder's key is there), renewing is an Update on the revision last
// written (it fails if anyone else wrote in between), and releasing on a
// graceful stop is a Delete on that revision, so another coordinator takes
// over at once. A holder that is killed or cut off simply stops renewing:
// its key expires TTL after its last renewal and another coordinator's poll
// acquires it.
//
// The holder cancels its work's context TTL − RenewInterval after it sent
// its last successful renewal, if no renewal succeeded since; the server
// stored that renewal after it was sent, so the key outlives the cancel by
// at least RenewInterval. Two holders therefore never run the work at once
// as long as clocks run at the same rate and work stops within
// RenewInterval of its context being cancelled. A process paused past its
// deadline (SIGSTOP, a frozen VM) notices only when it runs again, and may
// run on for a moment beside the new holder; work that writes to the
// database calls Fence first in each transaction, which refuses the
// transactions of a holding once a later one has written.
//
// Takeover bounds, for the defaults (TTL 10 s, RenewInterval TTL/3,
// PollInterval TTL/10):
//   - graceful stop (the Run context cancelled): the key is deleted once
//     work has returned and another Manager acquires it at once (it watches
//     the key) or at the latest within PollInterval;
//   - holder killed, hung or partitioned: its work resumes elsewhere within
//     TTL + PollInterval of its last renewal (plus the server's expiry lag,
//     normally well under a second).
package lease

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DefaultBucket is the KV bucket leases live in unless Options.Bucket says
// otherwise.
const DefaultBucket = "rv_leases"

// DefaultTTL is how long a lease outlives its holder's last renewal unless
// Options.TTL says otherwise.
const DefaultTTL = 10 * time.Second

// ErrLost is the cause (context.Cause) of a work context cancelled because
// the lease was lost or could not be renewed in time, as opposed to the Run
// context ending. Work that tidies up on cancellation (a last fold, say)
// must not do so after ErrLost: another holder may already be running.
var ErrLost = errors.New("lease lost")

// Options configures a Manager.
type Options struct {
	// Bucket names the KV bucket; empty means DefaultBucket.
	Bucket string
	// Holder identifies this process in the bucket; empty means
	// hostname:pid:random. It must be unique among live processes. A stable
	// id (one that a restarted process reuses) lets a process take back its
	// own lease at once after a crash instead of waiting for it to expire;
	// use one only where no other live process can share it, such as a
	// single-process deployment on an embedded server.
	Holder string
	// TTL is how long a lease outlives its last renewal; zero means
	// DefaultTTL. It is the bucket's TTL, fixed when the bucket is created:
	// a Manager opening an existing bucket uses the bucket's TTL, so that
	// every holder agrees on when a lease expires.
	TTL time.Duration
	// RenewInterval is the time between renewals; zero means TTL/3. It must
	// not exceed TTL/2. It is also how long work has to stop after its
	// context is cancelled for a lost lease before the key can expire.
	RenewInterval time.Duration
	// PollInterval is how often a Manager that does not hold a lease tries
	// to acquire it; zero means TTL/10.
	PollInterval time.Duration
	// Replicas is the bucket's replica count when it is created; zero means
	// 1. A 3-node cluster should use 3, so a lease survives a node loss.
	Replicas int
	// Logger receives acquisitions, losses and errors; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Manager acquires, renews and releases named leases for one holder.
type Manager struct {
	kv     jetstream.KeyValue
	holder string
	ttl    time.Duration
	renew  time.Duration
	poll   time.Duration
	epoch  int64 // the bucket's creation time, for Fence
	log    *slog.Logger

	mu      sync.Mutex
	running map[string]bool // names with a Run in progress
	held    map[string]bool // names whose lease is held now
}

// New opens (creating it when missing) the lease bucket and returns a
// Manager for it.
func New(ctx context.Context, js jetstream.JetStream, opts Options) (*Manager, error) {
	if opts.Bucket == "" {
		opts.Bucket = DefaultBucket
	}
	if opts.TTL == 0 {
		opts.TTL = DefaultTTL
	}
	if opts.TTL < 0 {
		return nil, fmt.Errorf("lease bucket %s: negative TTL %s", opts.Bucket, opts.TTL)
	}
	if opts.Replicas == 0 {
		opts.Replicas = 1
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Holder == "" {
		h, err := holderID()
		if err != nil {
			return nil, fmt.Errorf("lease holder id: %w", err)
		}
		opts.Holder = h
	}
	log := opts.Logger.With("component", "lease", "holder", opts.Holder)
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      opts.Bucket,
		Description: "Rearview leases: which coordinator runs each run-once task",
		History:     1,
		TTL:         opts.TTL,
		// Memory storage would forget every lease in a server restart
		// while the holders still run, and new holders could start beside
		// them.
		Storage:  jetstream.FileStorage,
		Replicas: opts.Replicas,
	})
	if errors.Is(err, jetstream.ErrBucketExists) {
		kv, err = js.KeyValue(ctx, opts.Bucket)
	}
	if err != nil {
		return nil, fmt.Errorf("lease bucket %s: %w", opts.Bucket, err)
	}
	st, err := kv.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("lease bucket %s: %w", opts.Bucket, err)
	}
	if st.TTL() <= 0 {
		return nil, fmt.Errorf("lease bucket %s: has no TTL, so a dead holder's lease would never expire", opts.Bucket)
	}
	if st.TTL() != opts.TTL {
		log.Warn("lease bucket has another TTL; using the bucket's", "bucket", opts.Bucket, "bucket_ttl", st.TTL(), "wanted", opts.TTL)
		opts.TTL = st.TTL()
	}
	if opts.RenewInterval == 0 {
		opts.RenewInterval = opts.TTL / 3
	}
	if opts.RenewInterval < 0 || opts.RenewInterval > opts.TTL/2 {
		return nil, fmt.Errorf("lease bucket %s: renew interval %s must be positive and at most half the TTL %s", opts.Bucket, opts.RenewInterval, opts.TTL)
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = opts.TTL / 10
	}
	var epoch int64
	if s, ok := st.(*jetstream.KeyValueBucketStatus); ok && s.StreamInfo() != nil {
		epoch = s.StreamInfo().Created.UnixNano()
	}
	return &Manager{
		epoch:   epoch,
		kv:      kv,
		holder:  opts.Holder,
		ttl:     opts.TTL,
		renew:   opts.RenewInterval,
		poll:    opts.PollInterval,
		log:     log,
		running: map[string]bool{},
		held:    map[string]bool{},
	}, nil
}

func holderID() (string, error) {
	host, err := os.Hostname()
	if err != nil {
		return "", err
	}
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return host + ":" + strconv.Itoa(os.Getpid()) + ":" + hex.EncodeToString(b), nil
}

// Holder returns the id this Manager holds leases under.
func (m *Manager) Holder() string { return m.holder }

// TTL returns how long a lease outlives its last renewal (the bucket's TTL).
func (m *Manager) TTL() time.Duration { return m.ttl }

// Held returns the names of the leases this Manager holds now, sorted.
func (m *Manager) Held() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.held))
	for n := range m.held {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Holds reports whether this Manager holds the lease name now.
func (m *Manager) Holds(name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.held[name]
}

func (m *Manager) setHeld(name string, held bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if held {
		m.held[name] = true
	} else {
		delete(m.held, name)
	}
}

// Run competes for the lease name until ctx is done, and runs work whenever
// it holds it. work must run until its context is done; the context is
// cancelled when ctx ends (graceful: the lease is renewed until work has
// returned, then released) or when the lease is lost or cannot be renewed
// in time (context.Cause is ErrLost; work must then stop within
// RenewInterval). If work returns by itself, the lease is released and work
// runs again when the lease is next acquired, no sooner than PollInterval.
//
// Run returns nil once ctx is done and work has returned, or an error at
// once if name is not letters, digits, '-' and '_', or a Run for name is
// already in progress on this Manager.
func (m *Manager) Run(ctx context.Context, name string, work func(ctx context.Context)) error {
	if !validName(name) {
		return fmt.Errorf("run lease %q: name must be non-empty letters, digits, '-' or '_'", name)
	}
	m.mu.Lock()
	if m.running[name] {
		m.mu.Unlock()
		return fmt.Errorf("run lease %s: already running on this manager", name)
	}
	m.running[name] = true
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.running, name)
		m.mu.Unlock()
	}()

	freed := m.watchReleases(ctx, name)
	poll := time.NewTimer(0)
	defer poll.Stop()
	// A create cut short by ctx may still have written the key.
	defer m.dropOwn(context.WithoutCancel(ctx), name)
	var lastErr string
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-poll.C:
		case <-freed:
		}
		rev, sent, err := m.acquire(ctx, name)
		switch {
		case err == nil:
			lastErr = ""
			m.hold(ctx, name, rev, sent, work)
		case errors.Is(err, jetstream.ErrKeyExists):
			lastErr = ""
		case ctx.Err() != nil:
			return nil
		case err.Error() != lastErr:
			// Once per distinct error: a NATS outage would otherwise log
			// every poll.
			lastErr = err.Error()
			m.log.Warn("acquire lease", "lease", name, "err", err)
		}
		poll.Reset(m.poll)
	}
}

// watchReleases signals when the key is deleted (a graceful release), so a
// waiting Manager need not wait for its next poll. Without a watch (it
// failed to start) polling alone still acquires.
func (m *Manager) watchReleases(ctx context.Context, name string) <-chan struct{} {
	freed := make(chan struct{}, 1)
	w, err := m.kv.Watch(ctx, name, jetstream.UpdatesOnly(), jetstream.MetaOnly())
	if err != nil {
		m.log.Debug("watch lease", "lease", name, "err", err)
		return freed
	}
	go func() {
		defer w.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				if e != nil && e.Operation() != jetstream.KeyValuePut {
					select {
					case freed <- struct{}{}:
					default:
					}
				}
			}
		}
	}()
	return freed
}

// acquire creates the key with this holder's id. A key that already holds
// this holder's id (a create whose reply was lost, or a restart under a
// stable id) is taken back with an update. sent is when the successful write
// was sent: the key lives at least TTL from then.
func (m *Manager) acquire(ctx context.Context, name string) (rev uint64, sent time.Time, err error) {
	rctx, cancel := context.WithTimeout(ctx, m.renew)
	defer cancel()
	sent = time.Now()
	rev, err = m.kv.Create(rctx, name, []byte(m.holder))
	if err == nil {
		return rev, sent, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return 0, sent, fmt.Errorf("acquire lease %s: %w", name, err)
	}
	e, gerr := m.kv.Get(rctx, name)
	if gerr != nil || string(e.Value()) != m.holder {
		return 0, sent, err
	}
	sent = time.Now()
	rev, err = m.kv.Update(rctx, name, []byte(m.holder), e.Revision())
	if err != nil {
		return 0, sent, fmt.Errorf("acquire lease %s: take back own key: %w", name, err)
	}
	return rev, sent, nil
}

// hold runs work while the lease is held: it renews every RenewInterval,
// cancels work when the lease is lost or its renewal deadline passes, and
// releases the lease when work returns while still held.
func (m *Manager) hold(ctx context.Context, name string, rev uint64, sent time.Time, work func(context.Context)) {
	m.setHeld(name, true)
	defer m.setHeld(name, false)
	m.log.Info("lease acquired", "lease", name, "ttl", m.ttl)

	workCtx, cancel := context.WithCancelCause(context.WithValue(ctx, holdingKey{}, holding{name: name, epoch: m.epoch, token: rev}))
	defer cancel(nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		work(workCtx)
	}()
	// Renewals continue after ctx ends, until work has returned: a graceful
	// stop keeps the lease while work winds down.
	bg := context.WithoutCancel(ctx)
	deadline := time.NewTimer(time.Until(sent.Add(m.ttl - m.renew)))
	defer deadline.Stop()
	renew := time.NewTimer(time.Until(sent.Add(m.renew)))
	defer renew.Stop()
	var lastErr string
	lost := func(why string, args ...any) {
		m.setHeld(name, false)
		m.log.Warn("lease lost; stopping its work", append([]any{"lease", name, "why", why}, args...)...)
		cancel(ErrLost)
		<-done
	}
	for {
		select {
		case <-done:
			m.release(bg, name, rev)
			if ctx.Err() == nil {
				// Work ended by itself: give others a turn before ours.
				select {
				case <-ctx.Done():
				case <-time.After(m.poll):
				}
			}
			return
		case <-deadline.C:
			lost("not renewed in time", "since", time.Since(sent).Round(time.Millisecond))
			return
		case <-renew.C:
		}
		left := time.Until(sent.Add(m.ttl - m.renew))
		rctx, rcancel := context.WithTimeout(bg, min(m.renew/2, max(left, time.Millisecond)))
		at := time.Now()
		next, err := m.kv.Update(rctx, name, []byte(m.holder), rev)
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			// An earlier renewal whose reply was lost may have written the
			// key: if it still holds our id, renew on its revision.
			if e, gerr := m.kv.Get(rctx, name); gerr == nil && string(e.Value()) == m.holder {
				at = time.Now()
				next, err = m.kv.Update(rctx, name, []byte(m.holder), e.Revision())
			}
		}
		rcancel()
		switch {
		case err == nil:
			lastErr = ""
			rev, sent = next, at
			deadline.Reset(time.Until(sent.Add(m.ttl - m.renew)))
			renew.Reset(m.renew)
		case errors.Is(err, jetstream.ErrKeyRevisionMismatch), errors.Is(err, jetstream.ErrKeyNotFound), errors.Is(err, jetstream.ErrKeyDeleted):
			lost("taken over or expired", "err", err)
			return
		default:
			// Transient (no responders, timeout, reconnecting): retry
			// sooner, until the deadline decides.
			if err.Error() != lastErr {
				lastErr = err.Error()
				m.log.Warn("renew lease", "lease", name, "err", err)
			}
			renew.Reset(max(m.renew/4, time.Millisecond))
		}
	}
}

// release deletes the key if it is still at our revision, so another holder
// may acquire it at once; failing that it expires by itself.
func (m *Manager) release(ctx context.Context, name string, rev uint64) {
	m.setHeld(name, false)
	rctx, cancel := context.WithTimeout(ctx, m.renew)
	defer cancel()
	if err := m.kv.Delete(rctx, name, jetstream.LastRevision(rev)); err != nil {
		m.log.Warn("release lease; it expires by itself", "lease", name, "err", err)
		return
	}
	m.log.Info("lease released", "lease", name)
}

// dropOwn deletes the key if it holds this holder's id although no hold is
// under way (a write whose reply never came), so that others need not wait
// for it to expire.
func (m *Manager) dropOwn(ctx context.Context, name string) {
	rctx, cancel := context.WithTimeout(ctx, m.renew)
	defer cancel()
	e, err := m.kv.Get(rctx, name)
	if err != nil || string(e.Value()) != m.holder {
		return
	}
	if err := m.kv.Delete(rctx, name, jetstream.LastRevision(e.Revision())); err == nil {
		m.log.Info("lease released", "lease", name)
	}
}

// validName accepts a KV key that is one subject token, so that a watch on
// it sees that key alone.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
		default:
			return false
		}
	}
	return true
}
