/**
 * Stripe calls. Every call that creates something carries an idempotency key derived from the
 * business key, so a retried activity never creates a second PaymentIntent or refund.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import type { PrismaClient } from '../platform/db';
import { isPermanentRazorpayError, type RazorpayGateway } from '../payments/razorpay';
import { paymentAttempts, unexpectedPaymentRefunds } from '../monitoring/metrics';
import { providerPaymentStatus, type ProviderPaymentStatus } from '../payments/payment-status';
import { verifyPaymentNews, type NewsCheck, type PaymentNews } from '../payments/news';
import { audit } from '../access/audit';
import { v5 as uuidv5 } from 'uuid';

/** The namespace of the audit entries of unverified payment news (one per check). */
const UNVERIFIED_NEWS_AUDIT = 'c1c3f0a4-3f0e-4b8e-9f55-2b6f3f1d7a11';

export type { ProviderPaymentStatus } from '../payments/payment-status';

export function paymentActivities(prisma: PrismaClient, stripe: Stripe, razorpay: RazorpayGateway) {
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
      paymentAttempts.inc({ provider: 'STRIPE', outcome: 'opened' });
      return { paymentIntentId: intent.id, clientSecret: intent.client_secret ?? '' };
    },

    /** Opens payment attempt `attempt` of an order as a Razorpay order (receipt and notes carry our ids). */
    async createRazorpayOrder(input: {
      orderId: string;
      attempt: number;
      amount: number;
      currency: string;
    }): Promise<{ razorpayOrderId: string; keyId: string }> {
      const receipt = `${input.orderId.slice(0, 30)}-${input.attempt}`; // Razorpay caps receipts at 40 characters
      // A retried activity must not open a second Razorpay order: reuse the one already recorded.
      const existing = await prisma.payment.findUnique({
        where: { orderId_attempt: { orderId: input.orderId, attempt: input.attempt } },
      });
      const razorpayOrderId =
        existing?.providerPaymentId ??
        (
          await callRazorpay(() =>
            razorpay.createOrder({
              amount: input.amount,
              currency: input.currency,
              receipt,
              notes: { orderId: input.orderId, attempt: String(input.attempt) },
            }),
          )
        ).id;
      await prisma.payment.upsert({
        where: { orderId_attempt: { orderId: input.orderId, attempt: input.attempt } },
        update: { providerPaymentId: razorpayOrderId },
        create: {
          id: randomUUID(),
          orderId: input.orderId,
          attempt: input.attempt,
          provider: 'RAZORPAY',
          providerPaymentId: razorpayOrderId,
          amount: input.amount,
          currency: input.currency,
        },
      });
      if (!existing?.providerPaymentId) paymentAttempts.inc({ provider: 'RAZORPAY', outcome: 'opened' });
      return { razorpayOrderId, keyId: await razorpay.keyId() };
    },

    /** Asks the provider where a payment attempt stands (the runbook's manual dashboard check). */
    async fetchPaymentStatus(input: {
      orderId: string;
      provider: 'STRIPE' | 'RAZORPAY';
      providerPaymentId: string;
    }): Promise<ProviderPaymentStatus> {
      const status = () => providerPaymentStatus(stripe, razorpay, input.provider, input.providerPaymentId);
      return input.provider === 'STRIPE' ? callStripe(status) : callRazorpay(status);
    },

    /**
     * Whether payment or refund news a workflow was signalled comes from a verified source (the
     * stored webhook event it names, or the provider); unverified news is audited here, with what
     * it claimed and why it was not believed, and the workflow ignores it.
     */
    async verifyPaymentNews(news: PaymentNews): Promise<NewsCheck> {
      const check = await verifyPaymentNews({ prisma, stripe, razorpay }, news);
      if (!check.verified) {
        const { workflowExecution, activityId } = Context.current().info;
        await audit(prisma, {
          // Once per check, however often the activity is retried.
          id: uuidv5(`${workflowExecution?.runId}:${activityId}`, UNVERIFIED_NEWS_AUDIT),
          actorId: 'temporal-signal',
          action: 'UNVERIFIED_PAYMENT_NEWS_IGNORED',
          targetType: news.kind === 'payment' ? 'order' : 'refund',
          targetId: news.kind === 'payment' ? news.orderId : news.refundId,
          reason: check.reason,
          after: {
            signal: news.kind === 'payment' ? 'paymentEvent' : 'refundSettled',
            claimed: news.kind === 'payment' ? news.event : news.settlement,
          },
        });
      }
      return check;
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
        if (
          error instanceof Stripe.errors.StripeInvalidRequestError &&
          error.code === 'payment_intent_unexpected_state'
        ) {
          const intent = await callStripe(() => stripe.paymentIntents.retrieve(input.paymentIntentId));
          return { status: intent.status };
        }
        throw stripeFailure(error);
      }
    },

    /** Refunds a payment the order should not keep (late, duplicate or wrong amount), in full, once. */
    async refundUnexpectedPayment(input: {
      orderId: string;
      provider?: 'STRIPE' | 'RAZORPAY';
      providerPaymentId: string;
      /** Razorpay's payment id; Stripe refunds the PaymentIntent itself. */
      chargeId?: string;
      amount: number;
      reason: string;
    }): Promise<{ refundId: string }> {
      // One refund per payment, whoever asks and however often.
      const key = `unexpected-payment-refund-${input.chargeId ?? input.providerPaymentId}`;
      const refund =
        input.provider === 'RAZORPAY'
          ? await callRazorpay(() => razorpay.refundOnce(input.chargeId ?? '', input.amount, key))
          : await callStripe(() =>
              stripe.refunds.create(
                {
                  payment_intent: input.providerPaymentId,
                  amount: input.amount,
                  metadata: { orderId: input.orderId, reason: input.reason },
                },
                { idempotencyKey: key },
              ),
            );
      await prisma.payment.updateMany({
        where: { orderId: input.orderId, providerPaymentId: input.providerPaymentId },
        data: {
          status: 'REFUNDED',
          failureReason: input.reason,
          processedAt: new Date(),
          refundId: refund.id,
          refundedAmount: input.amount,
          refundedAt: new Date(),
        },
      });
      unexpectedPaymentRefunds.inc({ provider: input.provider ?? 'STRIPE' });
      return { refundId: refund.id };
    },
  };
}

/** Razorpay's refusals (4xx) become non-retryable failures; outages are retried. */
export async function callRazorpay<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!isPermanentRazorpayError(error)) throw error;
    throw ApplicationFailure.create({
      type: `RAZORPAY_${error.error?.code ?? error.statusCode}`,
      message: error.error?.description ?? `Razorpay answered ${error.statusCode}`,
      nonRetryable: true,
    });
  }
}

/** Stripe's refusals (4xx) become non-retryable failures; outages are retried. */
export async function callStripe<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw stripeFailure(error);
  }
}

/** Stripe's 4xx answers will not change on retry; network and 5xx errors will. */
function stripeFailure(error: unknown): unknown {
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
