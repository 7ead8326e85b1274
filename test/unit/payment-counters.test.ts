/**
 * The payment counters count things, not asks: a step run again (an activity retried after its
 * commit, news of the same payment again) finds its work done, or gets the provider's first answer
 * back, and counts nothing more.
 * - durable_commerce_unexpected_payment_refunds_total: one per refund; Stripe says a request was a
 *   replay of the same idempotency key in its `Idempotent-Replayed` header;
 * - durable_commerce_payment_attempts_total{outcome="opened"}: one per PaymentIntent (same header);
 * - {outcome="succeeded"}: one per attempt recorded SUCCEEDED, not per run of the step.
 * stripe-mock is stateless and never sends that header, so Stripe and the tables are stubbed here;
 * the Razorpay refund is proven end to end in test/e2e/razorpay.test.ts.
 */
import type Stripe from 'stripe';
import { paymentAttempts, unexpectedPaymentRefunds } from '../../src/monitoring/metrics';
import { recordPaymentSucceeded } from '../../src/orders/records';
import { openStripeAttempt } from '../../src/payments/attempts';
import { refundUnexpectedPayment } from '../../src/payments/unexpected-refunds';
import type { RazorpayGateway } from '../../src/payments/razorpay';

async function counted(counter: typeof paymentAttempts | typeof unexpectedPaymentRefunds, outcome?: string) {
  const { values } = await counter.get();
  return values
    .map((v) => ({ ...v, labels: v.labels as Record<string, string | number | undefined> }))
    .filter((v) => v.labels.provider === 'STRIPE' && (outcome === undefined || v.labels.outcome === outcome))
    .reduce((sum, v) => sum + v.value, 0);
}

/** A Stripe resource `create` that answers the same object per idempotency key, flagged as a replay after the first. */
function replaying<T>(make: () => T) {
  const seen = new Set<string>();
  const keys: string[] = [];
  const create = async (_params: unknown, options: { idempotencyKey: string }) => {
    const replayed = seen.has(options.idempotencyKey);
    seen.add(options.idempotencyKey);
    keys.push(options.idempotencyKey);
    return { ...make(), lastResponse: { headers: replayed ? { 'idempotent-replayed': 'true' } : {} } };
  };
  return { create, keys };
}

test('a Stripe refund answered as a replay of the same idempotency key is not counted again', async () => {
  const refunds = replaying(() => ({ id: 're_1' }));
  const stripe = { refunds } as unknown as Stripe;
  const prisma = { payment: { updateMany: async () => ({ count: 1 }) } };
  const sources = { prisma, stripe, razorpay: {} as RazorpayGateway } as unknown as Parameters<
    typeof refundUnexpectedPayment
  >[0];
  const payment = {
    orderId: 'order-1',
    provider: 'STRIPE' as const,
    providerPaymentId: 'pi_1',
    amount: 2500,
    reason: 'wrong amount',
  };
  const before = await counted(unexpectedPaymentRefunds);
  expect(await refundUnexpectedPayment(sources, payment)).toEqual({ refundId: 're_1' });
  expect(await refundUnexpectedPayment(sources, payment)).toEqual({ refundId: 're_1' });
  expect(refunds.keys).toEqual(['unexpected-payment-refund-pi_1', 'unexpected-payment-refund-pi_1']);
  expect((await counted(unexpectedPaymentRefunds)) - before).toBe(1);
});

test('a PaymentIntent opened again by a retried activity is one attempt opened', async () => {
  const paymentIntents = replaying(() => ({ id: 'pi_2', client_secret: 'pi_2_secret' }));
  const stripe = { paymentIntents } as unknown as Stripe;
  const prisma = { payment: { upsert: async () => ({}) } } as unknown as Parameters<typeof openStripeAttempt>[0];
  const attempt = { orderId: 'order-2', attempt: 1, amount: 2500, currency: 'USD' };
  const before = await counted(paymentAttempts, 'opened');
  for (let run = 0; run < 2; run++)
    expect(await openStripeAttempt(prisma, stripe, attempt)).toEqual({
      paymentIntentId: 'pi_2',
      clientSecret: 'pi_2_secret',
    });
  expect(paymentIntents.keys).toEqual(['order-order-2-payment-1', 'order-order-2-payment-1']);
  expect((await counted(paymentAttempts, 'opened')) - before).toBe(1);
});

test('a payment recorded again by a retry after its commit is one attempt succeeded', async () => {
  // The attempt's row as the transaction finds it and leaves it.
  let row = { orderId: 'order-3', attempt: 1, provider: 'STRIPE', providerPaymentId: 'pi_3', status: 'PENDING' };
  const tx = {
    payment: {
      findUnique: async () => row,
      update: async ({ data }: { data: Partial<typeof row> }) => (row = { ...row, ...data }),
    },
    order: { updateMany: async () => ({ count: 1 }) },
  };
  const prisma = { $transaction: (work: (t: typeof tx) => unknown) => work(tx) } as unknown as Parameters<
    typeof recordPaymentSucceeded
  >[0];
  const paid = { orderId: 'order-3', attempt: 1, providerPaymentId: 'pi_3', confirmedBy: 'STRIPE status check' };
  const before = await counted(paymentAttempts, 'succeeded');
  await recordPaymentSucceeded(prisma, paid);
  await recordPaymentSucceeded(prisma, paid);
  expect(row.status).toBe('SUCCEEDED');
  expect((await counted(paymentAttempts, 'succeeded')) - before).toBe(1);
});
