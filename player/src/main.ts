// The player's shell: sign-in gate, navigation, project choice, theme and a
// history router under /player/. Pages render into <main> and register their
// cleanup (replayers, sockets, key handlers) for when the user leaves.
import "./style.css";
import { APIError, get, request, rememberProject, savedProject, session, type Project } from "./api";
import { clear, h, mount } from "./dom";
import type { Page } from "./ui";
import { issuePage, issuesPage } from "./pages/issues";
import { sessionsPage } from "./pages/sessions";
import { replayPage } from "./pages/replay";
import { liveListPage, liveSessionPage } from "./pages/live";
import { vitalsPage } from "./pages/vitals";
import { alertsPage } from "./pages/alerts";
import { signinPage } from "./pages/signin";

const base = "/player";

// Apply the saved theme before the first render (no inline script: the CSP
// allows scripts from the player's own origin only).
try {
  const t = localStorage.getItem("rearview.theme");
  if (t && t !== "auto") document.documentElement.setAttribute("data-theme", t);
} catch {
  /* storage blocked: follow the system */
}

type Render = (p: Page) => void | Promise<void>;

const routes: Array<{ pattern: RegExp; keys: string[]; render: Render; nav: string; auth: boolean }> = [
  { pattern: /^\/signin$/, keys: [], render: signinPage, nav: "", auth: false },
  { pattern: /^\/issues$/, keys: [], render: issuesPage, nav: "issues", auth: true },
  { pattern: /^\/issues\/([^/]+)$/, keys: ["id"], render: issuePage, nav: "issues", auth: true },
  { pattern: /^\/sessions$/, keys: [], render: sessionsPage, nav: "sessions", auth: true },
  { pattern: /^\/replay\/([^/]+)$/, keys: ["id"], render: replayPage, nav: "sessions", auth: true },
  { pattern: /^\/live$/, keys: [], render: liveListPage, nav: "live", auth: true },
  { pattern: /^\/live\/([^/]+)$/, keys: ["id"], render: liveSessionPage, nav: "live", auth: true },
  { pattern: /^\/vitals$/, keys: [], render: vitalsPage, nav: "vitals", auth: true },
  { pattern: /^\/alerts$/, keys: [], render: alertsPage, nav: "alerts", auth: true },
];

const nav = [
  { id: "issues", title: "Issues", href: `${base}/issues` },
  { id: "sessions", title: "Sessions", href: `${base}/sessions` },
  { id: "live", title: "Live", href: `${base}/live` },
  { id: "vitals", title: "Vitals", href: `${base}/vitals` },
  { id: "alerts", title: "Alerts", href: `${base}/alerts` },
];

let signedIn = false;
let leave: Array<() => void> = [];
let pageAbort = new AbortController();

function go(path: string, replace = false): void {
  const target = path.startsWith(base) ? path : base + path;
  if (replace) history.replaceState(null, "", target);
  else history.pushState(null, "", target);
  void route();
}

function signIn(): void {
  signedIn = false;
  const here = location.pathname + location.search;
  if (!location.pathname.startsWith(`${base}/signin`)) go(`/signin?next=${encodeURIComponent(here)}`, true);
}

// loadProjects checks the session cookie (any 401 sends the user to sign in)
// and picks the project: the remembered one if still readable, else the first.
async function loadProjects(): Promise<boolean> {
  try {
    const r = await get<{ projects: Project[] }>("/api/v1/projects", {});
    session.projects = r.projects ?? [];
    const saved = savedProject();
    const pick = session.projects.find((p) => p.id === saved) ?? session.projects[0];
    if (pick) rememberProject(pick.id);
    signedIn = true;
    return true;
  } catch (err) {
    if (err instanceof APIError && err.status === 401) return false;
    throw err;
  }
}

/** What an app needs to send to the selected project: the ingest key for
 * Rearview's SDK and the DSN for @sentry/browser. */
function setup(): HTMLElement | null {
  const p = session.projects.find((x) => x.id === session.project) ?? session.projects[0];
  if (!p || !p.ingest_key) return null;
  const row = (label: string, value: string) =>
    h("div", { class: "setup-row" }, h("span", { class: "muted small" }, label), h("code", { class: "mono small", "data-setup": label }, value));
  return h(
    "details",
    { class: "setup" },
    h("summary", { class: "ghost button" }, "Setup"),
    h(
      "div",
      { class: "setup-panel" },
      row("Ingest key", p.ingest_key),
      p.dsn ? row("Sentry DSN", p.dsn) : row("Sentry project id", p.sentry_project_id ?? ""),
    ),
  );
}

