import { onCLS, onFCP, onINP, onLCP, onTTFB } from 'web-vitals/attribution';
import type { MetricWithAttribution } from 'web-vitals/attribution';
import type { Client } from './client';
import type { VitalPayload } from './protocol';
import { LIMITS, clip, clipMap } from './protocol';
import { selectorOf } from './dom';

function round(n: number | undefined, digits = 1): string | undefined {
  if (typeof n !== 'number' || !isFinite(n)) return undefined;
  const f = Math.pow(10, digits);
  return String(Math.round(n * f) / f);
}

/**
 * attribution flattens web-vitals' attribution into the protocol's string
 * map; "element" is always the attributed element's selector, whichever
 * field web-vitals keeps it in for that metric.
 */
export function attribution(m: MetricWithAttribution): Record<string, string | undefined> {
  switch (m.name) {
    case 'LCP': {
      const a = m.attribution;
      return {
        element: a.target,
        url: a.url,
        time_to_first_byte: round(a.timeToFirstByte),
        resource_load_delay: round(a.resourceLoadDelay),
        resource_load_duration: round(a.resourceLoadDuration),
        element_render_delay: round(a.elementRenderDelay),
      };
    }
    case 'INP': {
      const a = m.attribution;
      return {
        element: a.interactionTarget,
        interaction_type: a.interactionType,
        input_delay: round(a.inputDelay),
        processing_duration: round(a.processingDuration),
        presentation_delay: round(a.presentationDelay),
        load_state: a.loadState,
      };
    }
    case 'CLS': {
      const a = m.attribution;
      return { element: a.largestShiftTarget, largest_shift_value: round(a.largestShiftValue, 4), largest_shift_time: round(a.largestShiftTime), load_state: a.loadState };
    }
    case 'FCP': {
      const a = m.attribution;
      return { time_to_first_byte: round(a.timeToFirstByte), first_byte_to_fcp: round(a.firstByteToFCP), load_state: a.loadState };
    }
    case 'TTFB': {
      const a = m.attribution;
      return {
        waiting_duration: round(a.waitingDuration),
        cache_duration: round(a.cacheDuration),
        dns_duration: round(a.dnsDuration),
        connection_duration: round(a.connectionDuration),
        request_duration: round(a.requestDuration),
      };
    }
  }
  return {};
}

/** toVital turns a web-vitals metric into the protocol's vital payload. */
export function toVital(m: MetricWithAttribution, url: string): VitalPayload {
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
  const report = (m: MetricWithAttribution) => c.guard(() => c.captureVital(toVital(m, location.href)));
  // Elements are named like click breadcrumbs (tag#id.class) so that a
  // slow interaction and the click before it read the same.
  const opts = { generateTarget: (el: Node | null) => (el && el.nodeType === 1 ? selectorOf(el as Element) || undefined : undefined) };
  onLCP(report, opts);
  onINP(report, opts);
  onCLS(report, opts);
  onFCP(report, opts);
  onTTFB(report, opts);
}
