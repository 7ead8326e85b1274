/**
 * Paying a refund back to its one destination: a wallet credit, or a refund of the original
 * payment at its provider, waiting for the provider to settle it (its webhook, or our own status
 * check when none comes).
 */
import { condition } from '@temporalio/workflow';
import { activitiesFor } from '../policies';
import { SYSTEM } from '../vocabulary';
import type { RefundSettlement } from './messages';
import { record, type RefundState } from './state';

const act = activitiesFor('creditRefundToWallet', 'createProviderRefund', 'fetchProviderRefundStatus');

/** Moves the money to the refund's destination; answers why the provider failed it, if it did. */
export async function payBack(s: RefundState, actorId: string): Promise<string | undefined> {
  const { input, refund } = s;
  if (refund.destination === 'WALLET') {
    await act.creditRefundToWallet({
      refundId: input.refundId,
      orderId: input.orderId,
      customerId: refund.customerId!,
      amount: refund.amount!,
      currency: refund.currency!,
      actor: actorId,
    });
    refund.walletCredited = refund.amount;
    record(s, 'WALLET_CREDITED', SYSTEM, `${refund.amount} ${refund.currency}`);
    return undefined;
  }
  const created = await act.createProviderRefund({
    refundId: input.refundId,
    orderId: input.orderId,
    amount: refund.amount!,
  });
  refund.providerRefundId = created.providerRefundId;
  record(s, 'PROVIDER_REFUND_CREATED', SYSTEM, created.providerRefundId);
  const settled =
    created.outcome === 'PENDING'
      ? await awaitSettlement(s, created.providerRefundId)
      : { ...created, refundId: input.refundId, eventId: 'immediate' };
  if (settled.outcome === 'FAILED') return settled.failureReason ?? 'the provider failed the refund';
  record(s, 'PROVIDER_REFUND_SUCCEEDED', SYSTEM, `${settled.providerRefundId} (${settled.eventId})`);
  return undefined;
}

/** Waits for the provider to settle the refund; asks it when no webhook comes. */
async function awaitSettlement(s: RefundState, providerRefundId: string): Promise<RefundSettlement> {
  const { input, settlements } = s;
  for (;;) {
    const arrived = await condition(() => settlements.some((x) => x.outcome !== 'PENDING'), input.settleCheckAfterMs);
    if (arrived) return settlements.find((x) => x.outcome !== 'PENDING')!;
    const checked = await act.fetchProviderRefundStatus({ refundId: input.refundId, providerRefundId });
    record(s, 'REFUND_STATUS_CHECKED', SYSTEM, `provider reports ${checked.outcome} (no webhook yet)`);
    if (checked.outcome !== 'PENDING') return checked;
  }
}
