/**
 * An order's payment attempts, one implementation each: opening one with its provider (a Stripe
 * PaymentIntent, a Razorpay order), cancelling a PaymentIntent, which order an attempt belongs
 * to, and whether it is the payment that paid its order.
 *
 * Which order a provider's payment belongs to is the one that opened the payment attempt it names,
 * objects this system created and recorded in `payments`. Never the order a PaymentIntent's
 * metadata or a Razorpay payment's notes name: Razorpay Checkout takes its notes from the
 * customer's browser, so they can name any order. The webhook endpoint (to file the event under
 * its order, in the statement that stores it) and the webhook workflow (to route it) both ask here.
 *
 * Opening an attempt is safe to repeat: the PaymentIntent carries an idempotency key derived from
 * the order and the attempt, and a Razorpay order already recorded for the attempt is reused.
 */
import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import type { PaymentProvider } from '../workflows/vocabulary';
import type { PrismaClient } from '../platform/db';
import { Prisma } from '../generated/prisma/client';
import { paymentAttempts } from '../monitoring/metrics';
import { callRazorpay, callStripe, replayedByStripe, stripeFailure } from './provider-calls';
import type { RazorpayGateway } from './razorpay';

export interface AttemptToOpen {
  orderId: string;
  attempt: number;
  amount: number;
  currency: string;
}

/**
 * The rule in SQL, an expression: the id of the order whose attempt recorded this provider object
 * (`payments.provider_payment_id` is unique), or NULL. The webhook endpoint evaluates it inside the
 * statement that stores the event (storeWebhookEvent, src/payments/webhook-inbox.ts).
 */
export function orderOfPaymentAttemptSql(provider: PaymentProvider, providerPaymentId: string | null): Prisma.Sql {
  return Prisma.sql`(SELECT order_id::text FROM payments
    WHERE provider = ${provider}::"PaymentProvider" AND provider_payment_id = ${providerPaymentId})`;
}

export async function orderOfPaymentAttempt(
  prisma: PrismaClient,
  provider: PaymentProvider,
  providerPaymentId: string,
): Promise<string | undefined> {
  const [row] = await prisma.$queryRaw<{ orderId: string | null }[]>`
    SELECT ${orderOfPaymentAttemptSql(provider, providerPaymentId)} AS "orderId"`;
  return row?.orderId ?? undefined;
}

/**
 * Whether this payment is the one that paid the order: a late or replayed success event for
 * it (say Razorpay's `order.paid` after delivery) is news of money we kept on purpose.
 */
export async function isOrderPaidBy(
  prisma: PrismaClient,
  input: { orderId: string; provider: PaymentProvider; providerPaymentId: string; chargeId?: string },
): Promise<boolean> {
  const paid = await prisma.payment.count({
    where: {
      orderId: input.orderId,
      provider: input.provider,
      providerPaymentId: input.providerPaymentId,
      confirmedBy: { not: null },
      // One Razorpay order may be paid twice: only the payment recorded as paying it is the
      // order's (an attempt paid before its charge was recorded counts as before).
      ...(input.chargeId ? { OR: [{ chargeId: null }, { chargeId: input.chargeId }] } : {}),
    },
  });
  return paid > 0;
}

/** Opens payment attempt `attempt` of an order: a PaymentIntent with the order id in its metadata. */
export async function openStripeAttempt(
  prisma: PrismaClient,
  stripe: Stripe,
  input: AttemptToOpen,
): Promise<{ paymentIntentId: string; clientSecret: string }> {
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
  await recordAttempt(prisma, 'STRIPE', input, intent.id);
  // Counted once per attempt: a retry gets Stripe's first answer back under the same key, and Stripe says so.
  if (!replayedByStripe(intent)) paymentAttempts.inc({ provider: 'STRIPE', outcome: 'opened' });
  return { paymentIntentId: intent.id, clientSecret: intent.client_secret ?? '' };
}

/** Opens payment attempt `attempt` of an order as a Razorpay order (receipt and notes carry our ids). */
export async function openRazorpayAttempt(
  prisma: PrismaClient,
  razorpay: RazorpayGateway,
  input: AttemptToOpen,
): Promise<{ razorpayOrderId: string; keyId: string }> {
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
  await recordAttempt(prisma, 'RAZORPAY', input, razorpayOrderId);
  if (!existing?.providerPaymentId) paymentAttempts.inc({ provider: 'RAZORPAY', outcome: 'opened' });
  return { razorpayOrderId, keyId: await razorpay.keyId() };
}

/** The attempt's row, keyed by order and attempt number, naming the provider's object. */
async function recordAttempt(
  prisma: PrismaClient,
  provider: PaymentProvider,
  input: AttemptToOpen,
  providerPaymentId: string,
): Promise<void> {
  await prisma.payment.upsert({
    where: { orderId_attempt: { orderId: input.orderId, attempt: input.attempt } },
    update: { providerPaymentId },
    create: {
      id: randomUUID(),
      orderId: input.orderId,
      attempt: input.attempt,
      provider,
      providerPaymentId,
      amount: input.amount,
      currency: input.currency,
    },
  });
}

/**
 * Cancels a PaymentIntent so it can no longer be paid. Answers the intent's final status:
 * `succeeded` means the customer paid after all and the caller must refund.
 */
export async function cancelPaymentIntent(stripe: Stripe, paymentIntentId: string): Promise<{ status: string }> {
  try {
    const intent = await stripe.paymentIntents.cancel(paymentIntentId);
    return { status: intent.status };
  } catch (error) {
    if (error instanceof Stripe.errors.StripeInvalidRequestError && error.code === 'payment_intent_unexpected_state') {
      const intent = await callStripe(() => stripe.paymentIntents.retrieve(paymentIntentId));
      return { status: intent.status };
    }
    throw stripeFailure(error);
  }
}
