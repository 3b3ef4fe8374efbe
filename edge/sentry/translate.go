package sentry

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rearview-dev/rearview/sdkproto"
)

// Drop reasons a translation reports, besides the SDK's own reasons from
// client reports (ReasonClientPrefix + reason + ":" + category).
const (
	// ReasonInvalid: an item whose payload is not what its type says.
	ReasonInvalid = sdkproto.ReasonInvalid
	// ReasonTooLarge: a replay recording that inflates past MaxReplayRaw.
	ReasonTooLarge = "too-large"
	// ReasonUnsupportedPrefix + item type: an item type Rearview does not
	// take (attachment, profile, check_in, log, feedback, …).
	ReasonUnsupportedPrefix = "unsupported-item:"
	// ReasonClientPrefix prefixes what a client report says the SDK
	// dropped, e.g. "sdk:sample_rate:transaction".
	ReasonClientPrefix = "sdk:"
)

// Request is what the edge knows about the HTTP request beyond the envelope.
type Request struct {
	UserAgent string
	// Now stamps events that carry no time of their own when the envelope
	// has no sent_at either.
	Now time.Time
}

// Translation is what an envelope becomes in Rearview's model.
type Translation struct {
	// Batch holds the envelope's items as Rearview events; nil when none
	// became one (a client report or session update alone, say).
	Batch *sdkproto.Batch
	// Dropped counts what was left out, by reason.
	Dropped map[string]int
	// EventID is the id Sentry answers with: the envelope's event id, or
	// its first event's.
	EventID string
}

func (t *Translation) drop(reason string, n int) {
	if n <= 0 {
		n = 1
	}
	if t.Dropped == nil {
		t.Dropped = map[string]int{}
	}
	t.Dropped[reason] += n
}

// Field caps of sdkproto (see its README): the translation truncates to them
// as Sentry truncates, so that an event Sentry would take is not refused.
const (
	maxShort       = 256
	maxMessage     = 8192
	maxURL         = 4096
	maxFunction    = 1024
	maxFrames      = 128
	maxTags        = 64
	maxBreadcrumbs = 100
	maxMapEntries  = 64
	maxFingerprint = 16
)

// translator gathers one envelope's events and what it learns of the
// session, page and device from any item.
type translator struct {
	lim     Limits
	req     Request
	out     *Translation
	events  []sdkproto.Event
	session string // a replay id beats a trace id beats an event id
	trace   string
	eventID string
	started int64
	seq     int64
	flagErr bool
	page    sdkproto.Page
	device  sdkproto.Device
	user    string
}

// Translate turns an envelope into a Rearview batch. It never fails: an
// item it cannot use is counted in Dropped and the others are kept.
func Translate(env *Envelope, req Request, lim Limits) *Translation {
	if req.Now.IsZero() {
		req.Now = time.Now()
	}
	t := &translator{lim: lim, req: req, out: &Translation{EventID: env.Header.EventID}}
	// Items without a time of their own take the envelope's sent_at, so
	// that a retried envelope still translates to the same bytes.
	if ts, err := time.Parse(time.RFC3339Nano, env.Header.SentAt); err == nil {
		t.req.Now = ts
	}
	if d := env.Header.Trace; d != nil {
		t.replayID(d.ReplayID)
		t.traceID(d.TraceID)
	}
	// A replay_event's recording is the next replay_recording item.
	var replay *replayEvent
	for _, it := range env.Items {
		var err error
		switch it.Type {
		case "event":
			err = t.event(it.Payload)
		case "transaction":
			err = t.transaction(it.Payload)
		case "span":
			err = t.spans(it)
		case "replay_event":
			replay, err = t.replayEvent(it.Payload)
		case "replay_recording":
			err = t.replayRecording(it.Payload, replay)
			replay = nil
		case "client_report":
			err = t.clientReport(it.Payload)
		case "session", "sessions":
			// Release health: Rearview's sessions are its own (tabs
			// with replays and events); these are accepted and ignored.
		default:
			t.out.drop(ReasonUnsupportedPrefix+sanitizeReason(it.Type), it.ItemCount)
		}
		if err != nil {
			reason := ReasonInvalid
			if _, ok := err.(errTooLarge); ok {
				reason = ReasonTooLarge
			}
			t.out.drop(reason, 1)
		}
	}
	if t.out.EventID == "" {
		t.out.EventID = t.eventID
	}
	if len(t.events) == 0 {
		return t.out
	}
	sid := t.session
	if sid == "" {
		sid = "sentry-" + t.events[0].ID
	}
	if t.started == 0 {
		t.started = t.events[0].TS
		for _, ev := range t.events {
			t.started = min(t.started, ev.TS)
		}
	}
	if t.device.UA == "" {
		t.device.UA = truncate(req.UserAgent, 1024)
	}
	name, version := "sentry.javascript", ""
	if s := env.Header.SDK; s != nil && s.Name != "" {
		name, version = s.Name, s.Version
	}
	t.out.Batch = &sdkproto.Batch{
		V:       sdkproto.Version,
		SDK:     sdkproto.SDK{Name: truncate(name, maxShort), Version: truncate(version, maxShort)},
		Session: sdkproto.Session{ID: sid, Seq: t.seq, StartedAt: t.started, UserID: t.user, Flags: sdkproto.SessionFlags{Error: t.flagErr}},
		Page:    t.page,
		Device:  t.device,
		SentAt:  sentAt(env.Header.SentAt, t.events),
		Events:  t.events,
	}
	return t.out
}

