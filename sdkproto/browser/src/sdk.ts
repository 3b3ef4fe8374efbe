import { Client } from './client';
import type { CaptureContext, ReplayFactory } from './client';
import type { Options } from './config';
import type { Level } from './protocol';
import { instrumentClicks, instrumentConsole, instrumentErrors, instrumentFetch, instrumentNavigation, instrumentXHR } from './instrument';
import { instrumentVitals } from './vitals';

/** The public API, the same in the full build and the errors+vitals build. */
export interface API {
  /** init starts the SDK; a second call replaces the first. Returns false when the options are unusable. */
  init(options: Options | string): boolean;
  setUser(user: { id?: string | number } | null): void;
  setTag(key: string, value: string | number | boolean): void;
  /** captureException reports a caught error; it returns the event id. */
  captureException(err: unknown, ctx?: CaptureContext): string;
  captureMessage(message: string, level?: Level, ctx?: CaptureContext): string;
  /** flagSession marks the session for support: its replay buffer is sent and kept. */
  flagSession(reason: 'support'): void;
  /** flush sends everything queued; it resolves when the edge answered. */
  flush(): Promise<void>;
  /** close flushes and removes every instrumentation. */
  close(): void;
}

/** createAPI builds the API around one client at a time. */
export function createAPI(replay?: ReplayFactory): API {
  let client: Client | null = null;
  const safe = <T>(fn: (c: Client) => T, def: T): T => {
    if (!client) return def;
    try {
      return fn(client);
    } catch (err) {
      client.log('api', err);
      return def;
    }
  };
  const onHide = () => safe((c) => document.visibilityState === 'hidden' && c.flushNow(), undefined);
  const onPageHide = () => safe((c) => c.flushNow(), undefined);
  return {
    init(options) {
      if (typeof window === 'undefined' || typeof document === 'undefined') return false;
      try {
        if (client) this.close();
        const c = new Client(options);
        client = c;
        instrumentErrors(c);
        instrumentFetch(c);
        instrumentXHR(c);
        instrumentClicks(c);
        instrumentNavigation(c);
        instrumentConsole(c);
        if (c.cfg.vitals) c.guard(() => instrumentVitals(c));
        // Registered on window (bubbling) so that web-vitals' listeners on
        // document report their final values first.
        window.addEventListener('visibilitychange', onHide);
        window.addEventListener('pagehide', onPageHide);
        c.onClose(() => {
          window.removeEventListener('visibilitychange', onHide);
          window.removeEventListener('pagehide', onPageHide);
        });
        c.enqueue('session', { state: c.session.isNew ? 'start' : 'page_view', url: location.href.slice(0, 4096) }, c.cfg.flushInterval);
        if (replay) c.replay = c.guard(() => replay(c)) || null;
        return true;
      } catch (err) {
        if (typeof console !== 'undefined') console.warn('[rearview] init failed: ' + (err instanceof Error ? err.message : String(err)));
        client = null;
        return false;
      }
    },
    setUser: (user) => safe((c) => c.setUser(user), undefined),
    setTag: (key, value) => safe((c) => c.setTag(key, value), undefined),
    captureException: (err, ctx) => safe((c) => c.captureException(err, 'manual', true, ctx || {}), ''),
    captureMessage: (message, level, ctx) => safe((c) => c.captureMessage(message, level, ctx || {}), ''),
    flagSession: (reason) =>
      safe((c) => {
        if (reason !== 'support') return;
        c.touch();
        c.flag('support');
        c.flush().catch(() => {});
      }, undefined),
    flush: () => safe((c) => c.flush(), Promise.resolve()),
    close: () =>
      safe((c) => {
        c.close();
        client = null;
      }, undefined),
  };
}
