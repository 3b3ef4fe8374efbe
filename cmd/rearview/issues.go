package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/rearview-dev/rearview/coordinator"
	"github.com/rearview-dev/rearview/coordinator/issues"
)

// withIssues groups the coordinator's error events into issues and returns
// the issues API routes to mount. sym may be nil (frames stay minified).
func withIssues(coord *coordinator.Coordinator, sym issues.Symbolicator, log *slog.Logger) func(*http.ServeMux) {
	return issues.Register(coord, sym, issues.Options{Logger: log}).Mount
}

// IssuesCmd lists and triages issues and sets grouping rules.
type IssuesCmd struct {
	List    IssuesListCmd    `cmd:"" help:"List issues, most recently seen first."`
	Show    IssuesShowCmd    `cmd:"" help:"Show an issue and its latest event's symbolicated stack."`
	Resolve IssuesResolveCmd `cmd:"" help:"Resolve an issue; only a newer release reopens it."`
	Ignore  IssuesIgnoreCmd  `cmd:"" help:"Ignore an issue."`
	Reopen  IssuesReopenCmd  `cmd:"" help:"Mark an issue unresolved."`
	Rules   IssuesRulesCmd   `cmd:"" help:"Show or set a project's grouping rules."`
}

// IssueAPIFlags add the project to the API flags; admins must name it.
type IssueAPIFlags struct {
	APIFlags
	Project string `help:"Project id (required with the admin token)." env:"REARVIEW_PROJECT"`
}

