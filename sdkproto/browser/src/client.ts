import type { Breadcrumb, Device, Envelope, ErrorPayload, Kind, Level, Mechanism, SessionPayload, VitalPayload } from './protocol';
import { LIMITS, PROTOCOL_VERSION, SDK_NAME, SDK_VERSION, byteLength, clip, clipMap } from './protocol';
import type { Options, Resolved } from './config';
import { resolve } from './config';
import { Session } from './session';
import { KEEPALIVE_MAX, Transport } from './transport';
import type { FetchFn } from './transport';
import { eventId } from './ids';
import { parseStack } from './stack';
import { debugIdsFor } from './debugids';

/** A queued event, serialised once when it is captured. */
interface Queued {
  kind: Kind;
  json: string;
  bytes: number;
}

/** The most events (and bytes) waiting to be sent; beyond it new events are dropped, errors excepted. */
const MAX_QUEUE = 1000;
const MAX_QUEUE_BYTES = 8 << 20;
/**
 * Batches taken from the queue but not yet sent, at most (count and
 * characters, besides the one being sent). While the edge is down each
 * batch retries for ~15 s and a flush comes every few seconds: without a cap
 * the page's memory would grow for as long as the outage lasts.
 */
export const MAX_PENDING = 20;
export const MAX_PENDING_CHARS = 8 << 20;
/** Errors are sent after this short pause so that a burst shares one batch. */
const ERROR_DELAY_MS = 250;
/** An error this soon after a failed request carries that request's trace id. */
const TRACE_LINK_MS = 10_000;
/** Errors reported per page load at most: a loop throwing forever must not flood. */
const MAX_ERRORS = 100;

export interface CaptureContext {
  level?: Level;
  tags?: Record<string, string>;
  fingerprint?: string[];
}

/** Trace ids of the last failed request, linked to a following error. */
export interface FailedRequest {
  traceId: string;
  spanId: string;
  at: number;
}

/**
 * Replay is the recorder the full build plugs into the client; the errors
 * and vitals build runs without it.
 */
export interface Replay {
  /** onTrigger is called on an error or flagSession: buffer mode flushes, a live recording cuts its segment. */
  onTrigger(reason: 'error' | 'support'): void;
  /** onSessionRotate is called when a new session replaced an expired one. */
  onSessionRotate(): void;
  /** cut turns recorded events into a queued segment now. */
  cut(): void;
  /** live reports whether the recording is being sent (not only buffered). */
  live(): boolean;
  /** bufferStart is the earliest time the buffer holds (buffer mode). */
  bufferStart(): number;
  stop(): void;
}

export type ReplayFactory = (c: Client) => Replay | null;

/**
 * Client is one initialised SDK. Everything it does from browser callbacks is
 * guarded: a failure inside the SDK is logged (with debug) and swallowed,
 * never thrown into the host page.
 */
export class Client {
  readonly cfg: Resolved;
  readonly session: Session;
  readonly transport: Transport;
  /** The page's fetch before instrumentation; the SDK's own requests use it. */
  readonly fetch: FetchFn;
  replay: Replay | null = null;
  lastFailure: FailedRequest | null = null;

  private queue_: Queued[] = [];
  private queueBytes_ = 0;
  private crumbs_: Breadcrumb[] = [];
  private tags_: Record<string, string> = {};
  private userId_ = '';
  private timer_: ReturnType<typeof setTimeout> | undefined;
  private timerAt_ = 0;
  /** Batches waiting for the send loop; error_ says the batch holds an error event. */
  private pending_: Array<{ body_: string; error_: boolean }> = [];
  private pendingChars_ = 0;
  /** The send loop while it runs; one at a time, so that seq order is send order. */
  private sending_: Promise<void> | null = null;
  private errors_ = 0;
  private teardown_: Array<() => void> = [];
  /** The page's user agent, read once: it cannot change while the page lives, and a beacon sent while the page unloads must say the same. */
  private readonly ua_ = clip(navigator.userAgent || '', 1024);
  private closed_ = false;

  constructor(options: Options | string, fetchImpl?: FetchFn) {
    this.cfg = resolve(options);
    this.fetch = fetchImpl || window.fetch;
    this.session = new Session(Date.now());
    this.transport = new Transport({ url: this.cfg.ingestURL, fetch: this.fetch, log: (m, e) => this.log(m, e) });
  }

