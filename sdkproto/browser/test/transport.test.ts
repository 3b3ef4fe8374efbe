import { describe, expect, it } from 'vitest';
import { Transport, retryAfterMs } from '../src/transport';

function fake(statuses: Array<number | 'network'>, headers: Record<string, string> = {}) {
  const calls: Array<{ body: Uint8Array; keepalive?: boolean; ct: string }> = [];
  const waits: number[] = [];
  let i = 0;
  const fetch = (async (_url: string, init: RequestInit) => {
    calls.push({ body: new Uint8Array(await (init.body as Blob).arrayBuffer()), keepalive: init.keepalive, ct: (init.headers as Record<string, string>)['Content-Type'] });
    const s = statuses[Math.min(i++, statuses.length - 1)];
    if (s === 'network') throw new TypeError('Failed to fetch');
    return new Response('', { status: s, headers });
  }) as typeof globalThis.fetch;
  let clock = 1_000_000;
  const sleep = async (ms: number) => {
    waits.push(ms);
    clock += ms;
  };
  const t = new Transport({ url: 'https://edge.example/v1/ingest?key=k', fetch, log: () => {}, sleep, now: () => clock });
  return { t, calls, waits };
}

describe('Transport.send', () => {
  it('sends gzip as a simple CORS request', async () => {
    const { t, calls } = fake([202]);
    expect(await t.send('{"v":1}')).toBe('sent');
    expect(calls).toHaveLength(1);
    expect([calls[0].body[0], calls[0].body[1]]).toEqual([0x1f, 0x8b]);
    expect(calls[0].ct).toBe('text/plain');
    expect(calls[0].keepalive).toBe(true);
  });

  it('honours Retry-After on 429 and resends the same bytes', async () => {
    const { t, calls, waits } = fake([429, 202], { 'Retry-After': '7' });
    expect(await t.send('{"v":1}')).toBe('sent');
    expect(calls).toHaveLength(2);
    expect(calls[1].body).toEqual(calls[0].body);
    expect(waits[0]).toBe(7000);
  });

  it('backs off exponentially on 503 and network errors, then gives up', async () => {
    const { t, calls, waits } = fake(['network', 503, 500, 'network', 'network']);
    expect(await t.send('{}')).toBe('dropped');
    expect(calls).toHaveLength(5);
    expect(waits).toHaveLength(4);
    for (let i = 1; i < waits.length; i++) expect(waits[i]).toBeGreaterThan(waits[i - 1] * 0.9);
  });

  it('does not retry a batch the edge rejected', async () => {
    const { t, calls } = fake([400]);
    expect(await t.send('{}')).toBe('dropped');
    expect(calls).toHaveLength(1);
  });
});

describe('retryAfterMs', () => {
  it('reads seconds and dates', () => {
    expect(retryAfterMs('3', 0)).toBe(3000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(retryAfterMs('soon', 0)).toBeUndefined();
    expect(retryAfterMs(null, 0)).toBeUndefined();
  });
});

describe('Transport.rescue', () => {
  it('hands unsent bodies to sendBeacon once, and the pending send skips them', async () => {
    const beacons: string[] = [];
    Object.defineProperty(globalThis, 'navigator', { value: { sendBeacon: (_u: string, b: string) => (beacons.push(b), true) }, configurable: true });
    const { t, calls } = fake([202]);
    t.track('{"a":1}');
    t.rescue();
    t.rescue();
    expect(beacons).toEqual(['{"a":1}']);
    expect(await t.send('{"a":1}')).toBe('sent');
    expect(calls).toHaveLength(0);
  });
});
