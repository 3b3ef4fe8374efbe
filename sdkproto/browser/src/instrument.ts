import type { Client } from './client';
import { describe } from './client';
import type { Breadcrumb, HTTPInfo } from './protocol';
import { LIMITS, clip, clipMap } from './protocol';
import { matches } from './config';
import { absoluteURL, sameOrigin, selectorOf } from './dom';
import { spanId, traceId } from './ids';

// Instrumentation of the host page. Each wrapper calls the original first
// and records around it inside client.guard, so the page sees the same
// behaviour (and the same exceptions) as without the SDK.

/** Headers never captured, whatever the allow list says. */
const SENSITIVE_HEADER = /auth|cookie|token|secret|session|csrf|xsrf|password|passwd|api[-_]?key|signature|credential/i;

/** errors reports uncaught exceptions and unhandled rejections. */
export function instrumentErrors(c: Client): void {
  const onError = (ev: Event) =>
    c.guard(() => {
      if (!(ev instanceof ErrorEvent)) return; // resource load failures
      const e = ev as ErrorEvent;
      c.captureException(e.error !== undefined && e.error !== null ? e.error : e.message || 'Unknown error', 'onerror', false, {}, { url: e.filename, line: e.lineno, column: e.colno });
    });
  const onRejection = (ev: PromiseRejectionEvent) => c.guard(() => c.captureException(ev.reason, 'unhandledrejection', false));
  window.addEventListener('error', onError);
  window.addEventListener('unhandledrejection', onRejection);
  c.onClose(() => {
    window.removeEventListener('error', onError);
    window.removeEventListener('unhandledrejection', onRejection);
  });
}

/** clicks records a breadcrumb per click with the target's selector. */
export function instrumentClicks(c: Client): void {
  const onClick = (ev: Event) =>
    c.guard(() => {
      c.touch();
      if (!c.cfg.breadcrumbs.clicks) return;
      const t = ev.target as Element | null;
      if (!t || t.nodeType !== 1) return;
      c.addBreadcrumb({ category: 'ui.click', selector: clip(selectorOf(t), LIMITS.url) });
    });
  const onKey = () => c.guard(() => c.touch());
  document.addEventListener('click', onClick, true);
  document.addEventListener('keydown', onKey, { capture: true, passive: true });
  c.onClose(() => {
    document.removeEventListener('click', onClick, true);
    document.removeEventListener('keydown', onKey, true);
  });
}

/** navigation records history changes as breadcrumbs and page views. */
export function instrumentNavigation(c: Client): void {
  let last = location.href;
  const changed = () =>
    c.guard(() => {
      const to = location.href;
      if (to === last) return;
      const from = last;
      last = to;
      if (c.cfg.breadcrumbs.navigation) c.addBreadcrumb({ category: 'navigation', url: to, data: { from: clip(from, LIMITS.url) } });
      c.enqueue('session', { state: 'page_view', url: clip(to, LIMITS.url) }, c.cfg.flushInterval);
    });
  const h = history;
  const push = h.pushState;
  const replace = h.replaceState;
  h.pushState = function (this: History, ...args: Parameters<History['pushState']>) {
    const r = push.apply(this, args);
    changed();
    return r;
  };
  h.replaceState = function (this: History, ...args: Parameters<History['replaceState']>) {
    const r = replace.apply(this, args);
    changed();
    return r;
  };
  window.addEventListener('popstate', changed);
  window.addEventListener('hashchange', changed);
  c.onClose(() => {
    h.pushState = push;
    h.replaceState = replace;
    window.removeEventListener('popstate', changed);
    window.removeEventListener('hashchange', changed);
  });
}

const CONSOLE_LEVELS: Record<string, string> = { debug: 'debug', info: 'info', log: 'info', warn: 'warning', error: 'error' };

