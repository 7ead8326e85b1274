/**
 * Stripe webhooks through the real endpoint: signed exactly as Stripe signs them, stored once,
 * handed to Temporal, and never acted on twice. Forged, stale or malformed deliveries are 400s
 * that change nothing.
 */
import { randomUUID } from 'node:crypto';
import { eventually, mailsTo as mailsToIn, orderOf as orderIn, untilOrder, useStack } from '../helpers/stack';
import { deliverStripeEvent, paymentIntentEvent } from '../helpers/webhooks';
import { orderWorkflowId, webhookWorkflowId } from '../../src/workflows/ids';
import { cardCheckout } from '../helpers/orders';

const { stack, admin } = useStack();

const orderOf = (orderId: string, token: string) => orderIn(stack, orderId, token);
const untilStatus = (orderId: string, token: string, status: string) =>
  untilOrder(stack, orderId, token, (o) => o.status === status, `order ${status}`);
const mailsTo = (email: string, suffix: string) => mailsToIn(stack, email, suffix);

async function placeCardOrder(price = 3000) {
  const { customer, product, orderId, paymentIntentId } = await cardCheckout(stack, admin, { price });
  const intent = { id: paymentIntentId, orderId, amount: price, currency: 'usd' };
  return { customer, product, orderId, intent };
}

test('the same webhook delivered 3 times concurrently: one transition, one email', async () => {
  const { customer, product, orderId, intent } = await placeCardOrder();
  const event = paymentIntentEvent('payment_intent.succeeded', intent);

  const answers = await Promise.all([1, 2, 3].map(() => deliverStripeEvent(stack, event)));
  expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
  await untilStatus(orderId, customer.token, 'CONFIRMED');

  const stored = await eventually(async () => {
    const rows = await stack.prisma.webhookEvent.findMany({
      where: { provider: 'STRIPE', eventId: event.id as string },
    });
    return rows.length === 1 && rows[0].status === 'PROCESSED' && rows;
  }, 'event PROCESSED');
  expect(stored[0].attemptCount).toBe(1);

  // Shipping sends a later email; once it is here, a second confirmation can no longer be "late".
  expect((await stack.http.post(`/admin/orders/${orderId}/ship`, { trackingNumber: 'T-3X' }, admin.token)).status).toBe(
    200,
  );
  await eventually(async () => mailsTo(customer.email, 'shipped').length > 0, 'shipped email');
  expect(mailsTo(customer.email, 'confirmed')).toHaveLength(1);
  const sales = await stack.prisma.inventoryLedger.findMany({ where: { reference: orderId, type: 'SALE' } });
  expect(sales.map((s) => [s.productId, s.quantity])).toEqual([[product.id, 1]]);
});

test("an open order's payment news is signalled to it by the endpoint: processed once, a redelivery a duplicate", async () => {
  const { customer, orderId, intent } = await placeCardOrder();
  const event = paymentIntentEvent('payment_intent.succeeded', intent);
  expect((await deliverStripeEvent(stack, event)).body).toEqual({ received: true });
  // Durable before the answer: stored, and already processed (taken by the order's workflow).
  const stored = await stack.prisma.webhookEvent.findFirstOrThrow({ where: { eventId: event.id as string } });
  expect(stored).toMatchObject({ status: 'PROCESSED', attemptCount: 1, error: null, orderId });
  await untilStatus(orderId, customer.token, 'CONFIRMED');
  // No webhook workflow was needed.
  await expect(
    stack.temporal.workflow.getHandle(webhookWorkflowId('STRIPE', event.id as string)).describe(),
  ).rejects.toThrow();
  expect((await deliverStripeEvent(stack, event)).body).toEqual({ received: true, duplicate: true });
  const order = await orderOf(orderId, customer.token);
  expect((order.timeline as { event: string }[]).filter((t) => t.event === 'PAYMENT_SUCCEEDED')).toHaveLength(1);
  expect(await stack.prisma.webhookEvent.findFirstOrThrow({ where: { eventId: event.id as string } })).toMatchObject({
    status: 'PROCESSED',
    attemptCount: 1,
  });
});

