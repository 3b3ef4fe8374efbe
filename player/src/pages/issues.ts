import { APIError, get, request } from "../api";
import { h, mount, type Child } from "../dom";
import { ago, compact, pathOf, traceURL } from "../format";
import { badge, empty, failure, header, loading, sparkline, table, type Page } from "../ui";

export interface Issue {
  id: string;
  title: string;
  culprit?: string;
  type?: string;
  value?: string;
  status: string;
  count: number;
  users: number;
  first_seen: number;
  last_seen: number;
  releases?: string[];
  trend?: number[];
}

const statuses = ["unresolved", "resolved", "ignored"];

export async function issuesPage(p: Page): Promise<void> {
  const status = statuses.includes(p.query.get("status") ?? "") ? p.query.get("status")! : "unresolved";
  const q = p.query.get("q") ?? "";
  const tabs = h(
    "div",
    { class: "tabs", role: "tablist" },
    statuses.map((s) => h("a", { href: `/player/issues?status=${s}${q ? `&q=${encodeURIComponent(q)}` : ""}`, class: s === status ? "active" : "", role: "tab", "aria-selected": String(s === status) }, s[0].toUpperCase() + s.slice(1))),
  );
  const search = h("input", { type: "search", placeholder: "Filter issues…", value: q, "aria-label": "Filter issues" });
  const form = h("form", { class: "inline-search" }, search);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    p.go(`/issues?status=${status}${search.value ? `&q=${encodeURIComponent(search.value)}` : ""}`);
  });
  const body = h("div", null, loading("Loading issues"));
  mount(p.root, header("Issues", form), tabs, body);
  try {
    const r = await get<{ issues: Issue[] }>("/api/v1/issues", { status, q, limit: 100 }, p.signal);
    const rows = r.issues ?? [];
    if (rows.length === 0) {
      mount(body, empty(status === "unresolved" ? "No unresolved issues." : `No ${status} issues.`, status === "unresolved" ? "Errors your users hit show up here, grouped." : undefined));
      return;
    }
    mount(
      body,
      table<Issue>(
        [
          {
            title: "Issue",
            cell: (i) =>
              h("div", { class: "issue-cell" }, h("a", { href: `/player/issues/${encodeURIComponent(i.id)}`, class: "issue-title" }, i.title || [i.type, i.value].filter(Boolean).join(": ") || i.id), h("div", { class: "muted small mono" }, i.culprit ?? "")),
          },
          { title: "Trend (24h)", cell: (i) => sparkline(i.trend ?? []), class: "trend" },
          { title: "Events", cell: (i) => compact(i.count ?? 0), class: "num" },
          { title: "Users", cell: (i) => compact(i.users ?? 0), class: "num" },
          { title: "Last seen", cell: (i) => h("time", { datetime: new Date(i.last_seen).toISOString(), title: new Date(i.last_seen).toLocaleString() }, ago(i.last_seen)), class: "nowrap" },
        ],
        rows,
        (i) => `/player/issues/${encodeURIComponent(i.id)}`,
        p.go,
      ),
    );
  } catch (err) {
    if (!p.signal.aborted) mount(body, failure(err, "Issue tracking"));
  }
}

interface IssueDetail {
  issue: Issue;
  latest_event?: { id: string; ts: number; session_id: string; trace_id?: string; payload?: any; event?: any };
}

interface Frame {
  url?: string;
  function?: string;
  line?: number;
  column?: number;
  in_app?: boolean;
  original?: { source?: string; function?: string; line?: number; column?: number };
  context?: { pre?: string[]; line?: string; post?: string[] };
  unresolved_reason?: string;
}

function frameView(f: Frame, open: boolean): HTMLElement {
  const o = f.original;
  const fn = o?.function || f.function || "<anonymous>";
  const where = o?.source ? `${o.source}:${o.line ?? "?"}:${o.column ?? "?"}` : `${pathOf(f.url ?? "")}:${f.line ?? "?"}:${f.column ?? "?"}`;
  const summary = h("summary", null, h("span", { class: "fn mono" }, fn), h("span", { class: "where mono" }, where), f.in_app ? badge("in app", "accent") : null, f.unresolved_reason ? badge(f.unresolved_reason, "warn") : null);
  const ctx = f.context;
  let code: Child = null;
  if (ctx && (ctx.line !== undefined || ctx.pre?.length || ctx.post?.length)) {
    const line = o?.line ?? f.line ?? 0;
    const pre = ctx.pre ?? [];
    const rows: HTMLElement[] = [];
    pre.forEach((t, i) => rows.push(h("div", { class: "code-line" }, h("span", { class: "ln" }, String(line - pre.length + i)), h("span", null, t))));
    rows.push(h("div", { class: "code-line current" }, h("span", { class: "ln" }, String(line)), h("span", null, ctx.line ?? "")));
    (ctx.post ?? []).forEach((t, i) => rows.push(h("div", { class: "code-line" }, h("span", { class: "ln" }, String(line + 1 + i)), h("span", null, t))));
    code = h("pre", { class: "code" }, rows);
  } else {
    code = h("p", { class: "muted small" }, f.unresolved_reason ? `No source: ${f.unresolved_reason}` : "No source context for this frame.");
  }
  return h("details", { class: `frame ${f.in_app ? "in-app" : "library"}`, open }, summary, code);
}

/** stackView lists frames crash site first; library frames start collapsed. */
function stackView(frames: Frame[]): HTMLElement {
  if (!frames.length) return empty("No stack trace.");
  const anyInApp = frames.some((f) => f.in_app);
  let openedFirst = false;
  return h(
    "div",
    { class: "stack" },
    frames.map((f) => {
      const open = !openedFirst && (f.in_app || !anyInApp);
      if (open) openedFirst = true;
      return frameView(f, open || (f.in_app === true && frames.length <= 6));
    }),
  );
}

