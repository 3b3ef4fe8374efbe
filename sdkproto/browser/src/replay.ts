import { record } from '@rrweb/record';
import type { Client, Replay } from './client';
import type { ResolvedReplay } from './config';
import type { ReplayMode } from './session';
import { eventId } from './ids';

/** A segment is cut at least this often while recording is live. */
export const SEGMENT_MS = 5000;
/** A segment is cut as soon as its events reach this many bytes (about). */
export const SEGMENT_BYTES = 500 * 1024;

/** rrweb event types the recorder uses here. */
const META = 4;
const FULL_SNAPSHOT = 2;

interface Recorded {
  ts: number;
  json: string;
}

/** Chunk is recording that starts with a full snapshot, so it plays on its own. */
interface Chunk {
  start: number;
  events: Recorded[];
}

/** maskInputs lists what rrweb masks when every input is masked: every input tag, whatever its type (hidden too), textareas and selects. */
const ALL_INPUTS = { input: true, textarea: true, select: true, password: true, email: true, tel: true, text: true, number: true, search: true, url: true, date: true, 'datetime-local': true, month: true, week: true, time: true, color: true, range: true };

function stars(s: string): string {
  return s.replace(/\S/g, '*');
}

/**
 * Recorder drives rrweb. In session mode it sends a segment every 5 s or
 * 500 KB. In buffer mode it keeps only the last bufferSeconds in memory
 * (in chunks that each begin with a full snapshot) and sends nothing until
 * an error or flagSession turns it into session mode, flushing the buffer
 * first. Masking happens here, before any event exists outside rrweb.
 */
export class Recorder implements Replay {
  mode: ReplayMode = 'off';
  private stopFn: (() => void) | undefined;
  private observer: MutationObserver | undefined;
  private chunks: Chunk[] = [];
  private pending: Recorded[] = [];
  private pendingBytes = 0;
  private fromBuffer = false;
  private segTimer: ReturnType<typeof setInterval> | undefined;
  private checkoutTimer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;

  constructor(
    private c: Client,
    private o: ResolvedReplay,
  ) {}

  /** start decides the mode for the session (once; reloads agree) and records. */
  start(): void {
    const s = this.c.session;
    let mode = s.state.replay;
    if (!mode) {
      const r = Math.random();
      mode = r < this.o.sessionSampleRate ? 'session' : Math.random() < this.o.onErrorSampleRate ? 'buffer' : 'off';
      s.setReplay(mode);
    }
    this.mode = mode;
    if (mode === 'off') return;
    this.watchMutations();
    this.record();
  }

  private record(): void {
    const o = this.o;
    const unmask = o.unmask.join(',');
    const unmasked = (el: Element | HTMLElement | null) => !!unmask && !!el && typeof el.closest === 'function' && !!el.closest(unmask);
    const stop = record({
      emit: (e: { type: number; timestamp: number }, isCheckout?: boolean) => this.c.guard(() => this.onEvent(e, !!isCheckout)),
      maskAllInputs: o.maskAllInputs,
      maskInputOptions: o.maskAllInputs ? ALL_INPUTS : { password: true },
      maskTextSelector: o.maskAllText ? '*' : o.mask.join(','),
      maskTextFn: (text: string, el: HTMLElement | null) => (unmasked(el) ? text : stars(text)),
      maskInputFn: (text: string, el: HTMLElement) => (unmasked(el) ? text : '*'.repeat(text.length)),
      blockSelector: o.block.join(','),
      slimDOMOptions: 'all',
      inlineStylesheet: true,
      recordCanvas: false,
      collectFonts: false,
      sampling: { mousemove: 50, scroll: 150, media: 800, input: 'last' },
      errorHandler: (err: unknown) => {
        this.c.log('recorder', err);
        return true;
      },
    } as Parameters<typeof record>[0]);
    this.stopFn = stop || undefined;
    this.resetTimers();
  }

  private resetTimers(): void {
    if (this.segTimer !== undefined) clearInterval(this.segTimer);
    if (this.checkoutTimer !== undefined) clearInterval(this.checkoutTimer);
    this.segTimer = setInterval(() => this.c.guard(() => this.cut()), SEGMENT_MS);
    // A buffer needs a full snapshot at least every bufferSeconds so that
    // what it keeps plays; a live recording every few minutes for seeking.
    const every = this.mode === 'buffer' ? this.o.bufferMs : this.o.checkoutEveryMs;
    this.checkoutTimer = setInterval(() => this.c.guard(() => record.takeFullSnapshot(true)), every);
  }

