package testenv

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Postgres is a throwaway PostgreSQL cluster: its own data directory, one
// server process on a loopback port, removed when the test ends.
type Postgres struct {
	bin  string // directory of initdb and postgres
	dir  string // data directory and socket directory live here
	port int
	cred *syscall.Credential // the postgres user when running as root

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	logf *os.File
}

// PostgresBin finds Debian's server binaries: $REARVIEW_PG_BIN, else the
// newest /usr/lib/postgresql/*/bin holding initdb; "" when there are none.
func PostgresBin() string {
	if d := os.Getenv("REARVIEW_PG_BIN"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(dirs, func(i, j int) bool { return pgMajor(dirs[i]) > pgMajor(dirs[j]) })
	if len(dirs) == 0 {
		return ""
	}
	return filepath.Dir(dirs[0])
}

func postgresBinDir(tb testing.TB) string {
	tb.Helper()
	d := PostgresBin()
	if d == "" {
		missing(tb, "postgresql (initdb)")
	}
	return d
}

func pgMajor(initdb string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return n
}

// StartPostgres creates a cluster with initdb in a temporary directory and
// starts it on a free loopback port. PostgreSQL refuses to run as root, so
// as root both run as the "postgres" user that Debian's package creates.
// The cluster is stopped and removed when the test ends.
func StartPostgres(tb testing.TB) *Postgres {
	tb.Helper()
	bin := postgresBinDir(tb)
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("postgres"); err != nil {
			missing(tb, "the postgres user (Debian's postgresql package)")
		}
	}
	p, err := NewPostgres(bin, FreePort(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Remove)
	if err := p.start(); err != nil {
		tb.Fatal(err)
	}
	return p
}

// NewPostgres creates (initdb) a cluster whose server binaries are in bin,
// to listen on port; it does not start it. Remove stops and deletes it.
// Tests use StartPostgres; NewPostgres is for a TestMain that shares one
// cluster between a package's tests.
func NewPostgres(bin string, port int) (*Postgres, error) {
	dir, err := os.MkdirTemp("", "rearview-pg-")
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	p := &Postgres{bin: bin, dir: dir, port: port}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("postgres: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("postgres: %w", err)
		}
	}
	initdb := p.command(filepath.Join(p.bin, "initdb"), "-D", p.dataDir(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--locale", "C")
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	// The log lives beside the data directory, out of the postgres user's
	// way, and goes with Remove.
	logf, err := os.Create(filepath.Join(dir, "postgres.log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("postgres: %w", err)
	}
	p.logf = logf
	return p, nil
}

// Remove stops the server and deletes the cluster.
func (p *Postgres) Remove() {
	p.stop()
	p.logf.Close()
	os.RemoveAll(p.dir)
}

func (p *Postgres) dataDir() string { return filepath.Join(p.dir, "data") }

func (p *Postgres) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = p.dir
	if p.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	}
	return cmd
}

// Start starts the server again after Stop and waits until it accepts
// connections.
func (p *Postgres) Start(tb testing.TB) {
	tb.Helper()
	if err := p.start(); err != nil {
		tb.Fatal(err)
	}
}

// Stop shuts the server down (fast shutdown: open transactions roll back,
// committed ones stay) and waits for it to exit.
func (p *Postgres) Stop(tb testing.TB) {
	tb.Helper()
	p.stop()
}

// Run starts the server for a TestMain; see NewPostgres.
func (p *Postgres) Run() error { return p.start() }

func (p *Postgres) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return nil
	}
	// fsync off: a test cluster need not survive the machine, only its own
	// restarts, which a fast shutdown makes clean. A short deadlock_timeout
	// because coordinators retry a deadlocked transaction at once.
	cmd := p.command(filepath.Join(p.bin, "postgres"), "-D", p.dataDir(), "-p", strconv.Itoa(p.port),
		"-k", p.dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=300",
		"-c", "deadlock_timeout=100ms")
	cmd.Stdout, cmd.Stderr = p.logf, p.logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	p.cmd, p.done = cmd, done
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, p.URL())
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return nil
		}
		select {
		case <-done:
			out, _ := os.ReadFile(p.logf.Name())
			p.cmd, p.done = nil, nil
			return fmt.Errorf("postgres exited: %s", out)
		default:
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(p.logf.Name())
			return fmt.Errorf("postgres not ready after 30s (%v): %s", err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *Postgres) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	p.cmd, p.done = nil, nil
}

// Port is the server's loopback port.
func (p *Postgres) Port() int { return p.port }

// URL is the connection URL of the cluster's "postgres" database.
func (p *Postgres) URL() string { return p.databaseURL("postgres") }

func (p *Postgres) databaseURL(db string) string {
	u := url.URL{Scheme: "postgres", User: url.User("postgres"), Host: "127.0.0.1:" + strconv.Itoa(p.port), Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// NewDatabase creates an empty database and returns its URL. Names are
// folded to a safe identifier.
func (p *Postgres) NewDatabase(tb testing.TB, name string) string {
	tb.Helper()
	u, err := CreateDatabase(p.URL(), name)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// CreateDatabase creates an empty database, named after name, on the
// server that serverURL reaches, and returns its URL.
func CreateDatabase(serverURL, name string) (string, error) {
	id := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '_'
	}, name)
	if len(id) > 40 {
		id = id[:40]
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	id = fmt.Sprintf("%s_%x", id, rnd)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return "", fmt.Errorf("connect postgres: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{id}.Sanitize()); err != nil {
		return "", fmt.Errorf("create database %s: %w", id, err)
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", fmt.Errorf("create database: %w", err)
	}
	u.Path = "/" + id
	return u.String(), nil
}
