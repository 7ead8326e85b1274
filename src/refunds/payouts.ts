/**
 * Paying an approved refund out, to its one destination: WALLET (instant store credit) or
 * ORIGINAL_PAYMENT (a refund with the provider that took the money), and asking Stripe where a
 * card refund stands. Each happens at most once per refund: the wallet credit and the provider
 * refund both carry `refund-<refundId>` (refundPayoutKey) as their idempotency key.
 */
import type Stripe from 'stripe';
import type { PrismaClient } from '../platform/db';
import { DomainError } from '../platform/errors';
import { callRazorpay, callStripe } from '../payments/provider-calls';
import { capturedPayment, type RazorpayGateway } from '../payments/razorpay';
import { stripeRefundOutcome } from '../payments/stripe';
import { refundPayoutKey } from '../payments/webhook-events';
import { ErrorCode } from '../workflows/vocabulary';
import type { RefundSettlement } from '../workflows/refund/messages';
import { creditWallet } from './wallet';

/** WALLET: instant store credit, once per refund. */
export async function creditRefundToWallet(
  prisma: PrismaClient,
  input: { refundId: string; orderId: string; customerId: string; amount: number; currency: string; actor: string },
): Promise<{ entryId: string; balance: number }> {
  // A wallet opened in another currency after the request, or a full one, refuses (DomainError).
  return creditWallet(prisma, {
    userId: input.customerId,
    amount: input.amount,
    currency: input.currency,
    reason: `Refund ${input.refundId} for order ${input.orderId}`,
    actor: input.actor,
    reference: input.refundId,
    idempotencyKey: refundPayoutKey(input.refundId),
  });
}

export interface ProviderRefund {
  providerRefundId: string;
  outcome: RefundSettlement['outcome'];
}

/** ORIGINAL_PAYMENT: a refund with the provider of the order's successful payment, at most once per refund id. */
export async function createProviderRefund(
  sources: { prisma: PrismaClient; stripe: Stripe; razorpay: RazorpayGateway },
  input: { refundId: string; orderId: string; amount: number },
): Promise<ProviderRefund> {
  const { prisma, stripe, razorpay } = sources;
  const payment = await prisma.payment.findFirst({
    where: { orderId: input.orderId, status: { in: ['SUCCEEDED'] }, provider: { in: ['STRIPE', 'RAZORPAY'] } },
  });
  if (!payment?.providerPaymentId)
    throw new DomainError(ErrorCode.NO_PROVIDER_PAYMENT, `Order ${input.orderId} has no provider payment to refund`);
  const key = refundPayoutKey(input.refundId);
  let result: ProviderRefund;
  if (payment.provider === 'RAZORPAY') {
    const captured = capturedPayment(await razorpay.orderPayments(payment.providerPaymentId));
    if (!captured)
      throw new DomainError(
        ErrorCode.NO_PROVIDER_PAYMENT,
        `Razorpay order ${payment.providerPaymentId} has no captured payment`,
      );
    const refund = await callRazorpay(() => razorpay.refundOnce(captured.id, input.amount, key));
    result = { providerRefundId: refund.id, outcome: 'SUCCEEDED' }; // Razorpay answers refunds as processed
  } else {
    const refund = await callStripe(() =>
      stripe.refunds.create(
        {
          payment_intent: payment.providerPaymentId!,
          amount: input.amount,
          metadata: { refundId: input.refundId, orderId: input.orderId },
        },
        { idempotencyKey: key },
      ),
    );
    // Stripe settles card refunds asynchronously: completion comes by webhook (or a status check),
    // even when the refund already reads succeeded; only a refusal is final here.
    const outcome = stripeRefundOutcome(refund.status);
    result = { providerRefundId: refund.id, outcome: outcome === 'FAILED' ? 'FAILED' : 'PENDING' };
  }
  await prisma.refund.update({
    where: { id: input.refundId },
    data: { providerRefundId: result.providerRefundId },
  });
  return result;
}

/** Where a Stripe refund stands, as a settlement the refund workflow reads like a webhook's. */
export async function fetchProviderRefundStatus(
  stripe: Stripe,
  input: { refundId: string; providerRefundId: string },
): Promise<RefundSettlement> {
  // Retried whatever Stripe answers: the refund exists, and a failed check must not fail it.
  const refund = await stripe.refunds.retrieve(input.providerRefundId);
  const outcome = stripeRefundOutcome(refund.status);
  return {
    refundId: input.refundId,
    providerRefundId: refund.id,
    outcome,
    eventId: `status-check-${refund.id}`,
    failureReason: refund.failure_reason ?? undefined,
  };
}
