import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// rrweb needs a DOM; here it is replaced by a recorder whose emit the test
// drives, to check buffering, triggering and segmenting. The real rrweb
// runs in Chromium in browser_test.go.
const rr = vi.hoisted(() => ({ emit: null as null | ((e: unknown, checkout?: boolean) => void), options: null as null | Record<string, unknown>, snapshots: 0, starts: 0, stops: 0 }));
vi.mock('@rrweb/record', () => {
  const record = (o: Record<string, unknown>) => {
    rr.options = o;
    rr.emit = o.emit as typeof rr.emit;
    rr.starts++;
    return () => void rr.stops++;
  };
  record.takeFullSnapshot = () => void rr.snapshots++;
  return { record };
});

import { Client } from '../src/client';
import { Recorder, SEGMENT_BYTES, overLimit } from '../src/replay';
import { resetStorage } from './env';
import { shapeErrors } from './shape';

const recorders: Recorder[] = [];

function setup(replay: Record<string, unknown>) {
  const c = new Client({ endpoint: 'https://e.example', key: 'k', flushInterval: 60_000, replay }, (async () => new Response('', { status: 202 })) as typeof fetch);
  const r = new Recorder(c, c.cfg.replay!);
  recorders.push(r);
  c.replay = r;
  // Keep batches in the queue for the test to read instead of sending them.
  c.flush = () => Promise.resolve();
  c.sendQueued = () => Promise.resolve();
  r.start();
  return { c, r };
}

function events(c: Client) {
  return c.takeBatches().flatMap((b) => {
    const j = JSON.parse(b);
    expect(shapeErrors(j)).toEqual([]);
    return j.events;
  });
}

let now = 1_764_028_800_000;
// The page's element count as the recorder sees it.
let elements = 100;
(document as unknown as Record<string, unknown>).getElementsByTagName = (tag: string) => ({ length: tag === '*' ? elements : 0 });
const meta = () => ({ type: 4, data: { href: 'https://shop.example.com/', width: 1280, height: 720 }, timestamp: now });
const full = () => ({ type: 2, data: { node: { type: 0, childNodes: [], id: 1 }, initialOffset: { left: 0, top: 0 } }, timestamp: now });
const input = (text: string) => ({ type: 3, data: { source: 5, text, isChecked: false, id: 4 }, timestamp: now });

