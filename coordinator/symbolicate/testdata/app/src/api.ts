// The products endpoint sometimes answers without "items": the seed's bug.
export interface Product {
  id: number;
  name: string;
  price: number;
}

export interface ProductPage {
  items?: Product[];
  total: number;
}

export function fetchProducts(withItems: boolean): ProductPage {
  if (withItems) {
    return { items: [{ id: 1, name: "Lamp", price: 12 }], total: 1 };
  }
  return { total: 0 };
}
