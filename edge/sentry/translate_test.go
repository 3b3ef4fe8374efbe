package sentry

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/sdkproto"
)

// translateFile parses and translates a testdata envelope and checks that
// the batch passes Rearview's own decoder untouched: what the edge hands
// the policy module is a valid batch.
func translateFile(t *testing.T, name string) *Translation {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return translateBytes(t, b)
}

func translateBytes(t *testing.T, b []byte) *Translation {
	t.Helper()
	env, err := Parse(b, DefaultLimits())
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	tr := Translate(env, Request{UserAgent: "request-ua", Now: time.UnixMilli(1796310000000)}, DefaultLimits())
	if tr.Batch != nil {
		data, err := sdkproto.Encode(tr.Batch)
		if err != nil {
			t.Fatal(err)
		}
		_, rejected, err := sdkproto.Decode(data, sdkproto.DefaultLimits())
		if err != nil || len(rejected) > 0 {
			t.Fatalf("the translated batch does not decode: %v %+v\n%s", err, rejected, data)
		}
	}
	return tr
}

func TestTranslateErrorEvent(t *testing.T) {
	tr := translateFile(t, "event-checkout.envelope")
	b := tr.Batch
	if b == nil || len(b.Events) != 1 || len(tr.Dropped) != 0 {
		t.Fatalf("translation %+v", tr)
	}
	ev := b.Events[0]
	e := ev.Error
	if ev.Kind != sdkproto.KindError || ev.ID != "f6501f98cd9e4b93b0524f1ee087378e" || tr.EventID != ev.ID {
		t.Errorf("event %s %s, answer id %s", ev.Kind, ev.ID, tr.EventID)
	}
	if e.Type != "TypeError" || e.Value != "Cannot read properties of undefined (reading 'map')" {
		t.Errorf("exception %q %q", e.Type, e.Value)
	}
	if e.Mechanism != sdkproto.MechanismOnError || e.Handled {
		t.Errorf("mechanism %s handled %v, want an uncaught error", e.Mechanism, e.Handled)
	}
	// Sentry lists frames outermost first; Rearview innermost first.
	if len(e.Stack) != 6 || e.Stack[0].Function != "h" || e.Stack[0].Line != 1 || e.Stack[0].Column != 1245 ||
		!strings.HasSuffix(e.Stack[0].URL, "/assets/app-WJIB5TRV.js") || e.Stack[5].Function != "HTMLFormElement.<anonymous>" || e.Stack[1].Function != "" {
		t.Errorf("stack %+v", e.Stack)
	}
	if e.Release != "e2e-3f9c2a1" || e.Environment != "demo" || e.URL != "http://127.0.0.1:38125/checkout" || e.Level != "error" {
		t.Errorf("release %q env %q url %q level %q", e.Release, e.Environment, e.URL, e.Level)
	}
	if e.TraceID != "df3b6182ca1e4734b51dc90b962ede54" || e.SpanID != "90b2460dcd4ae3fd" {
		t.Errorf("trace %s span %s", e.TraceID, e.SpanID)
	}
	if e.Tags["replayId"] != "9038d6eb29554908a6f71096213b80f0" || e.Tags["transaction"] != "/checkout" {
		t.Errorf("tags %v", e.Tags)
	}
	var cats []string
	for _, bc := range e.Breadcrumbs {
		cats = append(cats, bc.Category)
	}
	if strings.Join(cats, ",") != "sentry.event,fetch,ui.input,ui.input,ui.input,ui.click,fetch,sentry.event,sentry.event" {
		t.Errorf("breadcrumbs %v", cats)
	}
	if f := e.Breadcrumbs[6]; f.HTTP == nil || f.HTTP.Method != "POST" || f.HTTP.URL != "api/checkout" || f.HTTP.Status != 500 || f.TS != 1796310847429 {
		t.Errorf("fetch breadcrumb %+v %+v", f, f.HTTP)
	}
	if c := e.Breadcrumbs[5]; c.Selector == "" || !strings.Contains(c.Selector, "button#place-order") || c.Message != "" {
		t.Errorf("click breadcrumb %+v", c)
	}
	// The session is the replay's; page and device come from the event.
	if b.Session.ID != "9038d6eb29554908a6f71096213b80f0" || !b.Session.Flags.Error {
		t.Errorf("session %+v", b.Session)
	}
	if b.Page.URL != "http://127.0.0.1:38125/checkout" || b.Page.Referrer != "http://127.0.0.1:38125/" ||
		!strings.Contains(b.Device.UA, "Chrome/131") || b.Device.Language != "en-US" || b.Device.Timezone != "UTC" {
		t.Errorf("page %+v device %+v", b.Page, b.Device)
	}
	if b.SDK.Name != "sentry.javascript.browser" || b.SDK.Version != "11.12.0" || b.SentAt != 1796310851720 && b.SentAt == 0 {
		t.Errorf("sdk %+v sent_at %d", b.SDK, b.SentAt)
	}
}

