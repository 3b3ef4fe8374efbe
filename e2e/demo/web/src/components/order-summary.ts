import { money, type Cart } from '../api';
import { renderItems } from '../render';

// renderOrderSummary shows the item count and the total beside the form.
export function renderOrderSummary(el: HTMLElement, cart: Cart): void {
  const count = cart.items.map((item) => item.qty).reduce((a, b) => a + b, 0);
  renderItems(el, [`${count} items`, `Total ${money(cart.total, cart.currency)}`]);
}
