package wasmhost

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/rearview-dev/rearview/edge"
	"github.com/rearview-dev/rearview/sdkproto"
	"github.com/rearview-dev/rearview/wasm/noise"
)

// Run watches the policy bucket and, unless the stage is native, the
// module store until ctx ends, creating them when missing. It retries
// when NATS is away.
func (s *Stage) Run(ctx context.Context) error {
	if s.cfg.JetStream == nil {
		<-ctx.Done()
		return nil
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.retry(ctx, "watch policies", s.watchPolicies)
	}()
	if !s.cfg.Native {
		s.retry(ctx, "watch modules", s.watchModules)
	}
	<-done
	return nil
}

func (s *Stage) retry(ctx context.Context, what string, fn func(context.Context) error) {
	for {
		err := fn(ctx)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn(what, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// Ready is closed once the policies in the bucket have been loaded, or at
// once when the stage has no JetStream to load them from. It makes the
// Stage an edge.Readier: the edge accepts no batch before it is closed.
func (s *Stage) Ready() <-chan struct{} { return s.ready }

var _ edge.Readier = (*Stage)(nil)

func (s *Stage) watchPolicies(ctx context.Context) error {
	kv, err := openPolicies(ctx, s.cfg.JetStream)
	if err != nil {
		return err
	}
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("watch bucket %s: %w", sdkproto.PolicyBucket, err)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-w.Updates():
			if !ok {
				return errors.New("policy watch closed")
			}
			if e == nil {
				select {
				case <-s.ready:
				default:
					close(s.ready)
				}
				continue
			}
			if e.Key() == sdkproto.BotListKey {
				s.watchedBots(e)
				continue
			}
			project := e.Key()
			if project == "default" {
				project = ""
			}
			if e.Operation() != jetstream.KeyValuePut {
				s.SetPolicy(project, nil)
				s.log.Info("policy removed", "project", e.Key())
				continue
			}
			if err := s.SetPolicy(project, e.Value()); err != nil {
				// Keep the previous policy: a typo must not open the gates.
				s.log.Warn("policy refused, keeping the previous one", "project", e.Key(), "revision", e.Revision(), "err", err)
				continue
			}
			s.log.Info("policy updated", "project", e.Key(), "revision", e.Revision())
		}
	}
}

// watchedBots applies a change of the published bot list.
func (s *Stage) watchedBots(e jetstream.KeyValueEntry) {
	if e.Operation() != jetstream.KeyValuePut {
		s.SetBots(nil)
		s.log.Info("bot list removed: the module's built-in list applies")
		return
	}
	if err := s.SetBots(e.Value()); err != nil {
		s.log.Warn("bot list refused, keeping the previous one", "revision", e.Revision(), "err", err)
		return
	}
	s.log.Info("bot list updated", "revision", e.Revision(), "bytes", len(e.Value()))
}

// openPolicies opens the policy bucket, creating it when missing. An
// existing bucket is never updated: the coordinator owns its settings (the
// replica count, the history), and an edge or a CLI must not undo them.
func openPolicies(ctx context.Context, js jetstream.JetStream) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, sdkproto.PolicyBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: sdkproto.PolicyBucket, Description: "Rearview edge policy per project"})
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = js.KeyValue(ctx, sdkproto.PolicyBucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open bucket %s: %w", sdkproto.PolicyBucket, err)
	}
	return kv, nil
}

// openModules opens the module store, creating it when missing; like
// openPolicies it never updates an existing one.
func openModules(ctx context.Context, js jetstream.JetStream) (jetstream.ObjectStore, error) {
	obs, err := js.ObjectStore(ctx, sdkproto.ModulesBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		obs, err = js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: sdkproto.ModulesBucket, Description: "Rearview edge filter modules"})
		if errors.Is(err, jetstream.ErrBucketExists) {
			obs, err = js.ObjectStore(ctx, sdkproto.ModulesBucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open object store %s: %w", sdkproto.ModulesBucket, err)
	}
	return obs, nil
}

func (s *Stage) watchModules(ctx context.Context) error {
	obs, err := openModules(ctx, s.cfg.JetStream)
	if err != nil {
		return err
	}
	w, err := obs.Watch(ctx)
	if err != nil {
		return fmt.Errorf("watch object store %s: %w", sdkproto.ModulesBucket, err)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case info, ok := <-w.Updates():
			if !ok {
				return errors.New("module watch closed")
			}
			if info == nil || info.Deleted || info.Name != ModuleObject {
				continue
			}
			if err := s.fetchModule(ctx, obs, info); err != nil {
				s.log.Error("module refused, keeping the active one", "active", s.ModuleDigest(), "err", err)
			}
		}
	}
}

