// Package proc runs the pieces of Rearview as separate processes for
// end-to-end and fault tests: it builds the rearview binary once, starts
// processes with their output in a log file the test keeps, and kills,
// pauses and restarts them as a crash or an operator would.
package proc

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rearview-dev/rearview/internal/testenv"
)

// Builder builds the rearview binary once, however many tests ask.
type Builder struct {
	once sync.Once
	bin  string
	err  error
}

// Binary returns the path of the rearview binary built from this checkout.
func (b *Builder) Binary(tb testing.TB) string {
	tb.Helper()
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "rearview-proc-bin")
		if err != nil {
			b.err = err
			return
		}
		b.bin = filepath.Join(dir, "rearview")
		cmd := exec.Command("go", "build", "-o", b.bin, "./cmd/rearview")
		cmd.Dir = testenv.RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	if b.err != nil {
		tb.Fatal(b.err)
	}
	return b.bin
}

// Proc is a child process; Restart starts the same command again, with
// its output appended to the same log.
type Proc struct {
	Name string
	Log  string
	bin  string
	args []string
	env  []string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts bin with args (env added to this process's environment),
// its output in logDir/name.log, and kills it when the test ends.
func Start(tb testing.TB, logDir, name, bin string, env []string, args ...string) *Proc {
	tb.Helper()
	p := &Proc{Name: name, Log: filepath.Join(logDir, name+".log"), bin: bin, args: args, env: env}
	tb.Cleanup(p.Kill)
	p.start(tb)
	return p
}

func (p *Proc) start(tb testing.TB) {
	tb.Helper()
	f, err := os.OpenFile(p.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		tb.Fatalf("start %s: %v", p.Name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); f.Close(); close(done) }()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
}

func (p *Proc) current() (*exec.Cmd, chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd, p.done
}

// Kill sends SIGKILL, as a crash would, and waits for the exit. A process
// that already exited is left alone.
func (p *Proc) Kill() {
	cmd, done := p.current()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGCONT) // a paused process dies too
	_ = cmd.Process.Kill()
	<-done
}

// Stop sends sig (SIGTERM or SIGINT: a graceful stop), waits for the exit
// and returns its code; it fails the test when that takes over timeout.
func (p *Proc) Stop(tb testing.TB, sig syscall.Signal, timeout time.Duration) int {
	tb.Helper()
	cmd, done := p.current()
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(timeout):
		tb.Fatalf("%s did not stop within %v of %v", p.Name, timeout, sig)
	}
	return cmd.ProcessState.ExitCode()
}

// Pause stops the process in place (SIGSTOP): its sockets stay open and
// answer nothing. Resume continues it.
func (p *Proc) Pause(tb testing.TB) {
	tb.Helper()
	cmd, _ := p.current()
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		tb.Fatalf("pause %s: %v", p.Name, err)
	}
}

// Resume continues a paused process.
func (p *Proc) Resume(tb testing.TB) {
	tb.Helper()
	cmd, _ := p.current()
	if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
		tb.Fatalf("resume %s: %v", p.Name, err)
	}
}

// Restart starts the command again once the previous run has exited.
func (p *Proc) Restart(tb testing.TB) {
	tb.Helper()
	_, done := p.current()
	select {
	case <-done:
	default:
		tb.Fatalf("restart %s: it is still running", p.Name)
	}
	p.start(tb)
}

// Exited reports whether the current run has ended.
func (p *Proc) Exited() bool {
	_, done := p.current()
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// Addr returns a free loopback address.
func Addr(tb testing.TB) string {
	tb.Helper()
	return "127.0.0.1:" + strconv.Itoa(testenv.FreePort(tb))
}

// WaitHTTP waits until url answers 200.
func WaitHTTP(tb testing.TB, url string, timeout time.Duration) {
	tb.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	testenv.Eventually(tb, timeout, func() error {
		resp, err := client.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %d", url, resp.StatusCode)
		}
		return nil
	})
}
