// Package runner runs synthetic checks: a Lighthouse lab run per configured
// URL and device profile (the pinned npm lighthouse driving Debian's
// Chromium), and scripted journeys in headless Chromium through chromedp,
// with the page's Rearview SDK recording them as synthetic sessions.
//
// `rearview synthetic run` and the coordinator's scheduled probes share it:
// LoadConfig reads synthetic.yaml, Runner.Run returns one
// synthetic.Result per check.
package runner

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/rearview-dev/rearview/coordinator/synthetic"
)

// Config is a synthetic.yaml file.
type Config struct {
	// Project is the project results belong to: the coordinator's probes
	// need it; `synthetic run` takes it as --project's default.
	Project string `yaml:"project"`
	// BaseURL resolves the relative URLs of pages and goto steps.
	BaseURL string `yaml:"base_url"`
	// Release tags the results; the command line's --release wins.
	Release string `yaml:"release"`
	// Margin is how much worse than the previous release's median a
	// metric may get before it counts as a regression ("10%", default).
	Margin Percent `yaml:"margin"`
	// Runs is how many Lighthouse runs each page and profile gets; the
	// median counts (default 1: Lighthouse is slow).
	Runs int `yaml:"runs"`
	// Schedule is how often a coordinator probes (default 5m).
	Schedule Duration    `yaml:"schedule"`
	Pages    []Page      `yaml:"pages"`
	Journeys []Journey   `yaml:"journeys"`
	Budgets  []BudgetDef `yaml:"budgets"`
}

// Page is a URL Lighthouse audits.
type Page struct {
	Name string `yaml:"name"`
	URL  string `yaml:"url"`
	// Profiles default to mobile.
	Profiles []string `yaml:"profiles"`
	// Throttling is how Lighthouse slows the page to its profile:
	// "simulate" (default, Lighthouse's own: loads the page at full speed
	// and computes the metrics from that trace with Lantern) or "devtools"
	// (throttles Chromium's network and CPU while it loads). Lantern sees
	// a request's final priority only, so a regression in when the browser
	// starts a request (fetchpriority, preload, a late-discovered image)
	// needs devtools; it is slower (the throttled load is real) and takes
	// more of its noise from the machine.
	Throttling string `yaml:"throttling"`
}

// Lighthouse's throttling methods (Page.Throttling).
const (
	Simulate = "simulate"
	DevTools = "devtools"
)

// Journey is a scripted check.
type Journey struct {
	Name string `yaml:"name"`
	// Profile is desktop (default) or mobile (a phone's viewport and UA).
	Profile string `yaml:"profile"`
	// Timeout bounds each step (default 20s).
	Timeout Duration `yaml:"timeout"`
	// AllowPageErrors keeps a journey passing when the page throws;
	// by default an uncaught exception fails it.
	AllowPageErrors bool   `yaml:"allow_page_errors"`
	Steps           []Step `yaml:"steps"`
}

// Step is one action; exactly one field is set.
type Step struct {
	Goto       string      `yaml:"goto"`
	Click      string      `yaml:"click"`
	Type       *TypeStep   `yaml:"type"`
	WaitFor    string      `yaml:"wait-for-selector"`
	AssertText *AssertStep `yaml:"assert-text"`
}

// TypeStep types Text into the element Selector names.
type TypeStep struct {
	Selector string `yaml:"selector"`
	Text     string `yaml:"text"`
}

// AssertStep checks that the element's text contains Contains.
type AssertStep struct {
	Selector string `yaml:"selector"`
	Contains string `yaml:"contains"`
}

// Name describes the step for tables and errors.
func (s Step) Name() string {
	switch {
	case s.Goto != "":
		return "goto " + s.Goto
	case s.Click != "":
		return "click " + s.Click
	case s.Type != nil:
		return "type " + s.Type.Selector
	case s.WaitFor != "":
		return "wait-for-selector " + s.WaitFor
	case s.AssertText != nil:
		return fmt.Sprintf("assert-text %s contains %q", s.AssertText.Selector, s.AssertText.Contains)
	}
	return "?"
}

func (s Step) set() int {
	n := 0
	for _, b := range []bool{s.Goto != "", s.Click != "", s.Type != nil, s.WaitFor != "", s.AssertText != nil} {
		if b {
			n++
		}
	}
	return n
}

// Percent is a fraction written as "10%" (or 0.1).
type Percent float64

// UnmarshalYAML reads "10%" or a plain fraction.
func (p *Percent) UnmarshalYAML(n *yaml.Node) error {
	s := strings.TrimSpace(n.Value)
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil || v < 0 {
		return fmt.Errorf("line %d: margin %q: want a percentage such as 10%%", n.Line, n.Value)
	}
	if pct {
		v /= 100
	}
	*p = Percent(v)
	return nil
}

// Duration is a Go duration string ("5m", "20s").
type Duration time.Duration

