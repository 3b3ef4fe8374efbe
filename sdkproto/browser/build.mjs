// Builds dist/ with esbuild. The output is committed and CI rebuilds it and
// fails on any difference, so nothing here may depend on time, paths or the
// machine: no banners with dates, no absolute paths, no metafile in dist.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const common = {
  bundle: true,
  target: 'es2020',
  legalComments: 'none',
  logLevel: 'warning',
  charset: 'utf8',
  define: { __RV_VERSION__: JSON.stringify(pkg.version) },
};

// The errors + vitals budget (12 KB gz) needs every trick: private members
// end in "_" (Closure's convention; no dependency uses it, unlike a leading
// "_", which rrweb does) so the minified builds shorten them, and class
// fields stay native (every browser with CompressionStream has them) instead
// of esbuild's defineProperty helper.
const small = { minify: true, mangleProps: /^[a-z]\w*_$/, supported: { 'class-field': true } };

await Promise.all([
  build({ ...common, entryPoints: ['src/index.ts'], format: 'esm', outfile: 'dist/rearview.esm.js', minify: false }),
  build({ ...common, entryPoints: ['src/index.ts'], format: 'iife', globalName: 'Rearview', outfile: 'dist/rearview.min.js', ...small }),
  build({ ...common, entryPoints: ['src/core.ts'], format: 'iife', outfile: 'dist/rearview.core.min.js', ...small }),
]);
