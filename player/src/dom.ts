// DOM building without innerHTML: every piece of user data becomes a text
// node or an attribute value, so nothing a recorded page or an error message
// contains can run as markup in the viewer.

export type Child = Node | string | number | null | undefined | false | Child[];

export type Attrs = {
  [key: string]: string | number | boolean | null | undefined | EventListener | ((ev: any) => void);
};

function append(parent: Node, c: Child): void {
  if (c === null || c === undefined || c === false) return;
  if (Array.isArray(c)) {
    for (const x of c) append(parent, x);
    return;
  }
  if (typeof c === "string" || typeof c === "number") {
    parent.appendChild(document.createTextNode(String(c)));
    return;
  }
  parent.appendChild(c);
}

function setAttrs(el: Element, attrs: Attrs | null): void {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") {
      el.addEventListener(k.slice(2).toLowerCase(), v as EventListener);
    } else if (k === "class") {
      el.setAttribute("class", String(v));
    } else if (v === true) {
      el.setAttribute(k, "");
    } else if (k === "href" || k === "src") {
      el.setAttribute(k, safeURL(String(v)));
    } else {
      el.setAttribute(k, String(v));
    }
  }
}

// safeURL keeps javascript: and other active schemes out of links built from
// data (a trace URL template, a recorded page URL).
export function safeURL(u: string): string {
  const s = u.trim();
  if (/^(https?:|mailto:|\/|\?|#)/i.test(s)) return s;
  if (!/^[a-z][a-z0-9+.-]*:/i.test(s)) return s; // relative
  return "#";
}

/** h builds an HTML element; strings become text nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs ?? null);
  append(el, children);
  return el;
}

const SVG = "http://www.w3.org/2000/svg";

/** s builds an SVG element. */
export function s(tag: string, attrs?: Record<string, string | number>, ...children: Child[]): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs ?? {})) el.setAttribute(k, String(v));
  append(el, children);
  return el;
}

/** clear empties an element. */
export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** mount replaces el's children. */
export function mount(el: Element, ...children: Child[]): void {
  clear(el);
  append(el, children);
}
