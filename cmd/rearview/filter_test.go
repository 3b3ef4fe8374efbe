package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alecthomas/kong"

	"github.com/rearview-dev/rearview/edge/wasmhost"
	"github.com/rearview-dev/rearview/wasm/noise"
)

const geoFixture = "../../edge/testdata/country.mmdb"

// TestKeygen writes a key pair that parses, signs and verifies, and never
// overwrites it.
func TestKeygen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	cmd := &FilterKeygenCmd{Dir: dir}
	if err := cmd.Run(&Globals{}); err != nil {
		t.Fatal(err)
	}
	privPEM, err := os.ReadFile(filepath.Join(dir, signingKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := os.ReadFile(filepath.Join(dir, signingPubFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, signingKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key mode %v (%v), want 0600", fi.Mode(), err)
	}
	priv, err := wasmhost.ParsePrivateKey(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	pf := &PolicyFlags{ModulePubkey: filepath.Join(dir, signingPubFile)}
	pub, err := pf.modulePubkey()
	if err != nil {
		t.Fatal(err)
	}
	bin := []byte("module")
	if err := wasmhost.VerifyModule(pub, bin, wasmhost.SignModule(priv, bin)); err != nil {
		t.Fatalf("the pair does not match: %v", err)
	}
	if err := cmd.Run(&Globals{}); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("second keygen into %s: %v, want a refusal to overwrite", dir, err)
	}
	if again, _ := os.ReadFile(filepath.Join(dir, signingPubFile)); string(again) != string(pubPEM) {
		t.Fatal("the public key was overwritten")
	}
}

// TestEdgeFlagsAtStart checks the errors an edge start gives for a wrong
// database or key file, before it touches NATS.
func TestEdgeFlagsAtStart(t *testing.T) {
	garbage := filepath.Join(t.TempDir(), "garbage")
	if err := os.WriteFile(garbage, []byte("not a key, not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cases := []struct {
		name string
		run  func() error
		want string // "" succeeds
	}{
		{"geoip fixture", func() error { _, err := (&PolicyFlags{GeoIPDB: geoFixture}).geoIP(log); return err }, ""},
		{"no geoip", func() error { _, err := (&PolicyFlags{}).geoIP(log); return err }, ""},
		{"geoip not a database", func() error { _, err := (&PolicyFlags{GeoIPDB: garbage}).geoIP(log); return err }, "--geoip-db: open geoip database " + garbage},
		{"geoip missing", func() error { _, err := (&PolicyFlags{GeoIPDB: garbage + ".missing"}).geoIP(log); return err }, "no such file"},
		{"pubkey not PEM", func() error { _, err := (&PolicyFlags{ModulePubkey: garbage}).modulePubkey(); return err }, "--module-pubkey " + garbage + ": parse public key: no PEM block"},
		{"no pubkey", func() error { _, err := (&PolicyFlags{}).modulePubkey(); return err }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("got %v, want ~%q", err, tc.want)
			}
		})
	}
}

// TestEdgeFlagsParse checks that `up` and `edge` take the new flags and
// their environment variables.
func TestEdgeFlagsParse(t *testing.T) {
	dir := t.TempDir()
	if err := (&FilterKeygenCmd{Dir: dir}).Run(&Globals{}); err != nil {
		t.Fatal(err)
	}
	pub := filepath.Join(dir, signingPubFile)
	cases := []struct {
		name string
		args []string
		env  map[string]string
		pick func(*CLI) *PolicyFlags
	}{
		{"edge flags", []string{"edge", "--region", "eu", "--geoip-db", geoFixture, "--module-pubkey", pub}, nil, func(c *CLI) *PolicyFlags { return &c.Edge.PolicyFlags }},
		{"up flags", []string{"up", "--geoip-db", geoFixture, "--module-pubkey", pub}, nil, func(c *CLI) *PolicyFlags { return &c.Up.PolicyFlags }},
		{"edge env", []string{"edge", "--region", "eu"}, map[string]string{"REARVIEW_GEOIP_DB": geoFixture, "REARVIEW_MODULE_PUBKEY": pub}, func(c *CLI) *PolicyFlags { return &c.Edge.PolicyFlags }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var cli CLI
			p, err := kong.New(&cli, kong.Name("rearview"), kong.Exit(func(int) { t.Fatal("exit") }))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			pf := tc.pick(&cli)
			if !strings.HasSuffix(pf.GeoIPDB, "country.mmdb") || pf.ModulePubkey != pub {
				t.Fatalf("parsed geoip-db %q, module-pubkey %q", pf.GeoIPDB, pf.ModulePubkey)
			}
		})
	}
}

// TestFilterRun runs a batch with one event the decoder refuses: the
// refusal names the event's id, the rest is filtered, and the compiled
// module is left in the cache the edge uses, so the next run skips the
// compile.
func TestFilterRun(t *testing.T) {
	b, err := os.ReadFile("../../sdkproto/testdata/valid/error-batch.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	evs := m["events"].([]any)
	m["events"] = append([]any{map[string]any{"id": "bad-1", "ts": 5, "kind": "session", "session": map[string]any{"state": "start"}, "email": "a@b.c"}}, evs...)
	batch, _ := json.Marshal(m)
	cache := filepath.Join(t.TempDir(), "cache")
	var stdout, stderr bytes.Buffer
	cmd := &FilterRunCmd{Region: "local", Project: "cli", WasmCacheDir: cache}
	if err := cmd.run(context.Background(), bytes.NewReader(batch), &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if want := "rejected event 0 (bad-1): events[0]: "; !strings.HasPrefix(stderr.String(), want) {
		t.Errorf("stderr %q, want it to start with %q", stderr.String(), want)
	}
	var out struct {
		Kept int `json:"kept"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || out.Kept != len(evs) {
		t.Errorf("kept %d (%v), want %d:\n%s", out.Kept, err, len(evs), stdout.String())
	}
	ents, _ := os.ReadDir(cache)
	if len(ents) == 0 {
		t.Error("the compiled module was not cached")
	}
}

// TestFilterRunBots runs the same batch under the built-in bot list and
// under a list given with --bots, which replaces it as `filter set-bots`
// does at the edges.
func TestFilterRunBots(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "bots.json")
	if err := os.WriteFile(list, []byte(`[{"pattern":"AcmeProbe\\/"}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(dir, "cache")
	const (
		probe = "AcmeProbe/2.1 (+https://probe.example)"
		// In crawler-user-agents, not caught by our own rules ("…bot").
		nagios = "check_http/v2.2.1 (nagios-plugins 2.2.1)"
	)
	cases := []struct {
		name, bots, ua string
		dropped        bool
	}{
		{"built-in list keeps an unknown probe", "", probe, false},
		{"built-in list drops a listed monitor", "", nagios, true},
		{"--bots drops the probe", list, probe, true},
		{"--bots replaces the built-in list", list, nagios, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cmd := &FilterRunCmd{Region: "local", Project: "cli", UA: tc.ua, Bots: tc.bots, WasmCacheDir: cache, Batch: "../../sdkproto/testdata/valid/error-batch.json"}
			if err := cmd.run(context.Background(), nil, &stdout, &stderr); err != nil {
				t.Fatal(err)
			}
			var out struct {
				Kept    int            `json:"kept"`
				Dropped map[string]int `json:"dropped"`
			}
			if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
				t.Fatal(err)
			}
			if got := out.Dropped[noise.ReasonCrawlers] > 0 && out.Kept == 0; got != tc.dropped {
				t.Errorf("dropped as a crawler: %v, want %v:\n%s", got, tc.dropped, stdout.String())
			}
		})
	}
}