func (f *IssueAPIFlags) query(v url.Values) string {
	if f.Project != "" {
		v.Set("project", f.Project)
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// IssuesListCmd lists issues.
type IssuesListCmd struct {
	IssueAPIFlags
	Status string `help:"unresolved, resolved, ignored or all." default:"unresolved" enum:"unresolved,resolved,ignored,all"`
	Query  string `short:"q" help:"Text to find in title or culprit."`
	Limit  int    `help:"How many issues at most." default:"50"`
}

// Run prints one line per issue.
func (c *IssuesListCmd) Run() error {
	v := url.Values{"limit": {fmt.Sprint(c.Limit)}}
	if c.Status != "all" {
		v.Set("status", c.Status)
	}
	if c.Query != "" {
		v.Set("q", c.Query)
	}
	var out struct {
		Issues []issues.Issue `json:"issues"`
	}
	if err := c.call(http.MethodGet, "/api/v1/issues"+c.query(v), nil, &out); err != nil {
		return fmt.Errorf("list issues: %w", err)
	}
	for _, x := range out.Issues {
		status := x.Status
		if x.Regressed {
			status = "regressed"
		}
		fmt.Printf("%-16s %-10s %7d ev %5d users  %s  %s\n", x.ID, status, x.Count, x.Users, time.UnixMilli(x.LastSeen).Format(time.DateTime), x.Title)
	}
	return nil
}

// IssuesShowCmd shows one issue.
type IssuesShowCmd struct {
	ID string `arg:"" help:"Issue id."`
	IssueAPIFlags
}

// Run prints the issue and its latest stack.
func (c *IssuesShowCmd) Run() error {
	var out struct {
		Issue       issues.Issue `json:"issue"`
		LatestEvent *struct {
			ID      string `json:"id"`
			Payload struct {
				Error struct {
					Stack []struct {
						URL      string `json:"url"`
						Function string `json:"function"`
						Line     int    `json:"line"`
						Column   int    `json:"column"`
						InApp    bool   `json:"in_app"`
						Original *struct {
							Source   string `json:"source"`
							Function string `json:"function"`
							Line     int    `json:"line"`
							Column   int    `json:"column"`
						} `json:"original"`
						Reason string `json:"unresolved_reason"`
					} `json:"stack"`
				} `json:"error"`
			} `json:"payload"`
		} `json:"latest_event"`
	}
	if err := c.call(http.MethodGet, "/api/v1/issues/"+url.PathEscape(c.ID)+c.query(url.Values{}), nil, &out); err != nil {
		return fmt.Errorf("show issue: %w", err)
	}
	x := out.Issue
	status := x.Status
	if x.Regressed {
		status += " (regressed)"
	}
	fmt.Printf("%s\n  id        %s (project %s)\n  status    %s\n  culprit   %s\n  events    %d\n  users     %d\n  first     %s\n  last      %s\n  releases  %s\n  trend     %v\n",
		x.Title, x.ID, x.Project, status, x.Culprit, x.Count, x.Users,
		time.UnixMilli(x.FirstSeen).Format(time.DateTime), time.UnixMilli(x.LastSeen).Format(time.DateTime),
		strings.Join(x.Releases, ", "), x.Trend)
	if x.Rule != "" {
		fmt.Printf("  rule      %s\n", x.Rule)
	}
	if ev := out.LatestEvent; ev != nil {
		fmt.Printf("latest event %s:\n", ev.ID)
		for _, f := range ev.Payload.Error.Stack {
			mark := " "
			if f.InApp {
				mark = "*"
			}
			if o := f.Original; o != nil {
				fmt.Printf(" %s %s (%s:%d:%d)\n", mark, o.Function, o.Source, o.Line, o.Column)
			} else {
				fmt.Printf(" %s %s (%s:%d:%d) [%s]\n", mark, f.Function, f.URL, f.Line, f.Column, f.Reason)
			}
		}
	}
	return nil
}

func setStatus(f *IssueAPIFlags, id string, change issues.StatusChange) error {
	var x issues.Issue
	if err := f.call(http.MethodPatch, "/api/v1/issues/"+url.PathEscape(id)+f.query(url.Values{}), change, &x); err != nil {
		return fmt.Errorf("%s issue: %w", change.Status, err)
	}
	fmt.Printf("%s %s", x.ID, x.Status)
	if x.ResolvedIn != "" {
		fmt.Printf(" in release %s", x.ResolvedIn)
	}
	fmt.Println()
	return nil
}

// IssuesResolveCmd resolves an issue.
type IssuesResolveCmd struct {
	ID      string `arg:"" help:"Issue id."`
	Release string `help:"Release the fix ships in; default: the newest release seen."`
	IssueAPIFlags
}

// Run resolves.
func (c *IssuesResolveCmd) Run() error {
	return setStatus(&c.IssueAPIFlags, c.ID, issues.StatusChange{Status: issues.StatusResolved, Release: c.Release})
}

// IssuesIgnoreCmd ignores an issue.
type IssuesIgnoreCmd struct {
	ID string `arg:"" help:"Issue id."`
	IssueAPIFlags
}

// Run ignores.
func (c *IssuesIgnoreCmd) Run() error {
	return setStatus(&c.IssueAPIFlags, c.ID, issues.StatusChange{Status: issues.StatusIgnored})
}

// IssuesReopenCmd marks an issue unresolved.
type IssuesReopenCmd struct {
	ID string `arg:"" help:"Issue id."`
	IssueAPIFlags
}

// Run reopens.
func (c *IssuesReopenCmd) Run() error {
	return setStatus(&c.IssueAPIFlags, c.ID, issues.StatusChange{Status: issues.StatusUnresolved})
}

// IssuesRulesCmd shows or sets grouping rules.
type IssuesRulesCmd struct {
	Show IssuesRulesShowCmd `cmd:"" help:"Print the project's grouping rules."`
	Set  IssuesRulesSetCmd  `cmd:"" help:"Validate and set the project's grouping rules from FILE ('-' for stdin)."`
}

// rulesProject is the project grouping rules are about: --project, or the
// project of a project token (found through the API).
func rulesProject(f *IssueAPIFlags) (string, error) {
	if f.Project != "" {
		return f.Project, nil
	}
	var out struct {
		Projects []struct {
			ID string `json:"id"`
		} `json:"projects"`
	}
	if err := f.call(http.MethodGet, "/api/v1/projects", nil, &out); err != nil {
		return "", err
	}
	if len(out.Projects) != 1 {
		return "", fmt.Errorf("the token sees %d projects; name one with --project", len(out.Projects))
	}
	return out.Projects[0].ID, nil
}

// IssuesRulesShowCmd prints rules.
type IssuesRulesShowCmd struct {
	IssueAPIFlags
}

// Run prints the rules text.
func (c *IssuesRulesShowCmd) Run() error {
	p, err := rulesProject(&c.IssueAPIFlags)
	if err != nil {
		return fmt.Errorf("show rules: %w", err)
	}
	var out issues.Rules
	if err := c.call(http.MethodGet, "/api/v1/projects/"+url.PathEscape(p)+"/grouping", nil, &out); err != nil {
		return fmt.Errorf("show rules: %w", err)
	}
	fmt.Print(out.Rules)
	if out.Rules != "" && !strings.HasSuffix(out.Rules, "\n") {
		fmt.Println()
	}
	return nil
}

// IssuesRulesSetCmd sets rules from a file.
type IssuesRulesSetCmd struct {
	File string `arg:"" help:"Rules file in Sentry's fingerprinting syntax; '-' reads stdin."`
	IssueAPIFlags
}

// Run uploads the rules; a syntax error names the file, line and column.
func (c *IssuesRulesSetCmd) Run() error {
	var text []byte
	var err error
	if c.File == "-" {
		text, err = io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
	} else {
		text, err = os.ReadFile(c.File)
	}
	if err != nil {
		return fmt.Errorf("read rules: %w", err)
	}
	p, err := rulesProject(&c.IssueAPIFlags)
	if err != nil {
		return fmt.Errorf("set rules: %w", err)
	}
	var out issues.Rules
	if err := c.call(http.MethodPut, "/api/v1/projects/"+url.PathEscape(p)+"/grouping", map[string]string{"rules": string(text)}, &out); err != nil {
		return fmt.Errorf("set rules from %s: %w", c.File, err)
	}
	fmt.Printf("project %s: %d fingerprint rules, %d stack rules (version %d)\n", out.Project, out.FingerprintRules, out.StackRules, out.Version)
	return nil
}
