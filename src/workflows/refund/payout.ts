/**
 * Paying a refund back to its one destination: a wallet credit, or a refund of the original
 * payment at its provider, waiting for the provider to settle it (its webhook, or our own status
 * check when none comes).
 */
import { condition, patched } from '@temporalio/workflow';
import { activitiesFor } from '../policies';
import { SYSTEM } from '../vocabulary';
import type { RefundSettlement } from './messages';
import { record, type RefundState } from './state';

import { SETTLEMENT_NEWS_VERIFIED } from './patches';

const act = activitiesFor(
  'creditRefundToWallet',
  'createProviderRefund',
  'fetchProviderRefundStatus',
  'verifyPaymentNews',
);

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
    if (arrived) {
      const news = settlements.find((x) => x.outcome !== 'PENDING')!;
      if (await believedSettlement(s, news)) return news;
      continue;
    }
    const checked = await act.fetchProviderRefundStatus({ refundId: input.refundId, providerRefundId });
    record(s, 'REFUND_STATUS_CHECKED', SYSTEM, `provider reports ${checked.outcome} (no webhook yet)`);
    if (checked.outcome !== 'PENDING') return checked;
  }
}

/**
 * Whether a settlement that came by signal (anyone can send one) is true: the stored verified
 * webhook event it names, or Stripe, says the same. Unverified news is recorded (and audited by
 * the activity) and dropped.
 */
export async function believedSettlement(s: RefundState, settlement: RefundSettlement): Promise<boolean> {
  if (!patched(SETTLEMENT_NEWS_VERIFIED)) return true;
  const check = await act.verifyPaymentNews({ kind: 'refund', refundId: s.input.refundId, settlement });
  if (check.verified) return true;
  s.settlements.splice(s.settlements.indexOf(settlement), 1);
  record(
    s,
    'UNVERIFIED_REFUND_NEWS_IGNORED',
    SYSTEM,
    `${settlement.outcome} ${settlement.providerRefundId}: ${check.reason}`,
  );
  return false;
}