func TestTranslateIsDeterministic(t *testing.T) {
	// A retried envelope must translate to the same bytes: the edge's
	// dedupe id is a hash of them.
	b, _ := os.ReadFile("testdata/replay.envelope")
	env, _ := Parse(b, DefaultLimits())
	one, _ := sdkproto.Encode(Translate(env, Request{Now: time.Now()}, DefaultLimits()).Batch)
	two, _ := sdkproto.Encode(Translate(env, Request{Now: time.Now().Add(time.Hour)}, DefaultLimits()).Batch)
	if !bytes.Equal(one, two) {
		t.Error("two translations of one envelope differ")
	}
	// An event without a timestamp takes the envelope's sent_at, not the clock.
	env, _ = Parse(envelope(`{"type":"event"}`, `{"event_id":"0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c","message":"no time"}`), DefaultLimits())
	one, _ = sdkproto.Encode(Translate(env, Request{Now: time.Now()}, DefaultLimits()).Batch)
	two, _ = sdkproto.Encode(Translate(env, Request{Now: time.Now().Add(time.Hour)}, DefaultLimits()).Batch)
	if !bytes.Equal(one, two) || !bytes.Contains(one, []byte(`"ts":1796310820494`)) {
		t.Errorf("an event without a timestamp: %s", one)
	}
}

func TestTranslateVitalsFromSpans(t *testing.T) {
	for _, c := range []struct {
		file string
		want map[string]float64
		url  string
	}{
		{"spans-pageload.envelope", map[string]float64{"LCP": 320, "FCP": 320, "TTFB": 38.39999999990687}, "http://127.0.0.1:38125/checkout"},
		{"spans-lcp-cls.envelope", map[string]float64{"LCP": 1652, "CLS": 0}, ""},
		{"spans-inp-cls.envelope", map[string]float64{"INP": 56, "CLS": 0}, ""},
	} {
		t.Run(c.file, func(t *testing.T) {
			tr := translateFile(t, c.file)
			got := map[string]float64{}
			for _, ev := range tr.Batch.Events {
				if ev.Kind == sdkproto.KindSession && ev.Session.State == "page_view" && ev.Session.URL == c.url {
					continue // the pageload span's page view
				}
				if ev.Kind != sdkproto.KindVital {
					t.Fatalf("a span became a %s event", ev.Kind)
				}
				got[ev.Vital.Name] = ev.Vital.Value
				if ev.Vital.URL != c.url || len(ev.Vital.Attribution["trace_id"]) != 32 || ev.Vital.NavigationType != "navigate" {
					t.Errorf("%s: url %q attribution %v nav %q", ev.Vital.Name, ev.Vital.URL, ev.Vital.Attribution, ev.Vital.NavigationType)
				}
			}
			if len(got) != len(c.want) {
				t.Fatalf("vitals %v, want %v", got, c.want)
			}
			for k, v := range c.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
			if tr.Batch.Session.ID != "9038d6eb29554908a6f71096213b80f0" {
				t.Errorf("session %q, want the replay id", tr.Batch.Session.ID)
			}
		})
	}
}

