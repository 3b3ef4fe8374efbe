// Package wasmhost runs the edge policy engine (filter.wasm, package
// wasm) under wazero as the edge's Stage.
//
// The module is compiled once (with an on-disk compilation cache when
// configured) and run in a pool of instances, each used by one call at a
// time, with a memory limit per instance and a deadline per call. An
// instance that traps or runs past its deadline is thrown away and
// replaced: only its batch fails.
//
// Policies come from the NATS KV bucket rv_policy (one key per project,
// per-region overrides inside the document) and modules from the object
// store rv_modules; both are watched and swapped in live. A new module is
// verified (checksum, ed25519 signature when a public key is configured,
// then a self-test on golden vectors) before it serves a request; a
// failing one is refused and the old one kept.
//
// Native mode runs the same engine as Go code, without wasm.
package wasmhost

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/rearview-dev/rearview/edge"
	"github.com/rearview-dev/rearview/sdkproto"
	"github.com/rearview-dev/rearview/wasm"
	"github.com/rearview-dev/rearview/wasm/engine"
	"github.com/rearview-dev/rearview/wasm/noise"
	"github.com/rearview-dev/rearview/wasm/policy"
)

// ModuleObject is the name under which filter modules are published in
// the rv_modules object store.
const ModuleObject = "filter.wasm"

// MetaSHA256 is the object metadata key holding the hex SHA-256 of a
// published module, checked in addition to NATS's own digest. A module
// without it is refused.
const MetaSHA256 = "rv-sha256"

// Config configures a Stage.
type Config struct {
	// JetStream, when set, is watched for policies (rv_policy) and modules
	// (rv_modules) by Run.
	JetStream jetstream.JetStream
	// Module is the wasm module to start with; nil means the embedded
	// filter.wasm.
	Module []byte
	// Native runs the engine as Go code instead of wasm.
	Native bool
	// CacheDir keeps compiled modules between runs; "" keeps them in memory.
	CacheDir string
	// Instances bounds the instance pool; 0 means GOMAXPROCS.
	Instances int
	// MemoryLimit bounds each instance's memory in bytes; 0 means 64 MiB.
	MemoryLimit int
	// Timeout is the deadline of one call into the module; 0 means 2s.
	Timeout time.Duration
	// HardDeadline interrupts a call at its deadline. Without it a call
	// past its deadline fails its batch and its instance is replaced, but
	// the call itself runs on, abandoned, until it returns. Interrupting
	// needs wazero to check for cancellation at every loop header, and Go
	// compiled to wasm branches through a loop header at nearly every
	// jump: measured, it makes the module about 6× slower.
	HardDeadline bool
	// Policies are initial policy documents by project, before the KV
	// bucket is read; "" (the key) is the policy of projects without one.
	// With JetStream set, Apply refuses batches (edge.ErrNotReady) until
	// Run has loaded the bucket: these are a base, not a stand-in for it.
	Policies map[string][]byte
	// ModulePublicKey, when set, is the key every module published to
	// rv_modules must be signed with (see PublishModule); an unsigned or
	// badly signed one is refused and the active module kept. Without it
	// a published module needs only its checksum. Config.Module and the
	// embedded module are trusted: they come from this host.
	ModulePublicKey ed25519.PublicKey
	Logger          *slog.Logger
}

// Stage is the wasm policy stage. It is safe for concurrent use.
type Stage struct {
	cfg Config
	log *slog.Logger
	rt  wazero.Runtime
	// guard interrupts calls at their deadline; the self-test runs there
	// so that a module that loops cannot hang the host however rt is set.
	guard   wazero.Runtime
	cache   wazero.CompilationCache
	active  atomic.Pointer[module]
	engines sync.Pool
	bufs    sync.Pool
	// loadMu serialises module loads.
	loadMu sync.Mutex

	skipSelfTest bool

	// bots is the published bot list every instance and engine is given
	// before its next batch; generation 0, the module's built-in list, is
	// what a new instance starts with.
	bots atomic.Pointer[botList]

	polMu    sync.RWMutex
	policies map[string][]byte
	// ready is closed once the stored policies are loaded (at once when
	// there is no bucket to load them from).
	ready chan struct{}
}

