// Package botlist is the edge's built-in list of bot User-Agent patterns:
// crawler-user-agents.json of the npm package crawler-user-agents (MIT,
// LICENSE.crawler-user-agents), vendored unchanged at the version pinned in
// package.json. `go tool task bots:update` refreshes it; a test keeps it
// equal to the pinned package's file.
//
// Edges replace it at run time with the list published in NATS KV (see
// wasm/README.md); this copy is the fallback compiled into the module.
package botlist

import _ "embed"

// Version names the vendored list: package and version.
const Version = "crawler-user-agents@1.60.0"

// JSON is the vendored crawler-user-agents.json.
//
//go:embed crawler-user-agents.json
var JSON []byte