func TestTranslateReplay(t *testing.T) {
	tr := translateFile(t, "replay.envelope")
	b := tr.Batch
	if b == nil || len(tr.Dropped) != 0 {
		t.Fatalf("translation %+v", tr)
	}
	var replay *sdkproto.Replay
	var pages []string
	for _, ev := range b.Events {
		switch ev.Kind {
		case sdkproto.KindReplay:
			replay = ev.Replay
		case sdkproto.KindSession:
			pages = append(pages, ev.Session.State+" "+ev.Session.URL)
		}
	}
	if replay == nil || replay.Segment != 0 || replay.FromBuffer || replay.EndTS == 0 {
		t.Fatalf("replay %+v", replay)
	}
	var rr []struct {
		Type int `json:"type"`
	}
	if err := json.Unmarshal(replay.Events, &rr); err != nil {
		t.Fatal(err)
	}
	types := map[int]bool{}
	for _, e := range rr {
		types[e.Type] = true
	}
	if !types[2] || !types[4] { // a full snapshot and the meta event: playable
		t.Errorf("rrweb event types %v, want a full snapshot (2) and meta (4)", types)
	}
	if strings.Join(pages, ";") != "start http://127.0.0.1:38125/checkout" {
		t.Errorf("session events %v", pages)
	}
	if b.Session.ID != "9038d6eb29554908a6f71096213b80f0" || !b.Session.Flags.Error || b.Session.StartedAt != 1796310846199 {
		t.Errorf("session %+v", b.Session)
	}
}

func envelope(items ...string) []byte {
	return []byte(`{"event_id":"0123456789abcdef0123456789abcdef","sent_at":"2026-12-03T15:13:40.494Z","sdk":{"name":"sentry.javascript.browser","version":"9.0.0"}}` + "\n" + strings.Join(items, "\n") + "\n")
}

func TestTranslateItems(t *testing.T) {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write([]byte(`[{"type":4,"data":{"href":"https://shop.example/","width":800,"height":600},"timestamp":1796310846200},{"type":2,"data":{"node":{"type":0,"childNodes":[]}},"timestamp":1796310846210}]`))
	zw.Close()
	replayEvent := `{"type":"replay_event"}` + "\n" + `{"type":"replay_event","replay_id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","segment_id":3,"timestamp":1796310846.3,"replay_type":"buffer","urls":[]}`
	recording := func(body []byte) string {
		p := append([]byte(`{"segment_id":3}`+"\n"), body...)
		return `{"type":"replay_recording","length":` + strconv.Itoa(len(p)) + "}\n" + string(p)
	}
	for _, c := range []struct {
		name    string
		env     []byte
		kinds   string // kinds of the batch's events
		dropped map[string]int
	}{
		{"legacy transaction: measurements become vitals, spans dropped", envelope(`{"type":"transaction"}`,
			`{"type":"transaction","event_id":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","start_timestamp":1796310846.1,"timestamp":1796310848.1,"request":{"url":"https://shop.example/"},`+
				`"contexts":{"trace":{"trace_id":"cccccccccccccccccccccccccccccccc","span_id":"dddddddddddddddd","op":"pageload"}},`+
				`"measurements":{"lcp":{"value":2600,"unit":"millisecond"},"cls":{"value":0.02,"unit":""},"fcp":{"value":900},"ttfb":{"value":120},"inp":{"value":80},"fp":{"value":850}},"spans":[{"op":"http.client"}]}`),
			"vital,vital,vital,vital,vital", nil},
		{"v1 standalone span with a measurement", envelope(`{"type":"span"}`,
			`{"span_id":"abcdefabcdefabcd","trace_id":"cccccccccccccccccccccccccccccccc","op":"ui.webvital.lcp","start_timestamp":1796310846.1,"timestamp":1796310846.5,"measurements":{"lcp":{"value":1800,"unit":"millisecond"}}}`),
			"vital", nil},
		{"a navigation span without vitals: its page view", envelope(`{"type":"span","content_type":"application/vnd.sentry.items.span.v2+json"}`,
			`{"version":2,"items":[{"span_id":"1111111111111111","trace_id":"cccccccccccccccccccccccccccccccc","start_timestamp":1796310846.1,"end_timestamp":1796310846.5,"is_segment":true,`+
				`"attributes":{"sentry.op":{"value":"navigation"},"url.full":{"value":"https://shop.example/orders/7"}}},`+
				`{"span_id":"2222222222222222","trace_id":"cccccccccccccccccccccccccccccccc","parent_span_id":"1111111111111111","is_segment":false,"attributes":{"sentry.op":{"value":"http.client"},"url.full":{"value":"https://shop.example/api/orders/7"}}}]}`),
			"session", nil},
		{"zlib recording", envelope(replayEvent, recording(z.Bytes())), "replay", nil},
		{"plain recording", envelope(replayEvent, recording([]byte(`[{"type":4,"data":{},"timestamp":1796310846200}]`))), "replay", nil},
		{"corrupt recording dropped, the rest kept", envelope(replayEvent, recording([]byte("\x78\x9cnot zlib")),
			`{"type":"event"}`, `{"event_id":"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee","message":"hello","level":"info"}`),
			"error", map[string]int{ReasonInvalid: 1}},
		{"recording without its replay_event", envelope(recording([]byte(`[{"type":4,"data":{},"timestamp":1}]`))), "", map[string]int{ReasonInvalid: 1}},
		{"bad event JSON dropped, good event kept", envelope(`{"type":"event"}`, `{"event_id":`, `{"type":"event"}`, `{"event_id":"ffffffffffffffffffffffffffffffff","exception":{"values":[{"type":"Error","value":"boom"}]}}`),
			"error", map[string]int{ReasonInvalid: 1}},
		{"event with neither exception nor message", envelope(`{"type":"event"}`, `{"event_id":"ffffffffffffffffffffffffffffffff"}`), "", map[string]int{ReasonInvalid: 1}},
		{"client report: outcomes", envelope(`{"type":"client_report"}`, `{"timestamp":1796310846.1,"discarded_events":[{"reason":"sample_rate","category":"transaction","quantity":3},{"reason":"ratelimit_backoff","category":"replay","quantity":1}]}`),
			"", map[string]int{"sdk:sample_rate:transaction": 3, "sdk:ratelimit_backoff:replay": 1}},
		{"sessions accepted and ignored", envelope(`{"type":"session"}`, `{"sid":"x"}`, `{"type":"sessions"}`, `{}`), "", nil},
		{"unknown types skipped with an outcome", envelope(`{"type":"profile"}`, `{}`, `{"type":"log","item_count":4}`, `{"items":[]}`, `{"type":"weird type!"}`, `{}`),
			"", map[string]int{"unsupported-item:profile": 1, "unsupported-item:log": 4, "unsupported-item:x5111d991": 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := translateBytes(t, c.env)
			var kinds []string
			if tr.Batch != nil {
				for _, ev := range tr.Batch.Events {
					kinds = append(kinds, string(ev.Kind))
				}
			}
			if strings.Join(kinds, ",") != c.kinds {
				t.Errorf("events %v, want %s", kinds, c.kinds)
			}
			if len(tr.Dropped) != len(c.dropped) {
				t.Errorf("dropped %v, want %v", tr.Dropped, c.dropped)
			}
			for k, v := range c.dropped {
				if tr.Dropped[k] != v {
					t.Errorf("dropped %v, want %v", tr.Dropped, c.dropped)
				}
			}
		})
	}
}