  /** log reports the SDK's own trouble when debug is on. */
  log(msg: string, err?: unknown): void {
    if (this.cfg.debug && typeof console !== 'undefined') {
      // The original console.warn: breadcrumbs wrap console but skip these.
      (console.warn as (...a: unknown[]) => void)('[rearview] ' + msg, err ?? '');
    }
  }

  /** guard runs fn and swallows what it throws. */
  guard<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      this.log('internal error', err);
      return undefined;
    }
  }

  /** onClose registers a function that undoes an instrumentation. */
  onClose(fn: () => void): void {
    this.teardown_.push(fn);
  }

  /** touch records user activity; it rotates an expired session. */
  touch(): void {
    if (this.session.touch(Date.now())) {
      this.enqueue('session', { state: 'start', url: clip(location.href, LIMITS.url) } satisfies SessionPayload, this.cfg.flushInterval);
      this.replay?.onSessionRotate();
    }
  }

  setUser(user: { id?: string | number } | null): void {
    this.userId_ = user && user.id !== undefined && user.id !== null ? clip(String(user.id), LIMITS.short) : '';
  }

  setTag(key: string, value: string | number | boolean): void {
    if (!key || byteLength(key) > LIMITS.short) return;
    if (!(key in this.tags_) && Object.keys(this.tags_).length >= LIMITS.tags) return;
    this.tags_[key] = clip(String(value), LIMITS.tagValue);
  }

  /** addBreadcrumb remembers a step for the next error and, while replay is live, sends it. */
  addBreadcrumb(b: Breadcrumb): void {
    if (this.closed_) return;
    b.ts = b.ts || Date.now();
    if (b.message) b.message = clip(b.message, LIMITS.message);
    if (b.url) b.url = clip(b.url, LIMITS.url);
    this.crumbs_.push(b);
    if (this.crumbs_.length > LIMITS.breadcrumbs) this.crumbs_.shift();
    if (this.replay && this.replay.live()) this.enqueue('breadcrumb', b, this.cfg.flushInterval);
  }

  /** breadcrumbsSince returns remembered breadcrumbs at or after ts. */
  breadcrumbsSince(ts: number): Breadcrumb[] {
    return this.crumbs_.filter((b) => (b.ts || 0) >= ts);
  }

  /** flag marks the session; flags go with every batch so the edge keeps the session. */
  flag(name: 'error' | 'support'): void {
    this.session.flag(name);
    if (this.replay) this.replay.onTrigger(name);
  }

  captureException(err: unknown, mechanism: Mechanism = 'manual', handled = true, ctx: CaptureContext = {}, fallback?: { url?: string; line?: number; column?: number }): string {
    let type = 'Error';
    let value = '';
    let stack = undefined as ReturnType<typeof parseStack> | undefined;
    if (err instanceof Error || (err && typeof err === 'object' && 'message' in err && 'stack' in err)) {
      const e = err as Error;
      type = e.name || (e.constructor && e.constructor.name) || 'Error';
      value = String(e.message ?? '');
      stack = parseStack(e.stack);
    } else if (mechanism === 'unhandledrejection') {
      type = 'UnhandledRejection';
      value = 'Non-Error promise rejection: ' + describe(err);
    } else {
      value = typeof err === 'string' ? err : describe(err);
    }
    if ((!stack || !stack.length) && fallback && fallback.url) {
      stack = [{ url: fallback.url, line: fallback.line || undefined, column: fallback.column || undefined }];
    }
    return this.captureError({ type, value, mechanism, handled, stack, level: ctx.level }, ctx);
  }

  captureMessage(message: string, level: Level = 'info', ctx: CaptureContext = {}): string {
    return this.captureError({ type: 'Message', value: String(message), mechanism: 'manual', handled: true, level }, ctx);
  }

  /** captureError completes an error payload and queues it. */
  captureError(p: ErrorPayload, ctx: CaptureContext = {}): string {
    const id = eventId();
    if (this.closed_ || this.errors_ >= MAX_ERRORS) return id;
    this.errors_++;
    this.touch();
    const level = p.level || ctx.level;
    if (!level || level === 'error' || level === 'fatal') this.flag('error');
    if (Math.random() >= this.cfg.sampleRate) return id;
    const now = Date.now();
    const payload: ErrorPayload = {
      type: clip(p.type || 'Error', LIMITS.short),
      value: clip(p.value, LIMITS.message),
      mechanism: p.mechanism,
      handled: p.handled,
    };
    if (level) payload.level = level;
    if (p.stack && p.stack.length) {
      payload.stack = p.stack.slice(0, LIMITS.frames);
      const ids = debugIdsFor(payload.stack);
      if (ids) payload.debug_ids = ids;
    }
    if (this.cfg.release) payload.release = clip(this.cfg.release, LIMITS.short);
    if (this.cfg.dist) payload.dist = clip(this.cfg.dist, LIMITS.short);
    if (this.cfg.environment) payload.environment = clip(this.cfg.environment, LIMITS.short);
    payload.url = clip(location.href, LIMITS.url);
    const tags = clipMap({ ...this.tags_, ...(ctx.tags || {}) }, LIMITS.tagValue, LIMITS.tags);
    if (tags) payload.tags = tags;
    const f = this.lastFailure;
    if (f && now - f.at <= TRACE_LINK_MS) {
      payload.trace_id = f.traceId;
      payload.span_id = f.spanId;
    }
    if (this.crumbs_.length && this.cfg.maxBreadcrumbs) payload.breadcrumbs = this.crumbs_.slice(-this.cfg.maxBreadcrumbs);
    if (ctx.fingerprint && ctx.fingerprint.length) payload.fingerprint = ctx.fingerprint.slice(0, 16).map((s) => clip(String(s), LIMITS.short));
    this.enqueueWithId_(id, now, 'error', payload, ERROR_DELAY_MS);
    return id;
  }

  captureVital(v: VitalPayload): void {
    this.enqueue('vital', v, this.cfg.flushInterval);
  }

  /** enqueue serialises an event and schedules a flush within delay ms. */
  enqueue(kind: Kind, payload: unknown, delay: number): void {
    this.enqueueWithId_(eventId(), Date.now(), kind, payload, delay);
  }

  private enqueueWithId_(id: string, ts: number, kind: Kind, payload: unknown, delay: number): void {
    this.push(kind, '{"id":"' + id + '","ts":' + ts + ',"kind":"' + kind + '","' + kind + '":' + JSON.stringify(payload) + '}', delay);
  }

  /**
   * push queues an event whose JSON the caller built (replay segments
   * splice pre-serialised rrweb events into it).
   */
  push(kind: Kind, json: string, delay: number): void {
    if (this.closed_) return;
    const bytes = byteLength(json);
    if (this.queue_.length >= MAX_QUEUE || this.queueBytes_ + bytes > MAX_QUEUE_BYTES) {
      // The queue is bounded: when the edge is unreachable the page's
      // memory must not grow. Errors displace the oldest non-error event.
      const i = kind === 'error' ? this.queue_.findIndex((q) => q.kind !== 'error') : -1;
      if (i < 0) {
        this.log('queue full, dropping ' + kind);
        return;
      }
      this.queueBytes_ -= this.queue_[i].bytes;
      this.queue_.splice(i, 1);
    }
    this.queue_.push({ kind, json, bytes });
    this.queueBytes_ += bytes;
    this.schedule_(delay);
  }

  private schedule_(delay: number): void {
    const at = Date.now() + delay;
    if (this.timer_ !== undefined && this.timerAt_ <= at) return;
    if (this.timer_ !== undefined) clearTimeout(this.timer_);
    this.timerAt_ = at;
    this.timer_ = setTimeout(() => {
      this.timer_ = undefined;
      this.sendQueued();
    }, delay);
  }

  device(): Device {
    const d: Device = { ua: this.ua_, viewport: { w: window.innerWidth | 0, h: window.innerHeight | 0 } };
    if (window.screen) d.screen = { w: screen.width | 0, h: screen.height | 0 };
    if (window.devicePixelRatio) d.dpr = window.devicePixelRatio;
    if (navigator.language) d.language = clip(navigator.language, LIMITS.short);
    try {
      const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (tz) d.timezone = clip(tz, LIMITS.short);
    } catch {
      // no Intl
    }
    const c = (navigator as Navigator & { connection?: { effectiveType?: string } }).connection;
    if (c && c.effectiveType) d.connection = clip(c.effectiveType, LIMITS.short);
    // Bot signals the edge drops by (each its own reason): cheap, and no
    // human's browser sets either.
    if (navigator.webdriver === true) d.webdriver = true;
    if (headless()) d.headless = true;
    return d;
  }

  /** envelope builds a batch's head; the session's seq advances by one per batch. */
  envelope(): Envelope {
    const s = this.session.state;
    const session: Envelope['session'] = { id: s.id, seq: this.session.nextSeq(), started_at: s.started, flags: this.cfg.synthetic ? { ...s.flags, synthetic: true } : { ...s.flags } };
    if (this.userId_) session.user_id = this.userId_;
    const page: Envelope['page'] = { url: clip(location.href, LIMITS.url) };
    if (document.referrer) page.referrer = clip(document.referrer, LIMITS.url);
    return { v: PROTOCOL_VERSION, sdk: { name: SDK_NAME, version: SDK_VERSION }, session, page, device: this.device(), sent_at: Date.now() };
  }

  /**
   * takeBatches empties the queue into batch bodies within the edge's limits
   * (or maxBytes, for beacons; one event larger than that goes alone).
   */
  takeBatches(maxBytes: number = LIMITS.batchBytes): string[] {
    const out: string[] = [];
    while (this.queue_.length) {
      const events: string[] = [];
      let bytes = 0;
      while (this.queue_.length && events.length < LIMITS.events) {
        const q = this.queue_[0];
        if (events.length && bytes + q.bytes > maxBytes) break;
        events.push(q.json);
        bytes += q.bytes;
        this.queue_.shift();
        this.queueBytes_ -= q.bytes;
      }
      const env = JSON.stringify(this.envelope());
      out.push(env.slice(0, -1) + ',"events":[' + events.join(',') + ']}');
    }
    return out;
  }

  /**
   * flush sends everything queued, the replay recorded so far included, and
   * resolves when the edge answered (or gave up).
   */
  flush(): Promise<void> {
    this.guard(() => this.replay?.cut());
    return this.sendQueued();
  }

  /**
   * sendQueued is the scheduled flush: it sends what is queued but leaves the
   * recorder's open segment alone. Cutting one on every flush made a
   * segment per breadcrumb or vital, each compressed on its own.
   */
  sendQueued(): Promise<void> {
    if (this.timer_ !== undefined) {
      clearTimeout(this.timer_);
      this.timer_ = undefined;
    }
    for (const b of this.takeBatches()) this.hold_(b);
    return this.sending_ || Promise.resolve();
  }

  /**
   * hold_ puts a batch in line for the send loop (starting it), dropping the
   * oldest batch without an error while the line is over its cap.
   */
  private hold_(body: string): void {
    const p = this.pending_;
    // The marker can also match inside a replay's raw rrweb JSON; that only
    // makes such a batch kept longer.
    p.push({ body_: body, error_: body.includes('"kind":"error"') });
    this.pendingChars_ += body.length;
    this.transport.track(body);
    while (p.length > MAX_PENDING || this.pendingChars_ > MAX_PENDING_CHARS && p.length > 1) {
      const i = Math.max(0, p.findIndex((q) => !q.error_));
      const d = p.splice(i, 1)[0].body_;
      this.pendingChars_ -= d.length;
      this.transport.forget(d);
      this.log('queue full, dropping batch');
    }
    // pending_ is not empty here, so the loop awaits before it ends and
    // clears sending_ after this assignment.
    if (!this.sending_) this.sending_ = (async () => {
      for (let q; (q = p.shift()); ) {
        this.pendingChars_ -= q.body_.length;
        await this.transport.send(q.body_).catch((err) => this.log('flush', err));
      }
      this.sending_ = null;
    })();
  }

  /**
   * flushNow is for a page going away: small batches are handed to the
   * browser to deliver after unload; larger ones take the normal path.
   */
  flushNow(): void {
    this.guard(() => this.replay?.cut());
    if (this.timer_ !== undefined) {
      clearTimeout(this.timer_);
      this.timer_ = undefined;
    }
    this.transport.rescue();
    // The envelope takes about 1 KB of the beacon's room.
    for (const b of this.takeBatches(KEEPALIVE_MAX - 2048)) {
      if (!this.transport.sendNow(b)) this.hold_(b);
    }
  }

  close(): void {
    this.guard(() => this.flushNow());
    this.closed_ = true;
    this.guard(() => this.replay?.stop());
    for (const fn of this.teardown_.splice(0).reverse()) this.guard(fn);
  }

}

/** describe renders a thrown non-Error for a message, without throwing itself. */
export function describe(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null || typeof v !== 'object') return String(v);
  try {
    return clip(JSON.stringify(v), 1024);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

const HEADLESS = /HeadlessChrome|PhantomJS/;

/**
 * headless reports whether the page names a headless browser, in its user
 * agent or in userAgentData's brands (which a user-agent override leaves).
 */
function headless(): boolean {
  if (HEADLESS.test(navigator.userAgent)) return true;
  const data = (navigator as Navigator & { userAgentData?: { brands?: { brand: string }[] } }).userAgentData;
  const brands = data && data.brands;
  return !!brands && brands.some((b) => HEADLESS.test(b.brand));
}
