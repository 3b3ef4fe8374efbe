// Pure formatting helpers (no DOM), unit-tested under node.

/** ago renders how long before now a Unix-ms time was: "just now", "5m ago". */
export function ago(ts: number, now: number = Date.now()): string {
  if (!ts) return "—";
  const d = Math.max(0, now - ts) / 1000;
  if (d < 10) return "just now";
  if (d < 60) return `${Math.floor(d)}s ago`;
  if (d < 3600) return `${Math.floor(d / 60)}m ago`;
  if (d < 86400) return `${Math.floor(d / 3600)}h ago`;
  if (d < 86400 * 30) return `${Math.floor(d / 86400)}d ago`;
  return new Date(ts).toISOString().slice(0, 10);
}

/** clock renders a playback offset in ms as m:ss or h:mm:ss. */
export function clock(ms: number): string {
  const t = Math.max(0, Math.floor(ms / 1000));
  const hh = Math.floor(t / 3600);
  const mm = Math.floor((t % 3600) / 60);
  const ss = String(t % 60).padStart(2, "0");
  return hh > 0 ? `${hh}:${String(mm).padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

/** duration renders a length of time in ms for tables: "850 ms", "42 s", "3m 5s". */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

/** bytes renders a size: "812 B", "4.2 KB", "1.3 MB". */
export function bytes(n: number): string {
  if (!n) return "0 B";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** compact renders counts: 999, 1.2k, 3.4M. */
export function compact(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1e6) return `${(n / 1000).toFixed(n < 1e4 ? 1 : 0)}k`;
  return `${(n / 1e6).toFixed(1)}M`;
}

/** metricValue renders a web-vital value in its unit: CLS is unitless. */
export function metricValue(metric: string, v: number | undefined | null): string {
  if (v === undefined || v === null || !Number.isFinite(v)) return "—";
  if (metric.toUpperCase() === "CLS") return v.toFixed(3);
  if (v >= 1000) return `${(v / 1000).toFixed(2)} s`;
  return `${Math.round(v)} ms`;
}

/** percent renders a 0..1 share. */
export function percent(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return "—";
  return `${Math.round(x * 100)}%`;
}

/** pathOf shortens a URL to its path and query for tables. */
export function pathOf(u: string): string {
  if (!u) return "";
  try {
    const x = new URL(u);
    return x.pathname + x.search;
  } catch {
    return u;
  }
}

/** traceURL fills a template such as https://tempo/trace/{trace_id}. */
export function traceURL(template: string | undefined, traceID: string): string | null {
  if (!template || !traceID || !template.includes("{trace_id}")) return null;
  return template.split("{trace_id}").join(encodeURIComponent(traceID));
}

/** span renders a configured length of time in its largest whole unit:
 * "5 min", "1 h", "7 d"; anything else as duration(). */
export function span(ms: number | undefined): string {
  if (!ms || !Number.isFinite(ms) || ms < 0) return "—";
  const min = 60_000,
    hr = 60 * min,
    day = 24 * hr;
  if (ms % day === 0) return `${ms / day} d`;
  if (ms % hr === 0) return `${ms / hr} h`;
  if (ms % min === 0) return `${ms / min} min`;
  return duration(ms);
}

/** webhookHost shows where a webhook points without its path: Slack and
 * most receivers keep the secret in the path, and the page is no place
 * to show a secret. */
export function webhookHost(u: string | undefined): string {
  if (!u) return "";
  try {
    const x = new URL(u);
    return x.pathname.length > 1 || x.search ? `${x.host}/…` : x.host;
  } catch {
    return "(invalid URL)";
  }
}

/** alertValue renders what a fired alert measured against what it was
 * compared with: errors vs the 24 h baseline, a vital's p75 vs its
 * threshold. New-issue and regression alerts carry a time, not a measure. */
export function alertValue(kind: string, value: number, baseline: number, metric?: string): string {
  switch (kind) {
    case "error_rate": {
      const n = `${compact(Math.round(value))} errors`;
      if (!baseline) return `${n} · no baseline`;
      return `${n} vs ${baseline.toFixed(1)} baseline (${(value / baseline).toFixed(1)}×)`;
    }
    case "vital_p75":
      // Without the rule (deleted since) the unit is unknown.
      if (!metric) return `p75 ${+value.toFixed(3)} > ${+baseline.toFixed(3)}`;
      return `p75 ${metricValue(metric, value)} > ${metricValue(metric, baseline)}`;
    default:
      return "—";
  }
}

/** deliveryState names where a fired alert's webhook notification is:
 * delivered; pending (not tried yet) or retrying (a retry is due); failed
 * (retries used up); or none (no webhook, nothing to send). Servers that
 * do not retry send only delivered and error. */
export function deliveryState(f: { delivered: boolean; error?: string; attempts?: number; next_attempt_at?: number }): "delivered" | "pending" | "retrying" | "failed" | "none" {
  if (f.delivered) return "delivered";
  if (f.next_attempt_at) return f.attempts ? "retrying" : "pending";
  if (f.error) return "failed";
  return "none";
}
