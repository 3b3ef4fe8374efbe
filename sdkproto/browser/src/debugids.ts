import type { Frame } from './protocol';
import { LIMITS, clip } from './protocol';
import { parseStack } from './stack';

// Bundlers that inject Debug IDs (the ECMA-426 "//# debugId=" convention)
// also register each bundle at run time in a global map from an Error stack
// captured inside the bundle to its id. The first frame of that stack names
// the bundle's URL, which is what the symbolicator needs.

type Registry = Record<string, string>;

let cache: { size: number; byURL: Record<string, string> } | null = null;

function registry(): Registry | undefined {
  const g = globalThis as unknown as { _rvDebugIds?: Registry; _sentryDebugIds?: Registry };
  if (g._rvDebugIds || g._sentryDebugIds) return { ...(g._sentryDebugIds || {}), ...(g._rvDebugIds || {}) };
  return undefined;
}

/** debugIdsFor maps the bundle URLs of frames to the Debug IDs their bundles declared. */
export function debugIdsFor(frames: Frame[]): Record<string, string> | undefined {
  const reg = registry();
  if (!reg) return undefined;
  const keys = Object.keys(reg);
  if (!cache || cache.size !== keys.length) {
    const byURL: Record<string, string> = {};
    for (const stack of keys) {
      const f = parseStack(stack)[0];
      if (f && f.url) byURL[f.url] = reg[stack];
    }
    cache = { size: keys.length, byURL };
  }
  let out: Record<string, string> | undefined;
  let n = 0;
  for (const f of frames) {
    const id = cache.byURL[f.url];
    if (id && !(out && f.url in out) && n < LIMITS.frames) {
      (out ||= {})[f.url] = clip(id, LIMITS.short);
      n++;
    }
  }
  return out;
}
