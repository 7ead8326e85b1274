/**
 * Small pure rules the system leans on: workflow ids built and parsed in one place, stored
 * refusal codes read back, what a provider's refund status or a Razorpay order's payments mean,
 * a dispute blocking refunds, what a customer may see of an order's timeline, what a refused
 * checkout's view keeps, and the ops CLI's argument parsers.
 */
import { ApplicationFailure } from '@temporalio/common';
import { InvalidArgumentError } from 'commander';
import { refuseWhileDisputed } from '../../src/disputes/standing';
import { forCustomer } from '../../src/orders/view';
import { capturedPayment, type RazorpayPayment } from '../../src/payments/razorpay';
import { stripeRefundOutcome } from '../../src/payments/stripe';
import { DomainError } from '../../src/platform/errors';
import {
  disputeWorkflowId,
  keyRotationPurpose,
  keyRotationWorkflowId,
  orderWorkflowId,
  parseWorkflowId,
  refundWorkflowId,
  webhookWorkflowId,
} from '../../src/workflows/ids';
import { checkoutRefusalOf } from '../../src/workflows/order/guards';
import { ErrorCode, refusalCode } from '../../src/workflows/vocabulary';
import { count, currencyCode, date, nonNegative, positiveInteger, seconds } from '../../scripts/lib/cli-args';

test('every workflow id parses back to what built it; ids of no workflow of ours parse to nothing', () => {
  const id = '6f1c2a4e-0000-4000-8000-000000000001';
  expect(parseWorkflowId(orderWorkflowId(id))).toEqual({ kind: 'order', orderId: id });
  expect(parseWorkflowId(refundWorkflowId(id))).toEqual({ kind: 'refund', refundId: id });
  expect(parseWorkflowId(webhookWorkflowId('RAZORPAY', 'evt-1'))).toEqual({
    kind: 'webhook',
    provider: 'RAZORPAY',
    eventId: 'evt-1',
  });
  expect(parseWorkflowId(disputeWorkflowId('STRIPE', 'dp_1'))).toEqual({
    kind: 'dispute',
    provider: 'STRIPE',
    disputeId: 'dp_1',
  });
  const rotation = keyRotationWorkflowId('STRIPE_WEBHOOK_SECRET', 'r1');
  expect(parseWorkflowId(rotation)).toEqual({
    kind: 'key-rotation',
    purpose: 'STRIPE_WEBHOOK_SECRET',
    rotationId: 'r1',
  });
  expect(keyRotationPurpose(rotation)).toBe('STRIPE_WEBHOOK_SECRET');
  for (const other of ['order-', 'webhook-paypal-1', 'key-rotation-NOPE-1', 'admin-notice-x', ''])
    expect(parseWorkflowId(other)).toBeUndefined();
});

test('a stored refusal code reads back as ours, the provider’s, or the fallback', () => {
  expect(refusalCode('ORDER_DISPUTED', ErrorCode.REFUND_REFUSED)).toBe('ORDER_DISPUTED');
  expect(refusalCode('STRIPE_CHARGE_DISPUTED', ErrorCode.REFUND_REFUSED)).toBe('STRIPE_CHARGE_DISPUTED');
  expect(refusalCode('rm -rf', ErrorCode.REFUND_REFUSED)).toBe('REFUND_REFUSED');
  expect(refusalCode(null, ErrorCode.RETURN_REFUSED)).toBe('RETURN_REFUSED');
});

test("a refused checkout keeps the refusal's own code, message and details; a failure without one of ours is INTERNAL", () => {
  const unknown = ApplicationFailure.create({
    type: 'PRODUCT_NOT_FOUND',
    message: 'Unknown products: p-1',
    details: [{ productIds: ['p-1'] }],
    nonRetryable: true,
  });
  expect(checkoutRefusalOf(unknown)).toEqual({
    code: 'PRODUCT_NOT_FOUND',
    message: 'Unknown products: p-1',
    details: { productIds: ['p-1'] },
  });
  expect(
    checkoutRefusalOf(ApplicationFailure.create({ type: 'CURRENCY_MISMATCH', message: 'Not priced in USD' })),
  ).toEqual({ code: 'CURRENCY_MISMATCH', message: 'Not priced in USD' });
  expect(checkoutRefusalOf(ApplicationFailure.create({ message: 'boom' })).code).toBe(ErrorCode.INTERNAL);
});

test("a Stripe refund's status: succeeded, failed or canceled, else still pending", () => {
  expect(['succeeded', 'failed', 'canceled', 'pending', 'requires_action', null].map(stripeRefundOutcome)).toEqual([
    'SUCCEEDED',
    'FAILED',
    'FAILED',
    'PENDING',
    'PENDING',
    'PENDING',
  ]);
});

test("a Razorpay order's captured payment is the one captured, refunded since or not; failed attempts are not", () => {
  const payment = (id: string, status: RazorpayPayment['status']): RazorpayPayment => ({
    id,
    order_id: 'order_1',
    amount: 100,
    currency: 'INR',
    status,
  });
  expect(capturedPayment([payment('p1', 'failed'), payment('p2', 'captured')])?.id).toBe('p2');
  expect(capturedPayment([payment('p1', 'failed'), payment('p2', 'refunded')])?.id).toBe('p2');
  expect(capturedPayment([payment('p1', 'failed'), payment('p2', 'authorized')])).toBeUndefined();
});

test('an open dispute refuses refunds and returns (409 ORDER_DISPUTED naming it); a decided one does not', () => {
  expect(() => refuseWhileDisputed({ lostAmount: 500 })).not.toThrow();
  let refused: unknown;
  try {
    refuseWhileDisputed({ openDisputeId: 'dp_9', lostAmount: 0 });
  } catch (error) {
    refused = error;
  }
  expect(refused).toBeInstanceOf(DomainError);
  expect(refused).toMatchObject({ code: 'ORDER_DISPUTED', details: { disputeId: 'dp_9' } });
});

test('a customer sees that an admin acted on their order, never which admin', () => {
  const view = forCustomer({
    timeline: [
      { at: 't1', event: 'ORDER_SHIPPED', actor: { id: 'admin-uuid', role: 'ADMIN' as const } },
      { at: 't0', event: 'ORDER_PLACED', actor: { id: 'customer-uuid', role: 'CUSTOMER' as const } },
    ],
  } as never) as { timeline: { actor: unknown }[] };
  expect(view.timeline.map((t) => t.actor)).toEqual([{ role: 'ADMIN' }, { id: 'customer-uuid', role: 'CUSTOMER' }]);
});

test("the ops CLI's parsers take what they say and refuse the rest as usage errors", () => {
  expect(positiveInteger('25')).toBe(25);
  for (const bad of ['0', '-1', '1.5', 'ten', '', 'Infinity'])
    expect(() => positiveInteger(bad)).toThrow(InvalidArgumentError);
  expect([nonNegative('0'), nonNegative('2.5')]).toEqual([0, 2.5]);
  for (const bad of ['-1', 'ten', '', 'Infinity']) expect(() => nonNegative(bad)).toThrow(InvalidArgumentError);
  expect(count('0')).toBe(0);
  expect(() => count('-3')).toThrow('not a count');
  expect(seconds('10m')).toBe(600);
  expect(() => seconds('500ms')).toThrow('1s or more');
  expect(date('2026-01-15T00:00:00Z').toISOString()).toBe('2026-01-15T00:00:00.000Z');
  expect(() => date('yesterday')).toThrow('not a date');
  expect(currencyCode('inr')).toBe('INR');
  expect(() => currencyCode('RUPEES')).toThrow('currency code');
});
