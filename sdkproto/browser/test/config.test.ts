import { describe, expect, it } from 'vitest';
import { matches, parseDSN, resolve } from '../src/config';

describe('parseDSN', () => {
  const cases = [
    { dsn: 'https://rvk_abc@edge.example.com/shop', endpoint: 'https://edge.example.com', key: 'rvk_abc', project: 'shop' },
    { dsn: 'http://rvk_abc@127.0.0.1:8080/shop/', endpoint: 'http://127.0.0.1:8080', key: 'rvk_abc', project: 'shop' },
    { dsn: 'https://k@edge.example.com/prefix/eu/shop', endpoint: 'https://edge.example.com/prefix/eu', key: 'k', project: 'shop' },
  ];
  for (const c of cases) {
    it(c.dsn, () => expect(parseDSN(c.dsn)).toEqual({ endpoint: c.endpoint, key: c.key, project: c.project }));
  }
  for (const bad of ['edge.example.com', 'https://edge.example.com/shop', 'https://k@edge.example.com', 'ftp://k@h/p']) {
    it('rejects ' + bad, () => expect(() => parseDSN(bad)).toThrow(/DSN/));
  }
});

describe('resolve', () => {
  it('builds the beacon-friendly ingest URL from a DSN', () => {
    const r = resolve('https://rvk_abc@edge.example.com/shop');
    expect(r.ingestURL).toBe('https://edge.example.com/v1/ingest?key=rvk_abc');
    expect(r.replay).toBeNull();
    expect(r.sampleRate).toBe(1);
  });
  it('defaults replay to buffer mode with every input masked', () => {
    const r = resolve({ endpoint: 'https://e.example/', key: 'k', replay: {} });
    expect(r.replay).toMatchObject({ sessionSampleRate: 0, onErrorSampleRate: 1, bufferMs: 60000, maskAllInputs: true, maskAllText: false, mutationLimit: 10000, maxNodes: 50000 });
    expect(resolve({ endpoint: 'https://e.example', key: 'k', replay: { maxNodes: 0 } }).replay!.maxNodes).toBe(0);
    expect(r.replay!.mask).toEqual(['[data-rv-mask]', '[data-sentry-mask]', '[data-lr-hide]', '.rr-mask']);
    expect(r.replay!.block).toContain('[data-rv-block]');
  });
  it('strict masks everything and ignores unmask', () => {
    const r = resolve({ endpoint: 'https://e.example', key: 'k', replay: { strict: true, maskAllInputs: false, unmask: ['.public'] } });
    expect(r.replay).toMatchObject({ strict: true, maskAllInputs: true, maskAllText: true, unmask: [] });
  });
  it('needs an endpoint and a key', () => {
    expect(() => resolve({ endpoint: 'https://e.example' })).toThrow();
  });
});

describe('matches', () => {
  it('takes substrings and patterns', () => {
    expect(matches('https://api.example.com/v1/cart', ['api.example.com'])).toBe(true);
    expect(matches('https://api.example.com/v1/cart', [/\/v2\//])).toBe(false);
    expect(matches('https://api.example.com/v1/cart', [''])).toBe(false);
  });
});
