// Synthetic (lab) results beside the field's: the vitals page's "Lab vs
// field" card and the release comparison page.
import { get } from "../api";
import { h, mount, type Child } from "../dom";
import { compact, metricValue, percent } from "../format";
import { empty, failure, header, loading, table, type Page } from "../ui";

interface SummaryRow {
  route: string;
  profile: string;
  kind: string;
  metric: string;
  median: number;
  n: number;
}
interface Release {
  release: string;
  first_seen: number;
  last_seen: number;
  results: number;
  failed: number;
}
interface Comparison {
  route: string;
  profile: string;
  kind: string;
  metric: string;
  base: number | null;
  head: number | null;
  change: number | null;
}
interface FieldRow {
  key: string;
  count: number;
  p75: number;
}
interface FieldSummary {
  count: number;
  p75?: number;
}
interface SyntheticIssue {
  id: string;
  title: string;
  events: number;
  last_seen: number;
  session: string;
}

/** labMetric is the lab metric shown beside a field metric: Lighthouse has no INP, its stand-in is TBT. */
export function labMetric(field: string): string {
  return field === "INP" ? "TBT" : field;
}

/** ratio renders lab ÷ field, or a dash. */
function ratio(lab: number | undefined, field: number | undefined): string {
  if (lab === undefined || field === undefined || !field) return "—";
  return `${(lab / field).toFixed(2)}×`;
}

/** change renders a relative change with its direction; higherIsBetter flips the colour. */
function change(c: number | null | undefined, higherIsBetter = false): HTMLElement {
  if (c === null || c === undefined || !Number.isFinite(c)) return h("span", { class: "muted" }, "—");
  const worse = higherIsBetter ? c < 0 : c > 0;
  const big = Math.abs(c) >= 0.1;
  return h("span", { class: big ? (worse ? "delta worse" : "delta better") : "delta" }, `${c > 0 ? "+" : ""}${Math.round(c * 100)}%`);
}

/** labVsField is the vitals page's card: per route and device, the field p75 of metric beside the newest release's lab median. */
export async function labVsField(metric: string, from: number, to: number, signal: AbortSignal): Promise<HTMLElement | null> {
  const rel = await get<{ releases: Release[] }>("/api/v1/synthetic/releases", {}, signal).catch(() => null);
  if (!rel) return null; // a coordinator without synthetic monitoring
  const card = (...body: Child[]) => h("section", { class: "card", id: "lab-vs-field" }, h("h2", null, "Lab vs field"), ...body);
  const latest = rel.releases[rel.releases.length - 1];
  if (!latest) return card(empty("No synthetic runs yet.", "rearview synthetic run uploads Lighthouse lab results from CI."));
  const lm = labMetric(metric);
  const [lab, ...field] = await Promise.all([
    get<{ release: string; rows: SummaryRow[] }>("/api/v1/synthetic/summary", { release: latest.release }, signal),
    ...["mobile", "desktop"].map((device) => get<{ rows: FieldRow[] }>("/api/v1/vitals/breakdown", { metric, by: "route", device, from, to }, signal).catch(() => ({ rows: [] as FieldRow[] }))),
  ]);
  type Line = { route: string; device: string; field?: FieldRow; lab?: SummaryRow };
  const lines = new Map<string, Line>();
  const line = (route: string, device: string) => {
    const k = `${route}\u0000${device}`;
    let l = lines.get(k);
    if (!l) lines.set(k, (l = { route, device }));
    return l;
  };
  ["mobile", "desktop"].forEach((device, i) => field[i].rows.forEach((r) => (line(r.key, device).field = r)));
  for (const r of lab.rows) if (r.kind === "lighthouse" && r.metric === lm) line(r.route, r.profile).lab = r;
  const rows = [...lines.values()].filter((l) => l.lab).sort((a, b) => a.route.localeCompare(b.route) || a.device.localeCompare(b.device));
  return card(
    h("p", { class: "muted small" }, `Field: p75 of real users over the selected window. Lab: median of Lighthouse runs of release ${latest.release}${lm !== metric ? ` (lab ${lm} stands in for ${metric})` : ""}.`),
    rows.length
      ? table<Line>(
          [
            { title: "Route", cell: (l) => h("span", { class: "mono small" }, l.route) },
            { title: "Device", cell: (l) => l.device },
            { title: `Field p75`, cell: (l) => metricValue(metric, l.field?.p75), class: "num" },
            { title: "Samples", cell: (l) => (l.field ? compact(l.field.count) : "0"), class: "num" },
            { title: `Lab ${lm}`, cell: (l) => metricValue(lm, l.lab?.median), class: "num" },
            { title: "Lab ÷ field", cell: (l) => (lm === metric ? ratio(l.lab?.median, l.field?.p75) : "—"), class: "num" },
          ],
          rows,
        )
      : empty(`No lab ${lm} for release ${latest.release}.`),
  );
}

const fieldMetrics = ["LCP", "INP", "CLS", "FCP", "TTFB"];

