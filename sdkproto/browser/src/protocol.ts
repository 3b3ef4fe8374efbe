// Types of Rearview's wire protocol version 1, mirroring sdkproto/batch.go.
// The edge decodes strictly: a field not declared here is rejected, so the
// SDK never adds one without a protocol version bump.

export const SDK_NAME = '@rearview/browser';
export const SDK_VERSION = '0.1.0';
export const PROTOCOL_VERSION = 1;

export type Kind = 'error' | 'vital' | 'replay' | 'breadcrumb' | 'session';

export interface Frame {
  url: string;
  function?: string;
  line?: number;
  column?: number;
}

export interface HTTPInfo {
  method: string;
  url: string;
  status?: number;
  duration_ms?: number;
  trace_id?: string;
  request_headers?: Record<string, string>;
  request_body?: string;
  response_headers?: Record<string, string>;
  response_body?: string;
}

export interface Breadcrumb {
  ts?: number;
  category: string;
  level?: string;
  message?: string;
  selector?: string;
  url?: string;
  http?: HTTPInfo;
  data?: Record<string, string>;
}

export type Mechanism = 'onerror' | 'unhandledrejection' | 'console' | 'manual';
export type Level = 'fatal' | 'error' | 'warning' | 'info' | 'debug';

export interface ErrorPayload {
  type: string;
  value: string;
  level?: Level;
  mechanism: Mechanism;
  handled: boolean;
  stack?: Frame[];
  release?: string;
  dist?: string;
  environment?: string;
  url?: string;
  tags?: Record<string, string>;
  trace_id?: string;
  span_id?: string;
  breadcrumbs?: Breadcrumb[];
  debug_ids?: Record<string, string>;
  fingerprint?: string[];
}

export interface VitalPayload {
  name: 'LCP' | 'INP' | 'CLS' | 'FCP' | 'TTFB';
  value: number;
  delta?: number;
  rating?: 'good' | 'needs-improvement' | 'poor';
  navigation_type?: string;
  metric_id?: string;
  url?: string;
  attribution?: Record<string, string>;
}

export interface SessionPayload {
  state: 'start' | 'page_view' | 'end';
  url?: string;
}

export interface Size {
  w: number;
  h: number;
}

export interface Device {
  ua: string;
  viewport: Size;
  screen?: Size;
  dpr?: number;
  language?: string;
  timezone?: string;
  connection?: string;
  /** navigator.webdriver: automation drives the page. Only when true. */
  webdriver?: boolean;
  /** The page names a headless browser (HeadlessChrome, PhantomJS). Only when true. */
  headless?: boolean;
}

export interface SessionFlags {
  error?: boolean;
  support?: boolean;
}

export interface Envelope {
  v: number;
  sdk: { name: string; version: string };
  session: { id: string; seq: number; started_at: number; user_id?: string; flags: SessionFlags };
  page: { url: string; referrer?: string };
  device: Device;
  sent_at: number;
}

/** Limits of the edge (sdkproto/validate.go), in bytes of UTF-8. */
export const LIMITS = {
  id: 64,
  url: 4096,
  message: 8192,
  short: 256,
  frames: 128,
  tags: 64,
  tagValue: 256,
  breadcrumbs: 100,
  mapEntries: 64,
  body: 64 << 10,
  events: 500,
  // The wire cap is 1 MiB; a batch is cut well below it so that even an
  // uncompressed one (no CompressionStream) fits.
  batchBytes: 900 << 10,
} as const;

const enc = /* @__PURE__ */ new TextEncoder();

/**
 * clip cuts s to at most max UTF-8 bytes without splitting a character.
 */
export function clip(s: string, max: number): string {
  if (s.length * 3 <= max) return s;
  const b = enc.encode(s);
  if (b.length <= max) return s;
  let end = max;
  // Step back over continuation bytes (10xxxxxx) to a character start.
  while (end > 0 && (b[end] & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(b.subarray(0, end));
}

/** byteLength is the UTF-8 length of s. */
export function byteLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n++;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** clipMap bounds a string map to the edge's entry and value limits. */
export function clipMap(m: Record<string, unknown> | undefined, maxValue: number, maxEntries: number = LIMITS.mapEntries): Record<string, string> | undefined {
  if (!m) return undefined;
  const out: Record<string, string> = {};
  let n = 0;
  for (const k of Object.keys(m)) {
    const v = m[k];
    if (v === undefined || v === null || k === '' || byteLength(k) > LIMITS.short) continue;
    if (n++ >= maxEntries) break;
    out[k] = clip(String(v), maxValue);
  }
  return n ? out : undefined;
}
