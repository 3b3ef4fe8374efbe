package wasmhost

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"

	"github.com/rearview-dev/rearview/wasm/engine"
)

// module is one compiled module version and its pool of instances.
type module struct {
	rt        wazero.Runtime
	compiled  wazero.CompiledModule
	digest    string
	idle      chan *instance
	slots     chan struct{} // one token per live instance
	hard      bool          // the runtime interrupts calls at their deadline
	log       *slog.Logger
	abandoned atomic.Int64

	mu      sync.Mutex
	refs    int
	retired bool
}

type instance struct {
	mod          api.Module
	alloc, apply api.Function
	mem          api.Memory
	// bots installs a bot list (nil in modules older than the export);
	// botsGen is the generation of the list installed, 0 the built-in one.
	bots    api.Function
	botsGen uint64
	// Without hard deadlines a call runs on the instance's own goroutine,
	// so that the caller can give up on it (see soft). The goroutine lives
	// as long as the instance: one started per call began each call on a
	// small stack and grew it again, which cost a quarter of a 50-event
	// batch's time.
	jobs chan request
	done chan result
}

// request is a request envelope in two parts, written one after the other
// into the instance's memory: a host's batch is copied only there. bots,
// when set, is the bot list the instance must have first.
type request struct {
	head, batch []byte
	bots        *botList
}

// serve runs the calls sent on jobs until it is closed.
func (in *instance) serve() {
	for req := range in.jobs {
		out, err := in.call(context.Background(), req)
		in.done <- result{out, err}
	}
}

// close closes the instance; a call still running on its goroutine
// finishes first.
func (in *instance) close(ctx context.Context) {
	if in.jobs != nil {
		close(in.jobs)
	}
	in.mod.Close(ctx)
}

func newModule(rt wazero.Runtime, compiled wazero.CompiledModule, digest string, n int, hard bool, log *slog.Logger) *module {
	return &module{
		hard:     hard,
		log:      log,
		rt:       rt,
		compiled: compiled,
		digest:   digest,
		idle:     make(chan *instance, n),
		slots:    make(chan struct{}, n),
	}
}

// hold counts a call in flight; false when the module is retired.
func (m *module) hold() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.retired {
		return false
	}
	m.refs++
	return true
}

func (m *module) release() {
	m.mu.Lock()
	m.refs--
	done := m.retired && m.refs == 0
	m.mu.Unlock()
	if done {
		m.close()
	}
}

// retire stops new calls; the module is closed when the last call ends.
func (m *module) retire() {
	m.mu.Lock()
	m.retired = true
	done := m.refs == 0
	m.mu.Unlock()
	if done {
		m.close()
	}
}

func (m *module) close() {
	ctx := context.Background()
	for {
		select {
		case in := <-m.idle:
			in.close(ctx)
		default:
			m.compiled.Close(ctx)
			return
		}
	}
}

func (m *module) instantiate(ctx context.Context) (*instance, error) {
	cfg := wazero.NewModuleConfig().WithName("").WithStartFunctions("_initialize")
	mod, err := m.rt.InstantiateModule(ctx, m.compiled, cfg)
	if err != nil {
		return nil, fmt.Errorf("instantiate: %w", err)
	}
	in := &instance{mod: mod, alloc: mod.ExportedFunction("alloc"), apply: mod.ExportedFunction("apply"), mem: mod.Memory(), bots: mod.ExportedFunction("bots")}
	if in.alloc == nil || in.apply == nil || in.mem == nil {
		mod.Close(ctx)
		return nil, errors.New("instantiate: the module must export alloc, apply and memory")
	}
	if !m.hard {
		in.jobs, in.done = make(chan request), make(chan result, 1)
		go in.serve()
	}
	return in, nil
}

// get returns an idle instance or creates one while the pool has room,
// else waits for one.
func (m *module) get(ctx context.Context) (*instance, error) {
	select {
	case in := <-m.idle:
		return in, nil
	default:
	}
	select {
	case in := <-m.idle:
		return in, nil
	case m.slots <- struct{}{}:
		in, err := m.instantiate(ctx)
		if err != nil {
			<-m.slots
			return nil, err
		}
		return in, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for an instance: %w", ctx.Err())
	}
}

func (m *module) put(in *instance) {
	m.mu.Lock()
	retired := m.retired
	m.mu.Unlock()
	if retired {
		m.discard(in)
		return
	}
	m.idle <- in
}

func (m *module) discard(in *instance) {
	in.close(context.Background())
	<-m.slots
}

