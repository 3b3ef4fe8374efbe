// Package sdkproto is Rearview's wire protocol: the JSON batch a browser SDK
// POSTs to an edge, the envelope the edge publishes to NATS, and a strict
// decoder with hard limits that reports the JSON path of what is wrong.
//
// The package imports nothing of Rearview's but wasm/jsontext (a leaf JSON
// reader, which its fast decoder is built on) so that the SDK, the edge, the
// wasm policy module and the coordinator all agree on one definition.
// README.md beside this file is the normative description; golden vectors in
// testdata/ are shared with the TypeScript SDK's tests.
package sdkproto

import "encoding/json"

// Version is the protocol version this package speaks. A batch with another
// "v" is rejected so that old coordinators never misread new payloads.
const Version = 1

// Kind names what an event carries. It is also the last token of the NATS
// subject the edge publishes the event under.
type Kind string

// The event kinds of protocol version 1.
const (
	KindError      Kind = "error"
	KindVital      Kind = "vital"
	KindReplay     Kind = "replay"
	KindBreadcrumb Kind = "breadcrumb"
	KindSession    Kind = "session"
)

// Kinds lists every valid Kind in subject order.
func Kinds() []Kind {
	return []Kind{KindError, KindVital, KindReplay, KindBreadcrumb, KindSession}
}

// Valid reports whether k is a kind of this protocol version.
func (k Kind) Valid() bool {
	switch k {
	case KindError, KindVital, KindReplay, KindBreadcrumb, KindSession:
		return true
	}
	return false
}

// Batch is what the SDK POSTs: one tab session's envelope plus its events.
// Times are milliseconds since the Unix epoch, as JavaScript's Date.now().
type Batch struct {
	V       int     `json:"v"`
	SDK     SDK     `json:"sdk"`
	Session Session `json:"session"`
	Page    Page    `json:"page"`
	Device  Device  `json:"device"`
	SentAt  int64   `json:"sent_at"`
	Events  []Event `json:"events"`
}

// SDK names the client library that produced a batch.
type SDK struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Session identifies the tab session a batch belongs to. Seq increases by one
// per batch so that a retried batch (same Seq) can be recognised.
type Session struct {
	ID        string       `json:"id"`
	Seq       int64        `json:"seq"`
	StartedAt int64        `json:"started_at"`
	UserID    string       `json:"user_id,omitempty"`
	Flags     SessionFlags `json:"flags"`
}

// SessionFlags are sent with every batch so that the edge's sampling agrees
// with the SDK's: a flagged session is always kept.
type SessionFlags struct {
	Error   bool `json:"error,omitempty"`
	Support bool `json:"support,omitempty"`
	// Synthetic marks a scripted check's session (rearview synthetic, the
	// coordinator's probes): its errors become issues, but its vitals and
	// error counts never enter RUM percentiles or error-rate baselines.
	Synthetic bool `json:"synthetic,omitempty"`
}

// Page is where the batch was sent from.
type Page struct {
	URL      string `json:"url"`
	Referrer string `json:"referrer,omitempty"`
}

// Device describes the browser. The edge derives device class and browser
// family from UA and viewport; the client IP never enters the protocol.
type Device struct {
	UA       string  `json:"ua"`
	Viewport Size    `json:"viewport"`
	Screen   *Size   `json:"screen,omitempty"`
	DPR      float64 `json:"dpr,omitempty"`
	Language string  `json:"language,omitempty"`
	Timezone string  `json:"timezone,omitempty"`
	// Connection is the Network Information API's effectiveType ("4g", …).
	Connection string `json:"connection,omitempty"`
	// Webdriver is navigator.webdriver: the page is driven by automation
	// (WebDriver, Puppeteer, Playwright). Sent only when true.
	Webdriver bool `json:"webdriver,omitempty"`
	// Headless says the page's navigator.userAgent or userAgentData names
	// a headless browser (HeadlessChrome, PhantomJS). Sent only when true.
	Headless bool `json:"headless,omitempty"`
}

// Size is a width and height in CSS pixels.
type Size struct {
	W int `json:"w"`
	H int `json:"h"`
}

// Event is one thing that happened in the browser. Exactly one of the
// kind-specific fields is set, the one Kind names.
type Event struct {
	ID   string `json:"id"`
	TS   int64  `json:"ts"`
	Kind Kind   `json:"kind"`

	Error      *Error        `json:"error,omitempty"`
	Vital      *Vital        `json:"vital,omitempty"`
	Replay     *Replay       `json:"replay,omitempty"`
	Breadcrumb *Breadcrumb   `json:"breadcrumb,omitempty"`
	Session    *SessionEvent `json:"session,omitempty"`
}

