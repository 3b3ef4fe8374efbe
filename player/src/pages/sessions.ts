import { get } from "../api";
import { h, mount } from "../dom";
import { ago, bytes, duration, pathOf } from "../format";
import { withTerm } from "../query";
import { badge, empty, failure, header, loading, table, type Page } from "../ui";

export interface Session {
  id: string;
  started_at: number;
  last_seen: number;
  duration_ms?: number;
  user_id?: string;
  first_url: string;
  last_url: string;
  country?: string;
  region?: string;
  device_class?: string;
  browser?: string;
  os?: string;
  errors: number;
  segments: number;
  replay_bytes: number;
  pages: number;
  clicks: number;
  rage_clicks: number;
}

const examples: Array<[string, string]> = [
  ["With errors", "has:error"],
  ["Rage clicks", "has:rage"],
  ["Mobile", "device:mobile"],
  ["Last 24h", "from:24h"],
  ["Error modal", 'selector:#error-modal'],
  ["Saw “Payment failed”", 'text:"Payment failed"'],
];

export async function sessionsPage(p: Page): Promise<void> {
  const q = p.query.get("q") ?? "";
  const input = h("input", { type: "search", name: "q", value: q, placeholder: 'text:"Payment failed" selector:#error-modal url:/checkout has:error', "aria-label": "Search sessions", class: "wide mono", autocomplete: "off", spellcheck: "false" });
  const form = h("form", { class: "search-bar", role: "search" }, input, h("button", { type: "submit", class: "primary" }, "Search"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    p.go(`/sessions${input.value.trim() ? `?q=${encodeURIComponent(input.value.trim())}` : ""}`);
  });
  const chips = h(
    "div",
    { class: "chips" },
    h("span", { class: "muted small" }, "Try:"),
    examples.map(([title, t]) => {
      const [k, v] = [t.slice(0, t.indexOf(":")), t.slice(t.indexOf(":") + 1).replace(/"/g, "")];
      return h("a", { class: "chip", href: `/player/sessions?q=${encodeURIComponent(withTerm(q, k as any, v))}` }, title);
    }),
  );
  const help = h(
    "details",
    { class: "help" },
    h("summary", null, "Search syntax"),
    h(
      "dl",
      { class: "kv small" },
      [
        ['text:"…"', "text that was on screen (bare words too)"],
        ["selector:#id .class [data-testid=x]", "an element that was on screen"],
        ["url:/checkout", "a page visited"],
        ["user: issue: country: device: browser:", "session attributes"],
        ["has:error has:rage has:replay", "flags"],
        ["from: to:", "Unix ms, 2025-11-25, RFC 3339 or a duration like 24h"],
      ].map(([k, v]) => [h("dt", { class: "mono" }, k), h("dd", null, v)]),
    ),
  );
  const body = h("div", null, loading("Searching"));
  mount(p.root, header("Sessions"), form, chips, help, body);
  if (!q) input.focus();
  try {
    const r = await get<{ sessions: Session[] }>("/api/v1/sessions", { q, limit: 100 }, p.signal);
    const rows = r.sessions ?? [];
    if (!rows.length) {
      mount(body, empty(q ? "No session matches." : "No sessions yet.", q ? "Loosen the search, or widen the time range." : "Sessions appear as soon as the SDK sends its first batch."));
      return;
    }
    mount(
      body,
      h("p", { class: "muted small" }, `${rows.length}${rows.length === 100 ? "+" : ""} session${rows.length === 1 ? "" : "s"}`),
      table<Session>(
        [
          { title: "Started", cell: (s) => h("time", { title: new Date(s.started_at).toLocaleString() }, ago(s.started_at)), class: "nowrap" },
          { title: "Duration", cell: (s) => duration(s.duration_ms ?? s.last_seen - s.started_at), class: "num nowrap" },
          { title: "User", cell: (s) => h("span", { class: "mono small" }, s.user_id || "anonymous") },
          { title: "Pages", cell: (s) => h("div", { class: "url-cell" }, h("span", { class: "mono small", title: s.first_url }, pathOf(s.first_url)), s.pages > 1 ? h("span", { class: "muted small" }, ` +${s.pages - 1}`) : null) },
          { title: "Where", cell: (s) => [s.country, s.device_class, s.browser].filter(Boolean).join(" · ") || "—" },
          { title: "Errors", cell: (s) => (s.errors ? badge(String(s.errors), "danger") : "0"), class: "num" },
          { title: "Clicks", cell: (s) => [String(s.clicks ?? 0), s.rage_clicks ? badge(`${s.rage_clicks} rage`, "warn") : null], class: "num nowrap" },
          { title: "Replay", cell: (s) => (s.segments ? h("a", { href: `/player/replay/${encodeURIComponent(s.id)}` }, `▶ ${bytes(s.replay_bytes)}`) : h("span", { class: "muted" }, "—")), class: "nowrap" },
        ],
        rows,
        (s) => `/player/replay/${encodeURIComponent(s.id)}`,
        p.go,
      ),
    );
  } catch (err) {
    if (!p.signal.aborted) mount(body, failure(err, "Session search"));
  }
}