// New compiles the initial module, checks it with the self-test and
// returns the Stage. Close releases it.
func New(ctx context.Context, cfg Config) (*Stage, error) {
	if cfg.Instances <= 0 {
		cfg.Instances = runtime.GOMAXPROCS(0)
	}
	if cfg.MemoryLimit <= 0 {
		cfg.MemoryLimit = 64 << 20
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Stage{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "wasmhost"),
		policies: map[string][]byte{},
		ready:    make(chan struct{}),
	}
	if cfg.JetStream == nil {
		close(s.ready)
	}
	s.engines.New = func() any { return engine.New() }
	s.bots.Store(&botList{})
	for p, doc := range cfg.Policies {
		if err := policy.Check(doc); err != nil {
			return nil, fmt.Errorf("policy of project %q: %w", p, err)
		}
		s.policies[p] = doc
	}
	if cfg.Native {
		return s, nil
	}
	var err error
	if cfg.CacheDir != "" {
		if s.cache, err = wazero.NewCompilationCacheWithDir(cfg.CacheDir); err != nil {
			return nil, fmt.Errorf("compilation cache %s: %w", cfg.CacheDir, err)
		}
	} else {
		s.cache = wazero.NewCompilationCache()
	}
	if s.guard, err = runtimeWith(ctx, s.cache, cfg.MemoryLimit, true); err != nil {
		return nil, err
	}
	s.rt = s.guard
	if !cfg.HardDeadline {
		if s.rt, err = runtimeWith(ctx, s.cache, cfg.MemoryLimit, false); err != nil {
			s.guard.Close(ctx)
			return nil, err
		}
	}
	bin := cfg.Module
	if bin == nil {
		bin = wasm.Module()
	}
	if err := s.LoadModule(ctx, bin); err != nil {
		s.rt.Close(ctx)
		s.guard.Close(ctx)
		return nil, err
	}
	return s, nil
}

// Close releases the runtime and its instances.
func (s *Stage) Close(ctx context.Context) error {
	if s.rt == nil {
		return nil
	}
	if m := s.active.Swap(nil); m != nil {
		m.retire()
	}
	err := s.rt.Close(ctx)
	s.guard.Close(ctx)
	if s.cache != nil {
		s.cache.Close(ctx)
	}
	return err
}

// ModuleDigest returns the hex SHA-256 of the module serving requests, or
// "native".
func (s *Stage) ModuleDigest() string {
	if s.cfg.Native {
		return "native"
	}
	if m := s.active.Load(); m != nil {
		return m.digest
	}
	return ""
}

// SetPolicy makes doc the policy of project (after checking it); "" is
// the policy of projects without one. A nil doc removes the project's
// policy.
func (s *Stage) SetPolicy(project string, doc []byte) error {
	if doc == nil {
		s.polMu.Lock()
		delete(s.policies, project)
		s.polMu.Unlock()
		return nil
	}
	if err := policy.Check(doc); err != nil {
		return fmt.Errorf("policy of project %q: %w", project, err)
	}
	doc = append([]byte(nil), doc...)
	s.polMu.Lock()
	s.policies[project] = doc
	s.polMu.Unlock()
	return nil
}

func (s *Stage) policy(project string) []byte {
	s.polMu.RLock()
	defer s.polMu.RUnlock()
	if d, ok := s.policies[project]; ok {
		return d
	}
	return s.policies[""]
}

// Result is everything the engine said about one batch.
type Result struct {
	// Batch is the batch to forward; nil when every event was dropped.
	Batch  []byte
	Report engine.Report
}

