import { record } from '@rrweb/record';
import type { Client, Replay } from './client';
import type { ResolvedReplay } from './config';
import type { ReplayMode } from './session';
import type { Breadcrumb } from './protocol';
import { eventId } from './ids';

/**
 * A live segment is cut this long after its first event (or sooner on size,
 * an error, flagSession or the page hiding): one timer per segment, started
 * by the event that opens it, so a quiet page sends nothing and a busy one a
 * segment every 5 s, whatever else flushes the queue meanwhile.
 */
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

/**
 * overLimit returns the document's element count when it is over limit (0:
 * no limit), else 0. getElementsByTagName('*').length is one native walk
 * of the tree that builds no array (~7 ms for 100 000 elements in
 * Chromium, where rrweb's snapshot of them takes seconds). Text nodes are
 * not counted: that needs a walk in JS, and their number follows the
 * elements'.
 */
export function overLimit(limit: number, doc: Pick<Document, 'getElementsByTagName'> | { getElementsByTagName?: undefined }): number {
  if (!limit || !doc.getElementsByTagName) return 0;
  const n = doc.getElementsByTagName('*').length;
  return n > limit ? n : 0;
}

function stars(s: string): string {
  return s.replace(/\S/g, '*');
}

/**
 * Recorder drives rrweb. In session mode it cuts a segment 5 s after the
 * segment's first event or at 500 KB, and at once on an error, flagSession
 * or the page hiding (the client's own flushes do not cut). In buffer mode it keeps only the last bufferSeconds in memory
 * (in chunks that each begin with a full snapshot) and sends nothing until
 * an error or flagSession turns it into session mode, flushing the buffer
 * first. Masking happens here, before any event exists outside rrweb.
 */
