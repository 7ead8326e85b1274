/**
 * An order's stock movements (reserve at checkout, release on cancel, sale on payment or COD
 * shipment, restock on a full refund, a return's resellable units), per product or per variant, each through the ledger's one
 * writer in the caller's transaction, so an order and its stock always move together and a
 * retried activity moves nothing twice.
 */
import type { Transaction } from '../platform/db';
import type { Actor } from '../workflows/vocabulary';
import { recordStockMovement, type LedgerType } from './ledger';

// RETURN: units a customer sent back in resellable condition go on the shelf again (keyed by return id).
type OrderMovement = 'RESERVE' | 'RELEASE' | 'SALE' | 'RESTOCK' | 'RETURN';

export interface StockLine {
  productId: string;
  variantId?: string | null;
  quantity: number;
}

export interface Shortage {
  productId: string;
  variantId?: string;
  sku: string;
  name: string;
  requested: number;
  available: number;
}

const changes: Record<OrderMovement, (q: number) => { stockDelta: number; reservedDelta: number }> = {
  RESERVE: (q) => ({ stockDelta: 0, reservedDelta: q }),
  RELEASE: (q) => ({ stockDelta: 0, reservedDelta: -q }),
  SALE: (q) => ({ stockDelta: -q, reservedDelta: -q }),
  RESTOCK: (q) => ({ stockDelta: q, reservedDelta: 0 }),
  RETURN: (q) => ({ stockDelta: q, reservedDelta: 0 }),
};

/** The business key of an order line's movement (lines without a variant keep their old keys). */
export function ledgerKey(movement: LedgerType, orderId: string, line: Pick<StockLine, 'productId' | 'variantId'>) {
  return `${movement.toLowerCase()}:${orderId}:${line.productId}${line.variantId ? `:${line.variantId}` : ''}`;
}

/**
 * Applies one movement per line of an order. Lines already moved are skipped. Returns the
 * shortages for RESERVE; the caller rolls back if there are any. Any other refusal is a bug in
 * the caller (the order's state did not allow it) and throws.
 */
export async function moveStock(
  tx: Transaction,
  movement: OrderMovement,
  /** The order (or return) the movement belongs to: the ledger row's reference and part of its key. */
  orderId: string,
  lines: StockLine[],
  actor: Actor,
  reason: string,
): Promise<Shortage[]> {
  const shortages: Shortage[] = [];
  // A fixed lock order (by product, then variant) means two multi-line orders can never deadlock.
  const sorted = [...lines].sort(
    (a, b) => a.productId.localeCompare(b.productId) || (a.variantId ?? '').localeCompare(b.variantId ?? ''),
  );
  for (const line of sorted) {
    const result = await recordStockMovement(tx, {
      productId: line.productId,
      variantId: line.variantId,
      type: movement,
      ...changes[movement](line.quantity),
      actor: actor.id,
      reason,
      reference: orderId,
      idempotencyKey: ledgerKey(movement, orderId, line),
    });
    if (result.status !== 'REFUSED') continue;
    if (movement !== 'RESERVE' || result.refusal !== 'INSUFFICIENT_AVAILABLE') {
      throw new Error(
        `${movement} of ${line.quantity} x ${line.productId}${line.variantId ? `/${line.variantId}` : ''} for order ${orderId} refused: ${result.refusal}`,
      );
    }
    const item = line.variantId
      ? await tx.productVariant.findUniqueOrThrow({ where: { id: line.variantId }, include: { product: true } })
      : undefined;
    const product = item?.product ?? (await tx.product.findUniqueOrThrow({ where: { id: line.productId } }));
    shortages.push({
      productId: line.productId,
      ...(line.variantId ? { variantId: line.variantId } : {}),
      sku: item?.sku ?? product.sku,
      name: item ? `${product.name} (${item.name})` : product.name,
      requested: line.quantity,
      available: result.current!.stock - result.current!.reserved,
    });
  }
  return shortages;
}
