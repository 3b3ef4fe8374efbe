// The coordinator API as the player uses it: same-origin requests carrying the
// session cookie (never a token in script-visible storage), the selected
// project added to every call, and errors that tell a missing endpoint (a
// feature this server does not have yet) from a failed request.

export class APIError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    /** true when the route itself does not exist on this server */
    readonly missing: boolean,
  ) {
    super(detail || code || `HTTP ${status}`);
  }
}

export interface Project {
  id: string;
  name: string;
  ingest_key?: string;
  /** the DSN for @sentry/browser, when the coordinator knows an edge's URL (--edge-url) */
  dsn?: string;
  sentry_project_id?: string;
}

/** Session state shared by the pages. */
export const session = {
  project: "" as string,
  projects: [] as Project[],
  onUnauthorized: (() => {}) as () => void,
};

const projectKey = "rearview.project";

export function rememberProject(id: string): void {
  session.project = id;
  try {
    localStorage.setItem(projectKey, id);
  } catch {
    /* private mode: the choice lasts this page only */
  }
}

export function savedProject(): string {
  try {
    return localStorage.getItem(projectKey) ?? "";
  } catch {
    return "";
  }
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  /** add ?project= (default true) */
  project?: boolean;
  signal?: AbortSignal;
}

/** url builds an API URL with query parameters (empty ones skipped). */
export function url(path: string, params: Record<string, string | number | undefined | null> = {}, withProject = true): string {
  const u = new URL(path, location.origin);
  if (withProject && session.project) u.searchParams.set("project", session.project);
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") u.searchParams.set(k, String(v));
  }
  return u.pathname + u.search;
}

/** request calls the API and decodes its JSON answer. */
export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const target = opts.project === false || path.includes("project=") ? path : url(path);
  const init: RequestInit = {
    method: opts.method ?? "GET",
    credentials: "same-origin",
    headers: { Accept: "application/json" },
    signal: opts.signal,
  };
  if (opts.body !== undefined) {
    init.body = JSON.stringify(opts.body);
    (init.headers as Record<string, string>)["Content-Type"] = "application/json";
  }
  const resp = await fetch(target, init);
  const isJSON = (resp.headers.get("Content-Type") ?? "").includes("application/json");
  if (!resp.ok) {
    let code = "",
      detail = "";
    if (isJSON) {
      try {
        const b = await resp.json();
        code = String(b.error ?? "");
        detail = String(b.detail ?? "");
      } catch {
        /* keep the status */
      }
    } else {
      detail = (await resp.text()).trim().slice(0, 200);
    }
    // Go's mux answers a route it does not know with a plain-text 404/405.
    const missing = (resp.status === 404 || resp.status === 405) && !isJSON;
    if (resp.status === 401) session.onUnauthorized();
    throw new APIError(resp.status, code, detail, missing);
  }
  if (resp.status === 204 || !isJSON) return undefined as T;
  return (await resp.json()) as T;
}

/** get is request with GET and query parameters. */
export function get<T>(path: string, params: Record<string, string | number | undefined | null> = {}, signal?: AbortSignal): Promise<T> {
  return request<T>(url(path, params), { signal, project: false });
}

/** liveURL is the WebSocket address of the live tail. */
export function liveURL(sessionID?: string): string {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}${url("/api/v1/live", { session: sessionID })}`;
}
