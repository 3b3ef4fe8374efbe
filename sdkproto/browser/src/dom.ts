// Small DOM helpers shared by breadcrumbs and vitals.

/**
 * selectorOf names an element the way a developer would find it again
 * (tag#id.class, up to three levels) without ever reading its text, which
 * may be personal data.
 */
export function selectorOf(el: Element | null | undefined, depth = 3): string {
  const parts: string[] = [];
  for (let e = el; e && e.nodeType === 1 && parts.length < depth; e = e.parentElement) {
    let s = e.tagName.toLowerCase();
    if (s === 'html' || s === 'body') break;
    if (e.id && /^[\w-]+$/.test(e.id)) {
      parts.unshift(s + '#' + e.id);
      break; // an id is unique enough
    }
    const cls = typeof e.className === 'string' ? e.className.trim().split(/\s+/).filter((c) => /^[\w-]+$/.test(c)).slice(0, 2) : [];
    if (cls.length) s += '.' + cls.join('.');
    for (const a of ['data-testid', 'name', 'role', 'type']) {
      const v = e.getAttribute(a);
      if (v && /^[\w-]{1,40}$/.test(v)) {
        s += '[' + a + '="' + v + '"]';
        break;
      }
    }
    parts.unshift(s);
  }
  return parts.join(' > ');
}

/** absoluteURL resolves u against the page; it returns u when it cannot. */
export function absoluteURL(u: string): string {
  try {
    return new URL(u, location.href).href;
  } catch {
    return u;
  }
}

/** sameOrigin reports whether an absolute URL is on the page's origin. */
export function sameOrigin(u: string): boolean {
  try {
    return new URL(u, location.href).origin === location.origin;
  } catch {
    return false;
  }
}