func (t *translator) replayID(id string) {
	if id = cleanID(id); id != "" {
		t.session = id
	}
}

func (t *translator) traceID(id string) {
	if !validHex(id, 32) {
		return
	}
	if t.trace == "" {
		t.trace = id
	}
	if t.session == "" {
		t.session = id
	}
}

func (t *translator) setPage(url, referrer string) {
	if t.page.URL == "" && url != "" {
		t.page.URL = truncate(url, maxURL)
	}
	if t.page.Referrer == "" && referrer != "" {
		t.page.Referrer = truncate(referrer, maxURL)
	}
}

// sentAt is the envelope's sent_at, else its newest event's time: never
// the clock, so that a retried envelope translates to the same bytes and
// JetStream stores it once.
func sentAt(s string, evs []sdkproto.Event) int64 {
	if ts, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return ts.UnixMilli()
	}
	var newest int64
	for _, ev := range evs {
		newest = max(newest, ev.TS)
	}
	return newest
}

// --- error events ---

type event struct {
	EventID        string                     `json:"event_id"`
	Type           string                     `json:"type"`
	Timestamp      json.RawMessage            `json:"timestamp"`
	StartTimestamp json.RawMessage            `json:"start_timestamp"`
	Level          string                     `json:"level"`
	Release        string                     `json:"release"`
	Dist           string                     `json:"dist"`
	Environment    string                     `json:"environment"`
	Transaction    string                     `json:"transaction"`
	Message        json.RawMessage            `json:"message"`
	LogEntry       *logEntry                  `json:"logentry"`
	Exception      json.RawMessage            `json:"exception"`
	Breadcrumbs    json.RawMessage            `json:"breadcrumbs"`
	Tags           json.RawMessage            `json:"tags"`
	Contexts       map[string]json.RawMessage `json:"contexts"`
	User           *struct {
		ID json.RawMessage `json:"id"`
	} `json:"user"`
	Request *struct {
		URL     string          `json:"url"`
		Headers json.RawMessage `json:"headers"`
	} `json:"request"`
	DebugMeta *struct {
		Images []struct {
			Type     string `json:"type"`
			CodeFile string `json:"code_file"`
			DebugID  string `json:"debug_id"`
		} `json:"images"`
	} `json:"debug_meta"`
	Fingerprint  []json.RawMessage      `json:"fingerprint"`
	Measurements map[string]measurement `json:"measurements"`
}

type logEntry struct {
	Formatted string `json:"formatted"`
	Message   string `json:"message"`
}

type measurement struct {
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
}

type exception struct {
	Type       string `json:"type"`
	Value      string `json:"value"`
	Stacktrace *struct {
		Frames []frame `json:"frames"`
	} `json:"stacktrace"`
	Mechanism *struct {
		Type    string `json:"type"`
		Handled *bool  `json:"handled"`
	} `json:"mechanism"`
}

type frame struct {
	Filename string  `json:"filename"`
	AbsPath  string  `json:"abs_path"`
	Function string  `json:"function"`
	Lineno   float64 `json:"lineno"`
	Colno    float64 `json:"colno"`
}

type breadcrumb struct {
	Timestamp json.RawMessage            `json:"timestamp"`
	Type      string                     `json:"type"`
	Category  string                     `json:"category"`
	Level     string                     `json:"level"`
	Message   string                     `json:"message"`
	Data      map[string]json.RawMessage `json:"data"`
}

type traceContext struct {
	TraceID string `json:"trace_id"`
	SpanID  string `json:"span_id"`
}

