// Package symbolicate turns the minified stack frames of an error event into
// original source positions using the source maps in coordinator/sourcemap.
//
// Each frame's map is found, in order, by the bundle's Debug ID (the event's
// debug_ids, immune to release and URL mistakes), then by release (+dist) and
// URL candidates (the absolute URL, the URL without query and fragment, and
// the host-less "~/path"), then by the URL the bundle's sourceMappingURL
// points to: conventionally the bundle URL + ".map", else the map location an
// upload recorded for that bundle (the CLI stores the bundle's resolved
// sourceMappingURL as map_url), in any release. Parsed maps are kept in an
// LRU cache bounded in bytes, so a hot release costs one parse.
//
// A resolved frame gets its original file, line, column, enclosing function
// name and up to five lines of context either side from sourcesContent. A
// frame that cannot be resolved keeps its minified position and says why in
// UnresolvedReason: symbolication never drops or fails an event.
package symbolicate