export class Recorder implements Replay {
  mode: ReplayMode = 'off';
  private stopFn_: (() => void) | undefined;
  private observer_: MutationObserver | undefined;
  private chunks_: Chunk[] = [];
  private pending_: Recorded[] = [];
  private pendingBytes_ = 0;
  private fromBuffer_ = false;
  private segTimer_: ReturnType<typeof setTimeout> | undefined;
  private checkoutTimer_: ReturnType<typeof setInterval> | undefined;
  private stopped_ = false;

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
    // rrweb takes its first full snapshot at once if the document is parsed,
    // else at load: the size check has to see the DOM that snapshot would,
    // so recording starts then (a page often builds its DOM after the SDK
    // loaded in <head>).
    const go = () =>
      this.c.guard(() => {
        if (this.stopped_ || this.oversized_('replay skipped')) return;
        this.watchMutations_();
        this.record_();
      });
    if (document.readyState === 'loading') window.addEventListener('load', go, { once: true });
    else go();
  }

  /**
   * oversized_ stops recording, before rrweb serialises anything, when the
   * page has more elements than maxNodes: a snapshot of them would freeze
   * the page for seconds (and be larger than an edge takes). The breadcrumb
   * goes with later errors and, in session mode, is sent on its own: the
   * protocol has no replay status, so it is how the player learns why the
   * session's replay is missing or ends early.
   */
  private oversized_(what: string): boolean {
    const max = this.o.maxNodes;
    const n = overLimit(max, document);
    if (!n) return false;
    const b: Breadcrumb = { category: 'replay', level: 'warning', message: what + ': ' + n + ' elements exceed replay.maxNodes ' + max, data: { reason: 'max_nodes', elements: '' + n, limit: '' + max } };
    this.c.log(b.message!);
    const send = this.mode === 'session';
    this.stop();
    // After stop the recording is not live, so this only keeps it for errors.
    this.c.addBreadcrumb(b);
    if (send) this.c.enqueue('breadcrumb', b, this.c.cfg.flushInterval);
    return true;
  }

  /** checkout_ takes a fresh full snapshot unless the page has grown too large for one. */
  private checkout_(): void {
    // Before rrweb started (waiting for load) record_ takes the first one.
    if (this.stopFn_ && !this.oversized_('recording stopped')) record.takeFullSnapshot(true);
  }

  private record_(): void {
    const o = this.o;
    const unmask = o.unmask.join(',');
    const unmasked = (el: Element | HTMLElement | null) => !!unmask && !!el && typeof el.closest === 'function' && !!el.closest(unmask);
    const stop = record({
      emit: (e: { type: number; timestamp: number }, isCheckout?: boolean) => this.c.guard(() => this.onEvent_(e, !!isCheckout)),
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
    this.stopFn_ = stop || undefined;
    this.resetTimers_();
  }

  private resetTimers_(): void {
    this.clearSegTimer_();
    if (this.checkoutTimer_ !== undefined) clearInterval(this.checkoutTimer_);
    if (this.mode === 'session' && this.pending_.length) this.armSegTimer_();
    // A buffer needs a full snapshot at least every bufferSeconds so that
    // what it keeps plays; a live recording every few minutes for seeking.
    const every = this.mode === 'buffer' ? this.o.bufferMs : this.o.checkoutEveryMs;
    this.checkoutTimer_ = setInterval(() => this.c.guard(() => this.checkout_()), every);
  }

  /**
   * watchMutations stops recording when one batch of DOM mutations is huge:
   * serialising it would freeze the page. This observer is created before
   * rrweb's, so the browser delivers to it first and stopping disconnects
   * rrweb's observer before rrweb processes the batch.
   */
  private watchMutations_(): void {
    if (typeof MutationObserver === 'undefined') return;
    this.observer_ = new MutationObserver((records) => {
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
    this.observer_.observe(document, { childList: true, subtree: true, attributes: true, characterData: true });
  }

  private onEvent_(e: { type: number; timestamp: number }, isCheckout: boolean): void {
    if (this.stopped_) return;
    const rec = { ts: e.timestamp || Date.now(), json: JSON.stringify(e) };
    if (this.mode === 'buffer') {
      // A checkout starts with a Meta event, then the full snapshot.
      if (e.type === META && (isCheckout || !this.chunks_.length)) this.chunks_.push({ start: rec.ts, events: [] });
      if (!this.chunks_.length) this.chunks_.push({ start: rec.ts, events: [] });
      this.chunks_[this.chunks_.length - 1].events.push(rec);
      this.prune_(rec.ts);
      return;
    }
    this.pending_.push(rec);
    this.pendingBytes_ += rec.json.length;
    if (this.pendingBytes_ >= SEGMENT_BYTES && e.type !== META) this.cut();
    else if (this.segTimer_ === undefined) this.armSegTimer_();
  }

  private armSegTimer_(): void {
    this.segTimer_ = setTimeout(() => {
      this.segTimer_ = undefined;
      this.c.guard(() => this.cut());
    }, SEGMENT_MS);
  }

  private clearSegTimer_(): void {
    if (this.segTimer_ !== undefined) clearTimeout(this.segTimer_);
    this.segTimer_ = undefined;
  }

  /** prune drops chunks no longer needed to replay the last bufferSeconds. */
  private prune_(now: number): void {
    const horizon = now - this.o.bufferMs;
    while (this.chunks_.length > 1 && this.chunks_[1].start <= horizon) this.chunks_.shift();
  }

  live(): boolean {
    return this.mode === 'session' && !this.stopped_;
  }

  bufferStart(): number {
    return this.chunks_.length ? this.chunks_[0].start : Date.now();
  }

  onTrigger(): void {
    if (this.stopped_) return;
    // A live recording sends what led up to the error (or the flag) with it.
    if (this.mode === 'session') return this.cut();
    if (this.mode !== 'buffer') return;
    // The buffer and everything after it are now sent: the session is
    // flagged and the edge keeps it whole.
    const since = this.bufferStart();
    this.mode = 'session';
    this.c.session.setReplay('session');
    for (const ch of this.chunks_) for (const r of ch.events) this.pending_.push(r);
    this.chunks_ = [];
    this.pendingBytes_ = this.pending_.reduce((n, r) => n + r.json.length, 0);
    this.fromBuffer_ = true;
    for (const b of this.c.breadcrumbsSince(since)) this.c.enqueue('breadcrumb', b, 0);
    this.cut();
    this.resetTimers_();
  }

  onSessionRotate(): void {
    if (this.stopped_) return;
    // The old session's tail is dropped with it; the new session samples
    // afresh and starts from a full snapshot.
    this.pending_ = [];
    this.pendingBytes_ = 0;
    this.chunks_ = [];
    const r = Math.random();
    const mode: ReplayMode = r < this.o.sessionSampleRate ? 'session' : Math.random() < this.o.onErrorSampleRate ? 'buffer' : 'off';
    this.c.session.setReplay(mode);
    if (mode === 'off') {
      this.stop();
      return;
    }
    this.mode = mode;
    this.resetTimers_();
    this.checkout_();
  }

  /** cut queues what is pending as one or more segments of at most SEGMENT_BYTES. */
  cut(): void {
    if (this.mode !== 'session' || !this.pending_.length) return;
    this.clearSegTimer_();
    const all = this.pending_;
    this.pending_ = [];
    this.pendingBytes_ = 0;
    let i = 0;
    while (i < all.length) {
      const part: Recorded[] = [];
      let bytes = 0;
      while (i < all.length && (part.length === 0 || bytes + all[i].json.length <= SEGMENT_BYTES)) {
        bytes += all[i].json.length;
        part.push(all[i++]);
      }
      this.queueSegment_(part);
    }
    this.fromBuffer_ = false;
  }

  private queueSegment_(part: Recorded[]): void {
    const seg = this.c.session.nextSegment();
    const first = part[0].ts;
    const last = part[part.length - 1].ts;
    let head = '{"id":"' + eventId() + '","ts":' + Math.round(first) + ',"kind":"replay","replay":{"segment":' + seg;
    if (this.fromBuffer_) head += ',"from_buffer":true';
    head += ',"end_ts":' + Math.round(last) + ',"events":[';
    this.c.push('replay', head + part.map((r) => r.json).join(',') + ']}}', this.fromBuffer_ ? 0 : this.c.cfg.flushInterval);
  }

  stop(): void {
    if (this.stopped_) return;
    this.stopped_ = true;
    this.clearSegTimer_();
    if (this.checkoutTimer_ !== undefined) clearInterval(this.checkoutTimer_);
    this.observer_?.disconnect();
    try {
      this.stopFn_?.();
    } catch {
      // already torn down
    }
    this.chunks_ = [];
  }
}

/** replayFactory is what the full build plugs into the client. */
export function replayFactory(c: Client): Replay | null {
  if (!c.cfg.replay) return null;
  const r = new Recorder(c, c.cfg.replay);
  r.start();
  return r;
}