/** releasesPage answers "did anything change between releases?" for the lab and the field. */
export async function releasesPage(p: Page): Promise<void> {
  const body = h("div", null, loading("Loading releases"));
  mount(p.root, header("Releases"), body);
  try {
    const rel = await get<{ releases: Release[] }>("/api/v1/synthetic/releases", {}, p.signal);
    const names = rel.releases.map((r) => r.release);
    const head = p.query.get("head") || names[names.length - 1] || "";
    const base = p.query.get("base") || names[names.indexOf(head) - 1] || "";
    if (!head) {
      mount(body, empty("No releases with synthetic runs yet.", "Run rearview synthetic run --release $GIT_SHA in CI."));
      return;
    }
    const pick = (name: string, value: string) =>
      h(
        "label",
        null,
        `${name} `,
        h(
          "select",
          { name, "aria-label": name },
          names.map((n) => h("option", n === value ? { value: n, selected: "" } : { value: n }, n)),
        ),
      );
    const form = h("form", { class: "filters", method: "get", action: "/player/releases" }, pick("base", base), pick("head", head), h("button", { type: "submit" }, "Compare"));
    const [cmp, issues, ...field] = await Promise.all([
      get<{ base: string; head: string; rows: Comparison[] }>("/api/v1/synthetic/compare", { base, head }, p.signal),
      get<{ issues: SyntheticIssue[] }>("/api/v1/synthetic/issues", {}, p.signal).catch(() => ({ issues: [] as SyntheticIssue[] })),
      ...fieldMetrics.flatMap((metric) =>
        [base, head].map((release) => get<FieldSummary>("/api/v1/vitals", { metric, release, from: Date.now() - 30 * 24 * 3600e3, to: Date.now() }, p.signal).catch((): FieldSummary => ({ count: 0 }))),
      ),
    ]);
    const fieldRows = fieldMetrics.map((metric, i) => {
      const b = field[2 * i],
        hd = field[2 * i + 1];
      const c = b.p75 && hd.p75 ? (hd.p75 - b.p75) / b.p75 : null;
      return { metric, base: b, head: hd, change: c };
    });
    const lab = cmp.rows.filter((r) => r.kind === "lighthouse");
    const journeys = cmp.rows.filter((r) => r.kind === "journey");
    const labTable = (rows: Comparison[]) =>
      table<Comparison>(
        [
          { title: "Route", cell: (r) => h("span", { class: "mono small" }, r.route) },
          { title: "Profile", cell: (r) => r.profile },
          { title: "Metric", cell: (r) => r.metric },
          { title: base || "base", cell: (r) => (r.metric === "score" ? score(r.base) : metricValue(r.metric, r.base)), class: "num" },
          { title: head, cell: (r) => (r.metric === "score" ? score(r.head) : metricValue(r.metric, r.head)), class: "num" },
          {
            title: "Change",
            // A metric that was zero (CLS) has no relative change; any rise from it is worse.
            cell: (r) => (r.change === null && r.base === 0 && (r.head ?? 0) > 0 && r.metric !== "score" ? h("span", { class: "delta worse" }, "from 0") : change(r.change, r.metric === "score")),
            class: "num",
          },
        ],
        rows,
      );
    const headRel = rel.releases.find((r) => r.release === head);
    mount(
      body,
      form,
      h(
        "div",
        { class: "stats" },
        h("div", { class: "stat" }, h("div", { class: "stat-label" }, "Checks of " + head), h("div", { class: "stat-value" }, compact(headRel?.results ?? 0))),
        h("div", { class: "stat" }, h("div", { class: "stat-label" }, "Failed"), h("div", { class: "stat-value" }, compact(headRel?.failed ?? 0))),
      ),
      h("section", { class: "card", id: "lab-compare" }, h("h2", null, "Lab (Lighthouse medians)"), lab.length ? labTable(lab) : empty("No lab runs in these releases.")),
      journeys.length ? h("section", { class: "card" }, h("h2", null, "Journeys (duration)"), labTable(journeys)) : null,
      h(
        "section",
        { class: "card", id: "field-compare" },
        h("h2", null, "Field (real users, p75)"),
        table<(typeof fieldRows)[number]>(
          [
            { title: "Metric", cell: (r) => r.metric },
            { title: base || "base", cell: (r) => fieldCell(r.metric, r.base), class: "num" },
            { title: head, cell: (r) => fieldCell(r.metric, r.head), class: "num" },
            { title: "Change", cell: (r) => change(r.change), class: "num" },
          ],
          fieldRows,
        ),
      ),
      h(
        "section",
        { class: "card" },
        h("h2", null, "Issues from synthetic checks"),
        issues.issues.length
          ? table<SyntheticIssue>(
              [
                { title: "Issue", cell: (i) => h("a", { href: `/player/issues/${encodeURIComponent(i.id)}` }, i.title) },
                { title: "Events", cell: (i) => compact(i.events), class: "num" },
                { title: "Replay", cell: (i) => h("a", { href: `/player/replay/${encodeURIComponent(i.session)}` }, "watch") },
              ],
              issues.issues,
            )
          : empty("No synthetic session has hit an error."),
      ),
    );
  } catch (err) {
    if (!p.signal.aborted) mount(body, failure(err, "Release comparison"));
  }
}

function fieldCell(metric: string, f: FieldSummary): string {
  return f.count ? `${metricValue(metric, f.p75)} (${compact(f.count)})` : "—";
}

function score(v: number | null): string {
  return v === null || v === undefined ? "—" : percent(v).replace("%", "");
}