// UnmarshalYAML reads a Go duration.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(strings.TrimSpace(n.Value))
	if err != nil || v <= 0 {
		return fmt.Errorf("line %d: duration %q: want e.g. 5m or 20s", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// BudgetDef is a budget line as written: "LCP <= 2500ms on /checkout mobile".
type BudgetDef string

// LoadConfig reads and validates a config file.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("synthetic config: %w", err)
	}
	c, err := ParseConfig(b)
	if err != nil {
		return nil, fmt.Errorf("synthetic config %s: %w", path, err)
	}
	return c, nil
}

// ParseConfig parses a config strictly (unknown keys are errors) and fills
// defaults.
func ParseConfig(b []byte) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, err
	}
	if c.Margin == 0 {
		c.Margin = 0.10
	}
	if c.Runs == 0 {
		c.Runs = 1
	}
	if c.Runs < 0 || c.Runs > 9 {
		return nil, errors.New("runs must be between 1 and 9")
	}
	if c.Schedule == 0 {
		c.Schedule = Duration(5 * time.Minute)
	}
	if time.Duration(c.Schedule) < 10*time.Second {
		return nil, errors.New("schedule must be at least 10s")
	}
	if len(c.Pages) == 0 && len(c.Journeys) == 0 {
		return nil, errors.New("no pages and no journeys to check")
	}
	if c.BaseURL != "" {
		if _, err := absURL("", c.BaseURL); err != nil {
			return nil, fmt.Errorf("base_url: %w", err)
		}
	}
	names := map[string]bool{}
	unique := func(what, name string) error {
		if name == "" {
			return fmt.Errorf("%s: name is required", what)
		}
		if names[name] {
			return fmt.Errorf("%s: name %q used twice", what, name)
		}
		names[name] = true
		return nil
	}
	for i := range c.Pages {
		p := &c.Pages[i]
		if p.Name == "" {
			p.Name = p.URL
		}
		if err := unique(fmt.Sprintf("pages[%d]", i), p.Name); err != nil {
			return nil, err
		}
		if _, err := absURL(c.BaseURL, p.URL); err != nil {
			return nil, fmt.Errorf("pages[%d] %s: %w", i, p.Name, err)
		}
		if len(p.Profiles) == 0 {
			p.Profiles = []string{synthetic.Mobile}
		}
		switch p.Throttling {
		case "":
			p.Throttling = Simulate
		case Simulate, DevTools:
		default:
			return nil, fmt.Errorf("pages[%d] %s: throttling %q is not simulate or devtools", i, p.Name, p.Throttling)
		}
		for _, pr := range p.Profiles {
			if pr != synthetic.Mobile && pr != synthetic.Desktop {
				return nil, fmt.Errorf("pages[%d] %s: profile %q is not mobile or desktop", i, p.Name, pr)
			}
		}
	}
	for i := range c.Journeys {
		j := &c.Journeys[i]
		if err := unique(fmt.Sprintf("journeys[%d]", i), j.Name); err != nil {
			return nil, err
		}
		if j.Profile == "" {
			j.Profile = synthetic.Desktop
		}
		if j.Profile != synthetic.Mobile && j.Profile != synthetic.Desktop {
			return nil, fmt.Errorf("journeys[%d] %s: profile %q is not mobile or desktop", i, j.Name, j.Profile)
		}
		if j.Timeout == 0 {
			j.Timeout = Duration(20 * time.Second)
		}
		if len(j.Steps) == 0 || j.Steps[0].Goto == "" {
			return nil, fmt.Errorf("journeys[%d] %s: the first step must be a goto", i, j.Name)
		}
		for k, s := range j.Steps {
			if s.set() != 1 {
				return nil, fmt.Errorf("journeys[%d] %s: steps[%d]: want exactly one of goto, click, type, wait-for-selector, assert-text", i, j.Name, k)
			}
			if s.Goto != "" {
				if _, err := absURL(c.BaseURL, s.Goto); err != nil {
					return nil, fmt.Errorf("journeys[%d] %s: steps[%d]: %w", i, j.Name, k, err)
				}
			}
			if (s.Type != nil && s.Type.Selector == "") || (s.AssertText != nil && (s.AssertText.Selector == "" || s.AssertText.Contains == "")) {
				return nil, fmt.Errorf("journeys[%d] %s: steps[%d]: selector and text are required", i, j.Name, k)
			}
		}
	}
	for i, b := range c.Budgets {
		if _, err := ParseBudget(string(b)); err != nil {
			return nil, fmt.Errorf("budgets[%d]: %w", i, err)
		}
	}
	return &c, nil
}

// absURL resolves u against base and requires an absolute http(s) URL.
func absURL(base, u string) (string, error) {
	ref, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("url %q: %w", u, err)
	}
	if !ref.IsAbs() {
		if base == "" {
			return "", fmt.Errorf("url %q is relative and there is no base_url", u)
		}
		b, err := url.Parse(base)
		if err != nil {
			return "", fmt.Errorf("base_url %q: %w", base, err)
		}
		ref = b.ResolveReference(ref)
	}
	if (ref.Scheme != "http" && ref.Scheme != "https") || ref.Host == "" {
		return "", fmt.Errorf("url %q: want http(s)", ref)
	}
	return ref.String(), nil
}
