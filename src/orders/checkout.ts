/**
 * What a checkout costs, checked once against the catalogue: every product known (404
 * PRODUCT_NOT_FOUND naming the unknown ones), each variant named where a product has them, every
 * line priced in the order's currency (the one asked for, else the first line's; 400
 * CURRENCY_MISMATCH naming the others), and the total within the largest charge (400
 * ORDER_TOTAL_TOO_LARGE). Only the placement (src/orders/placement.ts, the order workflow's first
 * step) calls it, in the transaction that records the order and reserves its stock, so the order
 * keeps the prices of the moment its stock was reserved and the catalogue is read once per
 * checkout; the API reads none of it first (why: src/api/orders.ts).
 */
import { MAX_ORDER_TOTAL } from '../platform/money';
import type { PrismaClient, Transaction } from '../platform/db';
import { DomainError } from '../platform/errors';
import { resolveLines, type CheckoutLine } from '../inventory/variants';
import type { OrderLine } from '../workflows/order/messages';
import { ErrorCode } from '../workflows/vocabulary';

export interface PricedCheckout {
  lines: OrderLine[];
  currency: string;
  totalAmount: number;
}

export async function priceCheckout(
  db: Pick<PrismaClient | Transaction, 'product' | 'productVariant'>,
  items: CheckoutLine[],
  currency?: string,
): Promise<PricedCheckout> {
  const resolved = await resolveLines(db, items);
  const missing = items.filter((i) => !resolved.some((r) => r.line === i)).map((i) => i.productId);
  if (missing.length > 0)
    throw new DomainError(ErrorCode.PRODUCT_NOT_FOUND, `Unknown products: ${missing.join(', ')}`, {
      productIds: missing,
    });
  const priced = currency ?? resolved[0].product.currency;
  const foreign = [...new Map(resolved.map((r) => [r.product.id, r.product])).values()].filter(
    (p) => p.currency !== priced,
  );
  if (foreign.length > 0) {
    throw new DomainError(
      ErrorCode.CURRENCY_MISMATCH,
      `Not priced in ${priced}: ${foreign.map((p) => p.sku).join(', ')}`,
      { currency: priced, skus: foreign.map((p) => p.sku) },
    );
  }
  const lines: OrderLine[] = resolved.map((r) => ({
    productId: r.product.id,
    ...(r.variant ? { variantId: r.variant.id } : {}),
    sku: r.sku,
    name: r.name,
    quantity: r.line.quantity,
    unitPrice: r.unitPrice,
  }));
  const totalAmount = lines.reduce((sum, line) => sum + line.unitPrice * line.quantity, 0);
  if (totalAmount > MAX_ORDER_TOTAL) {
    throw new DomainError(
      ErrorCode.ORDER_TOTAL_TOO_LARGE,
      `The order total ${totalAmount} is above the largest charge, ${MAX_ORDER_TOTAL}`,
      { total: totalAmount, max: MAX_ORDER_TOTAL },
    );
  }
  return { lines, currency: priced, totalAmount };
}
