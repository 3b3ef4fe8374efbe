import type { Cart } from '../api';
import { renderItems } from '../render';

// renderMiniCart fills the header's cart drop-down and its badge.
export function renderMiniCart(el: HTMLElement, badge: HTMLElement, cart: Cart): void {
  renderItems(el, cart.items.map((item) => item.name));
  badge.textContent = String(cart.items.length);
}
