// Package sentryapi answers the part of Sentry's web API that sentry-cli
// 3.x calls to upload source maps (`sentry-cli sourcemaps upload`) and to
// manage releases (`sentry-cli releases new|finalize`), plus the lookups
// of `sentry-cli info`, `organizations list` and `projects list`, so a CI
// pipeline that runs sentry-cli switches to Rearview by changing --url.
//
// An upload is Sentry's chunked artifact-bundle protocol: sentry-cli asks
// for the chunk-upload options, zips the build into an artifact bundle
// (manifest.json naming each file's URL, type and headers such as
// debug-id and sourcemap), splits it into SHA-1-named chunks, asks the
// assemble endpoint which chunks are missing, uploads those (gzip'd,
// multipart) and asks again. Chunks wait in object storage, so any
// coordinator can assemble what another received. The assembled bundle is
// read and its maps are stored through coordinator/sourcemap exactly as
// `rearview sourcemaps upload` stores them: the bundle's URL and the map's
// URL under the --url-prefix, the Debug ID, the release and dist; private,
// with the same retention. Rearview assembles within the request: "ok"
// means the maps are stored, and a bad bundle is a 4xx naming the problem.
package sentryapi
