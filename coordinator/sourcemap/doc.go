// Package sourcemap keeps the source maps users upload (with `rearview
// sourcemaps upload` or the API) so that the symbolicator can turn minified
// stack frames into original positions.
//
// Map bytes live in object storage (coordinator/blob) under a key derived
// from their content hash, so re-uploading the same build stores nothing new;
// metadata (project, release, dist, bundle URL, Debug ID) lives in the
// coordinator's SQLite database. Every map is validated before it is stored,
// so a broken, truncated or hostile map is refused at upload with a message
// naming the file and the problem instead of failing later.
//
// Maps are never served to browsers: the API lists metadata only, and the
// one route that returns a map's bytes requires the admin token in an
// Authorization header and refuses requests a browser made (Sec-Fetch-*
// headers or a session cookie). Maps are kept for a configurable retention,
// never less than 90 days, after which Sweep deletes them.
package sourcemap
