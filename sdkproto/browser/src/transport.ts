// Transport sends finished batch bodies to the edge. Every request is a CORS
// "simple" request (POST, text/plain, key in the query string) so that no
// preflight doubles the cost and keepalive/sendBeacon work in every browser;
// the edge recognises a gzip body by its magic bytes.

/** Largest body a keepalive fetch or beacon may carry (browsers cap all in-flight keepalive bodies at 64 KiB). */
export const KEEPALIVE_MAX = 60 * 1024;
const MAX_ATTEMPTS = 5;
const MAX_BACKOFF_MS = 60_000;

export type FetchFn = typeof fetch;

export interface TransportDeps {
  url: string;
  fetch: FetchFn;
  log: (msg: string, err?: unknown) => void;
  /** sleep is injectable so that tests need not wait for backoff. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** Outcome of sending one batch. */
export type SendResult = 'sent' | 'dropped';

export async function gzip(s: string): Promise<Uint8Array | null> {
  if (typeof CompressionStream === 'undefined') return null;
  try {
    const stream = new Blob([s]).stream().pipeThrough(new CompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch {
    return null;
  }
}

/** retryAfterMs reads a Retry-After header: seconds or an HTTP date. */
export function retryAfterMs(h: string | null, now: number): number | undefined {
  if (!h) return undefined;
  const secs = Number(h);
  if (!isNaN(secs)) return Math.max(0, secs * 1000);
  const t = Date.parse(h);
  return isNaN(t) ? undefined : Math.max(0, t - now);
}

export class Transport {
  private blockedUntil_ = 0;
  /**
   * Bodies queued or compressing or waiting to retry: not yet in the
   * browser's hands. A page that goes away hands them over with rescue.
   */
  private unsent_ = new Set<string>();
  /** Bodies rescue sent: a send still waiting for them has nothing to do. */
  private rescued_ = new Set<string>();
  private sleep_: (ms: number) => Promise<void>;
  private now_: () => number;

  constructor(private deps_: TransportDeps) {
    this.sleep_ = deps_.sleep || ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.now_ = deps_.now || Date.now;
  }

  /**
   * send posts one batch body, retrying network failures, 429 and 5xx with
   * exponential backoff (or the server's Retry-After) and the same bytes, so
   * the edge's dedupe stores a retried batch once. A 4xx other than 429 is
   * final: retrying the same bytes cannot succeed.
   */
  async send(body: string): Promise<SendResult> {
    if (this.rescued_.delete(body)) return 'sent';
    this.unsent_.add(body);
    const gz = await gzip(body);
    const payload: BodyInit = gz ? new Blob([gz as BlobPart]) : body;
    const size = gz ? gz.byteLength : body.length;
    let backoff = 1000;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      // Another batch's 429/503 holds every send until its Retry-After.
      const wait = this.blockedUntil_ - this.now_();
      if (attempt === 1 && wait > 0) await this.sleep_(wait);
      // rescue may have sent it meanwhile.
      if (this.rescued_.delete(body)) return 'sent';
      const keepalive = size <= KEEPALIVE_MAX;
      // A keepalive request outlives the page: it is no longer ours to rescue.
      if (keepalive) this.unsent_.delete(body);
      let status = 0;
      let retryAfter: number | undefined;
      try {
        const res = await this.deps_.fetch.call(globalThis, this.deps_.url, {
          method: 'POST',
          body: payload,
          headers: { 'Content-Type': 'text/plain' },
          credentials: 'omit',
          keepalive,
        });
        status = res.status;
        retryAfter = retryAfterMs(res.headers.get('Retry-After'), this.now_());
      } catch (err) {
        this.deps_.log('send failed', err);
      }
      if (status >= 200 && status < 300 || status >= 400 && status < 500 && status !== 429 && status !== 408) {
        this.unsent_.delete(body);
        if (status >= 400) this.deps_.log('batch rejected with ' + status);
        return status < 300 ? 'sent' : 'dropped';
      }
      this.unsent_.add(body);
      const delay = retryAfter ?? backoff * (0.5 + Math.random() / 2);
      if (status === 429 || status === 503) this.blockedUntil_ = this.now_() + delay;
      if (attempt < MAX_ATTEMPTS) await this.sleep_(delay);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
    this.unsent_.delete(body);
    this.deps_.log('batch dropped after ' + MAX_ATTEMPTS + ' attempts');
    return 'dropped';
  }

  /** track marks a body that a later send will post as not yet sent. */
  track(body: string): void {
    this.unsent_.add(body);
  }

  /** forget undoes track for a body the client dropped before sending it. */
  forget(body: string): void {
    this.unsent_.delete(body);
    this.rescued_.delete(body);
  }

  /** rescue hands every body not yet sent to sendNow (the page is going away). */
  rescue(): void {
    for (const b of Array.from(this.unsent_)) {
      if (this.sendNow(b)) {
        this.unsent_.delete(b);
        this.rescued_.add(b);
      }
    }
  }

  /**
   * sendNow hands a small uncompressed body to the browser to deliver even
   * when the page is going away (compression is asynchronous and may not
   * finish). It returns false when the body is too large or the browser
   * refused it (the keepalive quota is 64 KiB for everything in flight).
   */
  sendNow(body: string): boolean {
    if (body.length > KEEPALIVE_MAX) return false;
    try {
      return typeof navigator.sendBeacon === 'function' && navigator.sendBeacon(this.deps_.url, body);
    } catch {
      return false;
    }
  }
}
