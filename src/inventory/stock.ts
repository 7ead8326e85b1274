/**
 * Stock movements. Each one is a single conditional UPDATE (so no interleaving of concurrent
 * checkouts can oversell) plus an inventory ledger row whose unique idempotency key makes an
 * activity retry a no-op. They run inside the caller's transaction, so an order and its stock
 * always move together.
 */
import { randomUUID } from 'node:crypto';
import type { Transaction } from '../platform/db';
import { Prisma } from '../generated/prisma/client';
import type { Actor } from '../workflows/vocabulary';
import type { OrderItemRequest } from '../workflows/order/messages';

const sqlTag = Prisma.sql;
// RETURN: units a customer sent back in resellable condition go on the shelf again (keyed by return id).
type Movement = 'RESERVE' | 'RELEASE' | 'SALE' | 'RETURN';

export interface Shortage {
  productId: string;
  sku: string;
  name: string;
  requested: number;
  available: number;
}

interface StockRow {
  stock: number;
  reserved_stock: number;
}

// How each movement changes (stock, reserved), and the condition that keeps both valid.
const movementSql: Record<Movement, (q: number, id: string) => Prisma.Sql> = {
  RESERVE: (q, id) => sqlTag`UPDATE products SET reserved_stock = reserved_stock + ${q}, updated_at = now()
      WHERE id = ${id}::uuid AND stock - reserved_stock >= ${q} RETURNING stock, reserved_stock`,
  RELEASE: (q, id) => sqlTag`UPDATE products SET reserved_stock = reserved_stock - ${q}, updated_at = now()
      WHERE id = ${id}::uuid AND reserved_stock >= ${q} RETURNING stock, reserved_stock`,
  SALE: (
    q,
    id,
  ) => sqlTag`UPDATE products SET stock = stock - ${q}, reserved_stock = reserved_stock - ${q}, updated_at = now()
      WHERE id = ${id}::uuid AND reserved_stock >= ${q} RETURNING stock, reserved_stock`,
  RETURN: (q, id) => sqlTag`UPDATE products SET stock = stock + ${q}, updated_at = now()
      WHERE id = ${id}::uuid RETURNING stock, reserved_stock`,
};
const before: Record<Movement, (row: StockRow, q: number) => StockRow> = {
  RESERVE: (r, q) => ({ stock: r.stock, reserved_stock: r.reserved_stock - q }),
  RELEASE: (r, q) => ({ stock: r.stock, reserved_stock: r.reserved_stock + q }),
  SALE: (r, q) => ({ stock: r.stock + q, reserved_stock: r.reserved_stock + q }),
  RETURN: (r, q) => ({ stock: r.stock - q, reserved_stock: r.reserved_stock }),
};

export function ledgerKey(movement: Movement, orderId: string, productId: string): string {
  return `${movement.toLowerCase()}:${orderId}:${productId}`;
}

/**
 * Applies one movement per item for an order. Items already moved (ledger key present) are
 * skipped. Returns the shortages for RESERVE; the caller rolls back if there are any.
 */
export async function moveStock(
  tx: Transaction,
  movement: Movement,
  orderId: string,
  items: OrderItemRequest[],
  actor: Actor,
  reason: string,
): Promise<Shortage[]> {
  const shortages: Shortage[] = [];
  // A fixed lock order (by product id) means two multi-item orders can never deadlock.
  const sorted = [...items].sort((a, b) => a.productId.localeCompare(b.productId));
  const keys = sorted.map((item) => ledgerKey(movement, orderId, item.productId));
  const done = new Set(
    (
      await tx.inventoryLedger.findMany({ where: { idempotencyKey: { in: keys } }, select: { idempotencyKey: true } })
    ).map((row) => row.idempotencyKey),
  );
  for (const [index, item] of sorted.entries()) {
    const key = keys[index];
    if (done.has(key)) continue;
    const [after] = await tx.$queryRaw<StockRow[]>(movementSql[movement](item.quantity, item.productId));
    if (!after) {
      const product = await tx.product.findUnique({ where: { id: item.productId } });
      if (movement !== 'RESERVE' || !product) {
        throw new Error(
          `${movement} of ${item.quantity} x ${item.productId} for order ${orderId} found no matching stock`,
        );
      }
      shortages.push({
        productId: product.id,
        sku: product.sku,
        name: product.name,
        requested: item.quantity,
        available: product.stock - product.reservedStock,
      });
      continue;
    }
    const prior = before[movement](after, item.quantity);
    await tx.inventoryLedger.create({
      data: {
        id: randomUUID(),
        productId: item.productId,
        type: movement,
        quantity: item.quantity,
        previousStock: prior.stock,
        newStock: after.stock,
        previousReserved: prior.reserved_stock,
        newReserved: after.reserved_stock,
        reason,
        actor: actor.id,
        reference: orderId,
        idempotencyKey: key,
      },
    });
  }
  return shortages;
}