/** console records console calls as breadcrumbs and, when asked, console.error as errors. */
export function instrumentConsole(c: Client): void {
  if (typeof console === 'undefined') return;
  const con = console as unknown as Record<string, (...a: unknown[]) => void>;
  for (const method of Object.keys(CONSOLE_LEVELS)) {
    const orig = con[method];
    if (typeof orig !== 'function') continue;
    let inside = false;
    con[method] = function (this: unknown, ...args: unknown[]) {
      if (!inside) {
        // inside stops recursion when something we call logs again.
        inside = true;
        c.guard(() => {
          if (typeof args[0] === 'string' && args[0].indexOf('[rearview]') === 0) return;
          const message = clip(args.map((a) => (a instanceof Error ? a.name + ': ' + a.message : describe(a))).join(' '), LIMITS.message);
          if (c.cfg.breadcrumbs.console) c.addBreadcrumb({ category: 'console', level: CONSOLE_LEVELS[method], message });
          if (method === 'error' && c.cfg.captureConsoleErrors) {
            const err = args.find((a) => a instanceof Error);
            if (err) c.captureException(err, 'console', true, { level: 'error' });
            else c.captureError({ type: 'ConsoleError', value: message, mechanism: 'console', handled: true, level: 'error' });
          }
        });
        inside = false;
      }
      return orig.apply(this, args);
    };
    c.onClose(() => {
      con[method] = orig;
    });
  }
}

/** propagate decides whether a request gets trace headers: same origin, or a configured target. */
export function shouldPropagate(c: Client, url: string): boolean {
  return sameOrigin(url) || matches(url, c.cfg.tracePropagationTargets);
}

function traceparent(t: string, s: string): string {
  return '00-' + t + '-' + s + '-01';
}

function headerMap(h: Headers | Record<string, string> | string[][] | undefined | null): Record<string, string> | undefined {
  if (!h) return undefined;
  const out: Record<string, string> = {};
  const add = (k: string, v: string) => {
    if (!SENSITIVE_HEADER.test(k)) out[k.toLowerCase()] = v;
  };
  if (typeof (h as Headers).forEach === 'function' && !(Array.isArray(h))) (h as Headers).forEach((v, k) => add(k, v));
  else if (Array.isArray(h)) for (const [k, v] of h) add(k, v);
  else for (const k of Object.keys(h)) add(k, (h as Record<string, string>)[k]);
  return clipMap(out, LIMITS.url);
}

function bodyText(b: unknown): string | undefined {
  if (typeof b === 'string') return clip(b, LIMITS.body);
  if (b instanceof URLSearchParams) return clip(b.toString(), LIMITS.body);
  return undefined; // streams, blobs and form data are not read
}

function textual(ct: string | null): boolean {
  return !!ct && /json|text|xml|x-www-form-urlencoded|graphql/i.test(ct);
}

/** Trace is the ids one instrumented request carries. */
interface Trace {
  traceId: string;
  spanId: string;
}

function record(c: Client, category: 'fetch' | 'xhr', http: HTTPInfo, trace: Trace | null, failed: boolean): void {
  if (trace) {
    http.trace_id = trace.traceId;
    if (failed) c.lastFailure = { traceId: trace.traceId, spanId: trace.spanId, at: Date.now() };
  }
  const b: Breadcrumb = { category, http };
  if (failed) b.level = 'error';
  c.addBreadcrumb(b);
}

/** fetch wraps window.fetch: trace headers in, a breadcrumb with status and duration out. */
export function instrumentFetch(c: Client): void {
  const orig = window.fetch;
  if (typeof orig !== 'function') return;
  const wrapped = function (this: unknown, input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    let trace: Trace | null = null;
    let http: HTTPInfo | null = null;
    let capture = false;
    c.guard(() => {
      const req = typeof Request !== 'undefined' && input instanceof Request ? input : null;
      const url = absoluteURL(req ? req.url : String(input));
      const method = String((init && init.method) || (req && req.method) || 'GET').toUpperCase();
      http = { method: clip(method, 16), url: clip(url, LIMITS.url) };
      capture = matches(url, c.cfg.allowUrls);
      if (shouldPropagate(c, url)) {
        const headers = new Headers((init && init.headers) || (req ? req.headers : undefined));
        if (!headers.has('traceparent')) {
          trace = { traceId: traceId(), spanId: spanId() };
          headers.set('traceparent', traceparent(trace.traceId, trace.spanId));
          if (c.cfg.traceIdHeader) headers.set('X-Trace-ID', trace.traceId);
          init = { ...(init || {}), headers };
        }
      }
      if (capture) {
        const rh = headerMap((init && (init.headers as Headers)) || (req ? req.headers : undefined));
        if (rh) http.request_headers = rh;
        if (c.cfg.captureBodies && init && init.body !== undefined) {
          const body = bodyText(init.body);
          if (body) http.request_body = body;
        }
      }
    });
    const start = performance.now();
    const p = orig.call(this === undefined ? window : this, input, init);
    if (!http || !c.cfg.breadcrumbs.fetch) return p;
    const h = http as HTTPInfo;
    p.then(
      (res) =>
        c.guard(() => {
          h.duration_ms = Math.round((performance.now() - start) * 10) / 10;
          if (res.status) h.status = res.status;
          const failed = !res.ok && res.type !== 'opaque';
          if (!capture) return record(c, 'fetch', h, trace, failed);
          const rh = headerMap(res.headers);
          if (rh) h.response_headers = rh;
          if (!c.cfg.captureBodies || !textual(res.headers.get('content-type'))) return record(c, 'fetch', h, trace, failed);
          res
            .clone()
            .text()
            .then(
              (t) => {
                h.response_body = clip(t, LIMITS.body);
              },
              () => {},
            )
            .then(() => c.guard(() => record(c, 'fetch', h, trace, failed)));
        }),
      () =>
        c.guard(() => {
          h.duration_ms = Math.round((performance.now() - start) * 10) / 10;
          record(c, 'fetch', h, trace, true);
        }),
    );
    return p;
  };
  window.fetch = wrapped as typeof fetch;
  c.onClose(() => {
    if (window.fetch === wrapped) window.fetch = orig;
  });
}