test('out of order and several times over, all at once: one transition, one email, never backwards', async () => {
  const { customer, orderId, intent } = await placeCardOrder();
  const succeeded = paymentIntentEvent('payment_intent.succeeded', intent);
  const failed = paymentIntentEvent('payment_intent.payment_failed', intent);
  // A decline from an earlier try, the success twice, and a second success event, all in one moment.
  const deliveries = [failed, succeeded, succeeded, paymentIntentEvent('payment_intent.succeeded', intent), failed];
  const answers = await Promise.all(deliveries.map((event) => deliverStripeEvent(stack, event)));
  expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);

  await eventually(
    async () => (await stack.prisma.webhookEvent.count({ where: { orderId, status: 'PROCESSED' } })) === 3,
    'three distinct events processed',
  );
  const order = await untilStatus(orderId, customer.token, 'CONFIRMED');
  expect(order.paymentStatus).toBe('PAID');
  expect((order.timeline as { event: string }[]).filter((t) => t.event === 'PAYMENT_SUCCEEDED')).toHaveLength(1);
  expect(
    (await stack.http.post(`/admin/orders/${orderId}/ship`, { trackingNumber: 'T-OOO' }, admin.token)).status,
  ).toBe(200);
  await eventually(async () => mailsTo(customer.email, 'shipped').length > 0, 'shipped email');
  expect(mailsTo(customer.email, 'confirmed')).toHaveLength(1);
  expect(await stack.prisma.inventoryLedger.count({ where: { reference: orderId, type: 'SALE' } })).toBe(1);
  expect((await stack.prisma.payment.findMany({ where: { orderId } })).map((p) => p.status)).toEqual(['SUCCEEDED']);
});

test('a second event reporting the same payment changes nothing', async () => {
  const { customer, orderId, intent } = await placeCardOrder();
  expect((await deliverStripeEvent(stack, paymentIntentEvent('payment_intent.succeeded', intent))).status).toBe(200);
  await untilStatus(orderId, customer.token, 'CONFIRMED');

  const again = paymentIntentEvent('payment_intent.succeeded', intent);
  expect((await deliverStripeEvent(stack, again)).status).toBe(200);
  await eventually(
    async () =>
      (await stack.prisma.webhookEvent.findFirst({ where: { eventId: again.id as string, status: 'PROCESSED' } })) !==
      null,
    'second event processed',
  );
  const order = await eventually(async () => {
    const o = await orderOf(orderId, customer.token);
    return o.timeline.some((t: { event: string }) => t.event === 'PAYMENT_EVENT_IGNORED') && o;
  }, 'duplicate payment noted');
  expect(order).toMatchObject({ status: 'CONFIRMED', paymentStatus: 'PAID' });
  await eventually(async () => mailsTo(customer.email, 'confirmed').length > 0, 'confirmation');
  expect(mailsTo(customer.email, 'confirmed')).toHaveLength(1);
  expect(await stack.prisma.payment.count({ where: { orderId, status: 'SUCCEEDED' } })).toBe(1);
});

