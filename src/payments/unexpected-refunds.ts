/**
 * Money the order should not keep (a late, duplicate or wrong-amount payment) goes back in full,
 * once: one provider refund per payment, whoever asks and however often (the idempotency key is
 * the payment's), and the payment row says it was refunded and why. The order and webhook
 * workflows decide when (src/workflows/unexpected-payments.ts); this is the refund itself.
 */
import type Stripe from 'stripe';
import type { PrismaClient } from '../platform/db';
import { unexpectedPaymentRefunds } from '../monitoring/metrics';
import type { PaymentProvider } from '../workflows/vocabulary';
import { callRazorpay, callStripe, replayedByStripe } from './provider-calls';
import type { RazorpayGateway } from './razorpay';

export interface UnexpectedPayment {
  orderId: string;
  provider?: PaymentProvider;
  providerPaymentId: string;
  /** Razorpay's payment id; Stripe refunds the PaymentIntent itself. */
  chargeId?: string;
  amount: number;
  reason: string;
}

export async function refundUnexpectedPayment(
  sources: { prisma: PrismaClient; stripe: Stripe; razorpay: RazorpayGateway },
  input: UnexpectedPayment,
): Promise<{ refundId: string }> {
  const { prisma, stripe, razorpay } = sources;
  // One refund per payment, whoever asks and however often.
  const key = `unexpected-payment-refund-${input.chargeId ?? input.providerPaymentId}`;
  const refund =
    input.provider === 'RAZORPAY'
      ? await callRazorpay(() => razorpay.refundOnce(input.chargeId ?? '', input.amount, key))
      : await callStripe(async () => {
          const created = await stripe.refunds.create(
            {
              payment_intent: input.providerPaymentId,
              amount: input.amount,
              metadata: { orderId: input.orderId, reason: input.reason },
            },
            { idempotencyKey: key },
          );
          return { id: created.id, created: !replayedByStripe(created) };
        });
  await prisma.payment.updateMany({
    where: {
      orderId: input.orderId,
      providerPaymentId: input.providerPaymentId,
      // A second payment of the Razorpay order that paid shares that attempt's row: the row stays
      // the paying payment's, and this refund is on the order's timeline and in the audit.
      ...(input.chargeId
        ? { OR: [{ status: { not: 'SUCCEEDED' } }, { chargeId: null }, { chargeId: input.chargeId }] }
        : {}),
    },
    data: {
      status: 'REFUNDED',
      failureReason: input.reason,
      processedAt: new Date(),
      refundId: refund.id,
      refundedAmount: input.amount,
      refundedAt: new Date(),
    },
  });
  // Counted once per refund: news of the same payment again asks for it again and gets it back.
  if (refund.created) unexpectedPaymentRefunds.inc({ provider: input.provider ?? 'STRIPE' });
  return { refundId: refund.id };
}
