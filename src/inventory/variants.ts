/**
 * Checkout lines against the catalogue's products and variants: merging repeated lines, the unit
 * price of each (a variant's own price, else its product's), and the refusal of a line naming an
 * unknown variant or a product with variants without saying which one. A checkout is priced with
 * it (src/orders/checkout.ts).
 */
import type { Product, ProductVariant } from '../generated/prisma/client';
import type { PrismaClient, Transaction } from '../platform/db';
import { ErrorCode } from '../workflows/vocabulary';
import { DomainError } from '../platform/errors';

export interface CheckoutLine {
  productId: string;
  variantId?: string;
  quantity: number;
}

/** The same product (or variant) twice is one line with the summed quantity, in first-seen order. */
export function mergeLines(items: CheckoutLine[]): CheckoutLine[] {
  const merged = new Map<string, CheckoutLine>();
  for (const item of items) {
    const key = `${item.productId}:${item.variantId ?? ''}`;
    const line = merged.get(key);
    if (line) line.quantity += item.quantity;
    else merged.set(key, { ...item });
  }
  return [...merged.values()];
}

export interface ResolvedLine {
  line: CheckoutLine;
  product: Product;
  variant?: ProductVariant;
  unitPrice: number;
  sku: string;
  name: string;
}

/**
 * Each line with its product, variant and unit price. Unknown products are left out (the caller
 * names them); an unknown variant is VARIANT_NOT_FOUND, a missing one VARIANT_REQUIRED.
 */
export async function resolveLines(
  db: Pick<PrismaClient | Transaction, 'product' | 'productVariant'>,
  items: CheckoutLine[],
): Promise<ResolvedLine[]> {
  const products = await db.product.findMany({ where: { id: { in: items.map((i) => i.productId) } } });
  const byId = new Map(products.map((p) => [p.id, p]));
  const variants = await db.productVariant.findMany({
    where: { productId: { in: products.map((p) => p.id) } },
  });
  const unknownVariants = items.filter(
    (i) => i.variantId && !variants.some((v) => v.id === i.variantId && v.productId === i.productId),
  );
  if (unknownVariants.length > 0) {
    const ids = unknownVariants.map((i) => i.variantId!);
    throw new DomainError(ErrorCode.VARIANT_NOT_FOUND, `Unknown variants: ${ids.join(', ')}`, { variantIds: ids });
  }
  const unnamed = items.filter((i) => !i.variantId && variants.some((v) => v.productId === i.productId));
  if (unnamed.length > 0) {
    const ids = unnamed.map((i) => i.productId);
    throw new DomainError(ErrorCode.VARIANT_REQUIRED, `Name a variantId for products ${ids.join(', ')}`, {
      productIds: ids,
    });
  }
  return items.flatMap((line) => {
    const product = byId.get(line.productId);
    if (!product) return [];
    const variant = line.variantId ? variants.find((v) => v.id === line.variantId) : undefined;
    return [
      {
        line,
        product,
        variant,
        unitPrice: variant?.price ?? product.price,
        sku: variant?.sku ?? product.sku,
        name: variant ? `${product.name} (${variant.name})` : product.name,
      },
    ];
  });
}
