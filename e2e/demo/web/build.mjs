// Builds the demo shop: a minified, content-hashed bundle in ../dist (what
// browsers get, embedded by the Go package) and its source maps in ../maps
// (what `rearview sourcemaps upload` sends to the coordinator). The bundle has
// no sourceMappingURL comment, so browsers never ask for a map.
import * as esbuild from 'esbuild';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const web = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(web, '..', 'dist');
const maps = path.resolve(web, '..', 'maps');
const assets = path.join(dist, 'assets');

const result = await esbuild.build({
  absWorkingDir: web,
  entryPoints: { app: 'src/main.ts' },
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  sourcemap: 'external', // maps are written, the bundle does not point to them
  sourcesContent: true,
  legalComments: 'none',
  entryNames: '[name]-[hash]',
  outdir: assets,
  write: false,
  logLevel: 'warning',
});

await rm(dist, { recursive: true, force: true });
await rm(maps, { recursive: true, force: true });
await mkdir(assets, { recursive: true });
await mkdir(maps, { recursive: true });

const manifest = {};
for (const out of result.outputFiles) {
  const name = path.basename(out.path);
  if (name.endsWith('.map')) {
    // Sources relative to web/ ("src/components/cart-list.ts") read better in
    // a stack than "../../web/src/…", and do not depend on where maps live.
    const map = JSON.parse(out.text);
    map.file = name.slice(0, -'.map'.length);
    map.sources = map.sources.map((s) => path.relative(web, path.resolve(path.dirname(out.path), s)).split(path.sep).join('/'));
    await writeFile(path.join(maps, name), JSON.stringify(map) + '\n');
    continue;
  }
  if (/sourceMappingURL=/.test(out.text)) throw new Error(`${name} points to a source map`);
  const ext = path.extname(name); // .js or .css
  manifest['app' + ext] = 'assets/' + name;
  await writeFile(path.join(assets, name), out.contents);
}
await writeFile(path.join(dist, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
console.log('demo shop built:', Object.values(manifest).join(', '));
