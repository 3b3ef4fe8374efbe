// Bundles src/sentry.ts (what the demo shop's Sentry page loads) into
// dist/sentry.js with esbuild: one minified IIFE exposing `Sentry`,
// deterministic, committed and checked by `go tool task check-generated`.
import * as esbuild from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
await esbuild.build({
  absWorkingDir: dir,
  entryPoints: ['src/sentry.ts'],
  outfile: 'dist/sentry.js',
  bundle: true,
  minify: true,
  format: 'iife',
  globalName: 'Sentry',
  target: 'es2020',
  legalComments: 'none',
  logLevel: 'warning',
});
console.log('sentry bundle built: dist/sentry.js');
