// Options of Rearview.init and their defaults.

export type URLMatcher = string | RegExp;

export interface ReplayOptions {
  /** Share of sessions recorded from the start (0..1). Default 0. */
  sessionSampleRate?: number;
  /** Share of the other sessions kept in buffer mode and sent only on an error or flagSession (0..1). Default 1. */
  onErrorSampleRate?: number;
  /** Seconds of recording held in memory in buffer mode. Default 60. */
  bufferSeconds?: number;
  /** Mask every input value (length kept). Default true. */
  maskAllInputs?: boolean;
  /** Mask every text node (length kept). Default false. */
  maskAllText?: boolean;
  /** Replace all text and input values with same-length placeholders, ignoring unmask. Default false. */
  strict?: boolean;
  /** Extra CSS selectors whose text is masked. */
  mask?: string[];
  /** CSS selectors exempt from maskAllText / maskAllInputs (not in strict mode). */
  unmask?: string[];
  /** Extra CSS selectors recorded as empty boxes of the same size. */
  block?: string[];
  /** A fresh full snapshot this often so that playback can seek. Default 5 minutes. */
  checkoutEveryMs?: number;
  /** Stop recording when one batch of DOM mutations exceeds this many records. Default 10000. */
  mutationLimit?: number;
  /**
   * Skip (or stop) recording when the page has more elements than this at
   * a full snapshot: serialising them would freeze the page. Default 50000;
   * 0 disables the check.
   */
  maxNodes?: number;
}

export interface NetworkOptions {
  /** Capture request and response bodies of allow-listed URLs. Default false. */
  captureBodies?: boolean;
  /** URLs (substring or RegExp) whose headers (and bodies when enabled) are captured. */
  allowUrls?: URLMatcher[];
}

export interface BreadcrumbOptions {
  clicks?: boolean;
  navigation?: boolean;
  fetch?: boolean;
  xhr?: boolean;
  console?: boolean;
}

export interface Options {
  /** "https://KEY@host/PROJECT": endpoint and key in one string. */
  dsn?: string;
  /** The edge's origin, e.g. "https://edge.example.com". */
  endpoint?: string;
  /** The project's public ingest key. */
  key?: string;
  release?: string;
  dist?: string;
  environment?: string;
  /** Share of error events sent (0..1). Default 1. */
  sampleRate?: number;
  /** Session replay; false or omitted sampling rates of 0 disable it. */
  replay?: ReplayOptions | false;
  /** Cross-origin URLs (substring or RegExp) that get a traceparent header; same-origin always does. */
  tracePropagationTargets?: URLMatcher[];
  /** Also send the trace id as X-Trace-ID. Default false. */
  traceIdHeader?: boolean;
  network?: NetworkOptions;
  breadcrumbs?: BreadcrumbOptions;
  /** Report console.error calls as errors. Default false. */
  captureConsoleErrors?: boolean;
  /** Collect Core Web Vitals. Default true. */
  vitals?: boolean;
  /** Breadcrumbs kept for an error (at most 100). Default 50. */
  maxBreadcrumbs?: number;
  /** Milliseconds events wait before being sent together. Default 2000. */
  flushInterval?: number;
  /** Log the SDK's own problems to the console. Default false. */
  debug?: boolean;
  /** Mark every batch as a synthetic check's (kept out of RUM). Default: window.__REARVIEW_SYNTHETIC__, which synthetic runners set. */
  synthetic?: boolean;
}

export interface ResolvedReplay {
  sessionSampleRate: number;
  onErrorSampleRate: number;
  bufferMs: number;
  maskAllInputs: boolean;
  maskAllText: boolean;
  strict: boolean;
  mask: string[];
  unmask: string[];
  block: string[];
  checkoutEveryMs: number;
  mutationLimit: number;
  maxNodes: number;
}

export interface Resolved {
  ingestURL: string;
  key: string;
  release?: string;
  dist?: string;
  environment?: string;
  sampleRate: number;
  replay: ResolvedReplay | null;
  tracePropagationTargets: URLMatcher[];
  traceIdHeader: boolean;
  captureBodies: boolean;
  allowUrls: URLMatcher[];
  breadcrumbs: Required<BreadcrumbOptions>;
  captureConsoleErrors: boolean;
  vitals: boolean;
  maxBreadcrumbs: number;
  flushInterval: number;
  debug: boolean;
  synthetic: boolean;
}