interface XHRState {
  http: HTTPInfo;
  trace: Trace | null;
  capture: boolean;
  start: number;
  headers: Record<string, string>;
}

/** xhr wraps XMLHttpRequest the same way as fetch. */
export function instrumentXHR(c: Client): void {
  if (typeof XMLHttpRequest === 'undefined') return;
  const proto = XMLHttpRequest.prototype;
  const open = proto.open;
  const send = proto.send;
  const setHeader = proto.setRequestHeader;
  const state = new WeakMap<XMLHttpRequest, XHRState>();
  proto.open = function (this: XMLHttpRequest, ...args: unknown[]) {
    c.guard(() => {
      const url = absoluteURL(String(args[1]));
      state.set(this, { http: { method: clip(String(args[0]).toUpperCase(), 16), url: clip(url, LIMITS.url) }, trace: null, capture: matches(url, c.cfg.allowUrls), start: 0, headers: {} });
    });
    return (open as (...a: unknown[]) => void).apply(this, args);
  } as typeof proto.open;
  proto.setRequestHeader = function (this: XMLHttpRequest, name: string, value: string) {
    c.guard(() => {
      const s = state.get(this);
      if (s) s.headers[name] = value;
    });
    return setHeader.call(this, name, value);
  };
  proto.send = function (this: XMLHttpRequest, body?: Document | XMLHttpRequestBodyInit | null) {
    c.guard(() => {
      const s = state.get(this);
      if (!s) return;
      if (shouldPropagate(c, s.http.url) && !Object.keys(s.headers).some((k) => k.toLowerCase() === 'traceparent')) {
        s.trace = { traceId: traceId(), spanId: spanId() };
        setHeader.call(this, 'traceparent', traceparent(s.trace.traceId, s.trace.spanId));
        if (c.cfg.traceIdHeader) setHeader.call(this, 'X-Trace-ID', s.trace.traceId);
      }
      if (s.capture) {
        const rh = headerMap(s.headers);
        if (rh) s.http.request_headers = rh;
        if (c.cfg.captureBodies) {
          const b = bodyText(body);
          if (b) s.http.request_body = b;
        }
      }
      s.start = performance.now();
      if (!c.cfg.breadcrumbs.xhr) return;
      const xhr = this;
      xhr.addEventListener('loadend', () =>
        c.guard(() => {
          const h = s.http;
          h.duration_ms = Math.round((performance.now() - s.start) * 10) / 10;
          if (xhr.status) h.status = xhr.status;
          const failed = xhr.status === 0 || xhr.status >= 400;
          if (s.capture) {
            const rh: Record<string, string> = {};
            for (const line of xhr.getAllResponseHeaders().trim().split(/[\r\n]+/)) {
              const i = line.indexOf(':');
              if (i > 0) rh[line.slice(0, i).trim()] = line.slice(i + 1).trim();
            }
            const m = headerMap(rh);
            if (m) h.response_headers = m;
            if (c.cfg.captureBodies && (xhr.responseType === '' || xhr.responseType === 'text') && textual(xhr.getResponseHeader('content-type'))) {
              h.response_body = clip(xhr.responseText, LIMITS.body);
            }
          }
          record(c, 'xhr', h, s.trace, failed);
        }),
      );
    });
    return send.call(this, body);
  };
  c.onClose(() => {
    proto.open = open;
    proto.send = send;
    proto.setRequestHeader = setHeader;
  });
}
