// Small shared view pieces: page headers, states, tables, sparklines.
import { APIError } from "./api";
import { h, s, type Child } from "./dom";

/** Page is what a route renders into and how it cleans up. */
export interface Page {
  root: HTMLElement;
  params: Record<string, string>;
  query: URLSearchParams;
  signal: AbortSignal;
  /** run fn when the user leaves the page */
  cleanup(fn: () => void): void;
  /** navigate within the player */
  go(path: string, replace?: boolean): void;
}

export function header(title: Child, ...right: Child[]): HTMLElement {
  return h("div", { class: "page-head" }, h("h1", null, title), h("div", { class: "page-actions" }, right));
}

export function loading(what = "Loading"): HTMLElement {
  return h("div", { class: "state", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), `${what}…`);
}

export function empty(title: string, hint?: Child): HTMLElement {
  return h("div", { class: "state empty" }, h("strong", null, title), hint ? h("p", null, hint) : null);
}

/** failure renders an error for a failed load; a missing endpoint means the
 * server does not offer the feature (yet), which is not the user's fault. */
export function failure(err: unknown, feature = "This page"): HTMLElement {
  if (err instanceof APIError && err.missing) {
    return h(
      "div",
      { class: "state unavailable", "data-state": "unavailable" },
      h("strong", null, `${feature} isn't available on this server yet.`),
      h("p", null, "The coordinator you are connected to does not serve this API. Upgrade it to use this page."),
    );
  }
  const msg = err instanceof Error ? err.message : String(err);
  return h("div", { class: "state error", role: "alert" }, h("strong", null, "Could not load."), h("p", null, msg));
}

export interface Column<T> {
  title: string;
  cell: (row: T) => Child;
  class?: string;
}

/** table renders rows; a row with href becomes a link target (click and Enter). */
export function table<T>(cols: Column<T>[], rows: T[], href?: (row: T) => string, go?: (path: string) => void): HTMLElement {
  const body = h("tbody");
  for (const r of rows) {
    const target = href?.(r);
    const tr = h("tr", target ? { class: "link-row", tabindex: 0, "data-href": target } : null, cols.map((c) => h("td", c.class ? { class: c.class } : null, c.cell(r))));
    if (target && go) {
      tr.addEventListener("click", (ev) => {
        if ((ev.target as HTMLElement).closest("a, button")) return;
        go(target);
      });
      tr.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter") go(target);
      });
    }
    body.appendChild(tr);
  }
  return h("div", { class: "table-wrap" }, h("table", { class: "data" }, h("thead", null, h("tr", null, cols.map((c) => h("th", c.class ? { class: c.class } : null, c.title)))), body));
}

/** sparkline draws counts (oldest first) as a small bar chart. */
export function sparkline(values: number[], w = 120, hgt = 28): SVGElement {
  const max = Math.max(1, ...values);
  const n = Math.max(1, values.length);
  const bw = w / n;
  const bars = values.map((v, i) => {
    const bh = v === 0 ? 1 : Math.max(2, (v / max) * (hgt - 2));
    return s("rect", { x: (i * bw + 0.5).toFixed(1), y: (hgt - bh).toFixed(1), width: Math.max(1, bw - 1).toFixed(1), height: bh.toFixed(1), class: v === 0 ? "spark-zero" : "spark-bar" });
  });
  return s("svg", { class: "sparkline", width: w, height: hgt, viewBox: `0 0 ${w} ${hgt}`, role: "img", "aria-label": `trend, peak ${max}` }, bars);
}

export function badge(text: string, kind = ""): HTMLElement {
  return h("span", { class: `badge ${kind}`.trim() }, text);
}

export function link(href: string, ...children: Child[]): HTMLAnchorElement {
  return h("a", { href }, children);
}