// common reads what every event-like payload tells about the session.
func (t *translator) common(e *event) (url string) {
	if t.eventID == "" {
		t.eventID = e.EventID
	}
	if r := e.Contexts["replay"]; r != nil {
		var rc struct {
			ReplayID string `json:"replay_id"`
		}
		if json.Unmarshal(r, &rc) == nil {
			t.replayID(rc.ReplayID)
		}
	}
	tags := stringMap(e.Tags)
	if id := tags["replayId"]; id != "" {
		t.replayID(id)
	}
	if tc := e.traceContext(); tc.TraceID != "" {
		t.traceID(tc.TraceID)
	}
	if e.User != nil && t.user == "" {
		t.user = truncate(scalar(e.User.ID), maxShort)
	}
	if c := e.Contexts["culture"]; c != nil {
		var cc struct {
			Locale   string `json:"locale"`
			Timezone string `json:"timezone"`
		}
		if json.Unmarshal(c, &cc) == nil {
			t.device.Language = firstNonEmpty(t.device.Language, truncate(cc.Locale, maxShort))
			t.device.Timezone = firstNonEmpty(t.device.Timezone, truncate(cc.Timezone, maxShort))
		}
	}
	if e.Request != nil {
		h := stringMap(e.Request.Headers)
		t.setPage(e.Request.URL, headerOf(h, "Referer"))
		if ua := headerOf(h, "User-Agent"); ua != "" && t.device.UA == "" {
			t.device.UA = truncate(ua, 1024)
		}
		return truncate(e.Request.URL, maxURL)
	}
	return ""
}

func (e *event) traceContext() traceContext {
	var tc traceContext
	if raw := e.Contexts["trace"]; raw != nil {
		_ = json.Unmarshal(raw, &tc)
	}
	if !validHex(tc.TraceID, 32) {
		tc.TraceID = ""
	}
	if !validHex(tc.SpanID, 16) {
		tc.SpanID = ""
	}
	return tc
}

func (t *translator) event(payload []byte) error {
	var e event
	if err := json.Unmarshal(payload, &e); err != nil {
		return fmt.Errorf("event: %w", err)
	}
	if e.Type == "transaction" {
		return t.transactionEvent(&e)
	}
	id := cleanID(e.EventID)
	if id == "" {
		return fmt.Errorf("event: event_id %q is not an id", e.EventID)
	}
	url := t.common(&e)
	out := &sdkproto.Error{
		Level:       level(e.Level),
		Mechanism:   sdkproto.MechanismManual,
		Handled:     true,
		Release:     truncate(e.Release, maxShort),
		Dist:        truncate(e.Dist, maxShort),
		Environment: truncate(e.Environment, maxShort),
		URL:         url,
	}
	var values []exception
	if len(e.Exception) > 0 {
		var wrapped struct {
			Values []exception `json:"values"`
		}
		if json.Unmarshal(e.Exception, &wrapped) == nil {
			values = wrapped.Values
		} else if err := json.Unmarshal(e.Exception, &values); err != nil {
			return fmt.Errorf("event: exception: %w", err)
		}
	}
	if len(values) > 0 {
		// Chained exceptions are listed oldest first; the last is the
		// one thrown, the one Sentry shows and Rearview keeps.
		ex := values[len(values)-1]
		out.Type, out.Value = truncate(ex.Type, maxShort), truncate(ex.Value, maxMessage)
		if m := ex.Mechanism; m != nil {
			out.Mechanism = mechanism(m.Type)
			if m.Handled != nil {
				out.Handled = *m.Handled
			} else {
				out.Handled = out.Mechanism == sdkproto.MechanismManual
			}
		}
		if ex.Stacktrace != nil {
			out.Stack = stack(ex.Stacktrace.Frames)
		}
	}
	if out.Type == "" && out.Value == "" {
		out.Value = truncate(message(&e), maxMessage)
	}
	if out.Type == "" && out.Value == "" {
		return fmt.Errorf("event %s: no exception and no message", id)
	}
	tc := e.traceContext()
	out.TraceID, out.SpanID = tc.TraceID, tc.SpanID
	out.Tags = tags(&e)
	out.Breadcrumbs = breadcrumbs(e.Breadcrumbs)
	if dm := e.DebugMeta; dm != nil {
		for _, im := range dm.Images {
			if im.Type != "sourcemap" || im.CodeFile == "" || im.DebugID == "" || len(im.CodeFile) > maxShort || len(im.DebugID) > maxShort {
				continue
			}
			if out.DebugIDs == nil {
				out.DebugIDs = map[string]string{}
			}
			if len(out.DebugIDs) < maxFrames {
				out.DebugIDs[im.CodeFile] = strings.ToLower(im.DebugID)
			}
		}
	}
	out.Fingerprint = fingerprint(e.Fingerprint)
	if out.Level == "" || out.Level == "error" || out.Level == "fatal" {
		t.flagErr = true
	}
	t.events = append(t.events, sdkproto.Event{ID: id, TS: t.time(e.Timestamp), Kind: sdkproto.KindError, Error: out})
	return nil
}

