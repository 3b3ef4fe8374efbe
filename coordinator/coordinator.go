// Package coordinator is Rearview's central service. It consumes the NATS
// JetStream stream that edges publish to, stores events idempotently in the
// metadata database and blobs in object storage, and serves the HTTP API.
//
// Processing is at-least-once and idempotent: a message is acknowledged only
// after the transaction holding its events has committed, and every event is
// inserted by its id with INSERT OR IGNORE, so a redelivered message changes
// no count. Hooks registered for a kind run inside that transaction only for
// events that were new.
package coordinator

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/rearview-dev/rearview/coordinator/auth"
	"github.com/rearview-dev/rearview/coordinator/blob"
	"github.com/rearview-dev/rearview/coordinator/store"
	"github.com/rearview-dev/rearview/sdkproto"
)

// Config configures a coordinator.
type Config struct {
	JetStream jetstream.JetStream
	DB        *sql.DB
	Blobs     blob.Store
	// AdminToken grants access to every project and to admin routes.
	AdminToken string
	// StreamMaxAge and StreamMaxBytes bound the stream; zero means 7 days
	// and 10 GiB.
	StreamMaxAge   time.Duration
	StreamMaxBytes int64
	// Replicas is how many copies a NATS cluster keeps of the stream and of
	// every bucket the coordinator creates; zero means 1. Three survive the
	// loss of any one node. It cannot exceed the cluster's size.
	Replicas int
	// FetchBatch is how many messages one transaction handles at most.
	FetchBatch int
	// Workers is how many transactions the coordinator runs at once, each
	// on its own fetched messages; zero means 1 on SQLite, which has one
	// writer, and 4 on Postgres, where a transaction mostly waits for round
	// trips and several keep the server busy.
	Workers int
	// Consumer names the durable consumer; zero means "coordinator".
	Consumer string
	// TraceURLTemplate links a trace id to the backend's tracing UI in the
	// player, e.g. "https://jaeger.example.com/trace/{trace_id}".
	TraceURLTemplate string
	// EdgeURL is the public URL of an edge; when set, projects in the API
	// carry their Sentry DSN (sdkproto.SentryDSN) for the player to show.
	EdgeURL string
	// SecureCookies marks the player's session cookie Secure; set it when
	// the coordinator is served over HTTPS.
	SecureCookies bool
	// ReplayRetention and EventRetention bound how long replays and events
	// are kept when a project sets nothing; zero means 30 and 90 days.
	ReplayRetention time.Duration
	EventRetention  time.Duration
	// ReplayPackAfter is how long a session's replay goes without a new
	// segment before its segments are packed into one object (RunPacking);
	// zero means DefaultReplayPackAfter. Until then playback and the live
	// tail read the segments as they were stored.
	ReplayPackAfter time.Duration
	// Leases reports the run-once leases (retention, vitals folding, …)
	// this process holds, for /readyz; nil reports none.
	Leases func() []string
	Logger *slog.Logger
}

// Message is one stream message being processed: its edge metadata and the
// decoded batch (holding the events of one kind).
type Message struct {
	Project    string
	Region     string
	Country    string
	Kind       sdkproto.Kind
	ReceivedAt int64
	StreamSeq  uint64
	Batch      *sdkproto.Batch
	// Synthetic is set for a synthetic check's batch (the edge's
	// Rv-Synthetic header or the session's flag): hooks that feed RUM
	// percentiles or error-rate baselines skip it, as they skip bots.
	Synthetic bool
	// issues holds the issue each event was grouped into (StoreHook).
	issues map[string]string
}

// IssueOf returns the issue a store hook grouped the message's event into,
// or "" when it has none (not an error, or not grouped).
func (m *Message) IssueOf(eventID string) string { return m.issues[eventID] }

// SetIssue records the issue of the message's event, as the coordinator
// does with what a StoreHook returned; for callers that run the hooks
// themselves.
func (m *Message) SetIssue(eventID, issueID string) {
	if m.issues == nil {
		m.issues = map[string]string{}
	}
	m.issues[eventID] = issueID
}

// txLocals is one processing transaction's storage for its hooks. Each
// transaction runs on one goroutine, so it needs no lock.
type txLocals map[any]any

type txLocalsKey struct{}

// WithTx returns ctx carrying fresh storage for one transaction's hooks
// (see TxLocal). The coordinator gives every processing transaction its
// own; callers that run hooks themselves, on their own transaction, call it
// once per transaction.
func WithTx(ctx context.Context) context.Context {
	return context.WithValue(ctx, txLocalsKey{}, txLocals{})
}

