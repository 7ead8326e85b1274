/**
 * An unexpected payment's refund is counted once (durable_commerce_unexpected_payment_refunds_total)
 * however often it is asked for: the order asks again on each event of the same payment, and the
 * provider hands the first refund back. Stripe says so in its `Idempotent-Replayed` header, which
 * stripe-mock (stateless) never sends, so the Stripe client is stubbed here; the Razorpay path is
 * proven end to end in test/e2e/razorpay.test.ts.
 */
import type Stripe from 'stripe';
import { unexpectedPaymentRefunds } from '../../src/monitoring/metrics';
import { refundUnexpectedPayment } from '../../src/payments/unexpected-refunds';
import type { RazorpayGateway } from '../../src/payments/razorpay';

async function counted(): Promise<number> {
  const { values } = await unexpectedPaymentRefunds.get();
  return values.find((v) => v.labels.provider === 'STRIPE')?.value ?? 0;
}

test('a Stripe refund answered as a replay of the same idempotency key is not counted again', async () => {
  const keys: string[] = [];
  const stripe = {
    refunds: {
      create: async (_params: unknown, options: { idempotencyKey: string }) => {
        const replayed = keys.includes(options.idempotencyKey);
        keys.push(options.idempotencyKey);
        return { id: 're_1', lastResponse: { headers: replayed ? { 'idempotent-replayed': 'true' } : {} } };
      },
    },
  } as unknown as Stripe;
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
  const before = await counted();
  expect(await refundUnexpectedPayment(sources, payment)).toEqual({ refundId: 're_1' });
  expect(await refundUnexpectedPayment(sources, payment)).toEqual({ refundId: 're_1' });
  expect(keys).toEqual(['unexpected-payment-refund-pi_1', 'unexpected-payment-refund-pi_1']);
  expect((await counted()) - before).toBe(1);
});
