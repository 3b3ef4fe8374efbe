package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/rearview-dev/rearview/edge"
	"github.com/rearview-dev/rearview/edge/wasmhost"
	"github.com/rearview-dev/rearview/sdkproto"
	"github.com/rearview-dev/rearview/wasm/noise"
	"github.com/rearview-dev/rearview/wasm/policy"
)

// PolicyFlags select and tune an edge's policy stage and what it is told
// about a request. Both `up` and `edge` embed them, so a flag here is a
// flag of every edge.
type PolicyFlags struct {
	PolicyEngine     string        `help:"Policy stage: wasm (filter.wasm under wazero), native (the same engine as Go code) or off (forward everything unmasked)." enum:"wasm,native,off" default:"wasm" env:"REARVIEW_POLICY_ENGINE"`
	WasmInstances    int           `help:"Instances of the policy module (0: one per CPU)." env:"REARVIEW_WASM_INSTANCES"`
	WasmMemoryMB     int           `name:"wasm-memory-mb" help:"Memory limit of each policy module instance, MiB." default:"64" env:"REARVIEW_WASM_MEMORY_MB"`
	WasmTimeout      time.Duration `help:"Deadline of one call into the policy module." default:"2s" env:"REARVIEW_WASM_TIMEOUT"`
	WasmCacheDir     string        `help:"Directory caching the compiled policy module (default: the user cache dir)." env:"REARVIEW_WASM_CACHE_DIR" type:"path"`
	WasmHardDeadline bool          `help:"Interrupt a policy module call at its deadline (about 6x slower); otherwise a late call fails its batch and is abandoned." env:"REARVIEW_WASM_HARD_DEADLINE"`
	ModulePubkey     string        `name:"module-pubkey" help:"Ed25519 public key (PEM, from 'filter keygen'): run only published modules signed with its private key." env:"REARVIEW_MODULE_PUBKEY" type:"existingfile"`
	GeoIPDB          string        `name:"geoip-db" help:"MaxMind database (GeoIP2/GeoLite2 Country or City) giving the country of a client's address when the trusted country header does not." env:"REARVIEW_GEOIP_DB" type:"existingfile"`
}

// geoIP opens the configured database, or returns nil when there is none.
func (f *PolicyFlags) geoIP(log *slog.Logger) (edge.CountryLookup, error) {
	if f == nil || f.GeoIPDB == "" {
		return nil, nil
	}
	g, err := edge.OpenGeoIP(f.GeoIPDB)
	if err != nil {
		return nil, fmt.Errorf("--geoip-db: %w", err)
	}
	log.Info("client countries from geoip database", "file", f.GeoIPDB, "type", g.DatabaseType())
	return g, nil
}

// modulePubkey reads the configured module signing key, or returns nil.
func (f *PolicyFlags) modulePubkey() (ed25519.PublicKey, error) {
	if f.ModulePubkey == "" {
		return nil, nil
	}
	b, err := os.ReadFile(f.ModulePubkey)
	if err != nil {
		return nil, fmt.Errorf("--module-pubkey: %w", err)
	}
	k, err := wasmhost.ParsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("--module-pubkey %s: %w", f.ModulePubkey, err)
	}
	return k, nil
}

// stage builds the policy stage and starts its policy and module watch,
// which lasts until ctx ends.
func (f *PolicyFlags) stage(ctx context.Context, js jetstream.JetStream, log *slog.Logger) (edge.Stage, error) {
	if f == nil || f.PolicyEngine == "off" {
		if f != nil && f.ModulePubkey != "" {
			log.Warn("--module-pubkey has no effect: the policy stage is off")
		}
		log.Warn("policy stage off: batches are forwarded unfiltered and unmasked")
		return edge.PassThrough{}, nil
	}
	pub, err := f.modulePubkey()
	if err != nil {
		return nil, err
	}
	st, err := wasmhost.New(ctx, wasmhost.Config{
		JetStream:       js,
		Native:          f.PolicyEngine == "native",
		CacheDir:        wasmCacheDir(f.WasmCacheDir),
		Instances:       f.WasmInstances,
		MemoryLimit:     f.WasmMemoryMB << 20,
		Timeout:         f.WasmTimeout,
		HardDeadline:    f.WasmHardDeadline,
		ModulePublicKey: pub,
		Logger:          log,
	})
	if err != nil {
		return nil, fmt.Errorf("policy stage: %w", err)
	}
	go st.Run(ctx)
	return st, nil
}

