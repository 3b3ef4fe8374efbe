import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Frame } from '../src/protocol';

// A bundler that injects Debug IDs registers each bundle as
// globalThis._sentryDebugIds[new Error().stack] = id (ours: _rvDebugIds);
// the stack's first frame names the bundle. debugIdsFor must map the
// frames of an error to those ids by URL.

const g = globalThis as unknown as { _rvDebugIds?: Record<string, string>; _sentryDebugIds?: Record<string, string> };

const APP = 'https://cdn.example.com/app.4f2a.js';
const VENDOR = 'https://cdn.example.com/vendor.91bc.js';
const LAZY = 'https://cdn.example.com/lazy.77d0.js';
const v8 = (url: string) => 'Error\n    at ' + url + ':1:4021\n    at ' + url + ':1:17';
const gecko = (url: string) => '@' + url + ':1:4021\n@' + url + ':1:17\n';

const ID_APP = 'c9a7e1d2-6b3f-4a5e-9c8d-7f6e5d4c3b2a';
const ID_VENDOR = '0f1e2d3c-4b5a-4697-8877-665544332211';
const ID_LAZY = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';

/** debugIdsFor from a fresh module: its cache must not carry over between cases. */
async function load() {
  vi.resetModules();
  return (await import('../src/debugids')).debugIdsFor;
}

const frames = (...urls: string[]): Frame[] => urls.map((url, i) => ({ url, line: 1, column: 100 + i }));

describe('debugIdsFor', () => {
  beforeEach(() => {
    delete g._rvDebugIds;
    delete g._sentryDebugIds;
  });
  afterEach(() => {
    delete g._rvDebugIds;
    delete g._sentryDebugIds;
  });

  const cases: Array<{ name: string; rv?: Record<string, string>; sentry?: Record<string, string>; frames: Frame[]; want: Record<string, string> | undefined }> = [
    { name: 'no registry', frames: frames(APP), want: undefined },
    { name: 'Sentry registry, V8 stacks', sentry: { [v8(APP)]: ID_APP, [v8(VENDOR)]: ID_VENDOR }, frames: frames(APP, VENDOR), want: { [APP]: ID_APP, [VENDOR]: ID_VENDOR } },
    { name: 'our registry, Gecko stacks', rv: { [gecko(APP)]: ID_APP }, frames: frames(APP), want: { [APP]: ID_APP } },
    { name: 'both registries merge', rv: { [v8(APP)]: ID_APP }, sentry: { [gecko(VENDOR)]: ID_VENDOR }, frames: frames(VENDOR, APP), want: { [APP]: ID_APP, [VENDOR]: ID_VENDOR } },
    // The same bundle registered under both names: ours is the one the SDK's own tooling wrote.
    { name: 'ours wins for the same stack', rv: { [v8(APP)]: ID_APP }, sentry: { [v8(APP)]: ID_VENDOR }, frames: frames(APP), want: { [APP]: ID_APP } },
    { name: 'only bundles in the stack', sentry: { [v8(APP)]: ID_APP, [v8(LAZY)]: ID_LAZY }, frames: frames(APP, 'https://shop.example.com/inline.js'), want: { [APP]: ID_APP } },
    { name: 'one entry per bundle however many frames', sentry: { [v8(APP)]: ID_APP }, frames: frames(APP, APP, APP), want: { [APP]: ID_APP } },
    { name: 'no frame matches', sentry: { [v8(APP)]: ID_APP }, frames: frames(VENDOR), want: undefined },
    { name: 'a registry key that is no stack is ignored', sentry: { 'not a stack': ID_LAZY, [v8(APP)]: ID_APP }, frames: frames(APP), want: { [APP]: ID_APP } },
    { name: 'ids are clipped to 256 bytes', sentry: { [v8(APP)]: 'x'.repeat(300) }, frames: frames(APP), want: { [APP]: 'x'.repeat(256) } },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      if (c.rv) g._rvDebugIds = c.rv;
      if (c.sentry) g._sentryDebugIds = c.sentry;
      const debugIdsFor = await load();
      expect(debugIdsFor(c.frames)).toEqual(c.want);
    });
  }

  it('sees bundles registered after the first error (lazy chunks)', async () => {
    g._sentryDebugIds = { [v8(APP)]: ID_APP };
    const debugIdsFor = await load();
    expect(debugIdsFor(frames(APP, LAZY))).toEqual({ [APP]: ID_APP });
    g._sentryDebugIds[v8(LAZY)] = ID_LAZY;
    expect(debugIdsFor(frames(APP, LAZY))).toEqual({ [APP]: ID_APP, [LAZY]: ID_LAZY });
  });
});
