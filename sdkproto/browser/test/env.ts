// A minimal browser-like global environment for the unit tests, which run in
// Node without a DOM library. Only what the SDK touches outside replay and
// instrumentation is provided; the real browser is tested from Go
// (browser_test.go) with Chromium.

const store = new Map<string, string>();
const g = globalThis as Record<string, unknown>;
g.window = globalThis;
g.location = new URL('https://shop.example.com/checkout?step=2');
g.document = { referrer: 'https://shop.example.com/cart', visibilityState: 'visible', addEventListener() {}, removeEventListener() {} };
Object.defineProperty(globalThis, 'navigator', { value: { userAgent: 'Mozilla/5.0 (X11; Linux x86_64) test', language: 'en-US' }, configurable: true });
g.innerWidth = 1280;
g.innerHeight = 720;
g.screen = { width: 1920, height: 1080 };
g.devicePixelRatio = 1;
g.sessionStorage = {
  getItem: (k: string) => store.get(k) ?? null,
  setItem: (k: string, v: string) => void store.set(k, v),
  removeItem: (k: string) => void store.delete(k),
  clear: () => store.clear(),
};

export function resetStorage(): void {
  store.clear();
}
