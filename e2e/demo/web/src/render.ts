// renderItems replaces el's children with one <li> per line.
export function renderItems(el: HTMLElement, lines: string[]): void {
  const frag = document.createDocumentFragment();
  for (const text of lines) {
    const li = document.createElement('li');
    li.textContent = text;
    frag.appendChild(li);
  }
  el.replaceChildren(frag);
}
