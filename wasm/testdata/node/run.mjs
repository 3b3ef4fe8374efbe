// Runs filter.wasm under Node's WASI (node:wasi, the V8 engine edge
// runtimes use) on request envelopes: node run.mjs filter.wasm DIR reads
// DIR/*.req and writes each response envelope to DIR/*.resp.
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { WASI } from 'node:wasi';
import { join } from 'node:path';

const [modulePath, dir] = process.argv.slice(2);
const wasi = new WASI({ version: 'preview1', args: [], env: {} });
const { instance } = await WebAssembly.instantiate(readFileSync(modulePath), {
  wasi_snapshot_preview1: wasi.wasiImport,
});
wasi.initialize(instance); // a WASI reactor: runs _initialize
const { alloc, apply, memory } = instance.exports;

for (const name of readdirSync(dir).filter((n) => n.endsWith('.req')).sort()) {
  const req = readFileSync(join(dir, name));
  const ptr = alloc(req.length);
  new Uint8Array(memory.buffer, ptr, req.length).set(req);
  const packed = apply(ptr, req.length);
  const rp = Number(packed >> 32n);
  const rl = Number(packed & 0xffffffffn);
  // Copy before the next call reuses the buffer.
  writeFileSync(join(dir, name.replace(/\.req$/, '.resp')), Buffer.from(new Uint8Array(memory.buffer, rp, rl)));
}
