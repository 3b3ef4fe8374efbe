package vitals_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/rearview-dev/rearview/coordinator/vitals"
	"github.com/rearview-dev/rearview/internal/testenv"
	"github.com/rearview-dev/rearview/sdkproto"
)

// pageVital is a vital as the edge translates Sentry's: url "" for the LCP,
// CLS and INP the SDK sends when the page is hidden, span the page-view
// span it names.
func pageVital(id, name string, value float64, url, span string, ts int64) sdkproto.Event {
	return sdkproto.Event{ID: id, TS: ts, Kind: sdkproto.KindVital, Vital: &sdkproto.Vital{
		Name: name, Value: value, URL: url, Attribution: map[string]string{sdkproto.AttrPageSpan: span, "trace_id": "cccccccccccccccccccccccccccccccc"},
	}}
}

// publishEnvelope publishes one translated envelope of session: page is the
// batch's page URL ("" when the envelope carried none).
func (r *rig) publishEnvelope(t *testing.T, msgID, session, page string, ts int64, evs ...sdkproto.Event) {
	t.Helper()
	b := sdkproto.Batch{V: 1, SDK: sdkproto.SDK{Name: "sentry.javascript.browser", Version: "11.12.0"},
		Session: sdkproto.Session{ID: session, StartedAt: ts}, Page: sdkproto.Page{URL: page},
		Device: sdkproto.Device{UA: uaDesktop}, SentAt: ts, Events: evs}
	data, err := json.Marshal(&b)
	if err != nil {
		t.Fatal(err)
	}
	// The edge publishes each kind of a batch on its own subject.
	m := nats.NewMsg(sdkproto.Subject("eu", r.project, evs[0].Kind))
	m.Data = data
	m.Header.Set(sdkproto.HeaderCountry, "DE")
	m.Header.Set(sdkproto.HeaderReceivedAt, strconv.FormatInt(r.now.UnixMilli(), 10))
	m.Header.Set(sdkproto.HeaderMsgID, msgID)
	if _, err := r.js.PublishMsg(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

// pageView is the page view the edge makes of a Sentry pageload or
// navigation span.
func pageView(span, url string, ts int64) sdkproto.Event {
	return sdkproto.Event{ID: sdkproto.SentryPageViewID(span), TS: ts, Kind: sdkproto.KindSession, Session: &sdkproto.SessionEvent{State: "page_view", URL: url}}
}

// routes is metric's count by route, through the API.
func (r *rig) routes(t *testing.T, metric string, from int64) (total int64, by map[string]int64) {
	t.Helper()
	q := fmt.Sprintf("project=%s&metric=%s&from=%d&to=%d", r.project, metric, from, r.now.UnixMilli()+vitals.Hour)
	var s vitals.Summary
	var b struct{ Rows []vitals.Row }
	if st := r.get(t, "/api/v1/vitals?"+q, &s); st != 200 {
		t.Fatalf("vitals: %d", st)
	}
	if st := r.get(t, "/api/v1/vitals/breakdown?"+q+"&by=route", &b); st != 200 {
		t.Fatalf("breakdown: %d", st)
	}
	by = map[string]int64{}
	for _, row := range b.Rows {
		by[row.Key] = row.Count
	}
	return s.Count, by
}

func (r *rig) wantRoutes(t *testing.T, from int64, want map[string]map[string]int64) {
	t.Helper()
	testenv.Eventually(t, 10*time.Second, func() error {
		for metric, w := range want {
			total, by := r.routes(t, metric, from)
			var sum int64
			for _, n := range w {
				sum += n
			}
			if total != sum || fmt.Sprint(by) != fmt.Sprint(w) {
				return fmt.Errorf("%s: total %d by route %v, want %d %v", metric, total, by, sum, w)
			}
		}
		return nil
	})
}

func (r *rig) outbox(t *testing.T) int {
	t.Helper()
	var n int
	if err := r.db.QueryRow(`SELECT count(*) FROM vital_samples WHERE project = ?`, r.project).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Sentry's LCP, CLS and INP come in envelopes of their own, after or before
// the page's URL, and land on their page's route; each is counted once
// however the messages are ordered or redelivered.
func TestVitalsFindTheirPageRoute(t *testing.T) {
	r := newRig(t)
	ts := r.now.UnixMilli() - 5*vitals.Minute
	const (
		session  = "9038d6eb29554908a6f71096213b80f0"
		home     = "http://shop.test/"
		checkout = "http://shop.test/checkout?step=2"
		homeSpan = "babeac4a3b328d0d"
		coSpan   = "9eea0f013d242e08"
	)
	type envelope struct {
		id, page string
		evs      []sdkproto.Event
	}
	homeLoad := envelope{"home-load", home, []sdkproto.Event{pageVital("h-fcp", "FCP", 300, home, homeSpan, ts)}}
	homeHidden := envelope{"home-hidden", "", []sdkproto.Event{pageVital("h-lcp", "LCP", 1652, "", homeSpan, ts+1), pageVital("h-cls", "CLS", 0.01, "", homeSpan, ts+2), pageVital("h-inp", "INP", 56, "", homeSpan, ts+3)}}
	// The checkout's CLS arrives before its pageload: it counts at once,
	// under the session's latest page, and moves to its own when that comes.
	coHidden := envelope{"co-hidden", "", []sdkproto.Event{pageVital("c-cls", "CLS", 0.2, "", coSpan, ts+10), pageVital("c-inp", "INP", 80, "", coSpan, ts+11)}}
	coLoad := envelope{"co-load", checkout, []sdkproto.Event{pageVital("c-ttfb", "TTFB", 40, checkout, coSpan, ts+5), pageVital("c-lcp", "LCP", 900, checkout, coSpan, ts+6)}}
	send := func(prefix string, es ...envelope) {
		for _, e := range es {
			r.publishEnvelope(t, prefix+e.id, session, e.page, e.evs[0].TS, e.evs...)
		}
	}
	n := 0
	stored := func(es ...envelope) int {
		for _, e := range es {
			n += len(e.evs)
		}
		return n
	}

	t.Run("after the page's URL", func(t *testing.T) {
		send("", homeLoad, homeHidden)
		r.waitEvents(t, stored(homeLoad, homeHidden))
		r.wantRoutes(t, ts-vitals.Hour, map[string]map[string]int64{"FCP": {"/": 1}, "LCP": {"/": 1}, "CLS": {"/": 1}, "INP": {"/": 1}})
	})
	t.Run("before the page's URL", func(t *testing.T) {
		send("", coHidden)
		r.waitEvents(t, stored(coHidden))
		// Counted at once, under the session's latest page meanwhile.
		r.wantRoutes(t, ts-vitals.Hour, map[string]map[string]int64{"CLS": {"/": 2}, "INP": {"/": 2}})
		if r.outbox(t) < 2 {
			t.Errorf("the samples waiting for their page were folded")
		}
		send("", coLoad)
		r.waitEvents(t, stored(coLoad))
		r.wantRoutes(t, ts-vitals.Hour, map[string]map[string]int64{
			"LCP": {"/": 1, "/checkout": 1}, "CLS": {"/": 1, "/checkout": 1}, "INP": {"/": 1, "/checkout": 1}, "TTFB": {"/checkout": 1}, "FCP": {"/": 1},
		})
		testenv.Eventually(t, 10*time.Second, func() error {
			if n := r.outbox(t); n != 0 {
				return fmt.Errorf("%d samples left in the outbox", n)
			}
			return nil
		})
	})
	top := t
	t.Run("redelivered, after a restart", func(t *testing.T) {
		r.stop()
		r.start(top) // runs on after this subtest
		send("again-", homeHidden, coHidden, homeLoad, coLoad)
		r.publishEnvelope(t, "marker", session, "", ts, pageVital("marker", "FCP", 100, home, "", ts))
		r.waitEvents(t, stored()+1)
		r.wantRoutes(t, ts-vitals.Hour, map[string]map[string]int64{
			"LCP": {"/": 1, "/checkout": 1}, "CLS": {"/": 1, "/checkout": 1}, "INP": {"/": 1, "/checkout": 1}, "TTFB": {"/checkout": 1}, "FCP": {"/": 2},
		})
	})
	t.Run("a navigation's page view", func(t *testing.T) {
		// A single-page app's navigation span carries no vital; its page
		// view names the route of the INP that names it, before or after.
		const navA, navB = "1111111111111111", "2222222222222222"
		r.publishEnvelope(t, "nav-a", session, "http://shop.test/orders/7", ts+30, pageView(navA, "http://shop.test/orders/7", ts+30))
		r.publishEnvelope(t, "nav-a-inp", session, "", ts+31, pageVital("a-inp", "INP", 120, "", navA, ts+31))
		r.publishEnvelope(t, "nav-b-inp", session, "", ts+40, pageVital("b-inp", "INP", 130, "", navB, ts+40))
		r.waitEvents(t, stored()+3) // and the marker
		r.publishEnvelope(t, "nav-b", session, "http://shop.test/account", ts+39, pageView(navB, "http://shop.test/account", ts+39))
		r.wantRoutes(t, ts-vitals.Hour, map[string]map[string]int64{"INP": {"/": 1, "/checkout": 1, "/orders/:id": 1, "/account": 1}})
		testenv.Eventually(t, 10*time.Second, func() error {
			if n := r.outbox(t); n != 0 {
				return fmt.Errorf("%d samples left in the outbox", n)
			}
			return nil
		})
	})
	t.Run("a page that never comes", func(t *testing.T) {
		// Its pageload was lost: the sample waits PageWait, then is folded
		// under the session's latest page, the account page.
		r.publishEnvelope(t, "orphan", session, "", ts+50, pageVital("o-lcp", "LCP", 3000, "", "0123456789abcdef", ts+50))
		r.waitEvents(t, stored()+4)
		r.wantRoutes(t, ts-vitals.Hour, map[string]map[string]int64{"LCP": {"/": 1, "/checkout": 1, "/account": 1}})
		time.Sleep(200 * time.Millisecond) // folds ran: the sample waits
		if r.outbox(t) != 1 {
			t.Errorf("outbox %d, want the waiting sample", r.outbox(t))
		}
		r.later.Store(int64(11 * time.Minute))
		testenv.Eventually(t, 10*time.Second, func() error {
			if n := r.outbox(t); n != 0 {
				return fmt.Errorf("%d samples left in the outbox", n)
			}
			return nil
		})
		r.wantRoutes(t, ts-vitals.Hour, map[string]map[string]int64{"LCP": {"/": 1, "/checkout": 1, "/account": 1}})
	})
}
