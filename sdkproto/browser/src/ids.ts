// Random identifiers. crypto.getRandomValues exists in every browser the SDK
// supports; Math.random is the fallback for odd embeddings only.

function randomBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  try {
    crypto.getRandomValues(b);
  } catch {
    for (let i = 0; i < n; i++) b[i] = (Math.random() * 256) | 0;
  }
  return b;
}

/** hex returns n random bytes as 2n lowercase hex digits, never all zero. */
export function hex(n: number): string {
  const b = randomBytes(n);
  b[n - 1] |= 1; // W3C trace context forbids all-zero ids
  let s = '';
  for (let i = 0; i < n; i++) s += (b[i] < 16 ? '0' : '') + b[i].toString(16);
  return s;
}

/** traceId is a W3C trace id: 32 hex digits. */
export const traceId = (): string => hex(16);
/** spanId is a W3C parent (span) id: 16 hex digits. */
export const spanId = (): string => hex(8);

/** eventId is a protocol id: [A-Za-z0-9_-], here 20 hex digits. */
export const eventId = (): string => hex(10);
/** sessionId names a tab session. */
export const sessionId = (): string => 's-' + hex(12);