// Apply implements edge.Stage. Before the stored policies are loaded it
// fails with edge.ErrNotReady: the default policy must not stand in for a
// project's stricter one, not even for the first batches after a start.
func (s *Stage) Apply(ctx context.Context, in edge.StageInput) (edge.StageOutput, error) {
	select {
	case <-s.ready:
	default:
		return edge.StageOutput{}, fmt.Errorf("apply policy of project %q: bucket %s not loaded yet: %w", in.Project, sdkproto.PolicyBucket, edge.ErrNotReady)
	}
	// The edge forwards the batch and counts drops and masks: the
	// decisions, one per event, are not decoded.
	res, err := s.filter(ctx, s.policy(in.Project), in, false)
	if err != nil {
		return edge.StageOutput{}, err
	}
	return edge.StageOutput{Batch: res.Batch, Dropped: res.Report.Dropped, Masked: res.Report.Masked}, nil
}

// Filter runs the project's policy over one batch.
func (s *Stage) Filter(ctx context.Context, in edge.StageInput) (Result, error) {
	return s.FilterWith(ctx, s.policy(in.Project), in)
}

// FilterWith runs policy doc (nil: the default policy) over one batch.
func (s *Stage) FilterWith(ctx context.Context, doc []byte, in edge.StageInput) (Result, error) {
	return s.filter(ctx, doc, in, true)
}

// filter is FilterWith, decoding the report's decisions only when asked.
func (s *Stage) filter(ctx context.Context, doc []byte, in edge.StageInput, decisions bool) (Result, error) {
	bp, _ := s.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	defer s.bufs.Put(bp)
	ectx := engine.Context{
		Project: in.Project, Region: in.Region, Country: in.Country, UA: in.UserAgent, Now: in.Now.UnixMilli(),
	}
	var resp engine.Response
	var err error
	bots := s.bots.Load()
	if s.cfg.Native {
		req := engine.AppendRequest((*bp)[:0], doc, ectx, in.Batch)
		*bp = req
		eng := s.engines.Get().(*engine.Engine)
		eng.SetBots(bots.list)
		resp, err = engine.ParseResponse(eng.Handle(req))
		if err == nil {
			resp = resp.Clone()
		}
		s.engines.Put(eng)
	} else {
		// The batch goes straight into the instance's memory.
		head := engine.AppendRequestHead((*bp)[:0], doc, ectx, len(in.Batch))
		*bp = head
		resp, err = s.call(ctx, request{head, in.Batch, bots})
	}
	if err != nil {
		return Result{}, err
	}
	parse := resp.ParseReport
	if !decisions {
		parse = resp.ParseCounts
	}
	rep, err := parse()
	if err != nil {
		return Result{}, fmt.Errorf("policy module: %w", err)
	}
	return Result{Batch: resp.Batch, Report: rep}, nil
}

// Raw runs a request envelope through the active module (or natively) and
// returns the response envelope, for byte-for-byte comparisons.
func (s *Stage) Raw(ctx context.Context, req []byte) ([]byte, error) {
	if s.cfg.Native {
		eng := s.engines.Get().(*engine.Engine)
		defer s.engines.Put(eng)
		return append([]byte(nil), eng.Handle(req)...), nil
	}
	m, err := s.acquire()
	if err != nil {
		return nil, err
	}
	defer m.release()
	return m.raw(ctx, request{head: req}, s.cfg.Timeout)
}

func (s *Stage) acquire() (*module, error) {
	for range 100 {
		m := s.active.Load()
		if m == nil {
			return nil, errors.New("policy module: stage closed")
		}
		if m.hold() {
			return m, nil
		}
	}
	return nil, errors.New("policy module: no module to run")
}

func (s *Stage) call(ctx context.Context, req request) (engine.Response, error) {
	m, err := s.acquire()
	if err != nil {
		return engine.Response{}, err
	}
	defer m.release()
	out, err := m.raw(ctx, req, s.cfg.Timeout)
	if err != nil {
		return engine.Response{}, err
	}
	return engine.ParseResponse(out)
}