/** The text masking selectors honoured everywhere, ours and other vendors'. */
export const MASK_SELECTORS = ['[data-rv-mask]', '[data-sentry-mask]', '[data-lr-hide]', '.rr-mask'];
export const BLOCK_SELECTORS = ['[data-rv-block]', '.rr-block'];

/** parseDSN splits "https://KEY@host[:port][/prefix]/PROJECT" into the edge endpoint and key. */
export function parseDSN(dsn: string): { endpoint: string; key: string; project: string } {
  const m = /^(https?):\/\/([^@/:]+)@([^/?#]+)((?:\/[^/?#]+)*)\/([^/?#]+)\/?$/.exec(dsn.trim());
  if (!m) throw new Error('Rearview: DSN must look like https://KEY@host/PROJECT');
  return { endpoint: m[1] + '://' + m[3] + m[4], key: decodeURIComponent(m[2]), project: m[5] };
}

function rate(v: unknown, def: number): number {
  return typeof v === 'number' && v >= 0 && v <= 1 ? v : def;
}

/** resolve validates options and fills in defaults; it throws on unusable ones. */
export function resolve(o: Options | string): Resolved {
  const opts: Options = typeof o === 'string' ? { dsn: o } : o || {};
  let endpoint = opts.endpoint;
  let key = opts.key;
  if (opts.dsn) {
    const d = parseDSN(opts.dsn);
    endpoint = endpoint || d.endpoint;
    key = key || d.key;
  }
  if (!endpoint || !key) throw new Error('Rearview: init needs endpoint and key, or a dsn');
  endpoint = endpoint.replace(/\/+$/, '');
  const ingestURL = (/\/v1\/ingest$/.test(endpoint) ? endpoint : endpoint + '/v1/ingest') + '?key=' + encodeURIComponent(key);
  const r = opts.replay;
  let replay: ResolvedReplay | null = null;
  if (r) {
    replay = {
      sessionSampleRate: rate(r.sessionSampleRate, 0),
      onErrorSampleRate: rate(r.onErrorSampleRate, 1),
      bufferMs: Math.max(1, r.bufferSeconds ?? 60) * 1000,
      maskAllInputs: r.maskAllInputs !== false || !!r.strict,
      maskAllText: !!r.maskAllText || !!r.strict,
      strict: !!r.strict,
      mask: MASK_SELECTORS.concat(r.mask || []),
      unmask: r.strict ? [] : r.unmask || [],
      block: BLOCK_SELECTORS.concat(r.block || []),
      checkoutEveryMs: r.checkoutEveryMs ?? 5 * 60 * 1000,
      mutationLimit: r.mutationLimit ?? 10000,
      maxNodes: r.maxNodes ?? 50000,
    };
    if (replay.sessionSampleRate === 0 && replay.onErrorSampleRate === 0) replay = null;
  }
  const b = opts.breadcrumbs || {};
  const n = opts.network || {};
  return {
    ingestURL,
    key,
    release: opts.release,
    dist: opts.dist,
    environment: opts.environment,
    sampleRate: rate(opts.sampleRate, 1),
    replay,
    tracePropagationTargets: opts.tracePropagationTargets || [],
    traceIdHeader: !!opts.traceIdHeader,
    captureBodies: !!n.captureBodies,
    allowUrls: n.allowUrls || [],
    breadcrumbs: {
      clicks: b.clicks !== false,
      navigation: b.navigation !== false,
      fetch: b.fetch !== false,
      xhr: b.xhr !== false,
      console: b.console !== false,
    },
    captureConsoleErrors: !!opts.captureConsoleErrors,
    vitals: opts.vitals !== false,
    maxBreadcrumbs: Math.min(100, Math.max(0, opts.maxBreadcrumbs ?? 50)),
    flushInterval: Math.max(0, opts.flushInterval ?? 2000),
    debug: !!opts.debug,
    synthetic: opts.synthetic ?? (typeof window !== 'undefined' && (window as { __REARVIEW_SYNTHETIC__?: unknown }).__REARVIEW_SYNTHETIC__ === true),
  };
}

/** matches reports whether url matches any of the substrings or patterns. */
export function matches(url: string, list: URLMatcher[]): boolean {
  for (const m of list) {
    if (typeof m === 'string' ? m !== '' && url.indexOf(m) > -1 : m.test(url)) return true;
  }
  return false;
}