// TxLocal returns what the transaction of ctx keeps under key, made by mk
// the first time: hooks gather there what their flush hook writes, so that
// a coordinator can run several transactions at once and a rolled-back one
// leaves nothing behind. It panics when ctx carries no transaction storage
// (a hook called without WithTx), which is a programming error.
func TxLocal[T any](ctx context.Context, key any, mk func() *T) *T {
	l, ok := ctx.Value(txLocalsKey{}).(txLocals)
	if !ok {
		panic("coordinator: hook called outside a processing transaction (no coordinator.WithTx)")
	}
	if v, ok := l[key].(*T); ok {
		return v
	}
	v := mk()
	l[key] = v
	return v
}

// StoreHook decides, before an event of its kind is inserted, what is
// stored with it: the issue it belongs to and the payload as stored (a
// symbolicated stack). Deciding first lets each event be written once, in
// one multi-row insert with the rest of its batch, instead of inserted and
// then rewritten. It runs for redelivered events too, so what it writes
// must be idempotent; counting belongs in an EventHook, which runs only for
// events stored for the first time.
type StoreHook func(ctx context.Context, tx *sql.Tx, m *Message, ev *sdkproto.Event) (Stored, error)

// Stored is what a StoreHook decided for an event.
type Stored struct {
	// IssueID is the issue the event is grouped into, if any.
	IssueID string
	// Payload, when not nil, is the event's JSON as stored instead of the
	// event as received.
	Payload []byte
}

// EventHook runs inside the processing transaction for every event stored
// for the first time. An error rolls the transaction back and the message is
// redelivered later.
type EventHook func(ctx context.Context, tx *sql.Tx, m *Message, ev *sdkproto.Event) error

// FlushHook runs once at the end of each processing transaction, after
// every message's event hooks and before the commit, for hooks that count
// in memory and write their totals once (issues). An error rolls the
// transaction back like an event hook's.
type FlushHook func(ctx context.Context, tx *sql.Tx) error

// CommitHook runs after a message's transaction committed, for work that
// must not hold the database (live tail, in-memory counters). It receives
// the new events only.
type CommitHook func(m *Message, fresh []sdkproto.Event)

// Coordinator consumes the stream and serves the API.
type Coordinator struct {
	cfg   Config
	log   *slog.Logger
	hooks map[sdkproto.Kind][]EventHook
	store map[sdkproto.Kind]StoreHook
	flush []FlushHook
	after []CommitHook
	kv    jetstream.KeyValue
	// dialect is the database's engine, for the few statements that differ.
	dialect store.Dialect
	// sessions signs the player's cookies; nil without an admin token.
	sessions *auth.Sessions
	// brotliWriters are reused *brotli.Writer for replay segments.
	brotliWriters sync.Pool
	// packs keeps the last replay pack read, unpacked.
	packs packCache
	// fault, when set (tests only), is called between the steps of packing
	// a replay; an error stops the work there as a crash would.
	fault func(packStep) error
}

func (c *Coordinator) packFault(step packStep) error {
	if c.fault == nil {
		return nil
	}
	return c.fault(step)
}

// New prepares the stream, the consumer's buckets and the project keys; it
// does not start consuming (see Run).
func New(ctx context.Context, cfg Config) (*Coordinator, error) {
	if cfg.JetStream == nil || cfg.DB == nil || cfg.Blobs == nil {
		return nil, errors.New("new coordinator: JetStream, DB and Blobs are required")
	}
	if cfg.StreamMaxAge == 0 {
		cfg.StreamMaxAge = 7 * 24 * time.Hour
	}
	if cfg.StreamMaxBytes == 0 {
		cfg.StreamMaxBytes = 10 << 30
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.Workers == 0 {
		cfg.Workers = 1
		if store.DialectOf(cfg.DB) == store.Postgres {
			cfg.Workers = 4
		}
	}
	if cfg.FetchBatch == 0 {
		cfg.FetchBatch = 256
	}
	if cfg.Consumer == "" {
		cfg.Consumer = "coordinator"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ReplayRetention == 0 {
		cfg.ReplayRetention = 30 * 24 * time.Hour
	}
	if cfg.EventRetention == 0 {
		cfg.EventRetention = 90 * 24 * time.Hour
	}
	if cfg.ReplayPackAfter == 0 {
		cfg.ReplayPackAfter = DefaultReplayPackAfter
	}
	c := &Coordinator{cfg: cfg, log: cfg.Logger.With("component", "coordinator"), hooks: map[sdkproto.Kind][]EventHook{}, store: map[sdkproto.Kind]StoreHook{}, dialect: store.DialectOf(cfg.DB)}
	if cfg.AdminToken != "" {
		c.sessions = auth.NewSessions(cfg.AdminToken, 0)
	}
	if err := EnsureStream(ctx, cfg.JetStream, StreamLimits{MaxAge: cfg.StreamMaxAge, MaxBytes: cfg.StreamMaxBytes, Replicas: cfg.Replicas}); err != nil {
		return nil, err
	}
	kv, err := cfg.JetStream.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: sdkproto.KeysBucket, History: 1, Storage: jetstream.FileStorage, Replicas: cfg.Replicas})
	if err != nil {
		return nil, fmt.Errorf("new coordinator: keys bucket: %w", err)
	}
	c.kv = kv
	if _, err := cfg.JetStream.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: sdkproto.PolicyBucket, Description: "Rearview edge policy per project", History: 5, Storage: jetstream.FileStorage, Replicas: cfg.Replicas}); err != nil {
		return nil, fmt.Errorf("new coordinator: policy bucket: %w", err)
	}
	// Edges create the module store when it is missing, with one replica;
	// the coordinator owns its replica count so that a module survives a
	// node as the stream does.
	if _, err := cfg.JetStream.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: sdkproto.ModulesBucket, Description: "Rearview edge filter modules", Storage: jetstream.FileStorage, Replicas: cfg.Replicas}); err != nil {
		return nil, fmt.Errorf("new coordinator: modules store: %w", err)
	}
	if err := c.syncKeys(ctx); err != nil {
		return nil, err
	}
	c.OnEvent(sdkproto.KindReplay, c.storeReplay)
	c.OnEvent(sdkproto.KindSession, c.sessionEnded)
	return c, nil
}