func message(e *event) string {
	if len(e.Message) > 0 {
		var s string
		if json.Unmarshal(e.Message, &s) == nil {
			return s
		}
		var le logEntry
		if json.Unmarshal(e.Message, &le) == nil {
			return firstNonEmpty(le.Formatted, le.Message)
		}
	}
	if e.LogEntry != nil {
		return firstNonEmpty(e.LogEntry.Formatted, e.LogEntry.Message)
	}
	return ""
}

// stack turns Sentry's frames (outermost first) into Rearview's (innermost
// first), keeping the innermost maxFrames.
func stack(frames []frame) []sdkproto.Frame {
	if len(frames) > maxFrames {
		frames = frames[len(frames)-maxFrames:]
	}
	out := make([]sdkproto.Frame, 0, len(frames))
	for i := len(frames) - 1; i >= 0; i-- {
		f := frames[i]
		fn := f.Function
		if fn == "?" {
			fn = ""
		}
		out = append(out, sdkproto.Frame{
			URL:      truncate(firstNonEmpty(f.AbsPath, f.Filename), maxURL),
			Function: truncate(fn, maxFunction),
			Line:     nonNegative(f.Lineno),
			Column:   nonNegative(f.Colno),
		})
	}
	return out
}

func nonNegative(f float64) int {
	if f < 0 || math.IsNaN(f) || f > math.MaxInt32 {
		return 0
	}
	return int(f)
}

// mechanism maps Sentry's mechanism types ("onerror",
// "auto.browser.global_handlers.onunhandledrejection",
// "auto.browser.browserapierrors.addEventListener", "generic", …).
func mechanism(t string) sdkproto.Mechanism {
	switch {
	case strings.Contains(t, "unhandledrejection"):
		return sdkproto.MechanismUnhandledRejection
	case strings.Contains(t, "onerror"):
		return sdkproto.MechanismOnError
	case strings.Contains(t, "console"):
		return sdkproto.MechanismConsole
	case t == "" || t == "generic" || strings.HasPrefix(t, "manual"):
		return sdkproto.MechanismManual
	}
	// Instrumented callbacks (timers, event listeners, XHR): uncaught
	// errors, as window.onerror would have seen them.
	return sdkproto.MechanismOnError
}

func level(l string) string {
	switch l {
	case "fatal", "error", "warning", "info", "debug":
		return l
	case "log":
		return "info"
	}
	return ""
}

// tags are the event's tags plus the contexts Sentry shows as tags
// (browser, os, device, transaction), at most maxTags.
func tags(e *event) map[string]string {
	out := map[string]string{}
	put := func(k, v string) {
		if k == "" || v == "" || len(out) >= maxTags {
			return
		}
		if _, ok := out[k]; !ok {
			out[truncate(k, maxShort)] = truncate(v, maxShort)
		}
	}
	src := stringMap(e.Tags)
	keys := make([]string, 0, len(src))
	for k := range src {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		put(k, src[k])
	}
	for _, c := range []struct{ ctx, field, tag string }{
		{"browser", "name", "browser.name"}, {"browser", "version", "browser.version"},
		{"os", "name", "os.name"}, {"os", "version", "os.version"},
		{"device", "family", "device.family"}, {"device", "model", "device.model"},
	} {
		if raw := e.Contexts[c.ctx]; raw != nil {
			put(c.tag, stringMap(raw)[c.field])
		}
	}
	put("transaction", e.Transaction)
	if len(out) == 0 {
		return nil
	}
	return out
}

func fingerprint(parts []json.RawMessage) []string {
	var out []string
	for _, p := range parts {
		s := scalar(p)
		if s == "{{ default }}" || s == "{{default}}" {
			return nil // extend the default grouping: keep Rearview's own
		}
		out = append(out, truncate(s, maxShort))
	}
	if len(out) > maxFingerprint {
		out = out[:maxFingerprint]
	}
	return out
}

