import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Client, MAX_PENDING, MAX_PENDING_CHARS } from '../src/client';
import { resetStorage } from './env';

// While the edge is down, flush keeps taking batches out of the capped
// queue; these tests check that what waits to be sent stays capped too,
// over many more flushes than the cap, and that errors outlive the rest.

/** Private state read through the unmangled source (the tests never run the minified build). */
interface Inside {
  pending_: Array<{ body_: string; error_: boolean }>;
  pendingChars_: number;
  transport: { unsent_: Set<string> };
}
const inside = (c: Client) => c as unknown as Inside;

function newClient(fetch: typeof globalThis.fetch) {
  const warnings: string[] = [];
  vi.spyOn(console, 'warn').mockImplementation((m: string) => void warnings.push(m));
  const c = new Client({ endpoint: 'https://edge.example.com', key: 'rvk_test', flushInterval: 60_000, debug: true }, fetch);
  return { c, warnings };
}

const vital = (c: Client, i: number) => c.captureVital({ name: 'CLS', value: i });

function expectCapped(c: Client) {
  const s = inside(c);
  expect(s.pending_.length).toBeLessThanOrEqual(MAX_PENDING);
  expect(s.pendingChars_).toBe(s.pending_.reduce((n, q) => n + q.body_.length, 0));
  expect(s.pendingChars_).toBeLessThanOrEqual(MAX_PENDING_CHARS);
  // The transport's own set holds the waiting batches and the one being sent.
  expect(s.transport.unsent_.size).toBeLessThanOrEqual(MAX_PENDING + 1);
}

/**
 * tick advances fake time, then lets the send loop's promise hops run to
 * the end (a real macrotask): a retry's timer is set only after them, and
 * advancing time first would pass over it.
 */
async function tick(ms: number) {
  await vi.advanceTimersByTimeAsync(ms);
  await new Promise((r) => setImmediate(r));
}

describe('send backlog while the edge is down', () => {
  beforeEach(() => resetStorage());
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it('stays capped in count when fetch never answers, and keeps errors', async () => {
    let calls = 0;
    const { c, warnings } = newClient((() => (calls++, new Promise<Response>(() => {}))) as typeof fetch);
    c.captureMessage('early error', 'error');
    void c.flush();
    for (let i = 0; i < 500; i++) {
      vital(c, i);
      void c.flush();
      if (i === 100) c.captureException(new Error('kept'));
      expectCapped(c);
    }
    // Let the first batch get through compression to its never-ending fetch.
    await vi.waitFor(() => expect(calls).toBe(1));
    const pending = inside(c).pending_;
    expect(pending).toHaveLength(MAX_PENDING);
    // The early error is the batch in flight; the later one waits, while
    // every other batch that waited with it was dropped, oldest first.
    expect(pending.filter((q) => q.error_).map((q) => JSON.parse(q.body_).events[0].error.value)).toEqual(['kept']);
    expect(JSON.parse(pending[pending.length - 1].body_).events[0].vital.value).toBe(499);
    expect(warnings.filter((w) => w.includes('queue full, dropping batch')).length).toBe(501 - 1 - MAX_PENDING);
  });

  it('stays capped in characters', () => {
    const { c } = newClient((() => new Promise<Response>(() => {})) as typeof fetch);
    const big = 'x'.repeat(800 << 10);
    for (let i = 0; i < 100; i++) {
      c.push('breadcrumb', '{"id":"b' + i + '","ts":1,"kind":"breadcrumb","breadcrumb":{"category":"' + big + '"}}', 60_000);
      void c.flush();
      expectCapped(c);
    }
    // 8 MB of characters hold ten batches of 800 KB and their envelopes.
    expect(inside(c).pending_.length).toBe(10);
  });

  it('stays capped over minutes of 503, then delivers the error', async () => {
    // Date too: a 503's Retry-After hold is measured with Date.now.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    // Compression runs on real time (zlib's thread pool), which fake timers
    // cannot advance: send plain bodies instead.
    vi.stubGlobal('CompressionStream', undefined);
    let up = false;
    const sent: string[] = [];
    let attempts = 0;
    const { c } = newClient((async (_u: string, init: RequestInit) => {
      attempts++;
      if (!up) return new Response('', { status: 503 });
      sent.push(init.body as string);
      return new Response('{}', { status: 202 });
    }) as typeof fetch);
    // Five minutes with a flush every 2 s: 150 batches, each retrying ~15 s.
    for (let i = 0; i < 150; i++) {
      vital(c, i);
      // Late enough that it still waits when the edge is back; the 15
      // batches queued after it push out older ones, never it.
      if (i === 135) c.captureException(new Error('during the outage'));
      void c.flush();
      await tick(2000);
      expectCapped(c);
    }
    expect(attempts).toBeGreaterThan(20);
    up = true;
    for (let i = 0; i < 120; i++) await tick(1000);
    expect(inside(c).pending_).toHaveLength(0);
    expect(inside(c).transport.unsent_.size).toBe(0);
    const events = sent.flatMap((b) => JSON.parse(b).events);
    expect(events.filter((e) => e.kind === 'error').map((e) => e.error.value)).toEqual(['during the outage']);
    // What came back is at most the backlog and the batch in flight.
    expect(sent.length).toBeLessThanOrEqual(MAX_PENDING + 1);
  });
});
