import { fetchProducts, Product, ProductPage } from "./api";

function formatPrice(p: Product): string {
  return p.name + ": " + p.price.toFixed(2);
}

export function ProductList(page: ProductPage): string[] {
  const rows = page.items!.map(formatPrice);
  return rows;
}

export function CartSummary(page: ProductPage): number {
  let total = 0;
  page.items!.map((p) => {
    total += p.price;
  });
  return total;
}

export class Recommendations {
  constructor(private readonly source: ProductPage) {}

  render(): string {
    const names = this.source.items!.map((p) => p.name);
    return names.join(", ");
  }
}

export function loadAndRender(kind: string): unknown {
  const page = fetchProducts(false);
  switch (kind) {
    case "list":
      return ProductList(page);
    case "cart":
      return CartSummary(page);
    default:
      return new Recommendations(page).render();
  }
}
