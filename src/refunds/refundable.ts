/**
 * How much of an order can still be paid back: what was paid, less every refund that is waiting,
 * approved or done, less what the customer's bank took back through lost disputes. Refund and
 * return requests both check it with the order locked, so nothing is ever paid back twice.
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
