// Alerts: the project's alert rules and what they fired, newest first,
// with each notification's delivery state. Read-only: rules are managed
// with `rearview alerts` or the API, where they can be reviewed as code.
import { get } from "../api";
import { h, mount, type Child } from "../dom";
import { ago, alertValue, compact, deliveryState, metricValue, span, webhookHost } from "../format";
import { badge, empty, failure, header, loading, table, type Page } from "../ui";

interface Rule {
  id: string;
  project: string;
  name?: string;
  kind: string;
  scope?: string;
  target?: string;
  factor?: number;
  min_count?: number;
  window_ms?: number;
  metric?: string;
  threshold?: number;
  cooldown_ms?: number;
  webhook?: string;
  created_at: number;
}

interface Fired {
  id: number;
  rule_id: string;
  kind: string;
  key: string;
  fired_at: number;
  value: number;
  baseline: number;
  message: string;
  delivered: boolean;
  error?: string;
  /** webhook attempts so far and when the next is due, when the server
   * retries deliveries */
  attempts?: number;
  next_attempt_at?: number;
}

const pageSize = 100;

const kinds: Record<string, string> = {
  error_rate: "Error spike",
  new_issue: "New issue",
  regression: "Regression",
  vital_p75: "Vital p75",
};

function kindOf(kind: string, metric?: string): Child {
  const label = kinds[kind] ?? kind;
  return kind === "vital_p75" && metric ? `${label} · ${metric}` : label;
}

function target(r: Rule): Child {
  switch (r.kind) {
    case "error_rate":
      return r.target ? h("span", null, `${r.scope ?? "page"} `, h("span", { class: "mono" }, r.target)) : `every ${r.scope ?? "page"}`;
    case "vital_p75":
      return r.target ? h("span", { class: "mono" }, r.target) : "every page";
    default:
      return r.target ? h("span", null, "issue ", h("span", { class: "mono" }, r.target)) : "every issue";
  }
}

function threshold(r: Rule): string {
  switch (r.kind) {
    case "error_rate":
      return `≥ ${r.factor ?? 0}× baseline, ≥ ${compact(r.min_count ?? 0)} errors`;
    case "vital_p75":
      return `p75 > ${metricValue(r.metric ?? "", r.threshold)}, ≥ ${compact(r.min_count ?? 0)} samples`;
    case "new_issue":
      return "once per issue";
    case "regression":
      return "once per regression";
    default:
      return "—";
  }
}

function ruleName(r: Rule): Child {
  return h("div", { class: "issue-cell" }, h("span", { class: "issue-title" }, r.name || r.id), r.name ? h("div", { class: "muted small mono" }, r.id) : null);
}

function time(ts: number): HTMLElement {
  return h("time", { datetime: new Date(ts).toISOString(), title: new Date(ts).toLocaleString() }, ago(ts));
}

/** delivery shows the notification's state; the error and the next retry
 * are what someone fixing a broken webhook needs. */
function delivery(f: Fired): Child {
  const st = deliveryState(f);
  const tries = f.attempts ? `${f.attempts} attempt${f.attempts === 1 ? "" : "s"}` : "";
  const detail = (...parts: Array<string | false | undefined>) => {
    const text = parts.filter(Boolean).join(" · ");
    return text ? h("div", { class: "muted small" }, text) : null;
  };
  const label: Record<typeof st, [string, string]> = {
    delivered: ["Delivered", "ok"],
    pending: ["Pending", "warn"],
    retrying: ["Retrying", "warn"],
    failed: ["Failed", "danger"],
    none: ["Not sent", ""],
  };
  const [text, kind] = label[st];
  return h(
    "span",
    { "data-delivery": st, title: st === "none" ? "No webhook: the rule has none and the coordinator has no default." : tries },
    badge(text, kind),
    st === "retrying" || st === "failed" ? detail(f.error, tries, f.next_attempt_at ? `next ${new Date(f.next_attempt_at).toLocaleTimeString()}` : undefined) : null,
  );
}