  /**
   * watchMutations stops recording when one batch of DOM mutations is huge:
   * serialising it would freeze the page. This observer is created before
   * rrweb's, so the browser delivers to it first and stopping disconnects
   * rrweb's observer before rrweb processes the batch.
   */
  private watchMutations(): void {
    if (typeof MutationObserver === 'undefined') return;
    this.observer = new MutationObserver((records) => {
      // One appended fragment is one record with many nodes: count nodes.
      let n = records.length;
      for (let i = 0; i < records.length && n <= this.o.mutationLimit; i++) n += records[i].addedNodes.length + records[i].removedNodes.length;
      if (n > this.o.mutationLimit) {
        this.c.guard(() => {
          this.c.addBreadcrumb({ category: 'replay', level: 'warning', message: 'recording stopped: ' + n + ' DOM mutations at once exceed the limit of ' + this.o.mutationLimit });
          this.stop();
        });
      }
    });
    this.observer.observe(document, { childList: true, subtree: true, attributes: true, characterData: true });
  }

  private onEvent(e: { type: number; timestamp: number }, isCheckout: boolean): void {
    if (this.stopped) return;
    const rec = { ts: e.timestamp || Date.now(), json: JSON.stringify(e) };
    if (this.mode === 'buffer') {
      // A checkout starts with a Meta event, then the full snapshot.
      if (e.type === META && (isCheckout || !this.chunks.length)) this.chunks.push({ start: rec.ts, events: [] });
      if (!this.chunks.length) this.chunks.push({ start: rec.ts, events: [] });
      this.chunks[this.chunks.length - 1].events.push(rec);
      this.prune(rec.ts);
      return;
    }
    this.pending.push(rec);
    this.pendingBytes += rec.json.length;
    if (this.pendingBytes >= SEGMENT_BYTES && e.type !== META) this.cut();
  }

  /** prune drops chunks no longer needed to replay the last bufferSeconds. */
  private prune(now: number): void {
    const horizon = now - this.o.bufferMs;
    while (this.chunks.length > 1 && this.chunks[1].start <= horizon) this.chunks.shift();
  }

  live(): boolean {
    return this.mode === 'session' && !this.stopped;
  }

  bufferStart(): number {
    return this.chunks.length ? this.chunks[0].start : Date.now();
  }

  onTrigger(): void {
    if (this.mode !== 'buffer' || this.stopped) return;
    // The buffer and everything after it are now sent: the session is
    // flagged and the edge keeps it whole.
    const since = this.bufferStart();
    this.mode = 'session';
    this.c.session.setReplay('session');
    for (const ch of this.chunks) for (const r of ch.events) this.pending.push(r);
    this.chunks = [];
    this.pendingBytes = this.pending.reduce((n, r) => n + r.json.length, 0);
    this.fromBuffer = true;
    for (const b of this.c.breadcrumbsSince(since)) this.c.enqueue('breadcrumb', b, 0);
    this.cut();
    this.resetTimers();
  }

  onSessionRotate(): void {
    if (this.stopped) return;
    // The old session's tail is dropped with it; the new session samples
    // afresh and starts from a full snapshot.
    this.pending = [];
    this.pendingBytes = 0;
    this.chunks = [];
    const r = Math.random();
    const mode: ReplayMode = r < this.o.sessionSampleRate ? 'session' : Math.random() < this.o.onErrorSampleRate ? 'buffer' : 'off';
    this.c.session.setReplay(mode);
    if (mode === 'off') {
      this.stop();
      return;
    }
    this.mode = mode;
    this.resetTimers();
    record.takeFullSnapshot(true);
  }

  /** cut queues what is pending as one or more segments of at most SEGMENT_BYTES. */
  cut(): void {
    if (this.mode !== 'session' || !this.pending.length) return;
    const all = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    let i = 0;
    while (i < all.length) {
      const part: Recorded[] = [];
      let bytes = 0;
      while (i < all.length && (part.length === 0 || bytes + all[i].json.length <= SEGMENT_BYTES)) {
        bytes += all[i].json.length;
        part.push(all[i++]);
      }
      this.queueSegment(part);
    }
    this.fromBuffer = false;
  }

  private queueSegment(part: Recorded[]): void {
    const seg = this.c.session.nextSegment();
    const first = part[0].ts;
    const last = part[part.length - 1].ts;
    let head = '{"id":"' + eventId() + '","ts":' + Math.round(first) + ',"kind":"replay","replay":{"segment":' + seg;
    if (this.fromBuffer) head += ',"from_buffer":true';
    head += ',"end_ts":' + Math.round(last) + ',"events":[';
    this.c.push('replay', head + part.map((r) => r.json).join(',') + ']}}', this.fromBuffer ? 0 : this.c.cfg.flushInterval);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.segTimer !== undefined) clearInterval(this.segTimer);
    if (this.checkoutTimer !== undefined) clearInterval(this.checkoutTimer);
    this.observer?.disconnect();
    try {
      this.stopFn?.();
    } catch {
      // already torn down
    }
    this.chunks = [];
  }
}

/** replayFactory is what the full build plugs into the client. */
export function replayFactory(c: Client): Replay | null {
  if (!c.cfg.replay) return null;
  const r = new Recorder(c, c.cfg.replay);
  r.start();
  return r;
}
