// Package browser holds the @sentry/browser bundle the demo shop's Sentry
// pages load (dist/sentry.js, built from src/ by `go tool task
// sentry-browser:build` and committed), for the end-to-end test of
// Rearview's Sentry envelope ingestion with the real SDK.
package browser

import _ "embed"

// Script is @sentry/browser 11.12.0 (pinned in package-lock.json) as one
// IIFE exposing the global Sentry: init, browserTracingIntegration,
// replayIntegration, flush, … (src/sentry.ts lists them).
//
//go:embed dist/sentry.js
var Script []byte
