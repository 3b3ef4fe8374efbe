package main

import (
	"bytes"
	"context"
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
	"github.com/rearview-dev/rearview/wasm/policy"
)

// PolicyFlags select and tune an edge's policy stage.
type PolicyFlags struct {
	PolicyEngine     string        `help:"Policy stage: wasm (filter.wasm under wazero), native (the same engine as Go code) or off (forward everything unmasked)." enum:"wasm,native,off" default:"wasm" env:"REARVIEW_POLICY_ENGINE"`
	WasmInstances    int           `help:"Instances of the policy module (0: one per CPU)." env:"REARVIEW_WASM_INSTANCES"`
	WasmMemoryMB     int           `name:"wasm-memory-mb" help:"Memory limit of each policy module instance, MiB." default:"64" env:"REARVIEW_WASM_MEMORY_MB"`
	WasmTimeout      time.Duration `help:"Deadline of one call into the policy module." default:"2s" env:"REARVIEW_WASM_TIMEOUT"`
	WasmCacheDir     string        `help:"Directory caching the compiled policy module (default: the user cache dir)." env:"REARVIEW_WASM_CACHE_DIR" type:"path"`
	WasmHardDeadline bool          `help:"Interrupt a policy module call at its deadline (about 6x slower); otherwise a late call fails its batch and is abandoned." env:"REARVIEW_WASM_HARD_DEADLINE"`
}

// stage builds the policy stage and starts its policy and module watch,
// which lasts until ctx ends.
func (f *PolicyFlags) stage(ctx context.Context, js jetstream.JetStream, log *slog.Logger) (edge.Stage, error) {
	if f == nil || f.PolicyEngine == "off" {
		log.Warn("policy stage off: batches are forwarded unfiltered and unmasked")
		return edge.PassThrough{}, nil
	}
	cache := f.WasmCacheDir
	if cache == "" {
		if d, err := os.UserCacheDir(); err == nil {
			cache = filepath.Join(d, "rearview", "wasm")
		}
	}
	st, err := wasmhost.New(ctx, wasmhost.Config{
		JetStream:    js,
		Native:       f.PolicyEngine == "native",
		CacheDir:     cache,
		Instances:    f.WasmInstances,
		MemoryLimit:  f.WasmMemoryMB << 20,
		Timeout:      f.WasmTimeout,
		HardDeadline: f.WasmHardDeadline,
		Logger:       log,
	})
	if err != nil {
		return nil, fmt.Errorf("policy stage: %w", err)
	}
	go st.Run(ctx)
	return st, nil
}

// FilterCmd groups the policy engine's tools.
type FilterCmd struct {
	Run           FilterRunCmd           `cmd:"" default:"withargs" help:"Run a batch through the policy engine; print what the edge would forward and every decision."`
	PublishModule FilterPublishModuleCmd `cmd:"" name:"publish-module" help:"Publish a filter module to NATS: every edge verifies it and swaps it in live."`
	SetPolicy     FilterSetPolicyCmd     `cmd:"" name:"set-policy" help:"Store a project's policy in NATS KV: every edge applies it within a second."`
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
	Batch   string `arg:"" optional:"" help:"Batch JSON file; '-' or nothing reads standard input."`
}

// Run prints {"forward": batch or null, "kept", "masked", "dropped", "decisions"}.
func (c *FilterRunCmd) Run(g *Globals) error {
	ctx := context.Background()
	var in []byte
	var err error
	if c.Batch == "" || c.Batch == "-" {
		in, err = io.ReadAll(os.Stdin)
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
		fmt.Fprintf(os.Stderr, "rejected event %d (%s): %s: %s\n", r.Index, r.ID, r.Path, r.Error)
	}
	if len(rejected) > 0 {
		if in, err = sdkproto.Encode(b); err != nil {
			return err
		}
	}
	cfg := wasmhost.Config{Native: c.Native, Instances: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
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
	_, err = os.Stdout.Write(pretty.Bytes())
	return err
}

// FilterPublishModuleCmd is `rearview filter publish-module FILE`.
type FilterPublishModuleCmd struct {
	NATSURL string `name:"nats-url" help:"NATS server URL." default:"nats://127.0.0.1:4222" env:"REARVIEW_NATS_URL"`
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
	digest, err := wasmhost.PublishModule(ctx, js, bin)
	if err != nil {
		return err
	}
	fmt.Printf("published %s (%d bytes, sha256 %s)\n", wasmhost.ModuleObject, len(bin), digest)
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
