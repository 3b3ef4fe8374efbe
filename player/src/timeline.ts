// Timeline markers for the replay page, built from the rrweb events of the
// stored segments and from the session's Rearview events (errors and
// breadcrumbs). Pure functions: unit-tested under node.

/** An rrweb event as stored: only the fields the timeline reads. */
export interface RREvent {
  type: number;
  timestamp: number;
  data?: any;
}

/** A Rearview event as the API returns it (payload under "event" or "payload"). */
export interface APIEvent {
  id: string;
  kind: string;
  ts: number;
  event?: any;
  payload?: any;
}

export type MarkerKind = "error" | "click" | "navigation" | "request";

export interface Marker {
  kind: MarkerKind;
  ts: number;
  /** position on the timeline, 0..1 */
  at: number;
  label: string;
  /** event id for errors, so the page can link to the event */
  ref?: string;
}

// rrweb's numeric enums (EventType, IncrementalSource, MouseInteractions).
const EventMeta = 4;
const EventIncremental = 3;
const SourceMouseInteraction = 2;
const SourceMutation = 0;
const MouseClick = 2;

/** payloadOf returns an API event's payload whichever name it travels under. */
export function payloadOf(e: APIEvent): any {
  return e.payload ?? e.event ?? {};
}

function failedRequest(b: any): { label: string; ts: number } | null {
  if (!b || (b.category !== "fetch" && b.category !== "xhr")) return null;
  const http = b.http ?? {};
  const status = Number(http.status ?? 0);
  const failed = status >= 400 || (status === 0 && b.level === "error");
  if (!failed) return null;
  const what = `${http.method ?? "GET"} ${http.url ?? b.url ?? ""}`.trim();
  return { label: `${what} → ${status || "failed"}`, ts: Number(b.ts ?? 0) };
}

/**
 * buildMarkers returns the markers inside [start, end], sorted by time.
 * Clicks and navigations come from the recording (what the user saw);
 * breadcrumbs add what the recording cannot show (failed requests) and
 * fill in clicks/navigations only where the recording has none nearby.
 */
export function buildMarkers(rr: RREvent[], events: APIEvent[], start: number, end: number): Marker[] {
  const span = Math.max(1, end - start);
  const out: Marker[] = [];
  const add = (kind: MarkerKind, ts: number, label: string, ref?: string) => {
    if (!Number.isFinite(ts) || ts < start || ts > end) return;
    out.push({ kind, ts, at: (ts - start) / span, label, ref });
  };
  const near = (kind: MarkerKind, ts: number, ms: number) => out.some((m) => m.kind === kind && Math.abs(m.ts - ts) <= ms);

  for (const e of rr) {
    if (e.type === EventMeta && e.data?.href) {
      add("navigation", e.timestamp, String(e.data.href));
    } else if (e.type === EventIncremental && e.data?.source === SourceMouseInteraction && e.data?.type === MouseClick) {
      add("click", e.timestamp, "Click");
    }
  }
  const seenRequests = new Set<string>();
  const request = (b: any, fallbackTS: number) => {
    const f = failedRequest(b);
    if (!f) return;
    const ts = f.ts || fallbackTS;
    const key = `${ts}|${f.label}`;
    if (seenRequests.has(key)) return;
    seenRequests.add(key);
    add("request", ts, f.label);
  };
  for (const e of events) {
    const p = payloadOf(e);
    if (e.kind === "error") {
      const err = p.error ?? {};
      add("error", e.ts, [err.type, err.value].filter(Boolean).join(": ") || "Error", e.id);
      for (const b of err.breadcrumbs ?? []) request(b, e.ts);
    } else if (e.kind === "breadcrumb") {
      const b = p.breadcrumb ?? {};
      const ts = Number(b.ts || e.ts);
      if (b.category === "navigation" && !near("navigation", ts, 1000)) add("navigation", ts, String(b.url ?? b.message ?? "Navigation"));
      else if (b.category === "ui.click" && !near("click", ts, 500)) add("click", ts, b.selector ? `Click ${b.selector}` : "Click");
      else request(b, e.ts);
    }
  }
  out.sort((a, b) => a.ts - b.ts || a.kind.localeCompare(b.kind));
  return out;
}

/** isActivity reports whether an rrweb event shows the user doing something
 * (as rrweb's own skip-inactive logic counts it: user input or DOM change). */
export function isActivity(e: RREvent): boolean {
  if (e.type !== EventIncremental) return e.type === EventMeta;
  const src = e.data?.source;
  return src === SourceMutation || (typeof src === "number" && src >= 1 && src <= 5);
}

/** inactiveRanges returns the gaps longer than threshold ms without
 * activity, as [from, to] pairs, for shading on the timeline. */
export function inactiveRanges(rr: RREvent[], threshold = 5000): Array<[number, number]> {
  const ts = rr.filter(isActivity).map((e) => e.timestamp).sort((a, b) => a - b);
  const out: Array<[number, number]> = [];
  for (let i = 1; i < ts.length; i++) {
    if (ts[i] - ts[i - 1] > threshold) out.push([ts[i - 1], ts[i]]);
  }
  return out;
}

/** startOffset is where a replay opened with ?t= begins: a short lead-in
 * before the moment so the viewer sees what led to it, clamped to the
 * recording. */
export function startOffset(t: number | null, start: number, end: number, leadIn = 2000): number {
  if (t === null || !Number.isFinite(t)) return 0;
  return Math.min(Math.max(0, t - leadIn - start), Math.max(0, end - start));
}

/** mergeSegments joins the events of loaded segments in time order. The
 * sort is stable, so events sharing a timestamp keep their recorded order. */
export function mergeSegments(segments: RREvent[][]): RREvent[] {
  return segments.flat().sort((a, b) => a.timestamp - b.timestamp);
}

/**
 * liveBaseline picks the rrweb live-mode baseline for a snapshot whose last
 * event is at lastTS, when the viewer's clock reads now. Events before the
 * baseline are applied at once (the snapshot renders immediately however old
 * it is); later events play `buffer` ms behind real time, keeping their
 * recorded spacing across the SDK's batches. Using the recorded first event
 * as the baseline instead (rrweb's example) would make a session that was
 * idle for minutes play minutes behind.
 */
export function liveBaseline(lastTS: number, now: number, buffer = 3000): number {
  return Math.max(now - buffer, lastTS + 1);
}

/**
 * liveStart returns the events from the last full snapshot on (with the meta
 * event just before it, which carries the viewport), or null when there is
 * no full snapshot yet. A viewer that opened a session before its first
 * snapshot reached the hub waits on the streamed events for one: rrweb
 * cannot apply anything before it.
 */
export function liveStart(events: RREvent[]): RREvent[] | null {
  for (let i = events.length - 1; i >= 0; i--) {
    if (events[i].type !== 2) continue;
    return events.slice(i > 0 && events[i - 1].type === 4 ? i - 1 : i);
  }
  return null;
}
