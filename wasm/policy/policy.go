// Package policy is the document that tells the edge policy engine what to
// drop, sample and mask for one project, with per-region overrides. It is
// what an operator stores in the NATS KV bucket rv_policy under the
// project's id.
//
// A policy document is JSON. Every field is optional: a missing field keeps
// its default, so `{}` is the default policy. Regions maps a region name to
// a partial document applied over the base one, e.g.
//
//	{"sampling": {"rate": 0.1}, "regions": {"eu": {"masking": {"strict": true}}}}
package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/rearview-dev/rearview/wasm/mask"
)

// Policy is a project's policy.
type Policy struct {
	Noise    Noise    `json:"noise"`
	Bots     Bots     `json:"bots"`
	Sampling Sampling `json:"sampling"`
	Masking  Masking  `json:"masking"`
	// Regions holds partial policies merged over this one for an edge of
	// that region.
	Regions map[string]json.RawMessage `json:"regions,omitempty"`
}

// Noise selects the errors dropped as noise. Each drop is counted by its
// reason: browser-extensions, browser-noise, known-noise, localhost, release.
type Noise struct {
	// Extensions drops errors with a frame from a browser extension.
	Extensions bool `json:"extensions"`
	// Messages are substrings of an error's "type: value" that mark
	// non-actionable browser noise.
	Messages []string `json:"messages"`
	// Fingerprints are the project's known-noise fingerprints: an error
	// whose edge fingerprint (see engine.Fingerprint) or whose SDK
	// fingerprint, joined with "/", is listed is dropped.
	Fingerprints []string `json:"fingerprints"`
	// Localhost drops every event of a batch sent from localhost,
	// 127.0.0.1, [::1] or *.localhost.
	Localhost bool `json:"localhost"`
	// DenyReleases drops errors of these releases; a trailing * matches a
	// prefix. AllowReleases, when set, drops errors of any other release.
	DenyReleases  []string `json:"deny_releases"`
	AllowReleases []string `json:"allow_releases"`
}

// Bots drops batches from crawlers, headless browsers and uptime monitors:
// by User-Agent (the request's, or the batch's device.ua when the request
// has none) against the bot list, with reason web-crawlers; and by the
// signals the browser SDK reports, each with its own reason.
type Bots struct {
	// Drop turns all of it on.
	Drop bool `json:"drop"`
	// Allow lists User-Agent substrings (case-insensitive) that are never
	// treated as bots, by list or signal, e.g. your own synthetic
	// monitoring you want to see.
	Allow []string `json:"allow"`
	// Extra lists more User-Agent literals to drop, matched
	// case-insensitively where a word starts.
	Extra []string `json:"extra"`
	// Webdriver drops batches whose SDK saw navigator.webdriver (browser
	// automation: WebDriver, Puppeteer, Playwright), reason webdriver.
	Webdriver bool `json:"webdriver"`
	// Headless drops batches whose SDK saw a headless browser's name in
	// the page (HeadlessChrome, PhantomJS), reason headless-browser.
	Headless bool `json:"headless"`
}

// Sampling keeps a deterministic share of sessions, decided from the
// session id so that every edge and every batch of a session agree.
// Sessions flagged error or support, and sessions of users in Support,
// are always kept. Only replay and breadcrumb events are sampled: errors,
// vitals and session events are never dropped by sampling.
type Sampling struct {
	// Rate is the share of other sessions kept, 0 to 1.
	Rate float64 `json:"rate"`
	// URLs overrides Rate for pages whose URL path matches Match, a
	// pattern where * matches any run of characters; the first match wins.
	URLs []URLRate `json:"urls"`
	// Support lists user ids whose sessions are always kept.
	Support []string `json:"support"`
}

// URLRate is a sampling rate for matching pages.
type URLRate struct {
	Match string  `json:"match"`
	Rate  float64 `json:"rate"`
}

// Masking says what the engine masks. Masked values keep their length.
// CSS is never touched: <style> text, style attributes, stylesheet text
// and the URLs of stylesheets.
type Masking struct {
	// Inputs masks input values: rrweb input events and value attributes.
	Inputs bool `json:"inputs"`
	// Strict masks all text and every attribute that carries text.
	Strict bool `json:"strict"`
	// Selectors mark elements whose text is masked: ".class", "[attr]" or
	// "attr".
	Selectors []string `json:"selectors"`
	// Detectors names the detectors run on every string that can hold
	// user data: email, card, iban, phone, ssn, jwt, bearer, ip, secret,
	// or all.
	Detectors []string `json:"detectors"`
	// QueryAll masks every URL query value, not only those of sensitive
	// parameters.
	QueryAll bool `json:"query_all"`
	// QueryParams lists more query parameters whose values are masked.
	QueryParams []string `json:"query_params"`
	// DenyHeaders lists HTTP headers (lower-case) whose values are masked
	// whole.
	DenyHeaders []string `json:"deny_headers"`
}