function themeToggle(): HTMLElement {
  const order = ["auto", "light", "dark"];
  const current = () => localStorage.getItem("rearview.theme") ?? "auto";
  const btn = h("button", { class: "ghost", type: "button", title: "Theme: auto, light or dark" });
  const apply = () => {
    const t = current();
    if (t === "auto") document.documentElement.removeAttribute("data-theme");
    else document.documentElement.setAttribute("data-theme", t);
    btn.textContent = t === "dark" ? "☾ Dark" : t === "light" ? "☀ Light" : "◐ Auto";
  };
  btn.addEventListener("click", () => {
    const next = order[(order.indexOf(current()) + 1) % order.length];
    localStorage.setItem("rearview.theme", next);
    apply();
  });
  apply();
  return btn;
}

function shell(active: string): { main: HTMLElement } {
  const app = document.getElementById("app")!;
  const main = h("main", { id: "main", tabindex: -1 });
  if (!signedIn) {
    mount(app, h("div", { class: "bare" }, main));
    return { main };
  }
  const projectSelect = h(
    "select",
    {
      "aria-label": "Project",
      onchange: (ev: Event) => {
        rememberProject((ev.target as HTMLSelectElement).value);
        void route();
      },
    },
    session.projects.map((p) => h("option", { value: p.id, selected: p.id === session.project }, p.name || p.id)),
  );
  const signOut = h("button", {
    class: "ghost",
    type: "button",
    onclick: async () => {
      try {
        await request("/api/v1/logout", { method: "POST", project: false });
      } catch {
        /* the cookie may already be gone */
      }
      signIn();
    },
  }, "Sign out");
  mount(
    app,
    h(
      "header",
      { class: "top" },
      h("a", { class: "brand", href: `${base}/issues` }, h("span", { class: "logo", "aria-hidden": "true" }, "◉"), "Rearview"),
      h("nav", null, nav.map((n) => h("a", { href: n.href, class: n.id === active ? "active" : "", "aria-current": n.id === active ? "page" : null }, n.title))),
      h("div", { class: "top-right" }, session.projects.length > 1 ? projectSelect : session.projects[0] ? h("span", { class: "muted" }, session.projects[0].name) : null, setup(), themeToggle(), signOut),
    ),
    main,
  );
  return { main };
}

async function route(): Promise<void> {
  for (const fn of leave) {
    try {
      fn();
    } catch {
      /* a page's cleanup must not stop the next page */
    }
  }
  leave = [];
  pageAbort.abort();
  pageAbort = new AbortController();
  const signal = pageAbort.signal;

  let path = location.pathname.slice(base.length) || "/";
  if (path === "/" || path === "") {
    go("/issues", true);
    return;
  }
  if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
  const r = routes.find((x) => x.pattern.test(path));
  if (r?.auth && !signedIn) {
    try {
      if (!(await loadProjects())) {
        signIn();
        return;
      }
    } catch (err) {
      const { main } = shell("");
      mount(main, h("div", { class: "state error" }, h("strong", null, "The API is unreachable."), h("p", null, err instanceof Error ? err.message : String(err))));
      return;
    }
    if (signal.aborted) return;
  }
  const { main } = shell(r?.nav ?? "");
  if (!r) {
    mount(main, h("div", { class: "state empty" }, h("strong", null, "Nothing here."), h("p", null, h("a", { href: `${base}/issues` }, "Go to issues"))));
    return;
  }
  const m = r.pattern.exec(path)!;
  const params: Record<string, string> = {};
  r.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1])));
  const page: Page = {
    root: main,
    params,
    query: new URLSearchParams(location.search),
    signal,
    cleanup: (fn) => leave.push(fn),
    go,
  };
  try {
    await r.render(page);
  } catch (err) {
    if (signal.aborted) return;
    clear(main);
    main.appendChild(h("div", { class: "state error", role: "alert" }, h("strong", null, "Something went wrong."), h("p", null, err instanceof Error ? err.message : String(err))));
  }
}

session.onUnauthorized = signIn;

// Links inside the player navigate without reloading.
document.addEventListener("click", (ev) => {
  if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  const a = (ev.target as HTMLElement).closest("a");
  if (!a || a.target || a.origin !== location.origin || !a.pathname.startsWith(base + "/")) return;
  ev.preventDefault();
  go(a.pathname + a.search);
});
window.addEventListener("popstate", () => void route());

/** markSignedIn is called by the sign-in page after the cookie was set. */
export function afterSignIn(next: string): void {
  signedIn = false; // reload projects with the new cookie
  go(next.startsWith(base + "/") && !next.startsWith(base + "/signin") ? next : `${base}/issues`, true);
}

void route();
