// A browser extension's content script, as many users have one: it runs in
// the page, throws, and its frames point at chrome-extension:// URLs. Rearview
// must drop such errors at the edge and count them as "browser-extensions".
// The sourceURL comment is what gives the evaluated code that URL in stacks.
const CONTENT_SCRIPT = `(function () {
  function readPrice() {
    var tag = document.querySelector('[data-price-tracker]');
    return tag.dataset.price;
  }
  setTimeout(function priceTrackerTick() { readPrice(); }, 0);
})();
//# sourceURL=chrome-extension://abcdefghijklmnop/content.js`;

export function runExtensionContentScript(): void {
  // Indirect eval: global scope, and no frame of ours under the timer callback.
  (0, eval)(CONTENT_SCRIPT);
}