// Default returns the default policy.
func Default() Policy {
	return Policy{
		Noise: Noise{
			Extensions: true,
			Messages:   DefaultNoiseMessages(),
		},
		Bots:     Bots{Drop: true, Webdriver: true, Headless: true},
		Sampling: Sampling{Rate: 0.1},
		Masking: Masking{
			Inputs:      true,
			Selectors:   []string{"[data-rv-mask]", "[data-sentry-mask]", "[data-lr-hide]", ".rr-mask"},
			Detectors:   []string{"all"},
			DenyHeaders: mask.DefaultDenyHeaders(),
		},
	}
}

// DefaultNoiseMessages is the default list of non-actionable browser
// errors.
func DefaultNoiseMessages() []string {
	return []string{
		"ResizeObserver loop limit exceeded",
		"ResizeObserver loop completed with undelivered notifications",
		"Script error.",
		"AbortError",
		"The user aborted a request",
		"The operation was aborted",
		"signal is aborted without reason",
		"Non-Error promise rejection captured",
		"NS_ERROR_ABORT",
		"NS_ERROR_NOT_INITIALIZED",
		"top.GLOBALS",
		"Can't find variable: ZiteReader",
		"jigsaw is not defined",
		"ComboSearch is not defined",
		"atomicFindClose",
		"fb_xd_fragment",
		"bmi_SafeAddOnload",
		"EBCallBackMessageReceived",
		"conduitPage",
		"instantSearchSDKJSBridgeClearHighlight",
		"__gCrWeb",
		"webkitExitFullScreen",
	}
}

// Resolved is a policy merged for one region and checked, ready for the
// engine.
type Resolved struct {
	Policy
	Detectors mask.Set
}

// Resolve parses a policy document (empty means the default policy),
// merges the override for region and checks the result.
func Resolve(doc []byte, region string) (*Resolved, error) {
	p := Default()
	if len(bytes.TrimSpace(doc)) > 0 {
		if err := strict(doc, &p); err != nil {
			return nil, fmt.Errorf("parse policy: %w", err)
		}
	}
	if o, ok := p.Regions[region]; ok && region != "" {
		if err := strict(o, &p); err != nil {
			return nil, fmt.Errorf("parse policy override for region %s: %w", region, err)
		}
	}
	r := &Resolved{Policy: p}
	if err := r.check(); err != nil {
		return nil, err
	}
	return r, nil
}

// Check parses a policy document and every regional override, for tools
// that store policies.
func Check(doc []byte) error {
	r, err := Resolve(doc, "")
	if err != nil {
		return err
	}
	for region := range r.Regions {
		if _, err := Resolve(doc, region); err != nil {
			return err
		}
	}
	return nil
}

func strict(doc []byte, p *Policy) error {
	d := json.NewDecoder(bytes.NewReader(doc))
	d.DisallowUnknownFields()
	regions := p.Regions
	if err := d.Decode(p); err != nil {
		return err
	}
	if regions != nil && p.Regions == nil {
		p.Regions = regions
	}
	return nil
}

func (r *Resolved) check() error {
	rate := func(what string, v float64) error {
		if v < 0 || v > 1 {
			return fmt.Errorf("policy: %s %v must be between 0 and 1", what, v)
		}
		return nil
	}
	if err := rate("sampling.rate", r.Sampling.Rate); err != nil {
		return err
	}
	for i, u := range r.Sampling.URLs {
		if err := rate(fmt.Sprintf("sampling.urls[%d].rate", i), u.Rate); err != nil {
			return err
		}
		if u.Match == "" {
			return fmt.Errorf("policy: sampling.urls[%d].match is empty", i)
		}
	}
	set, bad := mask.ParseSet(r.Masking.Detectors)
	if bad != "" {
		return fmt.Errorf("policy: masking.detectors: unknown detector %q", bad)
	}
	r.Detectors = set
	for i, s := range r.Masking.Selectors {
		if strings.TrimLeft(s, ".[") == "" || strings.ContainsAny(s, " >+~:") {
			return fmt.Errorf("policy: masking.selectors[%d] %q: want .class, [attr] or attr", i, s)
		}
	}
	for i, h := range r.Masking.DenyHeaders {
		r.Masking.DenyHeaders[i] = strings.ToLower(h)
	}
	for i, h := range r.Bots.Allow {
		r.Bots.Allow[i] = strings.ToLower(h)
	}
	for i, h := range r.Bots.Extra {
		r.Bots.Extra[i] = strings.ToLower(h)
	}
	return nil
}