describe('deliveries that are refused with 400 and change nothing', () => {
  async function expectRefusedAndUnchanged(
    response: { status: number; body: { error: { code: string } } },
    code: string,
    orderId: string,
    token: string,
    eventId?: string,
  ) {
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe(code);
    const order = await orderOf(orderId, token);
    expect(order).toMatchObject({ status: 'PENDING', paymentStatus: 'PENDING' });
    if (eventId) expect(await stack.prisma.webhookEvent.count({ where: { eventId } })).toBe(0);
  }

  test('a forged signature', async () => {
    const { customer, orderId, intent } = await placeCardOrder();
    const event = paymentIntentEvent('payment_intent.succeeded', intent);
    const response = await deliverStripeEvent(stack, event, { secret: 'whsec_wrong' });
    await expectRefusedAndUnchanged(response, 'INVALID_SIGNATURE', orderId, customer.token, event.id as string);
  });

  test('a stale timestamp, correctly signed', async () => {
    const { customer, orderId, intent } = await placeCardOrder();
    const event = paymentIntentEvent('payment_intent.succeeded', intent);
    const response = await deliverStripeEvent(stack, event, { timestamp: Math.floor(Date.now() / 1000) - 600 });
    await expectRefusedAndUnchanged(response, 'INVALID_SIGNATURE', orderId, customer.token, event.id as string);
  });

  test('no signature, a signed body that is not JSON, a payment event without a PaymentIntent', async () => {
    const { customer, orderId, intent } = await placeCardOrder();
    const unsigned = await stack.http.request('POST', '/api/payments/stripe/webhook', {
      raw: JSON.stringify(paymentIntentEvent('payment_intent.succeeded', intent)),
    });
    await expectRefusedAndUnchanged(unsigned, 'MISSING_SIGNATURE', orderId, customer.token);

    const notJson = 'this is not json';
    const signature = stack.stripe.webhooks.generateTestHeaderString({
      payload: notJson,
      secret: stack.config.STRIPE_WEBHOOK_SECRET,
    });
    const garbage = await stack.http.request('POST', '/api/payments/stripe/webhook', {
      raw: notJson,
      headers: { 'stripe-signature': signature },
    });
    expect(garbage.status).toBe(400);

    const malformed = paymentIntentEvent('payment_intent.succeeded', intent);
    (malformed.data as { object: Record<string, unknown> }).object = {
      object: 'payment_intent',
      metadata: { orderId },
    };
    await expectRefusedAndUnchanged(
      await deliverStripeEvent(stack, malformed),
      'MALFORMED_EVENT',
      orderId,
      customer.token,
      malformed.id as string,
    );
  });
});

test('a signed event without a usable id or type is 400 MALFORMED_EVENT and stores nothing', async () => {
  const { customer, orderId, intent } = await placeCardOrder();
  const noId = paymentIntentEvent('payment_intent.succeeded', intent);
  delete noId.id;
  const noType = paymentIntentEvent('payment_intent.succeeded', intent);
  delete noType.type;
  const longId = paymentIntentEvent('payment_intent.succeeded', intent, `evt_${'x'.repeat(400)}`);
  for (const event of [noId, noType, longId]) {
    const answer = await deliverStripeEvent(stack, event);
    expect({ status: answer.status, code: answer.body.error.code }).toEqual({ status: 400, code: 'MALFORMED_EVENT' });
  }
  expect(await stack.prisma.webhookEvent.count({ where: { orderId } })).toBe(0);
  expect(await orderOf(orderId, customer.token)).toMatchObject({ status: 'PENDING', paymentStatus: 'PENDING' });
});

test('a payment for a PaymentIntent we never opened is accepted and recorded FAILED with the reason', async () => {
  const event = paymentIntentEvent('payment_intent.succeeded', {
    id: 'pi_foreign',
    orderId: 'shop-42',
    amount: 100,
    currency: 'usd',
  });
  expect((await deliverStripeEvent(stack, event)).status).toBe(200);
  const stored = await eventually(async () => {
    const row = await stack.prisma.webhookEvent.findFirst({ where: { eventId: event.id as string } });
    return row?.status === 'FAILED' && row;
  }, 'event FAILED');
  expect(stored.error).toBe('No order matches STRIPE payment pi_foreign');
});

test('news of the payment that paid a delivered order, after its workflow closed, refunds nothing', async () => {
  const { customer, orderId, intent } = await placeCardOrder(2700);
  await deliverStripeEvent(stack, paymentIntentEvent('payment_intent.succeeded', intent));
  await untilStatus(orderId, customer.token, 'CONFIRMED');
  await stack.http.post(`/admin/orders/${orderId}/ship`, { trackingNumber: 'LATE-NEWS' }, admin.token);
  expect((await stack.http.post(`/admin/orders/${orderId}/deliver`, {}, admin.token)).body.status).toBe('DELIVERED');
  await stack.temporal.workflow.getHandle(orderWorkflowId(orderId)).result();

  // Stripe sends the success again under another event id (a replay would do the same).
  const late = paymentIntentEvent('payment_intent.succeeded', intent);
  expect((await deliverStripeEvent(stack, late)).status).toBe(200);
  await eventually(
    async () =>
      (await stack.prisma.webhookEvent.findFirst({ where: { eventId: late.id as string } }))?.status === 'PROCESSED',
    'late event PROCESSED',
  );
  expect(await stack.prisma.payment.findFirstOrThrow({ where: { orderId } })).toMatchObject({
    status: 'SUCCEEDED',
    providerPaymentId: intent.id,
  });
  expect(await orderOf(orderId, customer.token)).toMatchObject({ status: 'DELIVERED', paymentStatus: 'PAID' });
  expect(mailsTo(customer.email, 'refunded')).toHaveLength(0);
  const history = await stack.temporal.workflow
    .getHandle(webhookWorkflowId('STRIPE', late.id as string))
    .fetchHistory();
  const activities = history
    .events!.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
    .filter(Boolean);
  expect(activities).not.toContain('refundUnexpectedPayment');
});