describe('Recorder', () => {
  afterEach(() => {
    for (const r of recorders.splice(0)) r.stop();
    vi.useRealTimers();
  });
  beforeEach(() => {
    resetStorage();
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] });
    (globalThis as Record<string, unknown>).MutationObserver = undefined;
    elements = 100;
  });

  it('masks at record time: every input, the mask selectors, blocks', () => {
    setup({});
    const o = rr.options!;
    expect(o.maskAllInputs).toBe(true);
    expect(o.maskInputOptions).toMatchObject({ input: true, textarea: true, select: true, email: true });
    expect(o.maskTextSelector).toBe('[data-rv-mask],[data-sentry-mask],[data-lr-hide],.rr-mask');
    expect(o.blockSelector).toContain('[data-rv-block]');
    const maskText = o.maskTextFn as (t: string, el: unknown) => string;
    expect(maskText('Jane Doe', null)).toBe('**** ***');
    const maskInput = o.maskInputFn as (t: string, el: unknown) => string;
    expect(maskInput('4111 1111', null)).toBe('*********');
  });

  it('strict masks all text', () => {
    setup({ strict: true });
    expect(rr.options!.maskTextSelector).toBe('*');
  });

  it('buffer mode sends nothing until an error, then the buffer and what follows', () => {
    const { c, r } = setup({ sessionSampleRate: 0, onErrorSampleRate: 1, bufferSeconds: 10 });
    expect(r.mode).toBe('buffer');
    rr.emit!(meta(), false);
    rr.emit!(full(), false);
    for (let i = 0; i < 30; i++) {
      now += 1000;
      // rrweb checks out every bufferSeconds: Meta + FullSnapshot.
      if (i % 10 === 9) {
        rr.emit!(meta(), true);
        rr.emit!(full(), true);
      }
      rr.emit!(input('*'.repeat(i)));
    }
    vi.advanceTimersByTime(20_000);
    expect(events(c).filter((e: { kind: string }) => e.kind === 'replay')).toEqual([]);

    c.captureException(new Error('boom'), 'onerror', false);
    expect(r.mode).toBe('session');
    const evs = events(c);
    const seg = evs.find((e: { kind: string }) => e.kind === 'replay').replay;
    expect(seg.segment).toBe(0);
    expect(seg.from_buffer).toBe(true);
    // It starts at a checkout at most 2×bufferSeconds ago and covers at least bufferSeconds.
    expect(seg.events[0].type).toBe(4);
    expect(seg.events[1].type).toBe(2);
    expect(seg.end_ts - seg.events[0].timestamp).toBeGreaterThanOrEqual(10_000);
    expect(seg.end_ts - seg.events[0].timestamp).toBeLessThanOrEqual(20_000);
    expect(evs.findIndex((e: { kind: string }) => e.kind === 'replay')).toBeLessThan(evs.findIndex((e: { kind: string }) => e.kind === 'error'));

    // After the trigger the recording is live: a segment every 5 s.
    rr.emit!(input('**'));
    vi.advanceTimersByTime(5000);
    const next = events(c).find((e: { kind: string }) => e.kind === 'replay').replay;
    expect(next.segment).toBe(1);
    expect(next.from_buffer).toBeUndefined();
  });

  it('flagSession(support) flushes the buffer too', () => {
    const { c, r } = setup({ onErrorSampleRate: 1 });
    rr.emit!(meta());
    rr.emit!(full());
    c.flag('support');
    expect(r.mode).toBe('session');
    const evs = events(c);
    expect(evs[0].replay.from_buffer).toBe(true);
    expect(c.session.state.flags).toEqual({ support: true });
  });

  it('session mode cuts segments at 500 KB', () => {
    const { c, r } = setup({ sessionSampleRate: 1 });
    expect(r.mode).toBe('session');
    rr.emit!(meta());
    rr.emit!(full());
    const chunk = 'x'.repeat(100 * 1024);
    for (let i = 0; i < 12; i++) rr.emit!({ type: 5, data: { tag: 'big', payload: chunk }, timestamp: now + i });
    r.cut();
    const segs = events(c).filter((e: { kind: string }) => e.kind === 'replay');
    expect(segs.length).toBeGreaterThanOrEqual(3);
    segs.forEach((s: { replay: { segment: number; events: unknown[] } }, i: number) => {
      expect(s.replay.segment).toBe(i);
      expect(JSON.stringify(s.replay.events).length).toBeLessThan(SEGMENT_BYTES + 110 * 1024);
    });
  });

  it('session mode cuts a segment 5 s after its first event, not on every flush', () => {
    const { c, r } = setup({ sessionSampleRate: 1 });
    // The queue is sent on its own schedule, as in a page: breadcrumbs and
    // vitals flush it often, and that must not cut the open segment.
    const sent: string[] = [];
    c.sendQueued = () => {
      sent.push(...c.takeBatches());
      return Promise.resolve();
    };
    rr.emit!(meta());
    rr.emit!(full());
    for (let t = 0; t < 30_000; t += 250) {
      now += 250;
      rr.emit!(input('*'.repeat(t % 7)));
      if (t % 1000 === 0) c.addBreadcrumb({ category: 'ui.click', message: 'button#add' });
      void c.sendQueued();
      vi.advanceTimersByTime(250);
    }
    expect(r.live()).toBe(true);
    // The page hides: the open sixth segment goes too.
    r.cut();
    void c.sendQueued();
    const segs = sent.flatMap((b) => JSON.parse(b).events).filter((e: { kind: string }) => e.kind === 'replay');
    expect(segs.map((s: { replay: { segment: number } }) => s.replay.segment)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const s of segs) expect(s.replay.end_ts - s.replay.events[0].timestamp).toBeLessThanOrEqual(5000);
  });

  it('an error, flagSession and flush cut the open segment at once', () => {
    const { c } = setup({ sessionSampleRate: 1 });
    const segments = () => events(c).filter((e: { kind: string }) => e.kind === 'replay').length;
    rr.emit!(meta());
    rr.emit!(full());
    c.captureException(new Error('boom'), 'onerror', false);
    expect(segments()).toBe(1);
    rr.emit!(input('*'));
    c.flag('support');
    expect(segments()).toBe(1);
    rr.emit!(input('**'));
    c.guard(() => c.replay!.cut());
    expect(segments()).toBe(1);
    // Nothing recorded since: nothing to cut, no empty segment.
    c.captureException(new Error('again'), 'onerror', false);
    expect(segments()).toBe(0);
  });

  it('a fresh full snapshot every checkoutEveryMs in session mode', () => {
    setup({ sessionSampleRate: 1, checkoutEveryMs: 60_000 });
    const before = rr.snapshots;
    vi.advanceTimersByTime(180_000);
    expect(rr.snapshots - before).toBe(3);
  });

  it('samples off when both rates are zero-ish', () => {
    // onErrorSampleRate > 0 keeps replay configured; Math.random decides,
    // so it is pinned: the session draw and then the buffer draw.
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.5);
    try {
      const { c, r } = setup({ sessionSampleRate: 0, onErrorSampleRate: 0.0000001 });
      expect(r.mode).toBe('off');
      expect(c.session.state.replay).toBe('off');
      // A draw under the tiny rate buffers: the rate is honoured, not rounded to 0.
      resetStorage();
      random.mockReturnValue(0.00000005);
      expect(setup({ sessionSampleRate: 0, onErrorSampleRate: 0.0000001 }).r.mode).toBe('buffer');
    } finally {
      random.mockRestore();
    }
  });

  describe('huge DOM guard', () => {
    it.each([
      { name: 'under the limit records', limit: 50_000, n: 50_000, want: 0 },
      { name: 'over the limit', limit: 50_000, n: 50_001, want: 50_001 },
      { name: '0 disables the check', limit: 0, n: 1_000_000, want: 0 },
    ])('overLimit: $name', ({ limit, n, want }) => {
      elements = n;
      expect(overLimit(limit, document)).toBe(want);
    });
    it('overLimit without a DOM is never over', () => {
      expect(overLimit(10, {})).toBe(0);
    });

    const skipped = (c: Client) => events(c).filter((e: { kind: string; breadcrumb?: { data?: Record<string, string> } }) => e.kind === 'breadcrumb' && e.breadcrumb!.data?.reason === 'max_nodes');

    it.each([
      { mode: 'session', replay: { sessionSampleRate: 1, maxNodes: 1000 }, sent: 1 },
      // A buffered session sends nothing on its own; the breadcrumb waits for an error.
      { mode: 'buffer', replay: { sessionSampleRate: 0, onErrorSampleRate: 1, maxNodes: 1000 }, sent: 0 },
    ])('a page already too large is not recorded ($mode mode), errors still are', ({ mode, replay, sent }) => {
      elements = 1001;
      const starts = rr.starts;
      const { c, r } = setup(replay);
      expect(r.mode).toBe(mode);
      expect(rr.starts - starts).toBe(0);
      expect(r.live()).toBe(false);
      vi.advanceTimersByTime(10 * 60_000);
      const crumbs = skipped(c);
      expect(crumbs.length).toBe(sent);
      if (sent) expect(crumbs[0].breadcrumb).toMatchObject({ category: 'replay', data: { elements: '1001', limit: '1000' } });

      c.captureException(new Error('after the skip'), 'onerror', false);
      const evs = events(c);
      expect(evs.filter((e: { kind: string }) => e.kind === 'replay')).toEqual([]);
      const err = evs.find((e: { kind: string }) => e.kind === 'error');
      expect(err.error.value).toBe('after the skip');
      expect(err.error.breadcrumbs.some((b: { message?: string }) => b.message === 'replay skipped: 1001 elements exceed replay.maxNodes 1000')).toBe(true);
    });

    it('a checkout on a page grown too large stops recording instead', () => {
      const { c, r } = setup({ sessionSampleRate: 1, checkoutEveryMs: 60_000, maxNodes: 1000 });
      const before = { snapshots: rr.snapshots, stops: rr.stops };
      rr.emit!(meta());
      rr.emit!(full());
      vi.advanceTimersByTime(60_000);
      expect(rr.snapshots - before.snapshots).toBe(1);
      elements = 5000;
      vi.advanceTimersByTime(60_000);
      expect(rr.snapshots - before.snapshots).toBe(1);
      expect(rr.stops - before.stops).toBe(1);
      expect(r.live()).toBe(false);
      const evs = events(c);
      // What was recorded before the stop is still sent.
      expect(evs.filter((e: { kind: string }) => e.kind === 'replay').length).toBe(1);
      expect(evs.filter((e: { kind: string; breadcrumb?: { message?: string } }) => e.kind === 'breadcrumb' && e.breadcrumb!.message === 'recording stopped: 5000 elements exceed replay.maxNodes 1000').length).toBe(1);
      vi.advanceTimersByTime(180_000);
      expect(rr.snapshots - before.snapshots).toBe(1);
    });

    it('waits for load when the document is still parsing, and checks then', () => {
      const doc = document as unknown as Record<string, unknown>;
      const listeners: Array<() => void> = [];
      const add = (globalThis as Record<string, unknown>).addEventListener;
      (globalThis as Record<string, unknown>).addEventListener = (type: string, fn: () => void) => type === 'load' && listeners.push(fn);
      doc.readyState = 'loading';
      try {
        const starts = rr.starts;
        const { c } = setup({ sessionSampleRate: 1, maxNodes: 1000 });
        expect(rr.starts - starts).toBe(0);
        // The page builds its DOM after the SDK loaded.
        elements = 2000;
        doc.readyState = 'complete';
        listeners.forEach((fn) => fn());
        expect(rr.starts - starts).toBe(0);
        expect(skipped(c).length).toBe(1);
      } finally {
        delete doc.readyState;
        (globalThis as Record<string, unknown>).addEventListener = add;
      }
    });
  });
});
