import { placeOrder } from './api';
import { publishCart } from './bus';

export function mountCheckout(form: HTMLFormElement, status: HTMLElement): void {
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    status.textContent = 'Placing your order…';
    const cart = await placeOrder({
      email: String(data.get('email') ?? ''),
      card: String(data.get('card') ?? ''),
      address: String(data.get('address') ?? ''),
    });
    status.textContent = 'Order placed. Thank you!';
    publishCart(cart);
  });
}