// LoadModule verifies bin (it compiles, instantiates within the limits and
// passes the self-test) and makes it the active module. On error the
// active module is kept.
func (s *Stage) LoadModule(ctx context.Context, bin []byte) error {
	if s.cfg.Native {
		return errors.New("load module: the stage runs natively")
	}
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	sum := sha256.Sum256(bin)
	digest := hex.EncodeToString(sum[:])
	if cur := s.active.Load(); cur != nil && cur.digest == digest {
		return nil
	}
	start := time.Now()
	// The embedded module passed the same checks in CI (the tests prove it
	// matches the engine built into this binary byte for byte); others,
	// published by whoever holds NATS credentials, prove themselves here.
	// Tests load modules that cannot pass.
	embedded := sha256.Sum256(wasm.Module()) == sum
	if !s.skipSelfTest && !embedded {
		compiled, err := s.guard.CompileModule(ctx, bin)
		if err != nil {
			return fmt.Errorf("load module %.12s: compile: %w", digest, err)
		}
		m := newModule(s.guard, compiled, digest, 1, true, s.log)
		err = selfTest(ctx, func(ctx context.Context, req []byte) ([]byte, error) {
			return m.raw(ctx, request{head: req}, s.cfg.Timeout)
		})
		m.retire()
		if err != nil {
			return fmt.Errorf("load module %.12s: self-test: %w", digest, err)
		}
	}
	compiled, err := s.rt.CompileModule(ctx, bin)
	if err != nil {
		return fmt.Errorf("load module %.12s: compile: %w", digest, err)
	}
	m := newModule(s.rt, compiled, digest, s.cfg.Instances, s.cfg.HardDeadline, s.log)
	compileTime := time.Since(start)
	if old := s.active.Swap(m); old != nil {
		old.retire()
	}
	s.log.Info("policy module active", "sha256", digest, "bytes", len(bin), "compile", compileTime)
	return nil
}

// botList is a published bot list and its generation.
type botList struct {
	gen  uint64
	doc  []byte         // nil: the built-in list
	list *noise.BotList // compiled natively: nil for the built-in list
}

// SetBots makes doc, a bot list document (see noise.ParseBotList), the
// list every batch's User-Agent is matched against; nil goes back to the
// module's built-in list. A list that does not compile is refused and the
// current one kept. Each instance compiles the new list before its next
// batch.
func (s *Stage) SetBots(doc []byte) error {
	next := &botList{}
	if doc != nil {
		l, err := noise.CompileBotList(doc)
		if err != nil {
			return err
		}
		next.doc, next.list = append([]byte(nil), doc...), l
	}
	for {
		cur := s.bots.Load()
		next.gen = cur.gen + 1
		if s.bots.CompareAndSwap(cur, next) {
			return nil
		}
	}
}

// Stats describes the instance pool.
type Stats struct {
	Digest    string
	Instances int
	// MemoryBytes is the linear memory of each idle instance.
	MemoryBytes []uint32
	// Abandoned counts calls that ran past their deadline and were left
	// running (without HardDeadline).
	Abandoned int64
}

// Stats reports on the active module's pool.
func (s *Stage) Stats() Stats {
	m := s.active.Load()
	if m == nil {
		return Stats{Digest: s.ModuleDigest()}
	}
	return m.stats()
}

// runtimeWith returns a runtime that closes a module whose call outlives
// its context and caps each memory at memLimit bytes, with WASI.
func runtimeWith(ctx context.Context, cache wazero.CompilationCache, memLimit int, hard bool) (wazero.Runtime, error) {
	rc := wazero.NewRuntimeConfig().
		WithCloseOnContextDone(hard).
		WithMemoryLimitPages(uint32(memLimit / 65536))
	if cache != nil {
		rc = rc.WithCompilationCache(cache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("instantiate wasi: %w", err)
	}
	return rt, nil
}