// Mechanism says how an error was captured.
type Mechanism string

// The capture mechanisms of protocol version 1.
const (
	MechanismOnError            Mechanism = "onerror"
	MechanismUnhandledRejection Mechanism = "unhandledrejection"
	MechanismConsole            Mechanism = "console"
	MechanismManual             Mechanism = "manual"
)

// Error is an exception or a captured message.
type Error struct {
	Type        string            `json:"type"`
	Value       string            `json:"value"`
	Level       string            `json:"level,omitempty"`
	Mechanism   Mechanism         `json:"mechanism"`
	Handled     bool              `json:"handled"`
	Stack       []Frame           `json:"stack,omitempty"`
	Release     string            `json:"release,omitempty"`
	Dist        string            `json:"dist,omitempty"`
	Environment string            `json:"environment,omitempty"`
	URL         string            `json:"url,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
	TraceID     string            `json:"trace_id,omitempty"`
	SpanID      string            `json:"span_id,omitempty"`
	Breadcrumbs []Breadcrumb      `json:"breadcrumbs,omitempty"`
	// DebugIDs maps a bundle URL seen in Stack to the Debug ID the bundle
	// declared with a //# debugId= comment.
	DebugIDs map[string]string `json:"debug_ids,omitempty"`
	// Fingerprint overrides grouping when the SDK user sets one.
	Fingerprint []string `json:"fingerprint,omitempty"`
}

// Frame is one stack frame as the browser reported it, outermost call last.
// Line and Column are 1-based; 0 means unknown.
type Frame struct {
	URL      string `json:"url"`
	Function string `json:"function,omitempty"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
}

// Vital is one Core Web Vitals measurement as web-vitals reports it.
type Vital struct {
	Name           string            `json:"name"`
	Value          float64           `json:"value"`
	Delta          float64           `json:"delta,omitempty"`
	Rating         string            `json:"rating,omitempty"`
	NavigationType string            `json:"navigation_type,omitempty"`
	MetricID       string            `json:"metric_id,omitempty"`
	URL            string            `json:"url,omitempty"`
	Attribution    map[string]string `json:"attribution,omitempty"`
}

// The vital names of protocol version 1.
var vitalNames = map[string]bool{"LCP": true, "INP": true, "CLS": true, "FCP": true, "TTFB": true}

// Replay is one segment of an rrweb recording. Events is kept as raw JSON:
// the edge masks it in place and the coordinator stores it as is.
type Replay struct {
	Segment    int             `json:"segment"`
	Events     json.RawMessage `json:"events"`
	FromBuffer bool            `json:"from_buffer,omitempty"`
	// EndTS is the timestamp of the segment's last rrweb event.
	EndTS int64 `json:"end_ts,omitempty"`
}

// Breadcrumb is a step the user or the page took before an error.
type Breadcrumb struct {
	TS       int64             `json:"ts,omitempty"`
	Category string            `json:"category"`
	Level    string            `json:"level,omitempty"`
	Message  string            `json:"message,omitempty"`
	Selector string            `json:"selector,omitempty"`
	URL      string            `json:"url,omitempty"`
	HTTP     *HTTP             `json:"http,omitempty"`
	Data     map[string]string `json:"data,omitempty"`
}

// HTTP describes a fetch or XHR. Headers and bodies are present only for
// URLs the SDK was told to capture; the edge masks them again.
type HTTP struct {
	Method          string            `json:"method"`
	URL             string            `json:"url"`
	Status          int               `json:"status,omitempty"`
	DurationMS      float64           `json:"duration_ms,omitempty"`
	TraceID         string            `json:"trace_id,omitempty"`
	RequestHeaders  map[string]string `json:"request_headers,omitempty"`
	RequestBody     string            `json:"request_body,omitempty"`
	ResponseHeaders map[string]string `json:"response_headers,omitempty"`
	ResponseBody    string            `json:"response_body,omitempty"`
}

// SessionEvent marks a session's life: started, a page view, or ended.
type SessionEvent struct {
	State string `json:"state"`
	URL   string `json:"url,omitempty"`
}

// The session states of protocol version 1.
var sessionStates = map[string]bool{"start": true, "page_view": true, "end": true}
