import { get } from "../api";
import { h, mount, s } from "../dom";
import { compact, metricValue, percent } from "../format";
import { sliceQuery } from "../query";
import { empty, failure, header, loading, table, type Page } from "../ui";
import { labVsField } from "./lab";

interface Summary {
  metric: string;
  count: number;
  p50?: number;
  p75?: number;
  p95?: number;
  p99?: number;
  good?: number;
  needs_improvement?: number;
  poor?: number;
  series?: Array<{ ts: number; count: number; p75: number; p95: number }>;
}
interface Row {
  key: string;
  count: number;
  p75: number;
  p95: number;
  good?: number;
  poor?: number;
}
interface Worst {
  overall_p75?: number;
  cuts?: Array<{ dims: Record<string, string>; count: number; p75: number; ratio: number }>;
}

const metrics = ["LCP", "INP", "CLS", "FCP", "TTFB"];
const windows: Array<[string, number]> = [
  ["24h", 24 * 3600e3],
  ["7d", 7 * 24 * 3600e3],
  ["30d", 30 * 24 * 3600e3],
];
const dims = ["route", "device", "country", "browser"];

/** trendChart draws p75 and p95 over time as two lines. */
function trendChart(series: NonNullable<Summary["series"]>, metric: string): Element {
  const W = 720,
    H = 180,
    pad = 28;
  if (series.length < 2) return empty("Not enough data for a trend yet.");
  const t0 = series[0].ts,
    t1 = series[series.length - 1].ts;
  const max = Math.max(...series.map((x) => x.p95 || 0), 1e-9);
  const x = (t: number) => pad + ((t - t0) / Math.max(1, t1 - t0)) * (W - pad * 2);
  const y = (v: number) => H - pad - (v / max) * (H - pad * 2);
  const line = (k: "p75" | "p95") => series.map((p, i) => `${i ? "L" : "M"}${x(p.ts).toFixed(1)},${y(p[k] || 0).toFixed(1)}`).join(" ");
  return s(
    "svg",
    { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `${metric} p75 and p95 over time` },
    s("line", { x1: pad, x2: W - pad, y1: H - pad, y2: H - pad, class: "axis" }),
    s("text", { x: pad, y: pad - 10, class: "axis-label" }, metricValue(metric, max)),
    s("text", { x: pad, y: H - 8, class: "axis-label" }, new Date(t0).toLocaleString()),
    s("text", { x: W - pad, y: H - 8, class: "axis-label", "text-anchor": "end" }, new Date(t1).toLocaleString()),
    s("path", { d: line("p95"), class: "line p95" }),
    s("path", { d: line("p75"), class: "line p75" }),
  );
}

function shares(sm: Summary): HTMLElement {
  const g = sm.good ?? 0,
    n = sm.needs_improvement ?? 0,
    p = sm.poor ?? 0;
  return h(
    "div",
    { class: "shares", title: `good ${percent(g)}, needs improvement ${percent(n)}, poor ${percent(p)}` },
    h("div", { class: "share good", style: `width:${g * 100}%` }),
    h("div", { class: "share ni", style: `width:${n * 100}%` }),
    h("div", { class: "share poor", style: `width:${p * 100}%` }),
  );
}

