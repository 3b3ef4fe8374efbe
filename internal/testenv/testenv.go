// Package testenv starts the real components integration tests run against:
// a NATS server with JetStream, a MinIO server and a headless Chromium.
//
// Binaries come from the Taskfile (`go tool task tools`), which caches them in
// .bin/ and exports their paths. When REARVIEW_INTEGRATION=require is set (as
// `go tool task test` and CI do) a missing component fails the test; otherwise
// the test is skipped, so `go test ./...` on a bare checkout still runs the
// unit tests.
package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// required reports whether missing components must fail tests.
func required() bool { return os.Getenv("REARVIEW_INTEGRATION") == "require" }

func missing(tb testing.TB, what string) {
	tb.Helper()
	if required() {
		tb.Fatalf("%s is required (REARVIEW_INTEGRATION=require) but not available; run `go tool task tools`", what)
	}
	tb.Skipf("%s not available; run through `go tool task test`", what)
}

// RepoRoot returns the repository root, found from this source file.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Binary returns the path of a tool the Taskfile caches: from env var
// (REARVIEW_MINIO_BIN, …) or .bin/<name> under the repository root.
func Binary(tb testing.TB, name, envVar string) string {
	tb.Helper()
	if p := os.Getenv(envVar); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p := filepath.Join(RepoRoot(), ".bin", name)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	missing(tb, name)
	return ""
}

// Lighthouse returns the pinned Lighthouse CLI that `go tool task
// tools:lighthouse` installs (npm ci in coordinator/synthetic/lighthouse),
// or REARVIEW_LIGHTHOUSE; it skips or fails as Binary does.
func Lighthouse(tb testing.TB) string {
	tb.Helper()
	for _, p := range []string{os.Getenv("REARVIEW_LIGHTHOUSE"), filepath.Join(RepoRoot(), "coordinator", "synthetic", "lighthouse", "node_modules", ".bin", "lighthouse")} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	missing(tb, "lighthouse (npm)")
	return ""
}

// FreePort returns a free TCP port on 127.0.0.1.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// NATS starts an in-process NATS server with JetStream on a temporary
// directory and returns it; it is shut down when the test ends. It is the
// same server `rearview up` embeds, listening on a loopback port.
func NATS(tb testing.TB) *server.Server {
	tb.Helper()
	opts := &server.Options{
		Host:       "127.0.0.1",
		Port:       -1,
		JetStream:  true,
		StoreDir:   tb.TempDir(),
		MaxPayload: 8 << 20,
		NoSigs:     true,
		NoLog:      true,
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		tb.Fatalf("nats server: %v", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		tb.Fatal("nats server not ready")
	}
	tb.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	return ns
}

// MinIO is a running MinIO server.
type MinIO struct {
	Endpoint  string // host:port
	AccessKey string
	SecretKey string
	DataDir   string

	args []string
	env  []string
	log  string
	bin  string
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// StartMinIO starts a real MinIO server on a free loopback port with its data
// in a temporary directory, waits until it is ready, and stops it when the
// test ends.
func StartMinIO(tb testing.TB) *MinIO {
	tb.Helper()
	bin := Binary(tb, "minio", "REARVIEW_MINIO_BIN")
	port, cport := FreePort(tb), FreePort(tb)
	m := &MinIO{
		Endpoint:  "127.0.0.1:" + strconv.Itoa(port),
		AccessKey: "rearview",
		SecretKey: "rearview-secret-key",
		DataDir:   tb.TempDir(),
		bin:       bin,
		log:       filepath.Join(tb.TempDir(), "minio.log"),
	}
	m.args = []string{"server", "--quiet", "--address", m.Endpoint, "--console-address", "127.0.0.1:" + strconv.Itoa(cport), m.DataDir}
	m.env = append(os.Environ(),
		"MINIO_ROOT_USER="+m.AccessKey,
		"MINIO_ROOT_PASSWORD="+m.SecretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
	)
	tb.Cleanup(m.kill)
	m.Start(tb)
	return m
}

// Start starts the server (again) on its address and data directory and
// waits until it is ready. A fault test stops MinIO with Stop and brings it
// back with Start.
func (m *MinIO) Start(tb testing.TB) {
	tb.Helper()
	logf, err := os.OpenFile(m.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(m.bin, m.args...)
	cmd.Env = m.env
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		tb.Fatalf("start minio: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	m.cmd, m.done = cmd, done
	// Ready means an authenticated S3 call succeeds: the health endpoint
	// answers 200 while MinIO still refuses requests with "Server not
	// initialized yet".
	client, err := minio.New(m.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(m.AccessKey, m.SecretKey, "")})
	if err != nil {
		tb.Fatalf("minio client: %v", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, last = client.ListBuckets(ctx)
		cancel()
		if last == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, _ := os.ReadFile(m.log)
	tb.Fatalf("minio not ready after 60s (%v): %s", last, out)
}

// Stop stops the server (SIGTERM, SIGKILL after 10 s) and waits until it
// has exited; its data stays for Start.
func (m *MinIO) Stop(tb testing.TB) {
	tb.Helper()
	if m.cmd == nil {
		return
	}
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(10 * time.Second):
		m.kill()
	}
	m.cmd = nil
}

// Pause freezes the server (SIGSTOP): its connections stay open and
// nothing answers, as with a hung disk. Resume continues it.
func (m *MinIO) Pause(tb testing.TB) {
	tb.Helper()
	if err := m.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		tb.Fatalf("pause minio: %v", err)
	}
}

// Resume continues a paused server.
func (m *MinIO) Resume(tb testing.TB) {
	tb.Helper()
	if err := m.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		tb.Fatalf("resume minio: %v", err)
	}
}

func (m *MinIO) kill() {
	if m.cmd == nil {
		return
	}
	_ = m.cmd.Process.Kill()
	<-m.done
}

// ChromiumPath returns the Chromium binary, or skips/fails as Binary does.
func ChromiumPath(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("REARVIEW_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	missing(tb, "chromium")
	return ""
}

// Browser starts a headless Chromium with the flags this closed network
// needs and a fresh profile, and returns a chromedp context for one tab.
// The browser is closed when the test ends. extra options (a user agent,
// say) are added to the defaults.
func Browser(tb testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	tb.Helper()
	path := ChromiumPath(tb)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 800),
		// Tests browse as people do: without this, navigator.webdriver is
		// true under automation and the SDK reports it, and edges drop
		// such batches as bots (reason webdriver).
		chromedp.Flag("disable-blink-features", "AutomationControlled"),
	}
	opts = append(opts, extra...)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx); err != nil {
		cancelC()
		cancelA()
		tb.Fatalf("start chromium %s: %v", path, err)
	}
	tb.Cleanup(func() {
		cancelC()
		cancelA()
	})
	return ctx
}

