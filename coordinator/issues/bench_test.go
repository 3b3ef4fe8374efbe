package issues_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/coordinator"
	"github.com/rearview-dev/rearview/coordinator/issues"
	"github.com/rearview-dev/rearview/coordinator/store"
	"github.com/rearview-dev/rearview/coordinator/store/storetest"
	"github.com/rearview-dev/rearview/sdkproto"
)

// BenchmarkHook measures the issues hook alone on a real SQLite database,
// 256 events per transaction as the coordinator batches them, spread over
// 50 issues and 500 users: symbolication (pass-through), fingerprinting,
// the issue lookup, the event insert and the counts.
func BenchmarkHook(b *testing.B) {
	ctx := context.Background()
	db := storetest.Open(b)
	p, _, err := store.CreateProject(ctx, db, "Bench", "")
	if err != nil {
		b.Fatal(err)
	}
	svc := issues.New(db, nil, issues.Options{})
	const perTx = 256
	msgs := make([]*coordinator.Message, 500)
	for i := range msgs {
		msgs[i] = &coordinator.Message{Project: p.ID, Region: "eu", Kind: sdkproto.KindError, ReceivedAt: time.Now().UnixMilli(),
			Batch: &sdkproto.Batch{Session: sdkproto.Session{ID: fmt.Sprintf("s-%d", i), UserID: fmt.Sprintf("u-%d", i)}, Page: sdkproto.Page{URL: "https://shop.example.com/products"}}}
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	n := 0
	for n < b.N {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		ctx := coordinator.WithTx(ctx)
		for k := 0; k < perTx && n < b.N; k++ {
			ev := errorEvent(fmt.Sprintf("e-%d", n), "r1", "main.a7f3e2.js", fmt.Sprintf("fn%d", n%50), "render", "commitRoot")
			m := msgs[n%len(msgs)]
			st, err := svc.Group(ctx, tx, m, &ev)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO events (project, id, session_id, kind, ts, received_at, issue_id, payload) VALUES (?, ?, ?, 'error', ?, ?, ?, ?)`,
				p.ID, ev.ID, m.Batch.Session.ID, ev.TS, m.ReceivedAt, st.IssueID, string(st.Payload)); err != nil {
				b.Fatal(err)
			}
			m.SetIssue(ev.ID, st.IssueID)
			if err := svc.Count(ctx, tx, m, &ev); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if err := svc.Flush(ctx, tx); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.N)/(cpuTime()-start).Seconds(), "events/cpu-s")
}

// BenchmarkPipeline measures error events end to end through real NATS and
// the coordinator with the issues hook: publish in batches of 10 events,
// wait until all are acknowledged.
func BenchmarkPipeline(b *testing.B) {
	e := newEnv(b, nil)
	b.ResetTimer()
	start := cpuTime()
	for n := 0; n < b.N; {
		var evs []sdkproto.Event
		for k := 0; k < 10 && n < b.N; k++ {
			evs = append(evs, errorEvent(fmt.Sprintf("p-%d", n), "r1", "main.a7f3e2.js", fmt.Sprintf("fn%d", n%50), "render"))
			n++
		}
		e.publish(b, e.projects[0], fmt.Sprintf("s-%d", n%300), "", evs...)
	}
	e.drain(b)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.N)/(cpuTime()-start).Seconds(), "events/cpu-s")
}

// cpuTime is the process's CPU time: on a machine shared with other jobs
// it measures the work better than wall time does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
