import type { Cart } from './api';

// Components subscribe to cart updates. Listeners run one after another and
// an exception in one is reported (window.onerror) without stopping the
// others, so one bad response fails every component that renders the cart.
const target = new EventTarget();

export function onCart(fn: (cart: Cart) => void): void {
  target.addEventListener('cart', (e) => fn((e as CustomEvent<Cart>).detail));
}

export function publishCart(cart: Cart): void {
  target.dispatchEvent(new CustomEvent<Cart>('cart', { detail: cart }));
}