test('an event type the shop does not act on is acknowledged and recorded as processed', async () => {
  const event = {
    id: `evt_${randomUUID().replace(/-/g, '')}`,
    object: 'event',
    type: 'customer.created',
    created: Math.floor(Date.now() / 1000),
    data: { object: { id: 'cus_123', object: 'customer' } },
  };
  expect((await deliverStripeEvent(stack, event)).status).toBe(200);
  await eventually(
    async () => (await stack.prisma.webhookEvent.findFirst({ where: { eventId: event.id } }))?.status === 'PROCESSED',
    'ignored event PROCESSED',
  );
});

test('a payment for another PaymentIntent, whose metadata names one of our orders, never pays that order', async () => {
  const { customer, orderId, intent } = await placeCardOrder();
  // Events are routed by the PaymentIntent, which we opened; its metadata is not trusted.
  const event = paymentIntentEvent('payment_intent.succeeded', { ...intent, id: 'pi_unknown' });
  expect((await deliverStripeEvent(stack, event)).status).toBe(200);
  const stored = await eventually(async () => {
    const row = await stack.prisma.webhookEvent.findFirst({ where: { eventId: event.id as string } });
    return row?.status === 'FAILED' && row;
  }, 'event FAILED');
  expect(stored.error).toBe('No order matches STRIPE payment pi_unknown');
  expect(stored.orderId).toBeNull();
  expect(await orderOf(orderId, customer.token)).toMatchObject({ status: 'PENDING', paymentStatus: 'PENDING' });
});

test('a failed payment, a retry with a new PaymentIntent, and no step backwards afterwards', async () => {
  const { customer, orderId, intent } = await placeCardOrder();
  expect((await deliverStripeEvent(stack, paymentIntentEvent('payment_intent.payment_failed', intent))).status).toBe(
    200,
  );
  const failed = await eventually(async () => {
    const o = await orderOf(orderId, customer.token);
    return o.paymentStatus === 'FAILED' && o;
  }, 'payment FAILED');
  expect(failed.status).toBe('PENDING');

  const retry = await stack.http.post(`/api/orders/${orderId}/payments`, {}, customer.token);
  expect(retry.status).toBe(201);
  expect(retry.body).toMatchObject({ orderId, paymentAttempt: 2 });
  expect(retry.body.clientSecret).toMatch(/_secret_/);
  const retried = await orderOf(orderId, customer.token);
  expect(retried).toMatchObject({ paymentStatus: 'PENDING', paymentAttempt: 2 });

  const secondIntent = { ...intent, id: retried.paymentIntentId };
  expect((await deliverStripeEvent(stack, paymentIntentEvent('payment_intent.succeeded', secondIntent))).status).toBe(
    200,
  );
  await untilStatus(orderId, customer.token, 'CONFIRMED');

  // A failure reported late, after the payment went through, never moves the order back.
  const late = paymentIntentEvent('payment_intent.payment_failed', secondIntent);
  expect((await deliverStripeEvent(stack, late)).status).toBe(200);
  await eventually(
    async () =>
      (await stack.prisma.webhookEvent.findFirst({ where: { eventId: late.id as string } }))?.status === 'PROCESSED',
    'late failure processed',
  );
  expect(await orderOf(orderId, customer.token)).toMatchObject({ status: 'CONFIRMED', paymentStatus: 'PAID' });
  const attempts = await stack.prisma.payment.findMany({ where: { orderId }, orderBy: { attempt: 'asc' } });
  expect(attempts.map((a) => [a.attempt, a.status])).toEqual([
    [1, 'FAILED'],
    [2, 'SUCCEEDED'],
  ]);
});