// StreamLimits bound the REARVIEW stream and set its replica count; zero
// MaxAge and MaxBytes leave it unbounded, zero Replicas means one.
type StreamLimits struct {
	MaxAge   time.Duration
	MaxBytes int64
	Replicas int
}

// EnsureStream creates or updates the REARVIEW stream.
func EnsureStream(ctx context.Context, js jetstream.JetStream, l StreamLimits) error {
	if l.Replicas == 0 {
		l.Replicas = 1
	}
	_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        sdkproto.StreamName,
		Description: "Rearview ingest: rv.ingest.<region>.<project>.<kind>",
		Subjects:    []string{sdkproto.SubjectAll},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      l.MaxAge,
		MaxBytes:    l.MaxBytes,
		MaxMsgSize:  8 << 20,
		Duplicates:  10 * time.Minute,
		Replicas:    l.Replicas,
	})
	if err != nil {
		return fmt.Errorf("ensure stream %s (%d replicas): %w", sdkproto.StreamName, l.Replicas, err)
	}
	return nil
}

// OnEvent registers a hook for newly stored events of kind.
func (c *Coordinator) OnEvent(kind sdkproto.Kind, h EventHook) {
	c.hooks[kind] = append(c.hooks[kind], h)
}

// OnStore registers the store hook of kind; a kind has at most one, and
// registering a second is a programming error that panics.
func (c *Coordinator) OnStore(kind sdkproto.Kind, h StoreHook) {
	if c.store[kind] != nil {
		panic(fmt.Sprintf("coordinator: a second store hook for %s events", kind))
	}
	c.store[kind] = h
}

// OnFlush registers a hook that runs before each processing transaction
// commits.
func (c *Coordinator) OnFlush(h FlushHook) { c.flush = append(c.flush, h) }

// OnCommit registers a hook that runs after each committed message.
func (c *Coordinator) OnCommit(h CommitHook) { c.after = append(c.after, h) }

// DB returns the metadata database, for packages that add their own tables.
func (c *Coordinator) DB() *sql.DB { return c.cfg.DB }

// Blobs returns the object store.
func (c *Coordinator) Blobs() blob.Store { return c.cfg.Blobs }

// syncKeys republishes every project's ingest key to the keys bucket, so
// edges can authenticate even if NATS lost its state.
func (c *Coordinator) syncKeys(ctx context.Context) error {
	ps, err := store.Projects(ctx, c.cfg.DB)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if err := c.putKey(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

func (c *Coordinator) putKey(ctx context.Context, p store.Project) error {
	v, err := json.Marshal(sdkproto.ProjectKey{Project: p.ID, Name: p.Name})
	if err != nil {
		return fmt.Errorf("encode key: %w", err)
	}
	if _, err := c.kv.Put(ctx, p.IngestKey, v); err != nil {
		return fmt.Errorf("publish key of %s: %w", p.ID, err)
	}
	return nil
}

// CreateProject creates a project, publishes its ingest key to the edges and
// returns it with its secret API token (shown once). An empty ingestKey makes
// a random one.
func (c *Coordinator) CreateProject(ctx context.Context, name, ingestKey string) (store.Project, string, error) {
	p, token, err := store.CreateProject(ctx, c.cfg.DB, name, ingestKey)
	if err != nil {
		return store.Project{}, "", err
	}
	if err := c.putKey(ctx, p); err != nil {
		return store.Project{}, "", err
	}
	return p, token, nil
}
