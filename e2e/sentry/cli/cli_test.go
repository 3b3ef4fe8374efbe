// Package cli tests Rearview against the real sentry-cli (3.8.0, pinned in
// package-lock.json beside this file and installed by `go tool task
// sentry-cli:install`): a CI pipeline that runs sentry-cli switches to
// Rearview by changing --url.
package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/e2e/proc"
	"github.com/rearview-dev/rearview/internal/testenv"
)

var bins proc.Builder

const (
	adminToken = "rva_sentry_cli_e2e_admin"
	release    = "r1"
	userUA     = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)

// sentryCLI returns the binary the npm package ships.
func sentryCLI(t *testing.T) string {
	t.Helper()
	if p, err := filepath.Abs(filepath.Join("node_modules", "@sentry", "cli-linux-x64", "bin", "sentry-cli")); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return testenv.Binary(t, "sentry-cli", "REARVIEW_SENTRY_CLI_BIN")
}

// run runs a command and fails the test with its output when it fails.
func run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = os.Environ()
	if env != nil {
		// Nothing of a developer's own Sentry setup leaks in.
		cmd.Env = nil
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "SENTRY_") && !strings.HasPrefix(kv, "HOME=") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, env...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// sentryEnv keeps sentry-cli off the network and away from the user's
// configuration: no update check, no .env, a fresh HOME without
// ~/.sentryclirc, no retries (a failure shows at once).
func sentryEnv(t *testing.T) []string {
	return []string{"HOME=" + t.TempDir(), "SENTRY_DISABLE_UPDATE_CHECK=true", "SENTRY_LOAD_DOTENV=0", "SENTRY_HTTP_MAX_RETRIES=0"}
}

type project struct {
	ID        string `json:"id"`
	IngestKey string `json:"ingest_key"`
	Token     string `json:"api_token"`
}

// build copies the demo shop's bundle and its map into dir/assets, with
// the sourceMappingURL comment a build leaves, and returns the bundle's
// file name.
func build(t *testing.T, dir string) string {
	t.Helper()
	demo := filepath.Join(testenv.RepoRoot(), "e2e", "demo")
	js, _ := filepath.Glob(filepath.Join(demo, "dist", "assets", "app-*.js"))
	if len(js) != 1 {
		t.Fatalf("demo bundles: %v", js)
	}
	name := filepath.Base(js[0])
	code, err := os.ReadFile(js[0])
	if err != nil {
		t.Fatal(err)
	}
	m, err := os.ReadFile(filepath.Join(demo, "maps", name+".map"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "assets"), 0o755); err != nil {
		t.Fatal(err)
	}
	code = append(bytes.TrimRight(code, "\n"), []byte("\n//# sourceMappingURL="+name+".map\n")...)
	os.WriteFile(filepath.Join(dir, "assets", name), code, 0o644)
	os.WriteFile(filepath.Join(dir, "assets", name+".map"), m, 0o644)
	return name
}

// needles are places in the demo bundle where its errors are thrown (the
// three `cart.items.map` of the broken checkout) and a frame further up.
var needles = []string{"t.items.map(r=>E", "r.items.map(n=>n.name)", "t.items.map(n=>n.qty)", "b.dispatchEvent("}

// position returns the 1-based line and column of needle in code, as a
// browser reports a frame there.
func position(t *testing.T, code []byte, needle string) (int, int) {
	t.Helper()
	i := bytes.Index(code, []byte(needle))
	if i < 0 {
		t.Fatalf("%q not in the bundle", needle)
	}
	line := 1 + bytes.Count(code[:i], []byte("\n"))
	col := i - (bytes.LastIndexByte(code[:i], '\n') + 1) + 1
	return line, col
}

var debugIDRe = regexp.MustCompile(`(?m)^//# debugId=([0-9a-f-]{36})$`)

