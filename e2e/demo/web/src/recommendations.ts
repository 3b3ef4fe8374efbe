import { renderItems } from './render';

const PRODUCTS = ['Trail mug', 'Canvas tote', 'Desk lamp', 'Wool socks', 'Notebook', 'Pour-over kettle'];

// scoreProducts ranks products the slow way: it keeps the main thread busy
// for about 300 ms, a long task that makes this button's INP poor.
function scoreProducts(budgetMs: number): string[] {
  const start = performance.now();
  const scores = PRODUCTS.map(() => 0);
  let i = 0;
  while (performance.now() - start < budgetMs) {
    scores[i % scores.length] += Math.sqrt(i);
    i++;
  }
  return PRODUCTS.map((name, k) => ({ name, score: scores[k] }))
    .sort((a, b) => b.score - a.score)
    .slice(0, 3)
    .map((p) => p.name);
}

export function mountRecommendations(button: HTMLElement, list: HTMLElement): void {
  button.addEventListener('click', () => {
    renderItems(list, scoreProducts(300));
  });
}
