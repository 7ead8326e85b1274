/**
 * The order row as a lock: every writer of an order's state (its activities, refunds, returns,
 * disputes) takes it first inside its transaction, so they take turns instead of racing.
 */
import type { Transaction } from '../platform/db';

/** SELECT ... FOR UPDATE on the order (false when there is none): its writers take turns. */
export async function lockOrder(tx: Transaction, orderId: string): Promise<boolean> {
  const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM orders WHERE id = ${orderId}::uuid FOR UPDATE`;
  return locked.length > 0;
}
