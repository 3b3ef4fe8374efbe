// Building session-search queries in the coordinator's syntax:
//   text:"Payment failed" selector:#error-modal url:/checkout has:error
// Terms are separated by spaces and ANDed; a value with spaces is quoted. The
// syntax has no escape for a double quote inside a value, so one is dropped.

/** The keys the coordinator's session search understands. */
export const searchKeys = ["text", "selector", "url", "route", "user", "issue", "country", "device", "browser", "has", "from", "to"] as const;
export type SearchKey = (typeof searchKeys)[number];

/** term renders one key:value term, quoting when needed; "" for no value. */
export function term(key: SearchKey, value: string | number): string {
  const v = String(value).replace(/"/g, "").trim();
  if (!v) return "";
  return /\s/.test(v) ? `${key}:"${v}"` : `${key}:${v}`;
}

export type Filters = Partial<Record<Exclude<SearchKey, "has">, string | number>> & { has?: string[] };

/** buildQuery renders filters as a query in a stable key order. */
export function buildQuery(f: Filters): string {
  const out: string[] = [];
  for (const k of searchKeys) {
    if (k === "has") {
      for (const v of f.has ?? []) out.push(term("has", v));
      continue;
    }
    const v = f[k];
    if (v !== undefined && v !== null) out.push(term(k, v));
  }
  return out.filter(Boolean).join(" ");
}

/** splitTerms splits a query on spaces outside double quotes, as the server does. */
export function splitTerms(q: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (const ch of q) {
    if (ch === '"') {
      quoted = !quoted;
      cur += ch;
    } else if (/\s/.test(ch) && !quoted) {
      if (cur) out.push(cur);
      cur = "";
    } else {
      cur += ch;
    }
  }
  if (cur) out.push(cur);
  return out;
}

/** withTerm returns q with key set to value, replacing an earlier term of
 * that key (except has:, which accumulates). An empty value removes it. */
export function withTerm(q: string, key: SearchKey, value: string): string {
  const next = term(key, value);
  const terms = splitTerms(q).filter((t) => {
    if (key === "has") return t !== next;
    return !t.startsWith(key + ":");
  });
  if (next) terms.push(next);
  return terms.join(" ");
}

/** Dimensions the vitals API cuts by, and the search key each maps to. */
const dimKeys: Record<string, SearchKey> = { route: "route", url: "url", device: "device", country: "country", browser: "browser" };

/** sliceQuery turns a vitals cut ({device: "mobile", country: "IN"}) into a
 * session search over the same time window. Unknown dimensions are skipped
 * rather than sent as a key the server would reject. */
export function sliceQuery(dims: Record<string, string>, from?: number, to?: number): string {
  const f: Filters = {};
  for (const [k, v] of Object.entries(dims)) {
    const key = dimKeys[k];
    if (key && key !== "has") (f as Record<string, string>)[key] = v;
  }
  if (from) f.from = from;
  if (to) f.to = to;
  return buildQuery(f);
}
