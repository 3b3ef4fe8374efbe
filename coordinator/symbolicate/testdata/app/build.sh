#!/bin/sh
# Regenerates the committed fixture bundle: minified with a source map, as a
# production build would ship it. esbuild's version is pinned so the output
# (and the expectations in symbolicate_test.go) stay stable.
# TestFreshBuildInChromium does not use this output: it builds the same app
# during the test with esbuild's Go API (the same version, pinned in go.mod).
set -e
cd "$(dirname "$0")"
npx --yes esbuild@0.28.2 src/main.ts --bundle --minify --sourcemap --format=iife \
  --outfile=dist/static/js/main.js --sources-content=true
