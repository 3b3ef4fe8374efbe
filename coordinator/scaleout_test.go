package coordinator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/rearview-dev/rearview/coordinator"
	"github.com/rearview-dev/rearview/coordinator/blob"
	"github.com/rearview-dev/rearview/coordinator/issues"
	"github.com/rearview-dev/rearview/coordinator/store"
	"github.com/rearview-dev/rearview/coordinator/store/storetest"
	"github.com/rearview-dev/rearview/coordinator/vitals"
	"github.com/rearview-dev/rearview/internal/testenv"
	"github.com/rearview-dev/rearview/sdkproto"
)

// node is one coordinator as a separate process would run it: its own
// database pool, hooks and consumer, on the shared database and stream.
type node struct {
	db    interface{ Close() error }
	coord *coordinator.Coordinator
	vit   *vitals.Vitals
	stop  func()
}

func startNode(t testing.TB, js jetstream.JetStream, dsn string, blobs blob.Store, consumer string) *node {
	return startWorkers(t, js, dsn, blobs, consumer, 0)
}

// startWorkers is startNode with that many concurrent transactions (zero:
// the engine's default).
func startWorkers(t testing.TB, js jetstream.JetStream, dsn string, blobs blob.Store, consumer string, workers int) *node {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	c, err := coordinator.New(ctx, coordinator.Config{JetStream: js, DB: db, Blobs: blobs, AdminToken: admin, FetchBatch: 32, Consumer: consumer, Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	issues.Register(c, nil, issues.Options{})
	v, err := vitals.Register(c, vitals.Options{FoldInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { c.Run(rctx); close(done) }()
	n := &node{db: db, coord: c, vit: v}
	var once sync.Once
	n.stop = func() {
		once.Do(func() {
			cancel()
			<-done
			v.Close()
			db.Close()
		})
	}
	t.Cleanup(n.stop)
	return n
}

// scaleBatch is a batch of one session: errors of issue kind k (its own
// stack, so its own issue) and one LCP sample, with ids unique to i.
func scaleBatch(i, kinds, errors int, now int64) sdkproto.Batch {
	return scaleBatchOf(i, kinds, errors, now, true)
}

func scaleBatchOf(i, kinds, errors int, now int64, vital bool) sdkproto.Batch {
	k := i % kinds
	sess := fmt.Sprintf("s-%04d", i)
	b := sdkproto.Batch{
		V:       1,
		SDK:     sdkproto.SDK{Name: "@rearview/browser", Version: "0.1.0"},
		Session: sdkproto.Session{ID: sess, StartedAt: now - 10_000, UserID: fmt.Sprintf("u-%d", i%7)},
		Page:    sdkproto.Page{URL: "https://shop.example.com/checkout"},
		Device:  sdkproto.Device{UA: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"},
		SentAt:  now,
	}
	for e := range errors {
		b.Events = append(b.Events, sdkproto.Event{
			ID: fmt.Sprintf("%s-e%d", sess, e), TS: now - 500 + int64(e), Kind: sdkproto.KindError,
			Error: &sdkproto.Error{Type: "TypeError", Value: fmt.Sprintf("kind %d failed", k), Release: "r1", Mechanism: "onerror",
				Stack: []sdkproto.Frame{{URL: "https://shop.example.com/static/js/main.js", Function: fmt.Sprintf("kind%d", k), Line: 1, Column: 100 + k}}},
		})
	}
	if vital {
		b.Events = append(b.Events, sdkproto.Event{ID: sess + "-v", TS: now - 100, Kind: sdkproto.KindVital,
			Vital: &sdkproto.Vital{Name: "LCP", Value: float64(1000 + i), URL: "https://shop.example.com/checkout"}})
	}
	return b
}

// sentryPage is what the edge makes of a Sentry page hidden before its
// pageload span was seen: the page view of its pageload span and a CLS that
// names that span but carries no URL.
func sentryPage(i int, now int64) sdkproto.Batch {
	span := fmt.Sprintf("%016x", 0xa000+i)
	return sdkproto.Batch{
		V:       1,
		SDK:     sdkproto.SDK{Name: "sentry.javascript.browser", Version: "11.12.0"},
		Session: sdkproto.Session{ID: fmt.Sprintf("sentry-%04d", i), StartedAt: now - 10_000},
		Device:  sdkproto.Device{UA: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"},
		SentAt:  now,
		Events: []sdkproto.Event{
			{ID: sdkproto.SentryPageViewID(span), TS: now - 200, Kind: sdkproto.KindSession, Session: &sdkproto.SessionEvent{State: "page_view", URL: fmt.Sprintf("https://shop.example.com/orders/%d", 1000+i)}},
			{ID: span + "-cls", TS: now - 100, Kind: sdkproto.KindVital, Vital: &sdkproto.Vital{Name: "CLS", Value: 0.05, URL: "", Attribution: map[string]string{sdkproto.AttrPageSpan: span}}},
		},
	}
}

// publishBatch publishes b split by kind, as an edge does.
func publishBatch(t testing.TB, js jetstream.JetStream, project string, i int, b sdkproto.Batch, now int64) {
	t.Helper()
	byKind := map[sdkproto.Kind][]sdkproto.Event{}
	for _, ev := range b.Events {
		byKind[ev.Kind] = append(byKind[ev.Kind], ev)
	}
	for kind, evs := range byKind {
		part := b
		part.Events = evs
		data, err := json.Marshal(part)
		if err != nil {
			t.Fatal(err)
		}
		m := nats.NewMsg(sdkproto.Subject("eu", project, kind))
		m.Data = data
		m.Header.Set(sdkproto.HeaderMsgID, fmt.Sprintf("b%d.%s", i, kind))
		m.Header.Set(sdkproto.HeaderReceivedAt, strconv.FormatInt(now, 10))
		if _, err := js.PublishMsgAsync(m); err != nil {
			t.Fatal(err)
		}
	}
}

// drained reports whether the named consumers have acknowledged the stream.
func drained(ctx context.Context, js jetstream.JetStream, names ...string) error {
	return testenv.Drained(ctx, js, sdkproto.StreamName, names...)
}

// Every message is processed twice, by two coordinators at once (each has
// its own durable consumer, so each receives the whole stream), while two
// more share a third consumer: the counts come out as if each event had been
// processed once. The event row's insert decides, inside the transaction
// that bumps the counts, whether an event is new; on a server database the
// second coordinator's insert waits for the first's commit and finds the
// row, so its hooks never run.
func TestCoordinatorsCountExactlyOnce(t *testing.T) {
	const (
		batches = 120
		kinds   = 4
		perErr  = 3
	)
	_, js := testenv.JetStream(t)
	ctx := context.Background()
	dsn := storetest.DSN(t)
	blobs, _ := blob.NewDir(t.TempDir())
	nodes := []*node{
		startNode(t, js, dsn, blobs, "twice-a"),
		startNode(t, js, dsn, blobs, "twice-b"),
		startNode(t, js, dsn, blobs, "shared"),
		startNode(t, js, dsn, blobs, "shared"),
	}
	p, _, err := nodes[0].coord.CreateProject(ctx, "Shop", "")
	if err != nil {
		t.Fatal(err)
	}
	// Now-ish times: the vitals folder prunes minute buckets older than 48 h.
	now := time.Now().UnixMilli()
	for i := range batches {
		publishBatch(t, js, p.ID, i, scaleBatch(i, kinds, perErr, now), now)
		// And a Sentry page: its page view and the CLS that names its
		// page span without a URL, as two messages in either order.
		publishBatch(t, js, p.ID, batches+i, sentryPage(i, now), now)
	}
	// Drained: every consumer has acknowledged the whole stream.
	<-js.PublishAsyncComplete()
	testenv.Eventually(t, 60*time.Second, func() error { return drained(ctx, js, "twice-a", "twice-b", "shared") })
	for _, n := range nodes {
		n.stop()
	}
	check, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	// A last fold gives any sample still waiting for its page that page's
	// route; the stopped nodes' folds may have left that to the next.
	fold, err := vitals.New(check, vitals.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fold.Close()
	if _, err := fold.Fold(ctx); err != nil {
		t.Fatal(err)
	}
	one := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := check.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	errs := batches * perErr
	for _, tc := range []struct {
		name      string
		got, want int
	}{
		{"error events", one(`SELECT count(*) FROM events WHERE project = ? AND kind = 'error'`, p.ID), errs},
		{"issues", one(`SELECT count(*) FROM issues WHERE project = ?`, p.ID), kinds},
		{"issue event counts", one(`SELECT coalesce(sum(count), 0) FROM issues WHERE project = ?`, p.ID), errs},
		{"issue hourly counts", one(`SELECT coalesce(sum(count), 0) FROM issue_hourly WHERE project = ?`, p.ID), errs},
		{"issue release counts", one(`SELECT coalesce(sum(count), 0) FROM issue_releases WHERE project = ?`, p.ID), errs},
		{"users affected", one(`SELECT coalesce(sum(users), 0) FROM issues WHERE project = ?`, p.ID), one(`SELECT count(*) FROM issue_users WHERE project = ?`, p.ID)},
		{"session event counts", one(`SELECT coalesce(sum(events), 0) FROM sessions WHERE project = ?`, p.ID), batches*(perErr+1) + batches*2},
		{"session error counts", one(`SELECT coalesce(sum(errors), 0) FROM sessions WHERE project = ?`, p.ID), errs},
		// Folded into minute sketches or still in the outbox.
		{"vital samples", one(`SELECT (SELECT count(*) FROM vital_samples WHERE project = ?1 AND metric = 'LCP') +
	(SELECT coalesce(sum(good + ni + poor), 0) FROM vital_sketches WHERE project = ?1 AND metric = 'LCP' AND res = 60000)`, p.ID), batches},
		{"sentry vital samples", one(`SELECT (SELECT count(*) FROM vital_samples WHERE project = ?1 AND metric = 'CLS') +
	(SELECT coalesce(sum(good + ni + poor), 0) FROM vital_sketches WHERE project = ?1 AND metric = 'CLS' AND res = 60000)`, p.ID), batches},
		{"sentry vitals off their page's route", one(`SELECT (SELECT count(*) FROM vital_samples WHERE project = ?1 AND metric = 'CLS' AND route != '/orders/:id') +
	(SELECT coalesce(sum(good + ni + poor), 0) FROM vital_sketches WHERE project = ?1 AND metric = 'CLS' AND res = 60000 AND route != '/orders/:id')`, p.ID), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("%s = %d, want %d", tc.name, tc.got, tc.want)
			}
		})
	}
	// Each issue has its share: batches split evenly over the kinds.
	rows, err := check.QueryContext(ctx, `SELECT id, count, users FROM issues WHERE project = ?`, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var count, users int
		if err := rows.Scan(&id, &count, &users); err != nil {
			t.Fatal(err)
		}
		if count != errs/kinds || users != 7 {
			t.Errorf("issue %s: count %d users %d, want %d and 7", id, count, users, errs/kinds)
		}
	}
}

// BenchmarkConsume measures stored error events per second from the stream
// into the database (NATS -> coordinator -> SQLite, or Postgres with
// REARVIEW_TEST_DATABASE=postgres), with one and two coordinators sharing
// one consumer: batches of 20 errors over 50 issues, grouped and counted.
func BenchmarkConsume(b *testing.B) {
	for _, c := range []struct{ coordinators, workers int }{{1, 1}, {1, 4}, {2, 1}, {2, 4}} {
		coordinators := c.coordinators
		b.Run(fmt.Sprintf("coordinators=%d/workers=%d", coordinators, c.workers), func(b *testing.B) {
			const perBatch = 20
			ns := testenv.NATS(b)
			nc, err := nats.Connect(ns.ClientURL())
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(nc.Close)
			js, _ := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
			ctx := context.Background()
			dsn := storetest.DSN(b)
			blobs, _ := blob.NewDir(b.TempDir())
			first := startNode(b, js, dsn, blobs, "bench-setup")
			p, _, err := first.coord.CreateProject(ctx, "Shop", "")
			if err != nil {
				b.Fatal(err)
			}
			first.stop()
			now := time.Now().UnixMilli()
			batches := max(b.N/perBatch, 1)
			for i := range batches {
				publishBatch(b, js, p.ID, i, scaleBatchOf(i, 50, perBatch, now, false), now)
			}
			<-js.PublishAsyncComplete()
			pgCPU := func() time.Duration {
				if !storetest.Postgres() {
					return 0
				}
				t, err := testenv.PostgresCPU(dsn)
				if err != nil {
					b.Fatal(err)
				}
				return t
			}
			b.ResetTimer()
			start, cpu0, pg0 := time.Now(), processCPU(), pgCPU()
			for range coordinators {
				startWorkers(b, js, dsn, blobs, "bench", c.workers)
			}
			for drained(ctx, js, "bench") != nil {
				time.Sleep(20 * time.Millisecond)
			}
			b.StopTimer()
			n := float64(batches * perBatch)
			b.ReportMetric(n/time.Since(start).Seconds(), "events/s")
			// Where a 2-core machine's time goes: the coordinators (with
			// the embedded NATS server) and the database server.
			b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/n, "coord-cpu-µs/event")
			if storetest.Postgres() {
				b.ReportMetric(float64((pgCPU()-pg0).Microseconds())/n, "pg-cpu-µs/event")
			}
		})
	}
}

// processCPU is the test process's CPU time (user and system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
