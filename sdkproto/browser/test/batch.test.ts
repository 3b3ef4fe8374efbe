import { readFileSync, readdirSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { beforeEach, describe, expect, it } from 'vitest';
import { Client } from '../src/client';
import { resetStorage } from './env';
import { paths, shapeErrors } from './shape';

const vectorsDir = new URL('../../testdata/valid/', import.meta.url);
const vectors = readdirSync(vectorsDir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ name: f, json: JSON.parse(readFileSync(new URL(f, vectorsDir), 'utf8')) }));

/** newClient returns a client whose requests are recorded, never sent. */
function newClient(opts: Record<string, unknown> = {}) {
  const sent: string[] = [];
  const fetch = (async (_url: string, init: RequestInit) => {
    // Bodies are gzip blobs where CompressionStream exists (Node 20 has it).
    const b = init.body;
    sent.push(typeof b === 'string' ? b : gunzipSync(new Uint8Array(await (b as Blob).arrayBuffer())).toString('utf8'));
    return new Response('{}', { status: 202 });
  }) as typeof globalThis.fetch;
  const c = new Client({ endpoint: 'https://edge.example.com', key: 'rvk_test', release: 'a7f3e2c', environment: 'production', flushInterval: 60_000, ...opts }, fetch);
  return { c, sent };
}

describe('golden vectors', () => {
  it('exist', () => expect(vectors.length).toBeGreaterThanOrEqual(3));
  for (const v of vectors) {
    // The validator is the Go structs themselves; the vectors pass the Go
    // decoder, so they must pass here too or the validator is wrong.
    it(v.name + ' matches sdkproto.Batch', () => expect(shapeErrors(v.json)).toEqual([]));
  }
  it('the validator rejects an unknown field', () => {
    const b = structuredClone(vectors[0].json);
    b.session.extra = 1;
    b.events[0].error = { ...b.events[0].error, colour: 'red' };
    expect(shapeErrors(b)).toEqual(['session.extra: unknown field', 'events[0].error.colour: unknown field']);
  });
});

