// The shop's API client. Like much real code it trusts the server: it parses
// the body without looking at the status, so an error response flows into
// code that expects a cart. That is the checkout bug the demo ships.

export interface Item {
  sku: string;
  name: string;
  qty: number;
  price: number; // cents
}

export interface Cart {
  items: Item[];
  total: number; // cents
  currency: string;
}

export async function getCart(): Promise<Cart> {
  const res = await fetch('api/cart', { headers: { Accept: 'application/json' } });
  return (await res.json()) as Cart;
}

export interface Order {
  email: string;
  card: string;
  address: string;
}

// placeOrder returns the updated (now empty) cart... except when the payment
// backend fails: then the server answers 500 with {"error": ...} and no items.
export async function placeOrder(order: Order): Promise<Cart> {
  const res = await fetch('api/checkout', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(order),
  });
  return (await res.json()) as Cart;
}

export function money(cents: number, currency: string): string {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).format(cents / 100);
}