// wasmCacheDir is where edges and `filter run` keep compiled policy
// modules: dir when set, else the user cache dir. Compiling the module
// takes seconds; loading it from there, milliseconds.
func wasmCacheDir(dir string) string {
	if dir != "" {
		return dir
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "rearview", "wasm")
	}
	return "" // in memory only
}

// FilterCmd groups the policy engine's tools.
type FilterCmd struct {
	Run           FilterRunCmd           `cmd:"" default:"withargs" help:"Run a batch through the policy engine; print what the edge would forward and every decision."`
	PublishModule FilterPublishModuleCmd `cmd:"" name:"publish-module" help:"Publish a filter module to NATS: every edge verifies it and swaps it in live."`
	Keygen        FilterKeygenCmd        `cmd:"" help:"Write an ed25519 key pair for signing filter modules (publish-module --sign-key, edge --module-pubkey)."`
	SetPolicy     FilterSetPolicyCmd     `cmd:"" name:"set-policy" help:"Store a project's policy in NATS KV: every edge applies it within a second."`
	SetBots       FilterSetBotsCmd       `cmd:"" name:"set-bots" help:"Publish a bot list (crawler-user-agents.json's format) in NATS KV: every edge matches User-Agents against it instead of its module's built-in copy."`
}

// FilterSetBotsCmd is `rearview filter set-bots FILE` (or --builtin).
type FilterSetBotsCmd struct {
	NATSURL string `name:"nats-url" help:"NATS server URL." default:"nats://127.0.0.1:4222" env:"REARVIEW_NATS_URL"`
	File    string `arg:"" optional:"" help:"Bot list: a JSON array of patterns or of objects with a pattern (crawler-user-agents.json)." type:"existingfile"`
	Builtin bool   `help:"Delete the published list: edges go back to their module's built-in copy."`
}