describe('batches the SDK builds', () => {
  beforeEach(() => resetStorage());

  function build() {
    const { c } = newClient();
    c.setUser({ id: 42 });
    c.setTag('component', 'CartSummary');
    c.addBreadcrumb({ category: 'ui.click', selector: 'button#checkout' });
    c.addBreadcrumb({ category: 'fetch', level: 'error', http: { method: 'GET', url: 'https://shop.example.com/api/cart', status: 500, duration_ms: 120.5, trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' } });
    c.lastFailure = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', at: Date.now() };
    c.captureException(new TypeError("Cannot read properties of undefined (reading 'map')"), 'onerror', false);
    c.captureMessage('checkout slow', 'warning', { fingerprint: ['checkout'] });
    c.captureVital({ name: 'LCP', value: 2412.5, delta: 2412.5, rating: 'good', navigation_type: 'navigate', metric_id: 'v5-1-1', url: location.href, attribution: { element: 'img#hero' } });
    c.enqueue('session', { state: 'start', url: location.href }, 0);
    c.push('replay', '{"id":"r-1","ts":1764028800100,"kind":"replay","replay":{"segment":0,"from_buffer":true,"end_ts":1764028800110,"events":[{"type":4,"data":{"href":"x","width":1,"height":1},"timestamp":1764028800100}]}}', 0);
    return { c, bodies: c.takeBatches().map((b) => JSON.parse(b)) };
  }

  it('decode as sdkproto.Batch', () => {
    const { bodies } = build();
    expect(bodies).toHaveLength(1);
    expect(shapeErrors(bodies[0])).toEqual([]);
  });

  it('use only paths the golden vectors use', () => {
    // Fields the SDK sends beyond the vectors are declared in batch.go (the
    // shape check above); this pins the common core to the vectors.
    const golden = new Set<string>();
    for (const v of vectors) paths(v.json, '', golden);
    const ours = paths(build().bodies[0]);
    const extra = [...ours].filter((p) => !golden.has(p)).sort();
    expect(extra).toEqual(['events[].error.breadcrumbs[].level', 'events[].error.fingerprint', 'events[].error.level']);
  });

  it('carry the session, user, flags and a growing seq', () => {
    const { c, bodies } = build();
    const b = bodies[0];
    expect(b.v).toBe(1);
    expect(b.sdk).toEqual({ name: '@rearview/browser', version: '0.1.0' });
    expect(b.session.id).toMatch(/^[\w-]{1,64}$/);
    expect(b.session.user_id).toBe('42');
    expect(b.session.flags).toEqual({ error: true });
    expect(b.session.seq).toBe(0);
    c.enqueue('session', { state: 'page_view' }, 0);
    expect(JSON.parse(c.takeBatches()[0]).session.seq).toBe(1);
    const err = b.events.find((e: { kind: string }) => e.kind === 'error').error;
    expect(err).toMatchObject({ type: 'TypeError', mechanism: 'onerror', handled: false, release: 'a7f3e2c', environment: 'production', tags: { component: 'CartSummary' }, trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: '00f067aa0ba902b7' });
    expect(err.stack.length).toBeGreaterThan(0);
    expect(err.breadcrumbs.map((x: { category: string }) => x.category)).toEqual(['ui.click', 'fetch']);
    for (const e of b.events) expect(e.id).toMatch(/^[\w-]{1,64}$/);
  });

  it('split at 500 events and stay under the wire cap', () => {
    const { c } = newClient();
    for (let i = 0; i < 1001; i++) c.enqueue('breadcrumb', { category: 'console', message: 'x'.repeat(100) }, 60_000);
    const sizes = c.takeBatches().map((b) => JSON.parse(b).events.length);
    expect(sizes).toEqual([500, 500]); // the queue holds 1000
    const big = 'y'.repeat(6000);
    for (let i = 0; i < 400; i++) c.enqueue('breadcrumb', { category: 'console', message: big }, 60_000);
    const bodies = c.takeBatches();
    expect(bodies.length).toBeGreaterThan(1);
    for (const b of bodies) expect(b.length).toBeLessThan(1 << 20);
  });

  it('keep errors when the queue is full', () => {
    const { c } = newClient();
    for (let i = 0; i < 1000; i++) c.enqueue('breadcrumb', { category: 'console' }, 60_000);
    c.captureMessage('still here', 'error');
    const kinds = c.takeBatches().flatMap((b) => JSON.parse(b).events.map((e: { kind: string }) => e.kind));
    expect(kinds).toHaveLength(1000);
    expect(kinds[kinds.length - 1]).toBe('error');
  });

  it('clip strings to the edge limits', () => {
    const { c } = newClient();
    c.captureMessage('é'.repeat(10000), 'error');
    const e = JSON.parse(c.takeBatches()[0]).events[0].error;
    expect(new TextEncoder().encode(e.value).length).toBeLessThanOrEqual(8192);
  });

  it('sample errors by sampleRate', () => {
    const { c } = newClient({ sampleRate: 0 });
    c.captureException(new Error('dropped'));
    expect(c.takeBatches()).toEqual([]);
    expect(c.session.state.flags.error).toBe(true);
  });

  it('report non-Error rejections readably', () => {
    const { c } = newClient();
    c.captureException({ code: 7 }, 'unhandledrejection', false);
    const e = JSON.parse(c.takeBatches()[0]).events[0].error;
    expect(e).toMatchObject({ type: 'UnhandledRejection', value: 'Non-Error promise rejection: {"code":7}', mechanism: 'unhandledrejection' });
  });

  it('send through flush', async () => {
    const { c, sent } = newClient();
    c.captureMessage('hello');
    await c.flush();
    expect(sent).toHaveLength(1);
    expect(shapeErrors(JSON.parse(sent[0]))).toEqual([]);
  });
});

describe('bot signals', () => {
  beforeEach(() => resetStorage());
  const nav = globalThis.navigator as unknown as Record<string, unknown>;
  const ua = nav.userAgent;

  it('are absent from a human browser batch', () => {
    const { c } = newClient();
    const d = c.device();
    expect(d.webdriver).toBeUndefined();
    expect(d.headless).toBeUndefined();
  });

  it('report navigator.webdriver and a headless browser, in a batch sdkproto accepts', () => {
    nav.webdriver = true;
    nav.userAgent = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36';
    try {
      const { c } = newClient();
      c.captureMessage('x', 'info');
      const [b] = c.takeBatches().map((s) => JSON.parse(s));
      expect(b.device.webdriver).toBe(true);
      expect(b.device.headless).toBe(true);
      expect(shapeErrors(b)).toEqual([]);
    } finally {
      delete nav.webdriver;
      nav.userAgent = ua;
    }
  });

  it('find a headless brand behind an overridden user agent', () => {
    nav.userAgentData = { brands: [{ brand: 'HeadlessChrome', version: '156' }] };
    try {
      expect(newClient().c.device().headless).toBe(true);
    } finally {
      delete nav.userAgentData;
    }
  });
});
