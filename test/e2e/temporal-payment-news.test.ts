/**
 * Issue 13 point 5, money-moving news: a `paymentEvent` (or `refundSettled`) signal typed into
 * Temporal by hand, properly encoded as the Web UI's signal form sends it, must move no money. The
 * workflow checks it against the stored verified webhook event it names, or asks the provider
 * (stripe-mock here); unverified news is recorded in the order's timeline and the audit log, and
 * ignored. The provider's signed webhook still pays the order.
 */
import { randomUUID } from 'node:crypto';
import { verifyPaymentNews } from '../../src/payments/news';
import { getOrderQuery, paymentEventSignal } from '../../src/workflows/order/messages';
import { orderWorkflowId } from '../../src/workflows/ids';
import { eventually, untilOrder, useStack } from '../helpers/stack';
import { deliverStripeEvent, paymentIntentEvent } from '../helpers/webhooks';
import { cardCheckout } from '../helpers/orders';

const { stack, admin } = useStack();

test('a payment success typed into Temporal, for the order’s own PaymentIntent and amount, moves nothing; the signed webhook pays', async () => {
  const { customer, orderId, paymentIntentId } = await cardCheckout(stack, admin, { stock: 2, price: 2500 });
  const handle = stack.temporal.workflow.getHandle(orderWorkflowId(orderId));

  // Everything an attacker can read in the history and type into the signal form.
  const eventId = `evt_${randomUUID().replace(/-/g, '')}`;
  await handle.signal(paymentEventSignal, {
    provider: 'STRIPE',
    eventId,
    outcome: 'SUCCEEDED',
    providerPaymentId: paymentIntentId,
    amount: 2500,
    currency: 'USD',
  });
  const ignored = await eventually(async () => {
    const view = await handle.query(getOrderQuery);
    return view.timeline.find((e) => e.event === 'UNVERIFIED_PAYMENT_NEWS_IGNORED') && view;
  }, 'the news ignored');
  expect(ignored).toMatchObject({ status: 'PENDING', paymentStatus: 'PENDING' });
  const row = await stack.prisma.order.findUniqueOrThrow({ where: { id: orderId } });
  expect({ status: row.status, paymentStatus: row.paymentStatus }).toEqual({
    status: 'PENDING',
    paymentStatus: 'PENDING',
  });
  expect(
    await stack.prisma.auditLog.findMany({ where: { targetId: orderId, action: 'UNVERIFIED_PAYMENT_NEWS_IGNORED' } }),
  ).toEqual([
    expect.objectContaining({
      actorId: 'temporal-signal',
      reason: expect.stringContaining(`no stored event ${eventId}`),
      after: expect.objectContaining({ signal: 'paymentEvent', claimed: expect.objectContaining({ eventId }) }),
    }),
  ]);

  // Stripe's signed webhook, stored and verified by the API: the order is paid.
  const event = paymentIntentEvent('payment_intent.succeeded', {
    id: paymentIntentId,
    orderId,
    amount: 2500,
    currency: 'usd',
  });
  expect((await deliverStripeEvent(stack, event)).status).toBe(200);
  await untilOrder(stack, orderId, customer.token, (o) => o.status === 'CONFIRMED', 'paid by the webhook');
  const view = await handle.query(getOrderQuery);
  expect(view.timeline.filter((e) => e.event === 'PAYMENT_SUCCEEDED')).toEqual([
    expect.objectContaining({ detail: expect.stringContaining(`webhook ${event.id}`) }),
  ]);
});

test('refund news is checked against the stored verified event, then Stripe', async () => {
  const sources = { prisma: stack.prisma, stripe: stack.stripe, razorpay: undefined as never };
  const refundId = randomUUID();
  const eventId = `evt_${randomUUID().replace(/-/g, '')}`;
  await stack.prisma.webhookEvent.create({
    data: {
      provider: 'STRIPE',
      eventId,
      type: 'refund.updated',
      status: 'PROCESSED',
      payload: {
        id: eventId,
        type: 'refund.updated',
        data: {
          object: {
            id: 're_stored_1',
            status: 'failed',
            metadata: { refundId },
            failure_reason: 'expired_or_canceled_card',
          },
        },
      },
    },
  });
  const settlement = { refundId, providerRefundId: 're_stored_1', eventId };
  expect(
    await verifyPaymentNews(sources, { kind: 'refund', refundId, settlement: { ...settlement, outcome: 'FAILED' } }),
  ).toEqual({ verified: true, by: 'stored-event' });
  // The stored event says FAILED, not SUCCEEDED; and it names no other refund.
  expect(
    await verifyPaymentNews(sources, { kind: 'refund', refundId, settlement: { ...settlement, outcome: 'SUCCEEDED' } }),
  ).toMatchObject({ verified: false, reason: expect.stringContaining('reports FAILED') });
  expect(
    await verifyPaymentNews(sources, {
      kind: 'refund',
      refundId: randomUUID(),
      settlement: { ...settlement, refundId: randomUUID(), outcome: 'FAILED' },
    }),
  ).toMatchObject({ verified: false });
  // No stored event: Stripe is asked, and knows no refund of ours by that id.
  expect(
    await verifyPaymentNews(sources, {
      kind: 'refund',
      refundId,
      settlement: { refundId, providerRefundId: 're_typed_by_hand', eventId: 'evt_typed', outcome: 'FAILED' },
    }),
  ).toMatchObject({ verified: false, reason: expect.stringContaining('Stripe knows no refund re_typed_by_hand') });
});
