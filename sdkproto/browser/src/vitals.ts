// Core Web Vitals with web-vitals' standard build and a small attribution of
// our own: the attribution build costs ~2.5 KB gz more than the metrics it
// explains, which the errors + vitals budget (12 KB gz) cannot afford, and
// the fields that matter (which element, which interaction phase, which
// shift) are all on the metric's own performance entries.
import { onCLS, onFCP, onINP, onLCP, onTTFB } from 'web-vitals';
import type { Metric } from 'web-vitals';
import type { Client } from './client';
import type { VitalPayload } from './protocol';
import { LIMITS, clip, clipMap } from './protocol';
import { selectorOf } from './dom';

type Attr = Record<string, string | number | undefined>;

const ms = (n: number) => Math.round(Math.max(0, n) * 10) / 10;
const el = (n: Node | null | undefined) => (n && n.nodeType === 1 ? selectorOf(n as Element) || undefined : undefined);

// The DOM typings of these entries are incomplete in lib.dom.d.ts.
interface LCPEntry extends PerformanceEntry { element?: Element | null; url?: string }
interface EventEntry extends PerformanceEntry { target?: Node | null; processingStart: number; processingEnd: number }
interface ShiftEntry extends PerformanceEntry { value: number; sources?: Array<{ node?: Node | null }> }

/**
 * attribution names what a metric is about. "element" is always the
 * element's selector (tag#id.class, as on click breadcrumbs, so a slow
 * interaction and the click before it read the same).
 */
export function attribution(m: Metric): Attr {
  const entries = m.entries as PerformanceEntry[];
  const last = entries[entries.length - 1];
  if (!last) return {};
  switch (m.name) {
    case 'LCP': {
      const e = last as LCPEntry;
      return { element: el(e.element), url: e.url || undefined };
    }
    case 'INP': {
      // One interaction has several entries (pointerdown, pointerup,
      // click): the phases are the slowest handler's, and the element any
      // entry's that still has its target (one read at unload may not).
      const es = entries as EventEntry[];
      let e = es[0];
      for (const x of es) if (x.processingEnd - x.processingStart > e.processingEnd - e.processingStart) e = x;
      const t = e.target || (es.find((x) => x.target) || e).target;
      return {
        element: el(t),
        interaction_type: e.name.startsWith('key') ? 'keyboard' : 'pointer',
        input_delay: ms(e.processingStart - e.startTime),
        processing_duration: ms(e.processingEnd - e.processingStart),
        presentation_delay: ms(e.startTime + e.duration - e.processingEnd),
      };
    }
    case 'CLS': {
      let big = last as ShiftEntry;
      for (const e of entries as ShiftEntry[]) if (e.value > big.value) big = e;
      const src = (big.sources || []).find((s) => s.node && s.node.nodeType === 1);
      return { element: el(src && src.node), largest_shift_value: Math.round(big.value * 1e4) / 1e4, largest_shift_time: ms(big.startTime) };
    }
  }
  return {};
}

/** toVital turns a web-vitals metric into the protocol's vital payload. */
export function toVital(m: Metric, url: string): VitalPayload {
  const v: VitalPayload = { name: m.name, value: Math.max(0, m.value) };
  if (m.delta > 0) v.delta = m.delta;
  if (m.rating) v.rating = m.rating;
  if (m.navigationType) v.navigation_type = clip(m.navigationType, LIMITS.short);
  if (m.id) v.metric_id = clip(m.id, LIMITS.short);
  v.url = clip(url, LIMITS.url);
  const a = clipMap(attribution(m), LIMITS.url);
  if (a) v.attribution = a;
  return v;
}

/** instrumentVitals reports LCP, INP, CLS, FCP and TTFB as web-vitals finalises them. */
export function instrumentVitals(c: Client): void {
  // The release rides in the attribution: vitals have no release field and
  // the coordinator's vitals slice by it from there.
  const release = c.cfg.release && clip(c.cfg.release, LIMITS.short);
  const report = (m: Metric) =>
    c.guard(() => {
      const v = toVital(m, location.href);
      if (release) v.attribution = { ...v.attribution, release };
      c.captureVital(v);
    });
  for (const on of [onLCP, onINP, onCLS, onFCP, onTTFB]) on(report);
}
