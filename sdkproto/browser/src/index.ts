// @rearview/browser: errors, Core Web Vitals, session replay with an error
// buffer, trace propagation and masking at record time. The script-tag build
// (dist/rearview.min.js) exposes this module as the global `Rearview`.
import { createAPI } from './sdk';
import { replayFactory } from './replay';

export type { Options, ReplayOptions, NetworkOptions, BreadcrumbOptions, URLMatcher } from './config';
export type { CaptureContext } from './client';
export type { API } from './sdk';
export { parseDSN } from './config';
export { SDK_VERSION } from './protocol';

const api = createAPI(replayFactory);

export const init = api.init.bind(api);
export const setUser = api.setUser;
export const setTag = api.setTag;
export const captureException = api.captureException;
export const captureMessage = api.captureMessage;
export const flagSession = api.flagSession;
export const flush = api.flush;
export const close = api.close;
