package botlist_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rearview-dev/rearview/wasm/noise"
	"github.com/rearview-dev/rearview/wasm/noise/botlist"
)

// pinned returns a file of a package that npm ci installed here (go tool
// task bots:deps). Without it the test is skipped, unless the run must be
// complete (REARVIEW_INTEGRATION=require, as in go tool task test).
func pinned(t *testing.T, pkg, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("node_modules", pkg, file))
	if err != nil {
		if os.Getenv("REARVIEW_INTEGRATION") == "require" {
			t.Fatalf("%v (run go tool task bots:deps)", err)
		}
		t.Skipf("%v (run go tool task bots:deps)", err)
	}
	return b
}

// TestVendoredIsPinned keeps the vendored list equal to the pinned
// package's file, and the version the module reports equal to the pin.
func TestVendoredIsPinned(t *testing.T) {
	var pkg struct {
		DevDependencies map[string]string `json:"devDependencies"`
	}
	b, err := os.ReadFile("package.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatal(err)
	}
	if got := "crawler-user-agents@" + pkg.DevDependencies["crawler-user-agents"]; got != botlist.Version {
		t.Fatalf("package.json pins %s, botlist.Version is %s", got, botlist.Version)
	}
	want := pinned(t, "crawler-user-agents", "crawler-user-agents.json")
	if !bytes.Equal(botlist.JSON, want) {
		t.Fatalf("crawler-user-agents.json differs from the pinned package's file: run go tool task bots:update")
	}
	var installed struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(pinned(t, "crawler-user-agents", "package.json"), &installed); err != nil {
		t.Fatal(err)
	}
	if "crawler-user-agents@"+installed.Version != botlist.Version {
		t.Fatalf("node_modules holds crawler-user-agents %s, want %s: run go tool task bots:deps", installed.Version, botlist.Version)
	}
}

func lines(b []byte) []string {
	var out []string
	s := bufio.NewScanner(bytes.NewReader(b))
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		if l := strings.TrimSpace(s.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// TestRecall measures the built-in matcher on three pinned lists: the
// examples of the list it is built from (recall at least 99 %), the top
// 100 browser User-Agents of top-user-agents (no false positive), and
// CrawlerDetect's crawler fixtures shipped in es6-crawler-detect, a list
// the matcher is not built from (recall reported). CrawlerDetect's 165,000
// real device User-Agents are reported too: a larger, older human list,
// with some monitors and libraries in it. BENCHMARKS.md quotes this test's
// output (go test ./wasm/noise/botlist -run TestRecall -v).
func TestRecall(t *testing.T) {
	var crawlers []struct {
		Pattern   string   `json:"pattern"`
		Instances []string `json:"instances"`
	}
	if err := json.Unmarshal(botlist.JSON, &crawlers); err != nil {
		t.Fatal(err)
	}
	var own []string
	for _, c := range crawlers {
		own = append(own, c.Instances...)
	}
	var human []string
	if err := json.Unmarshal(pinned(t, "top-user-agents", "src/index.json"), &human); err != nil {
		t.Fatal(err)
	}
	detect := lines(pinned(t, "es6-crawler-detect", "test/lib/database/crawlers.txt"))
	devices := lines(pinned(t, "es6-crawler-detect", "test/lib/database/devices.txt"))

	l := noise.Builtin()
	count := func(uas []string) (n int, hits []string) {
		for _, ua := range uas {
			if l.Match([]byte(ua)) {
				hits = append(hits, ua)
			}
		}
		return len(hits), hits
	}
	pct := func(a, b int) float64 { return 100 * float64(a) / float64(b) }

	n, hits := count(own)
	t.Logf("recall on %s's own examples: %d/%d = %.2f %%", botlist.Version, n, len(own), pct(n, len(own)))
	if pct(n, len(own)) < 99 {
		t.Errorf("recall on the list's examples %.2f %% < 99 %%", pct(n, len(own)))
	}
	_ = hits
	n, hits = count(human)
	t.Logf("false positives on top-user-agents' %d browser User-Agents: %d", len(human), n)
	for _, h := range hits {
		t.Errorf("false positive: %s", h)
	}
	n, _ = count(detect)
	t.Logf("recall on CrawlerDetect's %d crawlers (es6-crawler-detect 3.3.0, not a source of the matcher): %d = %.2f %%", len(detect), n, pct(n, len(detect)))
	n, hits = count(devices)
	t.Logf("matched among CrawlerDetect's %d device User-Agents: %d = %.3f %%", len(devices), n, pct(n, len(devices)))
	if testing.Verbose() {
		for _, h := range hits {
			t.Logf("  device matched: %s", h)
		}
	}
}
