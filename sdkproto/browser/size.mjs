// Reports the gzipped size of each bundle in dist/ and fails when one is over
// its budget (issue: ≤ 45 KB gz with the recorder, ≤ 12 KB gz errors+vitals).
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const budgets = { 'rearview.min.js': 45 * 1024, 'rearview.core.min.js': 12 * 1024 };
let over = false;
for (const [file, budget] of Object.entries(budgets)) {
  const raw = readFileSync(new URL('./dist/' + file, import.meta.url));
  const gz = gzipSync(raw, { level: 9 }).length;
  const ok = gz <= budget;
  over ||= !ok;
  console.log(`${file}: ${(raw.length / 1024).toFixed(1)} KB min, ${(gz / 1024).toFixed(1)} KB gzip (budget ${budget / 1024} KB) ${ok ? 'ok' : 'OVER'}`);
}
if (over && process.env.RV_SIZE_STRICT !== '0') process.exit(1);
