import './style.css';
import { getCart } from './api';
import { onCart, publishCart } from './bus';
import { mountCheckout } from './checkout';
import { renderCartList } from './components/cart-list';
import { renderMiniCart } from './components/mini-cart';
import { renderOrderSummary } from './components/order-summary';
import { runExtensionContentScript } from './extension';
import { mountRecommendations } from './recommendations';

function byId<T extends HTMLElement = HTMLElement>(id: string): T | null {
  return document.getElementById(id) as T | null;
}

function main(): void {
  const miniCart = byId('mini-cart');
  const badge = byId('cart-count');
  if (miniCart && badge) onCart((cart) => renderMiniCart(miniCart, badge, cart));
  const cartList = byId('cart-list');
  if (cartList) onCart((cart) => renderCartList(cartList, cart));
  const summary = byId('order-summary');
  if (summary) onCart((cart) => renderOrderSummary(summary, cart));

  const form = byId<HTMLFormElement>('checkout-form');
  const status = byId('checkout-status');
  if (form && status) mountCheckout(form, status);
  const recommend = byId('recommend');
  const recommended = byId('recommended');
  if (recommend && recommended) mountRecommendations(recommend, recommended);

  for (const b of document.querySelectorAll<HTMLButtonElement>('[data-add-sku]')) {
    b.addEventListener('click', () => {
      b.textContent = 'Added ✓';
    });
  }

  void getCart().then((cart) => {
    publishCart(cart);
    document.body.dataset.ready = 'true';
  });
  runExtensionContentScript();
}

main();
