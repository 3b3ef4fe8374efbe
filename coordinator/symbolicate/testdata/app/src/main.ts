import { loadAndRender } from "./components";

declare global {
  interface Window {
    rearviewFixture: (kind: string) => unknown;
  }
}

function boot(): void {
  window.rearviewFixture = (kind: string) => loadAndRender(kind);
}

boot();
