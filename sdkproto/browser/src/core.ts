// The errors + vitals build, without the replay recorder
// (dist/rearview.core.min.js); the same API as index.ts, set as the global
// `Rearview` directly: esbuild's module-namespace wrapper for a globalName
// costs ~0.3 KB gz, which the 12 KB budget of this build cannot spare.
import { createAPI } from './sdk';
import type { API } from './sdk';
import { SDK_VERSION } from './protocol';

const api = createAPI();

(globalThis as unknown as { Rearview: API & { SDK_VERSION: string } }).Rearview = { ...api, init: api.init.bind(api), SDK_VERSION };
