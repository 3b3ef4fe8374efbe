import { money, type Cart, type Item } from '../api';
import { renderItems } from '../render';

function line(item: Item, currency: string): string {
  return `${item.qty} × ${item.name} — ${money(item.qty * item.price, currency)}`;
}

// renderCartList shows every line of the cart on the checkout page.
export function renderCartList(el: HTMLElement, cart: Cart): void {
  renderItems(el, cart.items.map((item) => line(item, cart.currency)));
}
