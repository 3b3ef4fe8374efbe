// What the demo shop's Sentry page needs from @sentry/browser, exposed as the
// global `Sentry` the way Sentry's CDN bundles expose it: the page calls
// Sentry.init with its DSN and nothing else differs from a Sentry setup.
export {
  init,
  browserTracingIntegration,
  replayIntegration,
  captureException,
  captureMessage,
  flush,
  getReplay,
  setTag,
  setUser,
} from '@sentry/browser';