func TestTranslateRecordingBomb(t *testing.T) {
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	zw.Write([]byte(`[{"type":3,"data":{"text":"`))
	zw.Write(make([]byte, 4<<20))
	zw.Write([]byte(`"},"timestamp":1}]`))
	zw.Close()
	p := append([]byte(`{"segment_id":0}`+"\n"), z.Bytes()...)
	env, err := Parse(envelope(`{"type":"replay_event"}`, `{"replay_id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","segment_id":0,"timestamp":1796310846.3,"urls":["https://shop.example/"]}`,
		`{"type":"replay_recording","length":`+strconv.Itoa(len(p))+"}\n"+string(p)), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	lim := DefaultLimits()
	lim.MaxReplayRaw = 1 << 20
	tr := Translate(env, Request{}, lim)
	if tr.Dropped[ReasonTooLarge] != 1 {
		t.Errorf("dropped %v, want the recording as too-large", tr.Dropped)
	}
	// The replay_event's page view is kept: the session is still known.
	if tr.Batch == nil || len(tr.Batch.Events) != 1 || tr.Batch.Events[0].Kind != sdkproto.KindSession {
		t.Errorf("batch %+v", tr.Batch)
	}
}

// TestTranslateEventFields covers the forms of an event the browser SDK of
// the demo does not send: chained exceptions, a message as logentry, tags as
// pairs, breadcrumbs as {values}, contexts, user, Debug IDs, fingerprints.
func TestTranslateEventFields(t *testing.T) {
	tr := translateBytes(t, envelope(`{"type":"event"}`, `{"event_id":"0a0a0a0a-0a0a-0a0a-0a0a-0a0a0a0a0a0a","timestamp":"2026-12-03T15:13:40.5Z","level":"warning","dist":"web",`+
		`"exception":{"values":[{"type":"NetworkError","value":"cause"},{"type":"CheckoutError","value":"order failed","mechanism":{"type":"auto.browser.global_handlers.onunhandledrejection","handled":false},`+
		`"stacktrace":{"frames":[{"abs_path":"https://shop.example/assets/app.js","function":"outer","lineno":1,"colno":10},{"filename":"app.js","abs_path":"https://shop.example/assets/app.js","function":"inner","lineno":1,"colno":99}]}}]},`+
		`"tags":[["feature","checkout"],["count",3]],"contexts":{"browser":{"name":"Chrome","version":"131.0"},"os":{"name":"Linux"},"trace":{"trace_id":"ABC","span_id":"x"}},`+
		`"user":{"id":42,"email":"maria@example.org","ip_address":"203.0.113.9","username":"maria"},`+
		`"request":{"url":"https://shop.example/checkout","headers":[["User-Agent","UA/1"],["Cookie","sid=secret"]]},`+
		`"breadcrumbs":{"values":[{"timestamp":1796310846.5,"category":"navigation","data":{"from":"/","to":"/checkout"}},{"timestamp":1796310846.6,"category":"console","level":"log","message":"hi","data":{"arguments":["hi"],"logger":"console"}}]},`+
		`"debug_meta":{"images":[{"type":"sourcemap","code_file":"https://shop.example/assets/app.js","debug_id":"C0FFEE00-0000-4000-8000-000000000001"},{"type":"elf","code_file":"x","debug_id":"y"}]},`+
		`"fingerprint":["checkout",7],"extra":{"card":"4242424242424242"}}`,
		`{"type":"event"}`, `{"event_id":"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b","logentry":{"formatted":"Payment failed for order 7"},"fingerprint":["{{ default }}","x"]}`))
	if tr.Batch == nil || len(tr.Batch.Events) != 2 {
		t.Fatalf("translation %+v", tr)
	}
	ev, msg := tr.Batch.Events[0], tr.Batch.Events[1].Error
	e := ev.Error
	if ev.ID != "0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a" || ev.TS != 1796310820500 {
		t.Errorf("id %s ts %d", ev.ID, ev.TS)
	}
	if e.Type != "CheckoutError" || e.Value != "order failed" || e.Mechanism != sdkproto.MechanismUnhandledRejection || e.Handled || e.Level != "warning" || e.Dist != "web" {
		t.Errorf("error %+v", e)
	}
	if len(e.Stack) != 2 || e.Stack[0].Function != "inner" || e.Stack[0].Column != 99 || e.Stack[0].URL != "https://shop.example/assets/app.js" {
		t.Errorf("stack %+v", e.Stack)
	}
	if e.Tags["feature"] != "checkout" || e.Tags["count"] != "3" || e.Tags["browser.name"] != "Chrome" || e.Tags["browser.version"] != "131.0" || e.Tags["os.name"] != "Linux" {
		t.Errorf("tags %v", e.Tags)
	}
	if e.TraceID != "" || e.SpanID != "" {
		t.Errorf("an invalid trace context was kept: %q %q", e.TraceID, e.SpanID)
	}
	if e.DebugIDs["https://shop.example/assets/app.js"] != "c0ffee00-0000-4000-8000-000000000001" || len(e.DebugIDs) != 1 {
		t.Errorf("debug ids %v", e.DebugIDs)
	}
	if strings.Join(e.Fingerprint, ",") != "checkout,7" || msg.Fingerprint != nil {
		t.Errorf("fingerprints %v %v", e.Fingerprint, msg.Fingerprint)
	}
	if len(e.Breadcrumbs) != 2 || e.Breadcrumbs[0].URL != "/checkout" || e.Breadcrumbs[1].Message != "hi" || e.Breadcrumbs[1].Data["logger"] != "console" {
		t.Errorf("breadcrumbs %+v", e.Breadcrumbs)
	}
	if msg.Value != "Payment failed for order 7" || msg.Mechanism != sdkproto.MechanismManual || !msg.Handled {
		t.Errorf("message event %+v", msg)
	}
	if b := tr.Batch; b.Session.UserID != "42" || b.Device.UA != "UA/1" || b.Session.ID != "sentry-0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a" {
		t.Errorf("session %+v device %+v", b.Session, b.Device)
	}
	// What Rearview never keeps does not reach the batch at all.
	data, _ := sdkproto.Encode(tr.Batch)
	for _, s := range []string{"maria@example.org", "203.0.113.9", "maria\"", "sid=secret", "4242424242424242"} {
		if bytes.Contains(data, []byte(s)) {
			t.Errorf("the batch carries %q", s)
		}
	}
}

// TestTranslateSDK11Vitals reads what @sentry/browser 11.12.0 sent for the
// demo shop's home page and checkout (captured from headless Chromium), in
// its default span streaming and with traceLifecycle "static". Streaming
// sends LCP, CLS and INP when the page is hidden, in envelopes without the
// page's URL: each such vital names its pageload span, which the pageload's
// page view and own vitals name too, so that the coordinator can find its
// route.
func TestTranslateSDK11Vitals(t *testing.T) {
	const (
		home     = "http://127.0.0.1:40075/"
		checkout = "http://127.0.0.1:40075/checkout"
		homeSpan = "babeac4a3b328d0d"
		coSpan   = "9eea0f013d242e08"
	)
	type vital struct{ url, page string }
	for _, c := range []struct {
		file string
		want map[string]vital // by vital name, "view" for the page view
	}{
		{"stream-1-home-pageload", map[string]vital{"FCP": {home, homeSpan}, "view": {home, homeSpan}}},
		{"stream-2-home-lcp", map[string]vital{"LCP": {"", homeSpan}}},
		{"stream-3-home-inp-cls", map[string]vital{"INP": {"", homeSpan}, "CLS": {"", homeSpan}}},
		// The checkout's LCP came with its pageload span: its URL is known.
		{"stream-4-checkout-lcp-pageload", map[string]vital{"LCP": {checkout, coSpan}, "FCP": {checkout, coSpan}, "TTFB": {checkout, coSpan}, "view": {checkout, coSpan}}},
		{"stream-5-checkout-inp-cls", map[string]vital{"INP": {"", coSpan}, "CLS": {"", coSpan}}},
		// Static: the pageload is a transaction with measurements and the
		// request's URL; INP is a segment of its own with url.full.
		{"static-1-home-transaction", map[string]vital{"LCP": {home, ""}, "FCP": {home, ""}}},
		{"static-2-home-inp", map[string]vital{"INP": {home, ""}}},
		{"static-3-checkout-transaction", map[string]vital{"FCP": {checkout, ""}, "TTFB": {checkout, ""}}},
		{"static-4-checkout-inp", map[string]vital{"INP": {checkout, ""}}},
	} {
		t.Run(c.file, func(t *testing.T) {
			tr := translateFile(t, "sdk11/"+c.file+".envelope")
			if tr.Batch == nil {
				t.Fatalf("no batch: %+v", tr)
			}
			got := map[string]vital{}
			for _, ev := range tr.Batch.Events {
				if ev.Kind == sdkproto.KindSession && ev.Session.State == "page_view" {
					span, _ := sdkproto.SentryPageSpan(ev.ID)
					got["view"] = vital{ev.Session.URL, span}
					continue
				}
				if ev.Kind != sdkproto.KindVital {
					t.Fatalf("a span became a %s event", ev.Kind)
				}
				v := ev.Vital
				if _, dup := got[v.Name]; dup {
					t.Errorf("%s twice", v.Name)
				}
				got[v.Name] = vital{v.URL, v.Attribution[AttrPageSpan]}
				if len(v.Attribution["trace_id"]) != 32 {
					t.Errorf("%s: attribution %v, want its trace id", v.Name, v.Attribution)
				}
			}
			if len(got) != len(c.want) {
				t.Errorf("vitals %v, want %v", got, c.want)
			}
			for name, w := range c.want {
				if got[name] != w {
					t.Errorf("%s: url %q page span %q, want %q %q", name, got[name].url, got[name].page, w.url, w.page)
				}
			}
		})
	}
}

func TestTranslateVitalRoute(t *testing.T) {
	span := func(segment bool, op, name, extra string) []byte {
		return envelope(`{"type":"span","content_type":"application/vnd.sentry.items.span.v2+json"}`,
			`{"version":2,"items":[{"span_id":"1111111111111111","trace_id":"cccccccccccccccccccccccccccccccc","end_timestamp":1796310846.5,"is_segment":`+strconv.FormatBool(segment)+
				`,"attributes":{"sentry.op":{"value":"`+op+`"},"sentry.segment.name":{"value":"`+name+`"},"browser.web_vital.lcp.value":{"value":1200}`+extra+`}}]}`)
	}
	for _, c := range []struct {
		name      string
		env       []byte
		url, page string
	}{
		{"a router's route name is the vital's route", span(false, "ui.webvital.lcp", "/orders/:id", `,"sentry.pageload.span_id":{"value":"2222222222222222"}`), "/orders/:id", "2222222222222222"},
		{"the SDK's fallback name is not a route", span(false, "ui.webvital.lcp", "Pageload", `,"sentry.pageload.span_id":{"value":"2222222222222222"}`), "", "2222222222222222"},
		{"a soft navigation's vital names its segment", span(false, "ui.webvital.lcp", "Navigation", `,"sentry.segment.id":{"value":"3333333333333333"}`), "", "3333333333333333"},
		{"a navigation segment is its own page span", span(true, "navigation", "Navigation", `,"url.full":{"value":"https://shop.example/orders/7"}`), "https://shop.example/orders/7", "1111111111111111"},
		{"a segment that is no page view names none", span(true, "ui.interaction.click", "/", `,"url.full":{"value":"https://shop.example/"}`), "https://shop.example/", ""},
		{"a page span id that is not one is left out", span(false, "ui.webvital.lcp", "Pageload", `,"sentry.pageload.span_id":{"value":"not-a-span"}`), "", ""},
		{"a protocol-relative name is not a route", span(false, "ui.webvital.lcp", "//evil.example/x", ""), "", ""},
		// As @sentry/browser 10 sends a standalone CLS span (its
		// startStandaloneWebVitalSpan): attributes in data, the route as
		// the transaction, the user's e-mail as user.
		{"a v1 standalone span: data's transaction is the route", envelope(`{"type":"span"}`,
			`{"span_id":"1111111111111111","trace_id":"cccccccccccccccccccccccccccccccc","parent_span_id":"2222222222222222","op":"ui.webvital.cls","description":"body > div","start_timestamp":1796310846.1,"timestamp":1796310846.1,`+
				`"data":{"sentry.origin":"auto.http.browser.cls","sentry.op":"ui.webvital.cls","sentry.pageload.span_id":"2222222222222222","transaction":"/checkout","replay_id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","user":"maria@example.org","user_agent.original":"UA/1"},`+
				`"measurements":{"cls":{"value":0.12,"unit":""}}}`), "/checkout", "2222222222222222"},
		{"a transaction without request.url: its name is the route", envelope(`{"type":"transaction"}`,
			`{"type":"transaction","event_id":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","transaction":"/orders/:id","transaction_info":{"source":"route"},"measurements":{"lcp":{"value":1200}}}`), "/orders/:id", ""},
		{"a transaction's request.url wins over its name", envelope(`{"type":"transaction"}`,
			`{"type":"transaction","event_id":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","transaction":"/orders/:id","request":{"url":"https://shop.example/orders/7"},"measurements":{"lcp":{"value":1200}}}`), "https://shop.example/orders/7", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := translateBytes(t, c.env)
			var v *sdkproto.Vital
			for _, ev := range tr.Batch.Events {
				if ev.Kind == sdkproto.KindVital {
					if v != nil {
						t.Fatalf("two vitals: %+v", tr.Batch.Events)
					}
					v = ev.Vital
				}
			}
			if v == nil {
				t.Fatalf("no vital: %+v", tr.Batch.Events)
			}
			if v.URL != c.url || v.Attribution[AttrPageSpan] != c.page {
				t.Errorf("url %q page span %q, want %q %q", v.URL, v.Attribution[AttrPageSpan], c.url, c.page)
			}
			if data, _ := sdkproto.Encode(tr.Batch); bytes.Contains(data, []byte("maria@example.org")) {
				t.Errorf("the batch carries the user's e-mail: %s", data)
			}
		})
	}
}