/** what renders the fired key: an issue id links to its issue. */
function what(f: Fired): Child {
  const issue = f.kind === "new_issue" || f.kind === "regression" ? f.key.split("@")[0] : "";
  return h(
    "div",
    { class: "issue-cell" },
    h("div", null, f.message),
    issue ? h("a", { href: `/player/issues/${encodeURIComponent(issue)}`, class: "muted small mono" }, issue) : h("div", { class: "muted small mono" }, f.key),
  );
}

export async function alertsPage(p: Page): Promise<void> {
  const rulesBox = h("div", null, loading("Loading alert rules"));
  const historyBox = h("div", null, loading("Loading alert history"));
  mount(
    p.root,
    header("Alerts"),
    h("section", { class: "card", id: "alert-rules" }, h("h2", null, "Rules"), rulesBox),
    h("section", { class: "card", id: "alert-history" }, h("h2", null, "Fired alerts"), historyBox),
  );
  let rules: Rule[];
  let history: Fired[];
  try {
    const [r, hist] = await Promise.all([
      get<{ rules: Rule[] }>("/api/v1/alerts/rules", {}, p.signal),
      get<{ history: Fired[] }>("/api/v1/alerts/history", { limit: pageSize }, p.signal),
    ]);
    rules = r.rules ?? [];
    history = hist.history ?? [];
  } catch (err) {
    if (!p.signal.aborted) mount(p.root, header("Alerts"), failure(err, "Alerting"));
    return;
  }
  const byID = new Map(rules.map((r) => [r.id, r]));

  mount(
    rulesBox,
    rules.length
      ? table<Rule>(
          [
            { title: "Rule", cell: ruleName },
            { title: "Kind", cell: (r) => kindOf(r.kind, r.metric), class: "nowrap" },
            { title: "Target", cell: target },
            { title: "Threshold", cell: threshold },
            { title: "Window", cell: (r) => (r.kind === "error_rate" || r.kind === "vital_p75" ? span(r.window_ms) : "—"), class: "num" },
            { title: "Cooldown", cell: (r) => (r.kind === "error_rate" || r.kind === "vital_p75" ? span(r.cooldown_ms) : "—"), class: "num" },
            { title: "Webhook", cell: (r) => (r.webhook ? h("span", { class: "mono small" }, webhookHost(r.webhook)) : h("span", { class: "muted" }, "default")) },
          ],
          rules,
        )
      : empty("No alert rules.", h("span", null, "Add one with ", h("code", null, "rearview alerts add"), " or POST /api/v1/alerts/rules.")),
  );

  const ruleCell = (f: Fired): Child => {
    const r = byID.get(f.rule_id);
    if (!r) return h("span", { class: "mono small", title: "rule deleted since" }, f.rule_id, badge("deleted"));
    return h("span", null, r.name || h("span", { class: "mono small" }, r.id));
  };
  const renderHistory = (more: boolean): void => {
    if (!history.length) {
      mount(historyBox, empty("Nothing has fired yet.", "Alerts show up here as rules fire, newest first."));
      return;
    }
    const older = more
      ? h(
          "div",
          { class: "more" },
          h(
            "button",
            {
              type: "button",
              onclick: async (ev: Event) => {
                const btn = ev.currentTarget as HTMLButtonElement;
                btn.disabled = true;
                try {
                  const r = await get<{ history: Fired[] }>("/api/v1/alerts/history", { limit: pageSize, before: history[history.length - 1].fired_at }, p.signal);
                  const next = r.history ?? [];
                  history = history.concat(next);
                  renderHistory(next.length === pageSize);
                } catch (err) {
                  if (!p.signal.aborted) mount(historyBox, failure(err, "Alert history"));
                }
              },
            },
            "Older alerts",
          ),
        )
      : null;
    mount(
      historyBox,
      table<Fired>(
        [
          { title: "When", cell: (f) => time(f.fired_at), class: "nowrap" },
          { title: "Rule", cell: ruleCell },
          { title: "What fired", cell: what },
          { title: "Value", cell: (f) => alertValue(f.kind, f.value, f.baseline, byID.get(f.rule_id)?.metric) },
          { title: "Delivery", cell: delivery, class: "nowrap" },
        ],
        history,
      ),
      older,
    );
  };
  renderHistory(history.length === pageSize);
}