func breadcrumbs(raw json.RawMessage) []sdkproto.Breadcrumb {
	if len(raw) == 0 {
		return nil
	}
	var list []breadcrumb
	if json.Unmarshal(raw, &list) != nil {
		var wrapped struct {
			Values []breadcrumb `json:"values"`
		}
		if json.Unmarshal(raw, &wrapped) != nil {
			return nil
		}
		list = wrapped.Values
	}
	if len(list) > maxBreadcrumbs {
		list = list[len(list)-maxBreadcrumbs:]
	}
	out := make([]sdkproto.Breadcrumb, 0, len(list))
	for _, b := range list {
		cat := firstNonEmpty(b.Category, b.Type, "default")
		data := map[string]string{}
		for k, v := range b.Data {
			if len(data) < maxMapEntries && k != "" && len(k) <= maxShort && !strings.HasPrefix(k, "__") {
				data[k] = truncate(scalar(v), maxURL)
			}
		}
		rb := sdkproto.Breadcrumb{
			TS:       tsMillis(b.Timestamp),
			Category: truncate(cat, maxShort),
			Level:    truncate(b.Level, maxShort),
			Message:  truncate(b.Message, maxMessage),
		}
		switch {
		case cat == "fetch" || cat == "xhr":
			st, _ := strconv.Atoi(data["status_code"])
			rb.HTTP = &sdkproto.HTTP{Method: truncate(data["method"], 16), URL: data["url"], Status: max(0, min(st, 999))}
			data = nil
		case strings.HasPrefix(cat, "ui."):
			rb.Selector, rb.Message = truncate(b.Message, maxURL), ""
		case cat == "navigation":
			rb.URL = data["to"]
		}
		if len(data) > 0 {
			rb.Data = data
		}
		out = append(out, rb)
	}
	return out
}

// --- transactions and spans: web vitals ---

// vitalNames maps Sentry's measurement names to Rearview's vitals.
var vitalNames = map[string]string{"lcp": "LCP", "cls": "CLS", "inp": "INP", "fcp": "FCP", "ttfb": "TTFB"}

func (t *translator) transaction(payload []byte) error {
	var e event
	if err := json.Unmarshal(payload, &e); err != nil {
		return fmt.Errorf("transaction: %w", err)
	}
	return t.transactionEvent(&e)
}

// transactionEvent keeps a transaction's measurements as vitals, each with
// the transaction's trace id in its attribution. Its spans are dropped.
func (t *translator) transactionEvent(e *event) error {
	id := cleanID(e.EventID)
	if id == "" {
		return fmt.Errorf("transaction: event_id %q is not an id", e.EventID)
	}
	url := t.common(e)
	if url == "" {
		url = pathName(truncate(e.Transaction, maxURL))
	}
	tc := e.traceContext()
	ts := t.time(e.StartTimestamp)
	names := make([]string, 0, len(e.Measurements))
	for k := range e.Measurements {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		name, ok := vitalNames[k]
		if !ok {
			continue
		}
		t.vital(id+"-"+k, ts, name, e.Measurements[k].Value, url, tc.TraceID, nil)
	}
	return nil
}

func (t *translator) vital(id string, ts int64, name string, value float64, url, traceID string, attribution map[string]string) {
	if math.IsNaN(value) || math.IsInf(value, 0) || value < 0 {
		return
	}
	if traceID != "" {
		if attribution == nil {
			attribution = map[string]string{}
		}
		attribution["trace_id"] = traceID
	}
	t.events = append(t.events, sdkproto.Event{ID: id, TS: ts, Kind: sdkproto.KindVital, Vital: &sdkproto.Vital{
		Name: name, Value: value, Rating: rating(name, value), URL: url, Attribution: attribution,
	}})
}

// rating applies web-vitals' thresholds.
func rating(name string, v float64) string {
	th := map[string][2]float64{"LCP": {2500, 4000}, "FCP": {1800, 3000}, "CLS": {0.1, 0.25}, "INP": {200, 500}, "TTFB": {800, 1800}}[name]
	switch {
	case v <= th[0]:
		return "good"
	case v <= th[1]:
		return "needs-improvement"
	}
	return "poor"
}

// spanV2 is one span of a span v2 container
// (application/vnd.sentry.items.span.v2+json), as span streaming sends them.
type spanV2 struct {
	SpanID         string                 `json:"span_id"`
	TraceID        string                 `json:"trace_id"`
	StartTimestamp json.RawMessage        `json:"start_timestamp"`
	EndTimestamp   json.RawMessage        `json:"end_timestamp"`
	IsSegment      bool                   `json:"is_segment"`
	Attributes     map[string]spanAttrVal `json:"attributes"`
	// A v1 standalone span's (SDKs 8 to 10): its measurements, and its
	// attributes as plain values in data.
	Measurements map[string]measurement     `json:"measurements"`
	Timestamp    json.RawMessage            `json:"timestamp"`
	Data         map[string]json.RawMessage `json:"data"`
}

type spanAttrVal struct {
	Value json.RawMessage `json:"value"`
}

