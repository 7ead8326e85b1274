/**
 * What an order's provider disputes mean for paying money back, in one place: while a dispute
 * is open nothing new is refunded or returned (the bank may already be taking the money back),
 * and a lost dispute is money returned to the customer by their bank, so it counts against what
 * is still refundable and in the payment's status: nothing is paid back twice.
 */
import { DomainError } from '../platform/errors';
import type { Transaction } from '../platform/db';
import { ErrorCode } from '../workflows/vocabulary';

export interface DisputeStanding {
  /** The provider id of an open dispute, if one is open. */
  openDisputeId?: string;
  /** Minor units the customer's bank took back through disputes the shop lost. */
  lostAmount: number;
}

export async function disputeStanding(tx: Pick<Transaction, 'dispute'>, orderId: string): Promise<DisputeStanding> {
  const disputes = await tx.dispute.findMany({
    where: { orderId },
    select: { providerDisputeId: true, status: true, amount: true },
  });
  return {
    openDisputeId: disputes.find((d) => d.status === 'OPEN')?.providerDisputeId,
    lostAmount: disputes.filter((d) => d.status === 'LOST').reduce((sum, d) => sum + d.amount, 0),
  };
}

/** Whether a refund about to pay out must wait: its order's payment is disputed. */
export async function refundHold(
  tx: Pick<Transaction, 'dispute'>,
  orderId: string,
): Promise<{ held: boolean; disputeId?: string }> {
  const standing = await disputeStanding(tx, orderId);
  return standing.openDisputeId ? { held: true, disputeId: standing.openDisputeId } : { held: false };
}

/** Refuses (409 ORDER_DISPUTED) while a dispute of the order is open. */
export function refuseWhileDisputed(standing: DisputeStanding): void {
  if (standing.openDisputeId) {
    throw new DomainError(
      ErrorCode.ORDER_DISPUTED,
      `The order's payment is disputed (${standing.openDisputeId}): no refund or return until the dispute is decided`,
      { disputeId: standing.openDisputeId },
    );
  }
}
