package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
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
}

// ProjectsCreateCmd creates a project.
type ProjectsCreateCmd struct {
	Name string `arg:"" help:"Project name."`
	APIFlags
}

// Run creates the project through the API.
func (c *ProjectsCreateCmd) Run() error {
	var out struct {
		ID        string `json:"id"`
		IngestKey string `json:"ingest_key"`
		Token     string `json:"api_token"`
	}
	if err := c.call(http.MethodPost, "/api/v1/projects", map[string]string{"name": c.Name}, &out); err != nil {
		return fmt.Errorf("create project: %w", err)
	}
	fmt.Printf("project     %s\ningest key  %s   (public: put it in the SDK)\napi token   %s   (secret: shown once)\n", out.ID, out.IngestKey, out.Token)
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
