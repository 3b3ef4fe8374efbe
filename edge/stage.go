package edge

import (
	"context"
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