// raw runs one request envelope in an instance and returns a copy of the
// response envelope. A failing instance is discarded.
func (m *module) raw(ctx context.Context, req request, timeout time.Duration) ([]byte, error) {
	in, err := m.get(ctx)
	if err != nil {
		return nil, fmt.Errorf("policy module: %w", err)
	}
	if !m.hard {
		return m.soft(in, req, timeout)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	out, err := in.call(ctx, req)
	if err != nil {
		m.discard(in)
		var exit *sys.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == sys.ExitCodeDeadlineExceeded {
			return nil, fmt.Errorf("policy module: ran past its %v deadline (instance replaced)", time.Since(start).Round(time.Millisecond))
		}
		return nil, fmt.Errorf("policy module: %w (instance replaced)", err)
	}
	m.put(in)
	return out, nil
}

type result struct {
	out []byte
	err error
}

// soft runs a call on its own goroutine and gives up on it at the
// deadline: the batch fails, the instance leaves the pool (a new one takes
// its place) and is closed whenever the abandoned call returns.
//
// A call whose result comes after the deadline fails the same way even when
// this goroutine, starved of a core, only looks once both are ready: the
// outcome depends on how long the call ran, not on which case select picks.
func (m *module) soft(in *instance, req request, timeout time.Duration) ([]byte, error) {
	start := time.Now()
	in.jobs <- req
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-in.done:
		if time.Since(start) > timeout {
			m.abandoned.Add(1)
			m.log.Error("policy module call ran past its deadline: instance replaced", "deadline", timeout, "sha256", m.digest)
			m.discard(in)
			return nil, fmt.Errorf("policy module: ran past its %v deadline (instance replaced)", timeout)
		}
		if r.err != nil {
			m.discard(in)
			return nil, fmt.Errorf("policy module: %w (instance replaced)", r.err)
		}
		m.put(in)
		return r.out, nil
	case <-t.C:
		m.abandoned.Add(1)
		<-m.slots // a replacement may start now
		m.log.Error("policy module call ran past its deadline: instance abandoned and replaced", "deadline", timeout, "sha256", m.digest)
		go func() {
			<-in.done
			in.close(context.Background())
		}()
		return nil, fmt.Errorf("policy module: ran past its %v deadline (instance replaced)", timeout)
	}
}

func (in *instance) call(ctx context.Context, req request) ([]byte, error) {
	if b := req.bots; b != nil && b.gen != in.botsGen && in.bots != nil {
		if err := in.setBots(ctx, b); err != nil {
			return nil, err
		}
	}
	n := len(req.head) + len(req.batch)
	stack := [2]uint64{uint64(n)}
	if err := in.alloc.CallWithStack(ctx, stack[:]); err != nil {
		return nil, fmt.Errorf("alloc: %w", err)
	}
	ptr := uint32(stack[0])
	if !in.mem.Write(ptr, req.head) || !in.mem.Write(ptr+uint32(len(req.head)), req.batch) {
		return nil, fmt.Errorf("alloc returned %d, outside memory of %d bytes", ptr, in.mem.Size())
	}
	stack[0], stack[1] = uint64(ptr), uint64(n)
	if err := in.apply.CallWithStack(ctx, stack[:]); err != nil {
		return nil, fmt.Errorf("apply: %w", err)
	}
	rp, rl := uint32(stack[0]>>32), uint32(stack[0])
	view, ok := in.mem.Read(rp, rl)
	if !ok {
		return nil, fmt.Errorf("apply returned %d bytes at %d, outside memory of %d bytes", rl, rp, in.mem.Size())
	}
	return append([]byte(nil), view...), nil
}

// setBots installs a bot list in the instance (a module without the
// export keeps its built-in list).
func (in *instance) setBots(ctx context.Context, b *botList) error {
	stack := [2]uint64{uint64(len(b.doc))}
	if err := in.alloc.CallWithStack(ctx, stack[:]); err != nil {
		return fmt.Errorf("alloc: %w", err)
	}
	ptr := uint32(stack[0])
	if !in.mem.Write(ptr, b.doc) {
		return fmt.Errorf("alloc returned %d, outside memory of %d bytes", ptr, in.mem.Size())
	}
	stack[0], stack[1] = uint64(ptr), uint64(len(b.doc))
	if err := in.bots.CallWithStack(ctx, stack[:]); err != nil {
		return fmt.Errorf("bots: %w", err)
	}
	rp, rl := uint32(stack[0]>>32), uint32(stack[0])
	view, ok := in.mem.Read(rp, rl)
	if !ok {
		return fmt.Errorf("bots returned %d bytes at %d, outside memory of %d bytes", rl, rp, in.mem.Size())
	}
	if _, err := engine.ParseResponse(view); err != nil {
		// The host compiled the same list natively: the module disagrees.
		return fmt.Errorf("bots: %w", err)
	}
	in.botsGen = b.gen
	return nil
}

func (m *module) stats() Stats {
	st := Stats{Digest: m.digest, Instances: len(m.slots), Abandoned: m.abandoned.Load()}
	for {
		select {
		case in := <-m.idle:
			st.MemoryBytes = append(st.MemoryBytes, in.mem.Size())
			defer func() { m.idle <- in }()
			continue
		default:
		}
		return st
	}
}
