package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rearview-dev/rearview/sdkproto"
)

// APIFlags locate the coordinator API for client commands.
type APIFlags struct {
	URL     string `help:"Coordinator URL." default:"http://127.0.0.1:7080" env:"REARVIEW_URL"`
	Token   string `help:"API token (admin for project creation); default: the admin token in --data-dir." env:"REARVIEW_TOKEN"`
	DataDir string `help:"Data dir of a local 'rearview up', to read its admin token." default:".rearview" env:"REARVIEW_DATA_DIR" type:"path"`
}

func (f *APIFlags) token() string {
	if f.Token != "" {
		return f.Token
	}
	b, err := os.ReadFile(filepath.Join(f.DataDir, "admin-token"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// call sends a JSON request and decodes a JSON answer into out.
func (f *APIFlags) call(method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, strings.TrimRight(f.URL, "/")+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+f.token())
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(data)))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// ProjectsCmd manages projects.
type ProjectsCmd struct {
	Create ProjectsCreateCmd `cmd:"" help:"Create a project; prints its public ingest key and its secret API token."`
	List   ProjectsListCmd   `cmd:"" help:"List projects."`

	SetRetention ProjectsSetRetentionCmd `cmd:"" name:"set-retention" help:"Set how long a project keeps its replays and its events (admin token)."`
}

// ProjectsCreateCmd creates a project.
type ProjectsCreateCmd struct {
	Name    string `arg:"" help:"Project name."`
	EdgeURL string `name:"edge-url" help:"Public URL of the edge Sentry SDKs send to, for the DSN printed (unless the coordinator was given one)." default:"http://127.0.0.1:7070" env:"REARVIEW_EDGE_URL"`
	APIFlags
}

// Run creates the project through the API.
func (c *ProjectsCreateCmd) Run() error {
	var out struct {
		ID        string `json:"id"`
		IngestKey string `json:"ingest_key"`
		Token     string `json:"api_token"`
		DSN       string `json:"dsn"`
	}
	if err := c.call(http.MethodPost, "/api/v1/projects", map[string]string{"name": c.Name}, &out); err != nil {
		return fmt.Errorf("create project: %w", err)
	}
	if out.DSN == "" {
		out.DSN = sdkproto.SentryDSN(c.EdgeURL, out.IngestKey, out.ID)
	}
	fmt.Printf("project     %s\ningest key  %s   (public: put it in the SDK)\nsentry dsn  %s   (public: for @sentry/browser, instead of your Sentry DSN)\napi token   %s   (secret: shown once)\n", out.ID, out.IngestKey, out.DSN, out.Token)
	return nil
}

// ProjectsListCmd lists projects.
type ProjectsListCmd struct {
	APIFlags
}

// Run lists the projects the token can see.
func (c *ProjectsListCmd) Run() error {
	var out struct {
		Projects []struct {
			ID        string `json:"id"`
			Name      string `json:"name"`
			IngestKey string `json:"ingest_key"`
		} `json:"projects"`
	}
	if err := c.call(http.MethodGet, "/api/v1/projects", nil, &out); err != nil {
		return fmt.Errorf("list projects: %w", err)
	}
	for _, p := range out.Projects {
		fmt.Printf("%-24s %-32s %s\n", p.ID, p.IngestKey, p.Name)
	}
	return nil
}

// ProjectsSetRetentionCmd sets a project's retention overrides.
type ProjectsSetRetentionCmd struct {
	Project string `arg:"" help:"Project id."`
	Replays string `help:"How long replays are kept: days (14d) or hours in whole days (336h)." placeholder:"14d"`
	Events  string `help:"How long events and sessions are kept: days (30d) or hours in whole days (720h)." placeholder:"30d"`
	APIFlags
}

// Run sets the overrides through the API; a flag left out keeps its value.
func (c *ProjectsSetRetentionCmd) Run() error {
	if c.Replays == "" && c.Events == "" {
		return fmt.Errorf("set retention of %s: give --replays, --events or both", c.Project)
	}
	in := map[string]int{}
	for _, f := range []struct{ name, flag, value string }{
		{"replay_retention_days", "--replays", c.Replays},
		{"event_retention_days", "--events", c.Events},
	} {
		if f.value == "" {
			continue
		}
		d, err := parseDays(f.value)
		if err != nil {
			return fmt.Errorf("set retention of %s: %s: %w", c.Project, f.flag, err)
		}
		in[f.name] = d
	}
	var out struct {
		ID         string `json:"id"`
		ReplayDays int    `json:"replay_retention_days"`
		EventDays  int    `json:"event_retention_days"`
	}
	if err := c.call(http.MethodPatch, "/api/v1/projects/"+url.PathEscape(c.Project), in, &out); err != nil {
		return fmt.Errorf("set retention of %s: %w", c.Project, err)
	}
	// 0 is the coordinator's default (--replay-retention, --event-retention).
	show := func(d int) string {
		if d == 0 {
			return "coordinator default"
		}
		return fmt.Sprintf("%d days", d)
	}
	fmt.Printf("project     %s\nreplays     %s\nevents      %s\n", out.ID, show(out.ReplayDays), show(out.EventDays))
	return nil
}

// parseDays reads a retention as whole days: "14d", "14", or a Go duration
// that is a whole number of days ("336h"), since retention is kept per day.
func parseDays(s string) (int, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok || !strings.ContainsAny(s, "hmsuµn") {
		if !ok {
			n = s
		}
		d, err := strconv.Atoi(n)
		if err != nil || d < 1 {
			return 0, fmt.Errorf("%q is not a positive number of days such as 14d", s)
		}
		return d, nil
	}
	dur, err := time.ParseDuration(s)
	if err != nil || dur <= 0 || dur%(24*time.Hour) != 0 {
		return 0, fmt.Errorf("%q is not a whole number of days such as 14d or 336h", s)
	}
	return int(dur / (24 * time.Hour)), nil
}