export async function vitalsPage(p: Page): Promise<void> {
  const metric = metrics.includes(p.query.get("metric") ?? "") ? p.query.get("metric")! : "LCP";
  const win = windows.find(([k]) => k === p.query.get("window")) ?? windows[1];
  const to = Date.now();
  const from = to - win[1];
  const link = (m: string, w: string) => `/player/vitals?metric=${m}&window=${w}`;
  const picker = h(
    "div",
    { class: "tabs" },
    metrics.map((m) => h("a", { href: link(m, win[0]), class: m === metric ? "active" : "" }, m)),
    h("span", { class: "sep" }),
    windows.map(([w]) => h("a", { href: link(metric, w), class: w === win[0] ? "active" : "" }, w)),
  );
  const body = h("div", null, loading("Loading vitals"));
  mount(p.root, header("Web vitals"), picker, body);
  try {
    const [sm, lab, worst, ...breakdowns] = await Promise.all([
      get<Summary>("/api/v1/vitals", { metric, from, to }, p.signal),
      labVsField(metric, from, to, p.signal).catch(() => null),
      get<Worst>("/api/v1/vitals/worst", { metric, from, to }, p.signal).catch(() => ({}) as Worst),
      ...dims.map((by) => get<{ rows: Row[] }>("/api/v1/vitals/breakdown", { metric, by, from, to }, p.signal).catch(() => ({ rows: [] as Row[] }))),
    ]);
    if (!sm.count) {
      mount(body, empty(`No ${metric} measurements in the last ${win[0]}.`, "The SDK reports web vitals as pages load and users interact."));
      return;
    }
    const card = (label: string, v?: number) => h("div", { class: "stat" }, h("div", { class: "stat-label" }, label), h("div", { class: "stat-value" }, metricValue(metric, v)));
    const breakdownTable = (by: string, rows: Row[]) =>
      h(
        "section",
        { class: "card" },
        h("h2", null, `By ${by}`),
        rows.length
          ? table<Row>(
              [
                { title: by, cell: (r) => h("a", { href: `/player/sessions?q=${encodeURIComponent(sliceQuery({ [by]: r.key }, from, to))}`, class: "mono small" }, r.key || "(none)") },
                { title: "Count", cell: (r) => compact(r.count), class: "num" },
                { title: "p75", cell: (r) => metricValue(metric, r.p75), class: "num" },
                { title: "p95", cell: (r) => metricValue(metric, r.p95), class: "num" },
                { title: "Poor", cell: (r) => percent(r.poor), class: "num" },
              ],
              rows.slice(0, 10),
            )
          : empty("No data."),
      );
    const cuts = worst.cuts ?? [];
    mount(
      body,
      h(
        "div",
        { class: "stats" },
        card("p50", sm.p50),
        card("p75", sm.p75),
        card("p95", sm.p95),
        card("p99", sm.p99),
        h("div", { class: "stat" }, h("div", { class: "stat-label" }, "Samples"), h("div", { class: "stat-value" }, compact(sm.count))),
        h("div", { class: "stat wide" }, h("div", { class: "stat-label" }, "Good · needs improvement · poor"), shares(sm)),
      ),
      lab,
      h("section", { class: "card" }, h("h2", null, "Trend"), h("div", { class: "legend small" }, h("span", { class: "legend-item p75" }, h("i", { class: "dot" }), "p75"), h("span", { class: "legend-item p95" }, h("i", { class: "dot" }), "p95")), trendChart(sm.series ?? [], metric)),
      h(
        "section",
        { class: "card" },
        h("h2", null, "Worst cuts"),
        h("p", { class: "muted small" }, worst.overall_p75 !== undefined ? `Overall p75 ${metricValue(metric, worst.overall_p75)}. Open a cut to watch its sessions.` : ""),
        cuts.length
          ? table(
              [
                { title: "Slice", cell: (c: any) => h("a", { href: `/player/sessions?q=${encodeURIComponent(sliceQuery(c.dims, from, to))}` }, Object.entries(c.dims as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(" · ")) },
                { title: "Count", cell: (c: any) => compact(c.count), class: "num" },
                { title: "p75", cell: (c: any) => metricValue(metric, c.p75), class: "num" },
                { title: "× overall", cell: (c: any) => `${Number(c.ratio).toFixed(2)}×`, class: "num" },
              ],
              cuts,
            )
          : empty("No slice stands out."),
      ),
      h("div", { class: "grid-2" }, dims.map((by, i) => breakdownTable(by, breakdowns[i].rows ?? []))),
    );
  } catch (err) {
    if (!p.signal.aborted) mount(body, failure(err, "Web vitals tracking"));
  }
}