// attr reads a span attribute: a v2 span's attributes, else a v1 span's data.
func (s *spanV2) attr(k string) string {
	if a, ok := s.Attributes[k]; ok {
		return scalar(a.Value)
	}
	return scalar(s.Data[k])
}

// spans keeps the web vitals among spans — the attributes
// browser.web_vital.{lcp,cls,inp,fcp,ttfb}.value, which Sentry's SDK puts on
// its pageload segment span and on one span per LCP, CLS and INP — with the
// page URL of their pageload span when it is in the same container. Every
// other span is dropped: Rearview keeps the browser side of a trace as its
// trace id, not as spans.
func (t *translator) spans(it Item) error {
	// A span v2 container has "items"; a v1 standalone span is the span.
	var c struct {
		Items *[]spanV2 `json:"items"`
		spanV2
	}
	if err := json.Unmarshal(it.Payload, &c); err != nil {
		return fmt.Errorf("span: %w", err)
	}
	list := []spanV2{c.spanV2}
	if c.Items != nil {
		list = *c.Items
	}
	urls := map[string]string{}
	for i := range list {
		s := &list[i]
		if u := s.attr("url.full"); u != "" && s.IsSegment {
			urls[s.SpanID] = u
		}
	}
	for i := range list {
		s := &list[i]
		if !validHex(s.SpanID, 16) {
			continue
		}
		t.replayID(firstNonEmpty(s.attr("sentry.replay_id"), s.attr("replay_id")))
		t.traceID(s.TraceID)
		if ua := s.attr("user_agent.original"); ua != "" && t.device.UA == "" {
			t.device.UA = truncate(ua, 1024)
		}
		if c := s.attr("network.connection.effective_type"); c != "" && t.device.Connection == "" {
			t.device.Connection = truncate(c, maxShort)
		}
		t.device.Language = firstNonEmpty(t.device.Language, truncate(s.attr("culture.locale"), maxShort))
		t.device.Timezone = firstNonEmpty(t.device.Timezone, truncate(s.attr("culture.timezone"), maxShort))
		url := s.attr("url.full")
		if !s.IsSegment || url == "" {
			url = firstNonEmpty(urls[s.attr("sentry.pageload.span_id")], urls[s.attr("sentry.segment.id")])
		}
		t.setPage(url, "")
		if s.IsSegment && url != "" {
			if op := s.attr("sentry.op"); op == "pageload" || op == "navigation" {
				// A page view, for the session and for the vitals
				// that name this span later without a URL.
				ts := t.time(s.StartTimestamp)
				if len(s.StartTimestamp) == 0 {
					ts = t.time(s.Timestamp)
				}
				t.events = append(t.events, sdkproto.Event{ID: sdkproto.SentryPageViewID(s.SpanID), TS: ts, Kind: sdkproto.KindSession,
					Session: &sdkproto.SessionEvent{State: "page_view", URL: truncate(url, maxURL)}})
			}
		}
		// Read for the spans with a vital only: most spans have none.
		var page string
		vitals := 0
		ts := t.time(s.EndTimestamp)
		if len(s.EndTimestamp) == 0 {
			ts = t.time(s.Timestamp)
		}
		trace := ""
		if validHex(s.TraceID, 32) {
			trace = s.TraceID
		}
		for _, k := range []string{"lcp", "cls", "inp", "fcp", "ttfb"} {
			var v float64
			if raw, ok := s.Attributes["browser.web_vital."+k+".value"]; ok {
				if json.Unmarshal(raw.Value, &v) != nil {
					continue
				}
			} else if m, ok := s.Measurements[k]; ok {
				v = m.Value
			} else {
				continue
			}
			if vitals++; vitals == 1 {
				page = s.pageSpan()
				if url == "" {
					// Not the page's URL but its route: enough for
					// the vital, not for the batch's page.
					url = pathName(firstNonEmpty(s.attr("sentry.segment.name"), s.attr("transaction")))
				}
			}
			attribution := map[string]string{}
			for _, a := range []struct{ from, to string }{{"browser.web_vital." + k + ".element", "element"}, {"browser.web_vital." + k + ".target", "target"}, {"browser.web_vital.lcp.url", "url"}} {
				if a.from == "browser.web_vital.lcp.url" && k != "lcp" {
					continue
				}
				if x := s.attr(a.from); x != "" {
					attribution[a.to] = truncate(x, maxURL)
				}
			}
			if page != "" {
				attribution[AttrPageSpan] = page
			}
			nav := truncate(s.attr("browser.navigation.type"), maxShort)
			t.vital(s.SpanID+"-"+k, ts, vitalNames[k], v, truncate(url, maxURL), trace, attribution)
			t.events[len(t.events)-1].Vital.NavigationType = nav
		}
	}
	return nil
}

