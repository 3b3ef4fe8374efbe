package wasmhost

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/rearview-dev/rearview/internal/testenv"
	"github.com/rearview-dev/rearview/wasm"
)

func newKey(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pubPEM, privPEM, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ParsePrivateKey(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

func TestVerifyModule(t *testing.T) {
	pub, priv := newKey(t)
	other, _ := newKey(t)
	bin := []byte("\x00asm a module")
	sig := SignModule(priv, bin)
	cases := []struct {
		name string
		key  ed25519.PublicKey
		bin  []byte
		sig  string
		want string // "" verifies
	}{
		{"valid", pub, bin, sig, ""},
		{"wrong key", other, bin, sig, "does not verify"},
		{"tampered bytes", pub, append([]byte(nil), append(bin, 0)...), sig, "does not verify"},
		{"missing signature", pub, bin, "", "not signed"},
		{"not base64", pub, bin, "%%%", "module signature"},
		{"truncated", pub, bin, sig[:20], "does not verify"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := VerifyModule(tc.key, tc.bin, tc.sig)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("VerifyModule: %v, want ~%q", err, tc.want)
			}
		})
	}
}

func TestParseKeys(t *testing.T) {
	pubPEM, privPEM, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		parse func([]byte) error
		in    []byte
		want  string
	}{
		{"public", func(b []byte) error { _, err := ParsePublicKey(b); return err }, pubPEM, ""},
		{"private", func(b []byte) error { _, err := ParsePrivateKey(b); return err }, privPEM, ""},
		{"private as public", func(b []byte) error { _, err := ParsePublicKey(b); return err }, privPEM, `"PRIVATE KEY", want "PUBLIC KEY"`},
		{"public as private", func(b []byte) error { _, err := ParsePrivateKey(b); return err }, pubPEM, `"PUBLIC KEY", want "PRIVATE KEY"`},
		{"not PEM", func(b []byte) error { _, err := ParsePublicKey(b); return err }, []byte("hello"), "no PEM block"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.parse(tc.in)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("parse: %v, want ~%q", err, tc.want)
			}
		})
	}
}

// logBuffer collects a logger's output for tests that wait on a message.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// putModule puts bin under the module name with exactly the metadata md,
// as a publisher other than PublishModule might.
func putModule(t *testing.T, js jetstream.JetStream, bin []byte, md map[string]string) {
	t.Helper()
	obs, err := openModules(context.Background(), js)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := obs.Put(context.Background(), jetstream.ObjectMeta{Name: ModuleObject, Metadata: md}, bytes.NewReader(bin)); err != nil {
		t.Fatal(err)
	}
}

// TestPublishedModuleMustBeSigned publishes modules, one after the other,
// to an edge with and one without a public key: each refused module is
// logged with its reason and the module before it keeps serving; an
// accepted one is swapped in.
func TestPublishedModuleMustBeSigned(t *testing.T) {
	pub, priv := newKey(t)
	_, stranger := newKey(t)
	embedded := digestOf(wasm.Module())
	type step struct {
		name    string
		publish func(t *testing.T, js jetstream.JetStream) []byte // returns the module put
		refused string                                            // "" when it must be swapped in
	}
	signed := func(key ed25519.PrivateKey, label string) func(*testing.T, jetstream.JetStream) []byte {
		return func(t *testing.T, js jetstream.JetStream) []byte {
			bin := withCustomSection(wasm.Module(), label)
			if _, err := PublishModule(context.Background(), js, bin, key); err != nil {
				t.Fatal(err)
			}
			return bin
		}
	}
	tampered := func(t *testing.T, js jetstream.JetStream) []byte {
		good := withCustomSection(wasm.Module(), "good")
		bad := withCustomSection(wasm.Module(), "evil")
		// The checksum fits the bytes; only the signature is of others.
		putModule(t, js, bad, map[string]string{MetaSHA256: digestOf(bad), MetaSignature: SignModule(priv, good)})
		return bad
	}
	noChecksum := func(t *testing.T, js jetstream.JetStream) []byte {
		bin := withCustomSection(wasm.Module(), "no-checksum")
		putModule(t, js, bin, nil)
		return bin
	}
	cases := []struct {
		name  string
		key   ed25519.PublicKey
		steps []step
	}{
		{"with a public key", pub, []step{
			{"unsigned", signed(nil, "unsigned"), "module is not signed"},
			{"wrong key", signed(stranger, "stranger"), "does not verify"},
			{"tampered bytes", tampered, "does not verify"},
			{"no checksum", noChecksum, "no rv-sha256 checksum"},
			{"valid signature", signed(priv, "v2"), ""},
			{"unsigned after a signed one", signed(nil, "v3"), "module is not signed"},
		}},
		{"without a public key", nil, []step{
			{"no checksum", noChecksum, "no rv-sha256 checksum"},
			{"checksum only", signed(nil, "v2"), ""},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			logs := &logBuffer{}
			h := newHarness(t, Config{Instances: 1, ModulePublicKey: tc.key, Logger: slog.New(slog.NewTextHandler(logs, nil))})
			active := embedded
			for _, s := range tc.steps {
				t.Run(s.name, func(t *testing.T) {
					before := strings.Count(logs.String(), "module refused")
					digest := digestOf(s.publish(t, h.js))
					if s.refused == "" {
						testenv.Eventually(t, 30*time.Second, func() error {
							if got := h.stage.ModuleDigest(); got != digest {
								return fmt.Errorf("active module %.12s, want %.12s", got, digest)
							}
							return nil
						})
						active = digest
					} else {
						testenv.Eventually(t, 10*time.Second, func() error {
							if strings.Count(logs.String(), "module refused") == before {
								return fmt.Errorf("no refusal logged yet")
							}
							return nil
						})
						if got := lastLine(logs.String(), "module refused"); !strings.Contains(got, s.refused) {
							t.Fatalf("refused for another reason: %s, want ~%q", got, s.refused)
						}
					}
					if got := h.stage.ModuleDigest(); got != active {
						t.Fatalf("active module %.12s, want %.12s", got, active)
					}
					if a := h.post(t, corpusBatch(t, "error-batch")); a.status != http.StatusAccepted {
						t.Fatalf("post after the publish: %+v", a)
					}
				})
			}
		})
	}
}

func lastLine(logs, containing string) string {
	lines := strings.Split(logs, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], containing) {
			return lines[i]
		}
	}
	return ""
}

func digestOf(bin []byte) string {
	sum := sha256.Sum256(bin)
	return hex.EncodeToString(sum[:])
}
