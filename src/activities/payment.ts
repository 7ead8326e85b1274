/**
 * Stripe calls. Every call that creates something carries an idempotency key derived from the
 * business key, so a retried activity never creates a second PaymentIntent or refund.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import type { PrismaClient } from '../db';

export function paymentActivities(prisma: PrismaClient, stripe: Stripe) {
  return {
    /** Opens payment attempt `attempt` of an order: a PaymentIntent with the order id in its metadata. */
    async createPaymentIntent(input: {
      orderId: string;
      attempt: number;
      amount: number;
      currency: string;
    }): Promise<{ paymentIntentId: string; clientSecret: string }> {
      const intent = await callStripe(() =>
        stripe.paymentIntents.create(
          {
            amount: input.amount,
            currency: input.currency.toLowerCase(),
            metadata: { orderId: input.orderId, attempt: String(input.attempt) },
            automatic_payment_methods: { enabled: true },
          },
          { idempotencyKey: `order-${input.orderId}-payment-${input.attempt}` },
        ),
      );
      await prisma.payment.upsert({
        where: { orderId_attempt: { orderId: input.orderId, attempt: input.attempt } },
        update: { providerPaymentId: intent.id },
        create: {
          id: randomUUID(),
          orderId: input.orderId,
          attempt: input.attempt,
          provider: 'STRIPE',
          providerPaymentId: intent.id,
          amount: input.amount,
          currency: input.currency,
        },
      });
      return { paymentIntentId: intent.id, clientSecret: intent.client_secret ?? '' };
    },

    /**
     * Cancels a PaymentIntent so it can no longer be paid. Answers the intent's final status:
     * `succeeded` means the customer paid after all and the caller must refund.
     */
    async cancelPaymentIntent(input: { orderId: string; paymentIntentId: string }): Promise<{ status: string }> {
      try {
        const intent = await stripe.paymentIntents.cancel(input.paymentIntentId);
        return { status: intent.status };
      } catch (error) {
        if (error instanceof Stripe.errors.StripeInvalidRequestError && error.code === 'payment_intent_unexpected_state') {
          const intent = await callStripe(() => stripe.paymentIntents.retrieve(input.paymentIntentId));
          return { status: intent.status };
        }
        throw asActivityFailure(error);
      }
    },

    /** Refunds a payment the order should not keep (late, duplicate or wrong amount), in full, once. */
    async refundUnexpectedPayment(input: {
      orderId: string;
      providerPaymentId: string;
      amount: number;
      reason: string;
    }): Promise<{ refundId: string }> {
      const refund = await callStripe(() =>
        stripe.refunds.create(
          { payment_intent: input.providerPaymentId, amount: input.amount, metadata: { orderId: input.orderId, reason: input.reason } },
          { idempotencyKey: `unexpected-payment-refund-${input.providerPaymentId}` },
        ),
      );
      await prisma.payment.updateMany({
        where: { orderId: input.orderId, providerPaymentId: input.providerPaymentId },
        data: { status: 'REFUNDED', failureReason: input.reason, processedAt: new Date() },
      });
      return { refundId: refund.id };
    },
  };
}

async function callStripe<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw asActivityFailure(error);
  }
}

/** Stripe's 4xx answers will not change on retry; network and 5xx errors will. */
function asActivityFailure(error: unknown): unknown {
  const permanent =
    error instanceof Stripe.errors.StripeInvalidRequestError ||
    error instanceof Stripe.errors.StripeCardError ||
    error instanceof Stripe.errors.StripeAuthenticationError ||
    error instanceof Stripe.errors.StripePermissionError;
  if (!permanent) return error;
  const stripeError = error as Stripe.errors.StripeError;
  return ApplicationFailure.create({
    type: `STRIPE_${(stripeError.code ?? stripeError.type).toUpperCase()}`,
    message: stripeError.message,
    nonRetryable: true,
  });
}