// AttrPageSpan is the vital attribution naming the span of the page view a
// vital belongs to (Sentry's pageload or navigation span). The SDK sends LCP,
// CLS and INP when the page is hidden, in an envelope of their own that
// carries this span's id but not the page's URL; the coordinator finds their
// route through the span's page view (sdkproto.SentryPageViewID) or the
// vitals of the same page that came with the URL (coordinator/vitals).
const AttrPageSpan = sdkproto.AttrPageSpan

// pageSpan is the id of the page-view span s belongs to: its own when s is
// a pageload or navigation segment, else the pageload span (or, for a
// soft navigation, the segment) it names; "" when there is none.
func (s *spanV2) pageSpan() string {
	var id string
	switch op := s.attr("sentry.op"); {
	case s.IsSegment && (op == "pageload" || op == "navigation"):
		id = s.SpanID
	case !s.IsSegment:
		id = firstNonEmpty(s.attr("sentry.pageload.span_id"), s.attr("sentry.segment.id"))
	}
	if !validHex(id, 16) {
		return ""
	}
	return id
}

// pathName is a segment name that is a URL path or a parameterised route
// ("/orders/:id", as router integrations name their spans); "" for the
// SDK's fallback names ("Pageload", "Navigation") and anything else.
func pathName(name string) string {
	if len(name) > 1 && name[0] == '/' && name[1] != '/' && len(name) <= maxURL {
		return name
	}
	if name == "/" {
		return name
	}
	return ""
}

// --- replays ---

type replayEvent struct {
	ReplayID             string          `json:"replay_id"`
	SegmentID            *int            `json:"segment_id"`
	Timestamp            json.RawMessage `json:"timestamp"`
	ReplayStartTimestamp json.RawMessage `json:"replay_start_timestamp"`
	ReplayType           string          `json:"replay_type"`
	URLs                 []string        `json:"urls"`
	ErrorIDs             []string        `json:"error_ids"`
	TraceIDs             []string        `json:"trace_ids"`
	event
}

func (t *translator) replayEvent(payload []byte) (*replayEvent, error) {
	var r replayEvent
	if err := json.Unmarshal(payload, &r); err != nil {
		return nil, fmt.Errorf("replay_event: %w", err)
	}
	if cleanID(r.ReplayID) == "" || r.SegmentID == nil || *r.SegmentID < 0 {
		return nil, fmt.Errorf("replay_event: replay_id %q, segment_id missing or negative", r.ReplayID)
	}
	t.replayID(r.ReplayID)
	t.common(&r.event)
	if len(r.URLs) > 0 {
		t.setPage(r.URLs[0], "")
	}
	if st := t.time(r.ReplayStartTimestamp); len(r.ReplayStartTimestamp) > 0 {
		t.started = st
	}
	t.seq = int64(*r.SegmentID)
	if len(r.ErrorIDs) > 0 || r.ReplayType == "buffer" {
		t.flagErr = true
	}
	// The pages the segment saw are session events: they make the
	// session searchable by URL.
	ts := t.time(r.Timestamp)
	id := cleanID(r.ReplayID)
	for i, u := range r.URLs {
		if i >= 16 {
			break
		}
		state := "page_view"
		if i == 0 && *r.SegmentID == 0 {
			state = "start"
		}
		t.events = append(t.events, sdkproto.Event{
			ID: fmt.Sprintf("%s-s%d-%d", id, *r.SegmentID, i), TS: ts, Kind: sdkproto.KindSession,
			Session: &sdkproto.SessionEvent{State: state, URL: truncate(u, maxURL)},
		})
	}
	return &r, nil
}

// replayRecording reads a recording — a JSON header line ({"segment_id":N})
// and the rrweb events, zlib-compressed or plain JSON — into a replay
// segment of the replay_event before it.
func (t *translator) replayRecording(payload []byte, r *replayEvent) error {
	head, body, ok := bytes.Cut(payload, []byte("\n"))
	if !ok {
		return fmt.Errorf("replay_recording: no header line")
	}
	var h struct {
		SegmentID *int `json:"segment_id"`
	}
	if err := json.Unmarshal(head, &h); err != nil || h.SegmentID == nil || *h.SegmentID < 0 {
		return fmt.Errorf("replay_recording: header %.64q: want {\"segment_id\":N}", head)
	}
	if r == nil {
		return fmt.Errorf("replay_recording: no replay_event before it")
	}
	events, err := recordingEvents(body, t.lim.MaxReplayRaw)
	if err != nil {
		return err
	}
	var stamps []struct {
		Timestamp float64 `json:"timestamp"`
	}
	if err := json.Unmarshal(events, &stamps); err != nil || len(stamps) == 0 {
		return fmt.Errorf("replay_recording: not an array of rrweb events")
	}
	first, last := int64(stamps[0].Timestamp), int64(0)
	for _, s := range stamps {
		last = max(last, int64(s.Timestamp))
	}
	if first <= 0 {
		first = t.time(r.Timestamp)
	}
	t.events = append(t.events, sdkproto.Event{
		ID: fmt.Sprintf("%s-r%d", cleanID(r.ReplayID), *h.SegmentID), TS: first, Kind: sdkproto.KindReplay,
		Replay: &sdkproto.Replay{Segment: *h.SegmentID, Events: events, FromBuffer: r.ReplayType == "buffer", EndTS: last},
	})
	return nil
}

