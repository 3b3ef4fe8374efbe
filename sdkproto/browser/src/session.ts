import type { SessionFlags } from './protocol';
import { sessionId } from './ids';

/** A session ends after this long without activity. */
export const SESSION_IDLE_MS = 30 * 60 * 1000;
const STORAGE_KEY = 'rearview.session';

export type ReplayMode = 'session' | 'buffer' | 'off';

/** State is what survives a reload of the tab, in sessionStorage. */
export interface State {
  id: string;
  started: number;
  last: number;
  seq: number;
  segment: number;
  flags: SessionFlags;
  /** The replay decision, sampled once per session so reloads agree. */
  replay?: ReplayMode;
}

function storage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null; // sandboxed frames and some privacy modes throw
  }
}

/**
 * Session is the tab session: one id per tab (sessionStorage survives
 * reloads but not new tabs), a new one after 30 minutes without activity.
 */
export class Session {
  state: State;
  /** isNew is true when the session was created by this page load. */
  isNew = false;
  private store_ = storage();
  private saved_ = 0;

  constructor(now: number) {
    let s: State | null = null;
    try {
      const raw = this.store_?.getItem(STORAGE_KEY);
      if (raw) s = JSON.parse(raw) as State;
    } catch {
      s = null;
    }
    if (!s || typeof s.id !== 'string' || !/^[\w-]{1,64}$/.test(s.id) || now - s.last > SESSION_IDLE_MS) {
      s = fresh(now);
      this.isNew = true;
    }
    this.state = s;
    this.save(now, true);
  }

  /**
   * touch records activity at now. It returns true when the session had
   * expired and a new one started.
   */
  touch(now: number): boolean {
    const expired = now - this.state.last > SESSION_IDLE_MS;
    if (expired) {
      this.state = fresh(now);
      this.isNew = true;
    }
    this.state.last = now;
    this.save(now, expired);
    return expired;
  }

  /** nextSeq returns the sequence number of the next batch. */
  nextSeq(): number {
    const n = this.state.seq++;
    this.save(Date.now(), true);
    return n;
  }

  nextSegment(): number {
    const n = this.state.segment++;
    this.save(Date.now(), true);
    return n;
  }

  flag(name: keyof SessionFlags): boolean {
    if (this.state.flags[name]) return false;
    this.state.flags[name] = true;
    this.save(Date.now(), true);
    return true;
  }

  setReplay(mode: ReplayMode): void {
    this.state.replay = mode;
    this.save(Date.now(), true);
  }

  /** save writes the state, at most once a second unless forced. */
  save(now: number, force = false): void {
    if (!force && now - this.saved_ < 1000) return;
    this.saved_ = now;
    try {
      this.store_?.setItem(STORAGE_KEY, JSON.stringify(this.state));
    } catch {
      // quota or privacy mode: the session lives in memory only
    }
  }
}

function fresh(now: number): State {
  return { id: sessionId(), started: now, last: now, seq: 0, segment: 0, flags: {} };
}
