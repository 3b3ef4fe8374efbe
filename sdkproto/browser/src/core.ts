// The errors + vitals build, without the replay recorder
// (dist/rearview.core.min.js); the same API as index.ts.
import { createAPI } from './sdk';

export type { Options } from './config';
export { SDK_VERSION } from './protocol';

const api = createAPI();

export const init = api.init.bind(api);
export const setUser = api.setUser;
export const setTag = api.setTag;
export const captureException = api.captureException;
export const captureMessage = api.captureMessage;
export const flagSession = api.flagSession;
export const flush = api.flush;
export const close = api.close;