// event is an error thrown at every needle of the bundle in dir, as the
// SDK reports it: with the Debug ID the bundle registered, or without.
func event(t *testing.T, id, dir, name, pageURL string, withDebugID bool) []byte {
	t.Helper()
	code, err := os.ReadFile(filepath.Join(dir, "assets", name))
	if err != nil {
		t.Fatal(err)
	}
	frameURL := pageURL + "assets/" + name
	var frames []string
	for _, n := range needles {
		l, c := position(t, code, n)
		frames = append(frames, fmt.Sprintf(`{"url":%q,"function":"x","line":%d,"column":%d}`, frameURL, l, c))
	}
	debugIDs := ""
	if withDebugID {
		m := debugIDRe.FindSubmatch(code)
		if m == nil {
			t.Fatalf("%s has no //# debugId= comment", name)
		}
		debugIDs = fmt.Sprintf(`,"debug_ids":{%q:%q}`, frameURL, m[1])
	}
	now := time.Now().UnixMilli()
	return []byte(fmt.Sprintf(`{"v":1,"sdk":{"name":"e2e","version":"1"},"session":{"id":"s-%s","seq":0,"started_at":%d,"flags":{}},"page":{"url":%q},"device":{"ua":%q,"viewport":{"w":1280,"h":800}},"sent_at":%d,"events":[{"id":%q,"ts":%d,"kind":"error","error":{"type":"TypeError","value":"Cannot read properties of undefined (reading 'map')","mechanism":"onerror","release":%q,"stack":[%s]%s}}]}`,
		id, now, pageURL, userUA, now, id, now, release, strings.Join(frames, ","), debugIDs))
}

type frame struct {
	Original *struct {
		Source   string `json:"source"`
		Function string `json:"function"`
		Line     int    `json:"line"`
		Column   int    `json:"column"`
	} `json:"original"`
	Context *struct {
		Line string `json:"line"`
	} `json:"context"`
	UnresolvedReason string `json:"unresolved_reason"`
}

// stored waits for event id of project and returns its symbolicated stack.
func stored(t *testing.T, apiURL string, p project, id string) []frame {
	t.Helper()
	var ev struct {
		Event struct {
			Error struct {
				Stack []frame `json:"stack"`
			} `json:"error"`
		} `json:"event"`
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		if st, body := testenv.API(t, "GET", apiURL+"/api/v1/events/"+id+"?project="+p.ID, adminToken, nil, &ev); st != 200 {
			return fmt.Errorf("event %s: %d %s", id, st, body)
		}
		return nil
	})
	return ev.Event.Error.Stack
}