// Eventually polls fn until it returns nil or the timeout passes, then fails
// with fn's last error.
func Eventually(tb testing.TB, timeout time.Duration, fn func() error) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for {
		if err = fn(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("not within %s: %v", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// JetStream starts an in-process NATS server (see NATS) and returns a
// connection to it and its JetStream context, closed when the test ends.
func JetStream(tb testing.TB) (*nats.Conn, jetstream.JetStream) {
	tb.Helper()
	return Connect(tb, NATS(tb).ClientURL())
}

// Drained reports (nil) whether each named durable consumer of stream has
// acknowledged every message the stream holds. The consumer's pending
// counts alone are not enough: they can lag a message just published and
// read 0 before the consumer has seen it, so the consumer's acknowledgement
// floor must also have reached the stream's last sequence.
func Drained(ctx context.Context, js jetstream.JetStream, stream string, consumers ...string) error {
	st, err := js.Stream(ctx, stream)
	if err != nil {
		return err
	}
	sinfo, err := st.Info(ctx)
	if err != nil {
		return err
	}
	for _, name := range consumers {
		c, err := st.Consumer(ctx, name)
		if err != nil {
			return err
		}
		info, err := c.Info(ctx)
		if err != nil {
			return err
		}
		if info.NumPending > 0 || info.NumAckPending > 0 {
			return fmt.Errorf("consumer %s: %d pending, %d unacknowledged", name, info.NumPending, info.NumAckPending)
		}
		if info.AckFloor.Stream < sinfo.State.LastSeq {
			return fmt.Errorf("consumer %s: acknowledged up to %d of %d", name, info.AckFloor.Stream, sinfo.State.LastSeq)
		}
	}
	return nil
}

// Connect connects to the NATS server(s) at url (comma-separated for a
// cluster) and returns the connection and its JetStream context, closed
// when the test ends.
func Connect(tb testing.TB, url string, opts ...nats.Option) (*nats.Conn, jetstream.JetStream) {
	tb.Helper()
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		tb.Fatalf("connect nats %s: %v", url, err)
	}
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatalf("jetstream: %v", err)
	}
	return nc, js
}