// recordingEvents undoes a recording's compression: zlib (what the SDK's
// compression worker writes) or none.
func recordingEvents(body []byte, max int64) (json.RawMessage, error) {
	body = bytes.TrimLeft(body, " \t\r\n")
	if len(body) > 0 && body[0] == '[' {
		if int64(len(body)) > max {
			return nil, errTooLarge{max}
		}
		return body, nil
	}
	zr, err := zlib.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("replay_recording: neither JSON nor zlib: %w", err)
	}
	out, err := inflate(zr, max)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// --- client reports ---

func (t *translator) clientReport(payload []byte) error {
	var cr struct {
		DiscardedEvents []struct {
			Reason   string  `json:"reason"`
			Category string  `json:"category"`
			Quantity float64 `json:"quantity"`
		} `json:"discarded_events"`
	}
	if err := json.Unmarshal(payload, &cr); err != nil {
		return fmt.Errorf("client_report: %w", err)
	}
	for _, d := range cr.DiscardedEvents {
		if d.Quantity < 1 || d.Quantity > 1e9 {
			continue
		}
		t.out.drop(ReasonClientPrefix+sanitizeReason(d.Reason)+":"+sanitizeReason(d.Category), int(d.Quantity))
	}
	return nil
}

// --- helpers ---

// time reads a Sentry timestamp — seconds since the epoch as a number, or
// RFC 3339 — as milliseconds; when absent or invalid, the envelope's
// sent_at, else the request's time.
func (t *translator) time(raw json.RawMessage) int64 {
	if ms := tsMillis(raw); ms > 0 {
		return ms
	}
	return t.req.Now.UnixMilli()
}

func tsMillis(raw json.RawMessage) int64 {
	if len(raw) == 0 {
		return 0
	}
	var f float64
	if json.Unmarshal(raw, &f) == nil {
		if f <= 0 || f > 1e11 || math.IsNaN(f) {
			return 0
		}
		return int64(math.Round(f * 1000))
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if ts, err := time.Parse(time.RFC3339Nano, s); err == nil && ts.UnixMilli() > 0 {
			return ts.UnixMilli()
		}
	}
	return 0
}

// stringMap reads a JSON object, or an array of [key, value] pairs (the
// form Sentry also allows for tags and headers), with scalar values.
func stringMap(raw json.RawMessage) map[string]string {
	out := map[string]string{}
	if len(raw) == 0 {
		return out
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		for k, v := range obj {
			if s := scalar(v); s != "" {
				out[k] = s
			}
		}
		return out
	}
	var pairs [][]json.RawMessage
	if json.Unmarshal(raw, &pairs) == nil {
		for _, p := range pairs {
			if len(p) == 2 {
				if k, v := scalar(p[0]), scalar(p[1]); k != "" && v != "" {
					out[k] = v
				}
			}
		}
	}
	return out
}

// scalar renders a JSON string, number or boolean as text; "" otherwise.
func scalar(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	case '{', '[', 'n':
		return ""
	default:
		return string(raw)
	}
	return ""
}

func headerOf(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s[len(s)-min(len(s), 3):]) {
		s = s[:len(s)-1]
	}
	return s
}

// cleanID returns id when it is a valid Rearview id; a Sentry UUID with
// dashes loses them; anything else becomes "".
func cleanID(id string) string {
	id = strings.ReplaceAll(id, "-", "")
	if id == "" || len(id) > 64 {
		return ""
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return ""
		}
	}
	return strings.ToLower(id)
}

func validHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// sanitizeReason keeps an SDK-given word short and printable for an
// outcome reason; anything else is hashed.
func sanitizeReason(s string) string {
	ok := s != "" && len(s) <= 64
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
	}
	if ok {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return "x" + hex.EncodeToString(sum[:4])
}