// fetchModule fetches the module info announced and loads it once its
// metadata vouches for it: a checksum always, and a valid signature when
// the stage has a public key.
func (s *Stage) fetchModule(ctx context.Context, obs jetstream.ObjectStore, info *jetstream.ObjectInfo) error {
	// The object's own info, not the announced one: the metadata checked
	// must be that of the bytes read, even if a newer module was put in
	// between.
	r, err := obs.Get(ctx, info.Name)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", info.Name, err)
	}
	defer r.Close()
	// Reading to the end checks NATS's own SHA-256 digest of the object.
	bin, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", info.Name, err)
	}
	got, err := r.Info()
	if err != nil {
		return fmt.Errorf("fetch %s: %w", info.Name, err)
	}
	info = got
	sum := sha256.Sum256(bin)
	digest := hex.EncodeToString(sum[:])
	// NATS's digest guards transport, not intent: whoever can put an
	// object computes it. The publisher's checksum is required so that a
	// module put by hand, outside PublishModule, is not run by mistake.
	switch want := info.Metadata[MetaSHA256]; want {
	case "":
		return fmt.Errorf("module %s (sha256 %.12s): no %s checksum in its metadata", info.Name, digest, MetaSHA256)
	case digest:
	default:
		return fmt.Errorf("module %s: checksum %s does not match the published %s", info.Name, digest, want)
	}
	if key := s.cfg.ModulePublicKey; key != nil {
		if err := VerifyModule(key, bin, info.Metadata[MetaSignature]); err != nil {
			return fmt.Errorf("module %s (sha256 %.12s): %w", info.Name, digest, err)
		}
	}
	if digest == s.ModuleDigest() {
		return nil
	}
	return s.LoadModule(ctx, bin)
}

// PublishModule stores bin as the module every edge runs, with its
// checksum in the metadata and, when key is not nil, its signature (see
// MetaSignature). Edges configured with a public key run only modules
// signed with its private key.
func PublishModule(ctx context.Context, js jetstream.JetStream, bin []byte, key ed25519.PrivateKey) (string, error) {
	obs, err := openModules(ctx, js)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(bin)
	digest := hex.EncodeToString(sum[:])
	md := map[string]string{MetaSHA256: digest}
	if key != nil {
		md[MetaSignature] = SignModule(key, bin)
	}
	meta := jetstream.ObjectMeta{Name: ModuleObject, Description: "Rearview edge filter module", Metadata: md}
	if _, err := obs.Put(ctx, meta, bytes.NewReader(bin)); err != nil {
		return "", fmt.Errorf("publish module %.12s: %w", digest, err)
	}
	return digest, nil
}

// SetBotsKV publishes a bot list document (nil: delete it, so that edges
// go back to their module's built-in list) in the rv_policy bucket under
// sdkproto.BotListKey, after checking that it compiles.
func SetBotsKV(ctx context.Context, js jetstream.JetStream, doc []byte) (uint64, error) {
	if doc != nil {
		if _, err := noise.CompileBotList(doc); err != nil {
			return 0, err
		}
	}
	kv, err := openPolicies(ctx, js)
	if err != nil {
		return 0, err
	}
	if doc == nil {
		if err := kv.Delete(ctx, sdkproto.BotListKey); err != nil {
			return 0, fmt.Errorf("delete bot list: %w", err)
		}
		return 0, nil
	}
	rev, err := kv.Put(ctx, sdkproto.BotListKey, doc)
	if err != nil {
		return 0, fmt.Errorf("put bot list: %w", err)
	}
	return rev, nil
}

// SetPolicyKV stores a policy document for project in the rv_policy
// bucket, creating it when missing.
func SetPolicyKV(ctx context.Context, js jetstream.JetStream, project string, doc []byte) (uint64, error) {
	kv, err := openPolicies(ctx, js)
	if err != nil {
		return 0, err
	}
	rev, err := kv.Put(ctx, project, doc)
	if err != nil {
		return 0, fmt.Errorf("put policy of %s: %w", project, err)
	}
	return rev, nil
}
