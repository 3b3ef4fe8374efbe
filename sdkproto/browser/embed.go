// Package browser holds the built Rearview browser SDK (@rearview/browser,
// TypeScript sources in src/) so that Go servers can serve it: an edge
// serves Script at /sdk/v1.js. dist/ is committed and rebuilt by
// `go tool task sdk:build`; CI fails when it differs from the sources.
package browser

import _ "embed"

//go:embed dist/rearview.min.js
var script []byte

// Script returns the minified script-tag build, which defines the global
// Rearview. The slice is shared: callers must not modify it.
func Script() []byte { return script }
