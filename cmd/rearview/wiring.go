package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/rearview-dev/rearview/coordinator"
	"github.com/rearview-dev/rearview/coordinator/blob"
	"github.com/rearview-dev/rearview/coordinator/store"
	"github.com/rearview-dev/rearview/edge"
	"github.com/rearview-dev/rearview/player"
)

// S3Flags select MinIO/S3 for object storage instead of the filesystem.
type S3Flags struct {
	S3Endpoint  string `name:"s3-endpoint" help:"MinIO/S3 endpoint host:port; empty stores blobs on the filesystem." env:"REARVIEW_S3_ENDPOINT"`
	S3Bucket    string `name:"s3-bucket" help:"Bucket for replays and source maps." default:"rearview" env:"REARVIEW_S3_BUCKET"`
	S3AccessKey string `name:"s3-access-key" help:"S3 access key." env:"REARVIEW_S3_ACCESS_KEY"`
	S3SecretKey string `name:"s3-secret-key" help:"S3 secret key." env:"REARVIEW_S3_SECRET_KEY"`
	S3Region    string `name:"s3-region" help:"S3 region." env:"REARVIEW_S3_REGION"`
	S3Secure    bool   `name:"s3-secure" help:"Use HTTPS for S3." env:"REARVIEW_S3_SECURE"`
}

func (f *S3Flags) open(ctx context.Context, dataDir string) (blob.Store, error) {
	if f.S3Endpoint == "" {
		return blob.NewDir(filepath.Join(dataDir, "blobs"))
	}
	return blob.NewS3(ctx, blob.S3Config{Endpoint: f.S3Endpoint, Bucket: f.S3Bucket, AccessKey: f.S3AccessKey, SecretKey: f.S3SecretKey, Region: f.S3Region, Secure: f.S3Secure})
}

// DatabaseFlags select the metadata database.
type DatabaseFlags struct {
	DatabaseURL string `name:"database-url" help:"Postgres URL (postgres://user:pass@host:5432/db) for the metadata, shared by every coordinator; empty keeps SQLite in the data dir." env:"REARVIEW_DATABASE_URL"`
}

// dsn is what store.Open takes: the URL, or the SQLite file in dataDir.
func (f DatabaseFlags) dsn(dataDir string) string {
	if f.DatabaseURL != "" {
		return f.DatabaseURL
	}
	return filepath.Join(dataDir, "rearview.db")
}

// adminToken returns the configured admin token, or the one kept in the
// data dir, generating it on first start.
func adminToken(dataDir, configured string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	path := filepath.Join(dataDir, "admin-token")
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read admin token: %w", err)
	}
	buf := make([]byte, 24)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	tok := "rva_" + hex.EncodeToString(buf)
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write admin token: %w", err)
	}
	return tok, nil
}

// connectNATS connects with unlimited reconnects: an edge keeps answering
// 503 while NATS is away and recovers by itself.
func connectNATS(url, name string, extra ...nats.Option) (*nats.Conn, jetstream.JetStream, error) {
	opts := append([]nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond),
	}, extra...)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("connect nats %s: %w", url, err)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("jetstream: %w", err)
	}
	return nc, js, nil
}

// httpServer is an HTTP server bound before it is announced, so printed URLs
// are always live.
type httpServer struct {
	name string
	srv  *http.Server
	ln   net.Listener
}

func listen(name, addr string, h http.Handler) (*httpServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s on %s: %w", name, addr, err)
	}
	return &httpServer{name: name, ln: ln, srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}, nil
}

func (s *httpServer) URL() string { return "http://" + s.ln.Addr().String() }

func (s *httpServer) serve(log *slog.Logger) {
	go func() {
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("serve", "server", s.name, "err", err)
		}
	}()
}

// shutdown lets in-flight requests finish: for the edge that means their
// JetStream acks arrive before the process goes.
func (s *httpServer) shutdown(timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
}

// coordinatorParts opens what a coordinator needs.
func coordinatorParts(ctx context.Context, dataDir string, dbf DatabaseFlags, s3 *S3Flags) (*sql.DB, blob.Store, error) {
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, nil, fmt.Errorf("data dir: %w", err)
	}
	db, err := store.Open(ctx, dbf.dsn(dataDir))
	if err != nil {
		return nil, nil, err
	}
	blobs, err := s3.open(ctx, dataDir)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, blobs, nil
}

func newEdge(ctx context.Context, js jetstream.JetStream, region, countryHeader string, pf *PolicyFlags, log *slog.Logger) (*edge.Server, error) {
	// The database first: a wrong path should stop the start before the
	// module compiles.
	geo, err := pf.geoIP(log)
	if err != nil {
		return nil, err
	}
	stage, err := pf.stage(ctx, js, log)
	if err != nil {
		return nil, err
	}
	return edge.New(edge.Config{
		Region:        region,
		JetStream:     js,
		Stage:         stage,
		CountryHeader: countryHeader,
		GeoIP:         geo,
		SDKScript:     sdkScript(),
		Logger:        log,
	})
}

func newCoordinator(ctx context.Context, js jetstream.JetStream, db *sql.DB, blobs blob.Store, admin string, log *slog.Logger, serve ServeFlags, ro *runOnce, replicas int) (*coordinator.Coordinator, error) {
	cfg := coordinator.Config{JetStream: js, DB: db, Blobs: blobs, AdminToken: admin, Leases: ro.held, Logger: log, Replicas: replicas}
	serve.apply(&cfg)
	return coordinator.New(ctx, cfg)
}

// withPlayer serves the web viewer under /player/ beside the API, on one
// origin so the player's session cookie reaches the API.
func withPlayer(api http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(player.Prefix, player.Handler())
	mux.Handle("/", api)
	return mux
}