function crumbText(b: any): string {
  if (b.http) return `${b.http.method ?? ""} ${b.http.url ?? ""} ${b.http.status ? `→ ${b.http.status}` : ""}`.trim();
  return b.message || b.selector || b.url || "";
}

function breadcrumbs(list: any[], errorTS: number): HTMLElement {
  if (!list.length) return empty("No breadcrumbs.");
  return table<any>(
    [
      { title: "When", cell: (b) => (b.ts ? `${((b.ts - errorTS) / 1000).toFixed(1)} s` : ""), class: "num nowrap" },
      { title: "Category", cell: (b) => badge(String(b.category ?? ""), b.level === "error" || (b.http?.status ?? 0) >= 400 ? "danger" : "") },
      { title: "Detail", cell: (b) => h("span", { class: "mono small" }, crumbText(b)) },
    ],
    list,
  );
}

export async function issuePage(p: Page): Promise<void> {
  mount(p.root, loading("Loading issue"));
  let d: IssueDetail;
  let cfg: { trace_url_template?: string } = {};
  try {
    const [detail, config] = await Promise.all([
      get<IssueDetail>(`/api/v1/issues/${encodeURIComponent(p.params.id)}`, {}, p.signal),
      get<{ trace_url_template?: string }>("/api/v1/config", {}, p.signal).catch(() => ({})),
    ]);
    d = detail;
    cfg = config;
  } catch (err) {
    if (!p.signal.aborted) mount(p.root, failure(err, "Issue tracking"));
    return;
  }
  const i = d.issue;
  const ev = d.latest_event;
  const payload = ev ? (ev.payload ?? ev.event ?? {}) : {};
  const err = payload.error ?? {};
  const traceID = ev?.trace_id || err.trace_id || "";
  const trace = traceURL(cfg.trace_url_template, traceID);

  const statusButtons = statuses
    .filter((s) => s !== i.status)
    .map((s) =>
      h("button", {
        type: "button",
        class: "ghost",
        onclick: async () => {
          try {
            await request(`/api/v1/issues/${encodeURIComponent(i.id)}`, { method: "PATCH", body: { status: s } });
            p.go(`/issues/${encodeURIComponent(i.id)}`, true);
          } catch (e) {
            alert(`Could not change status: ${e instanceof APIError ? e.message : String(e)}`);
          }
        },
      }, s === "unresolved" ? "Reopen" : s === "resolved" ? "Resolve" : "Ignore"),
    );
  const watch = ev?.session_id
    ? h("a", { class: "button primary", href: `/player/replay/${encodeURIComponent(ev.session_id)}?t=${ev.ts}` }, "▶ Watch replay")
    : null;

  const tags: Array<[string, string]> = Object.entries({
    ...(err.tags ?? {}),
    ...(err.release ? { release: err.release } : {}),
    ...(err.environment ? { environment: err.environment } : {}),
    ...(err.mechanism ? { mechanism: err.mechanism } : {}),
    ...(err.url ? { url: err.url } : {}),
  }).map(([k, v]) => [k, String(v)]);

  mount(
    p.root,
    h("nav", { class: "crumbs" }, h("a", { href: "/player/issues" }, "Issues"), " / ", i.id),
    header(h("span", null, i.title || [i.type, i.value].filter(Boolean).join(": ")), watch, statusButtons),
    h("p", { class: "muted mono" }, i.culprit ?? ""),
    h(
      "div",
      { class: "stats" },
      stat("Events", compact(i.count ?? 0)),
      stat("Users", compact(i.users ?? 0)),
      stat("First seen", ago(i.first_seen)),
      stat("Last seen", ago(i.last_seen)),
      stat("Status", i.status),
      h("div", { class: "stat" }, h("div", { class: "stat-label" }, "Last 24h"), sparkline(i.trend ?? [], 160, 32)),
    ),
    h(
      "div",
      { class: "grid-2" },
      h(
        "section",
        null,
        h("h2", null, "Stack trace"),
        err.type || err.value ? h("p", { class: "exception" }, h("strong", null, err.type ?? "Error"), err.value ? `: ${err.value}` : "") : null,
        stackView(err.stack ?? []),
        h("h2", null, "Breadcrumbs"),
        breadcrumbs(err.breadcrumbs ?? [], ev?.ts ?? 0),
      ),
      h(
        "aside",
        null,
        h("h2", null, "Event"),
        h(
          "dl",
          { class: "kv" },
          ev ? [h("dt", null, "Event"), h("dd", { class: "mono" }, ev.id)] : null,
          ev ? [h("dt", null, "When"), h("dd", null, new Date(ev.ts).toLocaleString())] : null,
          ev?.session_id ? [h("dt", null, "Session"), h("dd", null, h("a", { href: `/player/replay/${encodeURIComponent(ev.session_id)}?t=${ev.ts}`, class: "mono" }, ev.session_id))] : null,
          traceID ? [h("dt", null, "Trace"), h("dd", null, trace ? h("a", { href: trace, target: "_blank", rel: "noopener noreferrer", class: "mono" }, traceID) : h("span", { class: "mono" }, traceID))] : null,
        ),
        h("h2", null, "Tags"),
        tags.length ? h("dl", { class: "kv tags" }, tags.map(([k, v]) => [h("dt", null, k), h("dd", { class: "mono" }, v)])) : empty("No tags."),
        i.releases?.length ? [h("h2", null, "Releases"), h("div", { class: "chips" }, i.releases.map((r) => badge(r)))] : null,
      ),
    ),
  );
}

function stat(label: string, value: Child): HTMLElement {
  return h("div", { class: "stat" }, h("div", { class: "stat-label" }, label), h("div", { class: "stat-value" }, value));
}