// TestSentryCLIUpload runs `rearview up`, then in two projects: `rearview
// sourcemaps inject` + `upload`, and `sentry-cli sourcemaps inject` +
// `sentry-cli --url … sourcemaps upload` of the same demo build (and, in
// a third, `rearview sourcemaps upload` of the sentry-cli-injected build;
// in a fourth, sentry-cli's upload without a release).
// Errors thrown at the same places of each build symbolicate to the same
// original frames, by Debug ID and by release and URL.
func TestSentryCLIUpload(t *testing.T) {
	cli := sentryCLI(t)
	bin := bins.Binary(t)
	logDir := t.TempDir()
	edgeAddr, apiAddr := proc.Addr(t), proc.Addr(t)
	proc.Start(t, logDir, "up", bin, nil, "up", "--data-dir", t.TempDir(), "--nats-listen", "127.0.0.1:0",
		"--edge-listen", edgeAddr, "--api-listen", apiAddr, "--admin-token", adminToken)
	apiURL, edgeURL := "http://"+apiAddr, "http://"+edgeAddr
	proc.WaitHTTP(t, apiURL+"/readyz", 60*time.Second)
	proc.WaitHTTP(t, edgeURL+"/readyz", 60*time.Second)

	projects := map[string]project{}
	for _, name := range []string{"ours", "sentry", "mixed", "debugid-only"} {
		var p project
		if st, body := testenv.API(t, "POST", apiURL+"/api/v1/projects", adminToken, map[string]string{"name": name}, &p); st != 201 {
			t.Fatalf("create project: %d %s", st, body)
		}
		projects[name] = p
	}
	senv := sentryEnv(t)
	dirs := map[string]string{}
	var name string
	for k := range projects {
		dirs[k] = t.TempDir()
		name = build(t, dirs[k])
	}
	// Ours: rearview's own tools.
	run(t, nil, bin, "sourcemaps", "inject", dirs["ours"])
	run(t, nil, bin, "sourcemaps", "upload", "--release", release, "--url", apiURL, "--token", projects["ours"].Token, dirs["ours"])
	// Sentry's: inject and upload with sentry-cli, only --url changed.
	out := run(t, senv, cli, "sourcemaps", "inject", dirs["sentry"])
	t.Logf("sentry-cli sourcemaps inject:\n%s", out)
	out = run(t, senv, cli, "--url", apiURL, "--auth-token", projects["sentry"].Token, "sourcemaps", "upload",
		"--org", "acme", "--project", projects["sentry"].ID, "--release", release, dirs["sentry"])
	t.Logf("sentry-cli sourcemaps upload:\n%s", out)
	if !strings.Contains(out, "File processing complete") {
		t.Fatalf("sentry-cli did not report the upload processed:\n%s", out)
	}
	// Sentry's recommended flow today: Debug IDs, no release at all.
	run(t, senv, cli, "sourcemaps", "inject", dirs["debugid-only"])
	run(t, senv, cli, "--url", apiURL, "--auth-token", projects["debugid-only"].Token, "sourcemaps", "upload",
		"--org", "acme", "--project", projects["debugid-only"].ID, dirs["debugid-only"])
	// Mixed: sentry-cli's injection, rearview's upload.
	run(t, senv, cli, "sourcemaps", "inject", dirs["mixed"])
	run(t, nil, bin, "sourcemaps", "upload", "--release", release, "--url", apiURL, "--token", projects["mixed"].Token, dirs["mixed"])

	t.Run("stored like rearview sourcemaps upload", func(t *testing.T) {
		type meta struct {
			Release string `json:"release"`
			URL     string `json:"url"`
			MapURL  string `json:"map_url"`
			DebugID string `json:"debug_id"`
		}
		got := map[string]meta{}
		for k, p := range projects {
			var l struct {
				Sourcemaps []meta `json:"sourcemaps"`
			}
			if st, body := testenv.API(t, "GET", apiURL+"/api/v1/sourcemaps?project="+p.ID, adminToken, nil, &l); st != 200 || len(l.Sourcemaps) != 1 {
				t.Fatalf("%s: %d %s", k, st, body)
			}
			got[k] = l.Sourcemaps[0]
			code, _ := os.ReadFile(filepath.Join(dirs[k], "assets", name))
			if m := debugIDRe.FindSubmatch(code); m == nil || string(m[1]) != got[k].DebugID {
				t.Errorf("%s: stored Debug ID %q, the bundle's is %q", k, got[k].DebugID, m)
			}
		}
		want := meta{Release: release, URL: "~/assets/" + name, MapURL: "~/assets/" + name + ".map"}
		for k, m := range got {
			m.DebugID = ""
			if k == "debugid-only" {
				m.Release = release
			}
			if m != want {
				t.Errorf("%s: stored %+v, want %+v", k, m, want)
			}
		}
		if got["debugid-only"].Release != "" {
			t.Errorf("uploaded without --release, stored for release %q", got["debugid-only"].Release)
		}
		if got["sentry"].DebugID != got["mixed"].DebugID {
			t.Errorf("sentry-cli's Debug ID differs between its upload (%s) and ours (%s)", got["sentry"].DebugID, got["mixed"].DebugID)
		}
	})

	t.Run("releases new, finalize, info", func(t *testing.T) {
		tok, id := projects["sentry"].Token, projects["sentry"].ID
		flags := []string{"--url", apiURL, "--auth-token", tok, "releases", "--org", "acme", "--project", id}
		if out := run(t, senv, cli, append(flags, "new", release)...); !strings.Contains(out, "Created release "+release) {
			t.Fatalf("releases new: %s", out)
		}
		if out := run(t, senv, cli, append(flags, "finalize", release)...); !strings.Contains(out, "Finalized release "+release) {
			t.Fatalf("releases finalize: %s", out)
		}
		out := run(t, senv, cli, append(flags, "info", "--show-projects", release)...)
		if !strings.Contains(out, release) || !strings.Contains(out, id) {
			t.Fatalf("releases info: %s", out)
		}
		var rel struct {
			DateReleased *time.Time `json:"dateReleased"`
		}
		if st, body := testenv.API(t, "GET", apiURL+"/api/0/organizations/acme/releases/"+release+"/", tok, nil, &rel); st != 200 || rel.DateReleased == nil {
			t.Fatalf("release after finalize: %d %s", st, body)
		}
	})

	t.Run("info, organizations list, projects list", func(t *testing.T) {
		flags := []string{"--url", apiURL, "--auth-token", projects["sentry"].Token}
		if out := run(t, senv, cli, append(flags, "info")...); !strings.Contains(out, "project:releases") {
			t.Fatalf("info: %s", out)
		}
		if out := run(t, senv, cli, append(flags, "organizations", "list")...); !strings.Contains(out, "rearview") {
			t.Fatalf("organizations list: %s", out)
		}
		out := run(t, senv, cli, append(flags, "projects", "list", "--org", "acme")...)
		if !strings.Contains(out, projects["sentry"].ID) || strings.Contains(out, projects["ours"].ID) {
			t.Fatalf("projects list with the sentry project's token: %s", out)
		}
	})

	t.Run("refusals sentry-cli reports", func(t *testing.T) {
		for _, c := range []struct {
			name, token, project, want string
		}{
			{"wrong token", "rvt_not_a_token", projects["sentry"].ID, "401"},
			{"another project's token", projects["ours"].Token, projects["sentry"].ID, "this token is not valid for project " + projects["sentry"].ID},
			{"unknown project", adminToken, "nope", "no project nope"},
		} {
			t.Run(c.name, func(t *testing.T) {
				cmd := exec.Command(cli, "--url", apiURL, "--auth-token", c.token, "sourcemaps", "upload", "--org", "acme", "--project", c.project, "--release", release, dirs["sentry"])
				cmd.Env = append(os.Environ(), senv...)
				out, err := cmd.CombinedOutput()
				if err == nil || !strings.Contains(string(out), c.want) {
					t.Fatalf("exit %v, want a failure saying %q:\n%s", err, c.want, out)
				}
			})
		}
	})

	// The same error, thrown in each project's build, with and without
	// the Debug ID (the second finds the map by release and URL).
	pageURL := "http://shop.example.com/"
	frames := map[string][]frame{}
	for k, p := range projects {
		for _, withID := range []bool{true, false} {
			if k == "debugid-only" && !withID {
				continue // its maps have no release to match by
			}
			id := fmt.Sprintf("%s-debugid-%v", k, withID)
			body := event(t, id, dirs[k], name, pageURL, withID)
			testenv.Eventually(t, 20*time.Second, func() error {
				req, _ := http.NewRequest("POST", edgeURL+"/v1/ingest", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Rearview-Key", p.IngestKey)
				req.Header.Set("User-Agent", userUA)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return err
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 202 {
					return fmt.Errorf("ingest: %d %s", resp.StatusCode, b)
				}
				return nil
			})
			frames[id] = stored(t, apiURL, p, id)
		}
	}
	want := frames["ours-debugid-true"]
	if len(want) != len(needles) {
		t.Fatalf("%d frames stored, want %d", len(want), len(needles))
	}
	for i, f := range want {
		if f.Original == nil || !strings.HasPrefix(f.Original.Source, "src/") || f.Context == nil {
			t.Fatalf("frame %d (%s) not symbolicated: %+v", i, needles[i], f)
		}
	}
	for id, got := range frames {
		if !reflect.DeepEqual(got, want) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			t.Errorf("%s: frames\n%s\nwant (rearview inject + upload)\n%s", id, g, w)
		}
	}
	for i, f := range want {
		t.Logf("%s → %s:%d:%d %s", needles[i], f.Original.Source, f.Original.Line, f.Original.Column, f.Original.Function)
	}
}
