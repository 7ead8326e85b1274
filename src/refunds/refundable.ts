/**
 * How much of an order can still be paid back: what was paid, less every refund that is waiting,
 * approved or done, less what the customer's bank took back through lost disputes. Refund and
 * return requests both check it with the order locked, so nothing is ever paid back twice. And
 * what the payment's status is once refunds (and lost disputes) have paid some of it back.
 */
import type { Transaction } from '../platform/db';
import { disputeStanding, type DisputeStanding } from '../disputes/standing';

export async function refundableAmount(
  tx: Pick<Transaction, 'refund' | 'dispute'>,
  order: { id: string; totalAmount: number },
  standing?: DisputeStanding,
): Promise<number> {
  const earlier = await tx.refund.findMany({
    where: { orderId: order.id, status: { in: ['PENDING_APPROVAL', 'APPROVED', 'COMPLETED'] } },
    select: { amount: true },
  });
  const lost = (standing ?? (await disputeStanding(tx, order.id))).lostAmount;
  return order.totalAmount - earlier.reduce((sum, r) => sum + r.amount, 0) - lost;
}

/** A paid order's payment status from what its COMPLETED refunds (and lost disputes) have really paid back. */
export async function paymentStatusAfterRefunds(
  tx: Transaction,
  order: { id: string; totalAmount: number },
): Promise<'REFUNDED' | 'PARTIALLY_REFUNDED' | 'PAID'> {
  const refunds = await tx.refund.findMany({
    where: { orderId: order.id, status: 'COMPLETED' },
    select: { amount: true },
  });
  const refunded = refunds.reduce((sum, r) => sum + r.amount, 0) + (await disputeStanding(tx, order.id)).lostAmount;
  return refunded >= order.totalAmount ? 'REFUNDED' : refunded > 0 ? 'PARTIALLY_REFUNDED' : 'PAID';
}