// Run checks the list and publishes it.
func (c *FilterSetBotsCmd) Run(g *Globals) error {
	if (c.File == "") == !c.Builtin {
		return fmt.Errorf("set-bots: give a FILE or --builtin")
	}
	var doc []byte
	if c.File != "" {
		var err error
		if doc, err = os.ReadFile(c.File); err != nil {
			return fmt.Errorf("read bot list: %w", err)
		}
		if _, err := noise.CompileBotList(doc); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nc, js, err := connectNATS(c.NATSURL, "rearview-filter")
	if err != nil {
		return err
	}
	defer nc.Close()
	rev, err := wasmhost.SetBotsKV(ctx, js, doc)
	if err != nil {
		return err
	}
	if doc == nil {
		fmt.Println("bot list deleted: edges use their module's built-in list")
		return nil
	}
	fmt.Printf("bot list stored (revision %d)\n", rev)
	return nil
}

// FilterRunCmd is `rearview filter [run]`.
type FilterRunCmd struct {
	Policy  string `help:"Policy document (JSON); default: the default policy." type:"existingfile"`
	Region  string `help:"Region of the edge, whose override in the policy applies." default:"local"`
	Project string `help:"Project id passed to the engine." default:"cli"`
	UA      string `name:"ua" help:"The request's User-Agent; default: the batch's device.ua."`
	Country string `help:"The request's country (ISO 3166-1 alpha-2)."`
	Native  bool   `help:"Run the engine as Go code instead of the wasm module."`
	Module  string `help:"Run this filter.wasm instead of the embedded one." type:"existingfile"`
	Bots    string `help:"Match User-Agents against this bot list (crawler-user-agents.json's format, as 'filter set-bots' publishes) instead of the module's built-in copy." type:"existingfile"`
	// The same cache as the edge's (PolicyFlags.WasmCacheDir): a run after
	// the first, or after an edge ran on this machine, skips the compile.
	WasmCacheDir string `help:"Directory caching the compiled policy module (default: the user cache dir, shared with edges)." env:"REARVIEW_WASM_CACHE_DIR" type:"path"`
	Batch        string `arg:"" optional:"" help:"Batch JSON file; '-' or nothing reads standard input."`
}

// Run prints {"forward": batch or null, "kept", "masked", "dropped", "decisions"}.
func (c *FilterRunCmd) Run(g *Globals) error {
	return c.run(context.Background(), os.Stdin, os.Stdout, os.Stderr)
}

func (c *FilterRunCmd) run(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) error {
	var in []byte
	var err error
	if c.Batch == "" || c.Batch == "-" {
		in, err = io.ReadAll(stdin)
	} else {
		in, err = os.ReadFile(c.Batch)
	}
	if err != nil {
		return fmt.Errorf("read batch: %w", err)
	}
	var doc []byte
	if c.Policy != "" {
		if doc, err = os.ReadFile(c.Policy); err != nil {
			return fmt.Errorf("read policy: %w", err)
		}
		if err := policy.Check(doc); err != nil {
			return err
		}
	}
	// The edge only runs the stage on valid events; so does this.
	b, rejected, err := sdkproto.Decode(in, sdkproto.DefaultLimits())
	if err != nil {
		return fmt.Errorf("batch: %w", err)
	}
	for _, r := range rejected {
		id := ""
		if r.ID != "" {
			id = fmt.Sprintf(" (%s)", r.ID)
		}
		fmt.Fprintf(stderr, "rejected event %d%s: %s: %s\n", r.Index, id, r.Path, r.Error)
	}
	if len(rejected) > 0 {
		if in, err = sdkproto.Encode(b); err != nil {
			return err
		}
	}
	cfg := wasmhost.Config{Native: c.Native, Instances: 1, CacheDir: wasmCacheDir(c.WasmCacheDir), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if c.Module != "" {
		if cfg.Module, err = os.ReadFile(c.Module); err != nil {
			return fmt.Errorf("read module: %w", err)
		}
	}
	st, err := wasmhost.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close(ctx)
	if c.Bots != "" {
		list, err := os.ReadFile(c.Bots)
		if err != nil {
			return fmt.Errorf("read bot list: %w", err)
		}
		if err := st.SetBots(list); err != nil {
			return fmt.Errorf("--bots %s: %w", c.Bots, err)
		}
	}
	ua := c.UA
	if ua == "" {
		ua = b.Device.UA
	}
	res, err := st.FilterWith(ctx, doc, edge.StageInput{Project: c.Project, Region: c.Region, Country: c.Country, UserAgent: ua, Now: time.Now(), Batch: in})
	if err != nil {
		return err
	}
	forward := json.RawMessage("null")
	if len(res.Batch) > 0 {
		forward = res.Batch
	}
	out, err := json.Marshal(struct {
		Forward json.RawMessage `json:"forward"`
		Module  string          `json:"module"`
		Kept    int             `json:"kept"`
		Masked  int             `json:"masked"`
		Dropped map[string]int  `json:"dropped"`
		Decs    any             `json:"decisions"`
	}{forward, st.ModuleDigest(), res.Report.Kept, res.Report.Masked, res.Report.Dropped, res.Report.Decisions})
	if err != nil {
		return err
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, out, "", "  "); err != nil {
		return err
	}
	pretty.WriteByte('\n')
	_, err = stdout.Write(pretty.Bytes())
	return err
}

// FilterPublishModuleCmd is `rearview filter publish-module FILE`.
type FilterPublishModuleCmd struct {
	NATSURL string `name:"nats-url" help:"NATS server URL." default:"nats://127.0.0.1:4222" env:"REARVIEW_NATS_URL"`
	SignKey string `name:"sign-key" help:"Ed25519 private key (PEM, from 'filter keygen') to sign the module with; edges with --module-pubkey refuse unsigned modules." env:"REARVIEW_MODULE_SIGN_KEY" type:"existingfile"`
	File    string `arg:"" help:"The filter.wasm to publish." type:"existingfile"`
}

// Run checks the module locally with the same self-test edges run, then
// publishes it.
func (c *FilterPublishModuleCmd) Run(g *Globals) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bin, err := os.ReadFile(c.File)
	if err != nil {
		return fmt.Errorf("read module: %w", err)
	}
	var key ed25519.PrivateKey
	if c.SignKey != "" {
		b, err := os.ReadFile(c.SignKey)
		if err != nil {
			return fmt.Errorf("--sign-key: %w", err)
		}
		if key, err = wasmhost.ParsePrivateKey(b); err != nil {
			return fmt.Errorf("--sign-key %s: %w", c.SignKey, err)
		}
	}
	st, err := wasmhost.New(ctx, wasmhost.Config{Module: bin, Instances: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return fmt.Errorf("module refused here, not published: %w", err)
	}
	st.Close(ctx)
	nc, js, err := connectNATS(c.NATSURL, "rearview-filter")
	if err != nil {
		return err
	}
	defer nc.Close()
	digest, err := wasmhost.PublishModule(ctx, js, bin, key)
	if err != nil {
		return err
	}
	signed := "unsigned"
	if key != nil {
		signed = "signed"
	}
	fmt.Printf("published %s (%d bytes, sha256 %s, %s)\n", wasmhost.ModuleObject, len(bin), digest, signed)
	return nil
}

// FilterKeygenCmd is `rearview filter keygen DIR`.
type FilterKeygenCmd struct {
	Dir string `arg:"" help:"Directory to write module-signing.key (private, mode 0600) and module-signing.pub into; created when missing." type:"path"`
}

// Key file names written by keygen.
const (
	signingKeyFile = "module-signing.key"
	signingPubFile = "module-signing.pub"
)

// Run writes a new key pair as PEM: the private key PKCS #8, the public key
// PKIX, the formats of `openssl genpkey -algorithm ed25519` and `openssl
// pkey -pubout`. It never overwrites a key: losing one means re-signing
// and reconfiguring every edge.
func (c *FilterKeygenCmd) Run(g *Globals) error {
	pub, priv, err := wasmhost.GenerateKey()
	if err != nil {
		return err
	}
	if err := writeKeyPair(c.Dir, pub, priv); err != nil {
		return err
	}
	fmt.Printf("wrote %s (keep it secret: publish-module --sign-key) and %s (edge --module-pubkey)\n",
		filepath.Join(c.Dir, signingKeyFile), filepath.Join(c.Dir, signingPubFile))
	return nil
}

func writeKeyPair(dir string, pub, priv []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	for _, f := range []struct {
		name string
		data []byte
		mode os.FileMode
	}{{signingKeyFile, priv, 0o600}, {signingPubFile, pub, 0o644}} {
		path := filepath.Join(dir, f.name)
		fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, f.mode)
		if err != nil {
			return fmt.Errorf("keygen: %w", err)
		}
		_, err = fh.Write(f.data)
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("keygen: write %s: %w", path, err)
		}
	}
	return nil
}

// FilterSetPolicyCmd is `rearview filter set-policy PROJECT FILE`.
type FilterSetPolicyCmd struct {
	NATSURL string `name:"nats-url" help:"NATS server URL." default:"nats://127.0.0.1:4222" env:"REARVIEW_NATS_URL"`
	Project string `arg:"" help:"Project id, or 'default' for projects without a policy."`
	File    string `arg:"" help:"Policy document (JSON)." type:"existingfile"`
}

// Run checks the policy and stores it.
func (c *FilterSetPolicyCmd) Run(g *Globals) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	doc, err := os.ReadFile(c.File)
	if err != nil {
		return fmt.Errorf("read policy: %w", err)
	}
	if err := policy.Check(doc); err != nil {
		return err
	}
	nc, js, err := connectNATS(c.NATSURL, "rearview-filter")
	if err != nil {
		return err
	}
	defer nc.Close()
	rev, err := wasmhost.SetPolicyKV(ctx, js, c.Project, doc)
	if err != nil {
		return err
	}
	fmt.Printf("policy of %s stored (revision %d)\n", c.Project, rev)
	return nil
}
