package edge

import (
	"context"
	"errors"
	"time"
)

// Stage applies a region's policy to a validated batch before any byte of it
// leaves the edge: it filters noise, samples and masks. The wasm policy
// engine implements it (see package edge/wasmhost); PassThrough forwards
// everything unchanged.
//
// Implementations must be safe for concurrent use.
type Stage interface {
	Apply(ctx context.Context, in StageInput) (StageOutput, error)
}

// Readier is implemented by a Stage that loads its policies from elsewhere
// (the wasm stage watches the rv_policy KV bucket). Ready is closed once
// the stored policies are loaded. Until then the stage would apply the
// default policy to a project whose stored one is stricter (a region's
// strict masking, say), so the edge accepts no batch and is not ready.
type Readier interface {
	Ready() <-chan struct{}
}

// ErrNotReady is returned (wrapped) by a Stage asked to apply a policy
// before its policies are loaded; the edge answers 503 so the client
// retries the same batch later instead of losing it.
var ErrNotReady = errors.New("policy stage not ready")

// StageInput is what the edge knows about one request. The client IP is not
// here: it was turned into Country and dropped before the stage runs.
type StageInput struct {
	Project   string
	Region    string
	Country   string // ISO 3166-1 alpha-2, "" when unknown
	UserAgent string // the request's User-Agent header
	Now       time.Time
	// Batch is the request body, already decoded and validated by sdkproto:
	// a JSON sdkproto.Batch.
	Batch []byte
}

// StageOutput is what survives the stage.
type StageOutput struct {
	// Batch is the JSON sdkproto.Batch to publish; it may hold fewer events
	// than the input. Nil or a batch with no events means nothing is sent.
	Batch []byte
	// Dropped counts dropped events by reason (browser-extensions,
	// web-crawlers, sampled, …).
	Dropped map[string]int
	// Masked counts values the stage masked.
	Masked int
}

// PassThrough is the Stage that forwards every batch unchanged.
type PassThrough struct{}

// Apply returns the input batch as it is.
func (PassThrough) Apply(_ context.Context, in StageInput) (StageOutput, error) {
	return StageOutput{Batch: in.Batch}, nil
}
