package main

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestProcess runs demoshop the way the e2e test does: a separate process on
// a free port, spans to a file, stopped with SIGTERM.
func TestProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "demoshop")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	spans := filepath.Join(dir, "spans.jsonl")
	cmd := exec.Command(bin, "--addr", "127.0.0.1:0", "--edge", "http://127.0.0.1:1", "--key", "rvk_proc",
		"--release", "r42", "--spans", spans, "--hero-delay", "0", "--region-edge", "eu=http://127.0.0.1:2")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("no listening line: %v; stderr: %s", err, stderr.String())
	}
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "demoshop listening on ")
	if !ok {
		t.Fatalf("unexpected first line %q", line)
	}

	resp, err := http.Get(base + "/?region=eu")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"http://127.0.0.1:2/sdk/v1.js", "rvk_proc", "r42"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("page lacks %q", want)
		}
	}

	const traceID = "0af7651916cd43dd8448eb211c80319c"
	req, _ := http.NewRequest("POST", base+"/api/checkout", strings.NewReader(`{"email":"a@b.c","card":"4242","address":"x"}`))
	req.Header.Set("traceparent", "00-"+traceID+"-b7ad6b7169203331-01")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("checkout: %d, want 500", resp.StatusCode)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v; stderr: %s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("demoshop did not stop on SIGTERM")
	}
	b, err := os.ReadFile(spans)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"TraceID":"`+traceID+`"`)) || !bytes.Contains(b, []byte(`"Name":"POST /api/checkout"`)) {
		t.Fatalf("spans file lacks the checkout span of trace %s:\n%s", traceID, b)
	}
}
