/**
 * Razorpay end to end: orders opened through the `razorpay` client against the local sandbox
 * (Razorpay's documented API shapes), webhooks signed as Razorpay signs them (HMAC-SHA256 of the
 * raw body), and the cases the runbooks fear: late, lost, duplicated and out-of-order webhooks,
 * and money arriving for an order that has closed.
 */
import { randomUUID } from 'node:crypto';
import {
  createProduct,
  createUser,
  eventually,
  mailsTo,
  orderOf,
  untilOrder,
  useStack,
  type Stack,
  type TestUser,
} from '../helpers/stack';
import { sample, scrape } from '../helpers/metrics';
import { deliverRazorpayWebhook } from '../helpers/webhooks';
import { orderWorkflowId, refundWorkflowId } from '../../src/workflows/ids';
import { getOrderQuery } from '../../src/workflows/order/messages';

const PRICE = 49_900; // ₹499.00 in paise

async function placeRazorpayOrder(stack: Stack, admin: TestUser) {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 5, price: PRICE, currency: 'INR' });
  const checkout = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card', provider: 'razorpay' },
    customer.token,
  );
  expect(checkout.status).toBe(201);
  return {
    customer,
    product,
    orderId: checkout.body.orderId as string,
    razorpayOrderId: checkout.body.razorpayOrderId as string,
    checkout: checkout.body,
  };
}

/** Waits until every one of these stored events is PROCESSED. */
async function untilProcessed(stack: Stack, eventIds: string[], what: string) {
  await eventually(
    async () =>
      (await stack.prisma.webhookEvent.count({ where: { eventId: { in: eventIds }, status: 'PROCESSED' } })) ===
      new Set(eventIds).size,
    what,
  );
}

/**
 * Of two payments of one Razorpay order, the second went back in full, once; the first, which paid,
 * was not refunded, and the attempt's row is still its own (SUCCEEDED, its pay_ id, no refund).
 */
async function expectSecondPaymentRefunded(stack: Stack, orderId: string, first: string, second: string) {
  expect(stack.razorpay.refunds.filter((r) => r.payment_id === second).map((r) => r.amount)).toEqual([PRICE]);
  expect(stack.razorpay.refunds.filter((r) => r.payment_id === first)).toEqual([]);
  expect(await stack.prisma.payment.findFirstOrThrow({ where: { orderId } })).toMatchObject({
    status: 'SUCCEEDED',
    chargeId: first,
    refundId: null,
  });
}

describe('with webhooks arriving', () => {
  const { stack, admin } = useStack();

  test('checkout opens a Razorpay order; payment.captured confirms it; order.paid changes nothing more', async () => {
    const { customer, orderId, razorpayOrderId, checkout } = await placeRazorpayOrder(stack, admin);
    expect(checkout).toMatchObject({
      status: 'PENDING',
      paymentProvider: 'RAZORPAY',
      totalAmount: PRICE,
      currency: 'INR',
      razorpayKeyId: stack.config.RAZORPAY_KEY_ID,
    });
    expect(razorpayOrderId).toMatch(/^order_/);
    expect(checkout.clientSecret).toBeUndefined();

    const { webhooks } = stack.razorpay.pay(razorpayOrderId);
    expect((await deliverRazorpayWebhook(stack, webhooks['payment.captured'])).status).toBe(200);
    await untilOrder(stack, orderId, customer.token, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
    expect((await deliverRazorpayWebhook(stack, webhooks['order.paid'])).status).toBe(200);
    await eventually(
      async () =>
        (await stack.prisma.webhookEvent.findFirst({ where: { eventId: webhooks['order.paid'].eventId } }))?.status ===
        'PROCESSED',
      'order.paid processed',
    );

    await eventually(async () => mailsTo(stack, customer.email, 'confirmed').length > 0, 'confirmation email');
    const payment = await stack.prisma.payment.findFirstOrThrow({ where: { orderId } });
    expect(payment).toMatchObject({
      provider: 'RAZORPAY',
      providerPaymentId: razorpayOrderId,
      status: 'SUCCEEDED',
      confirmedBy: `RAZORPAY webhook ${webhooks['payment.captured'].eventId}`,
    });
    expect(mailsTo(stack, customer.email, 'confirmed')).toHaveLength(1);
  });

  test('order.paid arriving after the order was delivered and its workflow closed: processed, nothing refunded', async () => {
    const { customer, orderId, razorpayOrderId } = await placeRazorpayOrder(stack, admin);
    const { paymentId, webhooks } = stack.razorpay.pay(razorpayOrderId);
    expect((await deliverRazorpayWebhook(stack, webhooks['payment.captured'])).status).toBe(200);
    await untilOrder(stack, orderId, customer.token, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
    await stack.http.post(`/admin/orders/${orderId}/ship`, { trackingNumber: 'RZP-LATE' }, admin.token);
    await stack.http.post(`/admin/orders/${orderId}/deliver`, {}, admin.token);
    await stack.temporal.workflow.getHandle(orderWorkflowId(orderId)).result();

    expect((await deliverRazorpayWebhook(stack, webhooks['order.paid'])).status).toBe(200);
    await eventually(
      async () =>
        (await stack.prisma.webhookEvent.findFirst({ where: { eventId: webhooks['order.paid'].eventId } }))?.status ===
        'PROCESSED',
      'order.paid processed',
    );
    expect(stack.razorpay.refunds.filter((r) => r.payment_id === paymentId)).toEqual([]);
    expect(await stack.prisma.payment.findFirstOrThrow({ where: { orderId } })).toMatchObject({ status: 'SUCCEEDED' });
    expect(await orderOf(stack, orderId, customer.token)).toMatchObject({ status: 'DELIVERED', paymentStatus: 'PAID' });
    expect(mailsTo(stack, customer.email, 'refunded')).toHaveLength(0);
  });

  test('a second payment of the Razorpay order that paid is refunded in full, once; the one that paid keeps its row', async () => {
    const { customer, orderId, razorpayOrderId } = await placeRazorpayOrder(stack, admin);
    const first = stack.razorpay.pay(razorpayOrderId);
    expect((await deliverRazorpayWebhook(stack, first.webhooks['payment.captured'])).status).toBe(200);
    await untilOrder(stack, orderId, customer.token, (o) => o.status === 'CONFIRMED', 'CONFIRMED');

    // The customer pays the same Razorpay order again (a second tab, a retried checkout): a new
    // pay_ id under the same order_ id, with both of its webhooks, one of them twice.
    const refundsCounted = async () =>
      sample(await scrape(`${stack.http.baseUrl}/metrics`), 'durable_commerce_unexpected_payment_refunds_total', {
        provider: 'RAZORPAY',
      });
    const countedBefore = await refundsCounted();
    const second = stack.razorpay.pay(razorpayOrderId);
    for (const hook of [
      second.webhooks['payment.captured'],
      second.webhooks['order.paid'],
      second.webhooks['payment.captured'],
    ])
      expect((await deliverRazorpayWebhook(stack, hook)).status).toBe(200);
    await eventually(async () => mailsTo(stack, customer.email, 'refunded').length > 0, 'refund email');
    await untilProcessed(
      stack,
      Object.values(second.webhooks).map((w) => w.eventId),
      'both events processed',
    );

    await expectSecondPaymentRefunded(stack, orderId, first.paymentId, second.paymentId);
    expect(mailsTo(stack, customer.email, 'refunded')).toHaveLength(1);
    expect(await orderOf(stack, orderId, customer.token)).toMatchObject({ status: 'CONFIRMED', paymentStatus: 'PAID' });
    // The order's audit trail shows one refund, of the second payment, and its other event as news of it again.
    const { timeline } = await stack.temporal.workflow.getHandle(orderWorkflowId(orderId)).query(getOrderQuery);
    const about = (event: string) =>
      timeline.filter((t) => t.event === event && t.detail?.includes(second.paymentId)).map((t) => t.detail);
    expect(about('UNEXPECTED_PAYMENT_REFUNDED')).toEqual([expect.stringContaining(`which ${first.paymentId} paid`)]);
    expect(about('PAYMENT_EVENT_IGNORED')).toEqual([expect.stringContaining('refunded already')]);
    // Both events asked for the refund; it is counted once (the worker runs in this process).
    expect((await refundsCounted()) - countedBefore).toBe(1);
  });

  test('a second payment of the Razorpay order after the order was delivered and its workflow closed is refunded', async () => {
    const { customer, orderId, razorpayOrderId } = await placeRazorpayOrder(stack, admin);
    const first = stack.razorpay.pay(razorpayOrderId);
    expect((await deliverRazorpayWebhook(stack, first.webhooks['payment.captured'])).status).toBe(200);
    await untilOrder(stack, orderId, customer.token, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
    await stack.http.post(`/admin/orders/${orderId}/ship`, { trackingNumber: 'RZP-TWICE' }, admin.token);
    await stack.http.post(`/admin/orders/${orderId}/deliver`, {}, admin.token);
    await stack.temporal.workflow.getHandle(orderWorkflowId(orderId)).result();

    // Only the webhook's own workflow can act now: the first payment's late order.paid is no news,
    // the second payment goes back.
    const second = stack.razorpay.pay(razorpayOrderId);
    for (const hook of [first.webhooks['order.paid'], second.webhooks['payment.captured']])
      expect((await deliverRazorpayWebhook(stack, hook)).status).toBe(200);
    await eventually(async () => mailsTo(stack, customer.email, 'refunded').length > 0, 'refund email');
    await untilProcessed(
      stack,
      [first.webhooks['order.paid'].eventId, second.webhooks['payment.captured'].eventId],
      'both events processed',
    );
    await expectSecondPaymentRefunded(stack, orderId, first.paymentId, second.paymentId);
    expect(mailsTo(stack, customer.email, 'refunded')).toHaveLength(1);
    expect(await orderOf(stack, orderId, customer.token)).toMatchObject({ status: 'DELIVERED', paymentStatus: 'PAID' });
  });

  test("a payment for order A's Razorpay order with order B's id in its notes confirms A; B stays pending", async () => {
    const a = await placeRazorpayOrder(stack, admin);
    const b = await placeRazorpayOrder(stack, admin); // same price: only the notes point at B
    // Razorpay Checkout's `notes` are set in the customer's browser: here they name B.
    const { paymentId, webhooks } = stack.razorpay.pay(a.razorpayOrderId, 'captured', {
      notes: { orderId: b.orderId, attempt: '1' },
    });
    expect((await deliverRazorpayWebhook(stack, webhooks['payment.captured'])).status).toBe(200);
    expect((await deliverRazorpayWebhook(stack, webhooks['order.paid'])).status).toBe(200);
    await untilOrder(stack, a.orderId, a.customer.token, (o) => o.status === 'CONFIRMED', 'A CONFIRMED');
    await untilProcessed(
      stack,
      Object.values(webhooks).map((w) => w.eventId),
      'both events processed',
    );
    const stored = await stack.prisma.webhookEvent.findMany({
      where: { eventId: { in: Object.values(webhooks).map((w) => w.eventId) } },
    });
    expect(stored.map((e) => e.error)).toEqual([null, null]);
    expect(await orderOf(stack, b.orderId, b.customer.token)).toMatchObject({
      status: 'PENDING',
      paymentStatus: 'PENDING',
      razorpayOrderId: b.razorpayOrderId,
    });
    expect(await stack.prisma.payment.findFirstOrThrow({ where: { orderId: b.orderId } })).toMatchObject({
      providerPaymentId: b.razorpayOrderId,
      status: 'PENDING',
    });
    expect(await stack.prisma.payment.findFirstOrThrow({ where: { orderId: a.orderId } })).toMatchObject({
      providerPaymentId: a.razorpayOrderId,
      status: 'SUCCEEDED',
    });
    expect(stack.razorpay.refunds.filter((r) => r.payment_id === paymentId)).toEqual([]);
    // And the database will not let one provider payment stand for two orders' attempts.
    await expect(
      stack.prisma.payment.update({
        where: { orderId_attempt: { orderId: b.orderId, attempt: 1 } },
        data: { providerPaymentId: a.razorpayOrderId },
      }),
    ).rejects.toThrow(/Unique constraint/);
  });

  test('a failed payment, then a retry with a new Razorpay order', async () => {
    const { customer, orderId, razorpayOrderId } = await placeRazorpayOrder(stack, admin);
    const failed = stack.razorpay.pay(razorpayOrderId, 'failed');
    expect((await deliverRazorpayWebhook(stack, failed.webhooks['payment.failed'])).status).toBe(200);
    await untilOrder(stack, orderId, customer.token, (o) => o.paymentStatus === 'FAILED', 'payment FAILED');

    const retry = await stack.http.post(`/api/orders/${orderId}/payments`, {}, customer.token);
    expect(retry.status).toBe(201);
    expect(retry.body).toMatchObject({ paymentAttempt: 2, razorpayKeyId: stack.config.RAZORPAY_KEY_ID });
    expect(retry.body.razorpayOrderId).not.toBe(razorpayOrderId);

    const paid = stack.razorpay.pay(retry.body.razorpayOrderId);
    expect((await deliverRazorpayWebhook(stack, paid.webhooks['payment.captured'])).status).toBe(200);
    await untilOrder(stack, orderId, customer.token, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
    const attempts = await stack.prisma.payment.findMany({ where: { orderId }, orderBy: { attempt: 'asc' } });
    expect(attempts.map((a) => [a.attempt, a.status])).toEqual([
      [1, 'FAILED'],
      [2, 'SUCCEEDED'],
    ]);
  });

  test('forged, unsigned and malformed deliveries are 400 and change nothing', async () => {
    const { customer, orderId, razorpayOrderId } = await placeRazorpayOrder(stack, admin);
    const { webhooks } = stack.razorpay.pay(razorpayOrderId);
    const captured = webhooks['payment.captured'];

    const forged = await deliverRazorpayWebhook(stack, captured, { secret: 'not-the-webhook-secret' });
    expect(forged.status).toBe(400);
    expect(forged.body.error.code).toBe('INVALID_SIGNATURE');
    const unsigned = await stack.http.request('POST', '/api/payments/razorpay/webhook', {
      raw: captured.body,
      headers: { 'x-razorpay-event-id': captured.eventId },
    });
    expect(unsigned.body.error.code).toBe('MISSING_SIGNATURE');
    for (const body of ['not json', JSON.stringify({ entity: 'event', event: 'payment.captured', payload: {} })]) {
      const malformed = await deliverRazorpayWebhook(stack, { eventId: `evt_${randomUUID()}`, body });
      expect({ status: malformed.status, code: malformed.body.error.code }).toEqual({
        status: 400,
        code: 'MALFORMED_EVENT',
      });
    }
    const noEventId = await stack.http.request('POST', '/api/payments/razorpay/webhook', {
      raw: captured.body,
      headers: {
        'x-razorpay-signature': (await import('../../scripts/lib/razorpay-sandbox')).signRazorpayWebhook(
          captured.body,
          stack.config.RAZORPAY_WEBHOOK_SECRET,
        ),
      },
    });
    expect(noEventId.body.error.code).toBe('MALFORMED_EVENT');

    expect(await orderOf(stack, orderId, customer.token)).toMatchObject({
      status: 'PENDING',
      paymentStatus: 'PENDING',
    });
    expect(await stack.prisma.webhookEvent.count({ where: { provider: 'RAZORPAY', eventId: captured.eventId } })).toBe(
      0,
    );
  });

  test('a payment for a Razorpay order we never opened is accepted and recorded FAILED with the reason', async () => {
    const hook = {
      eventId: `evt_${randomUUID().slice(0, 14)}`,
      body: JSON.stringify({
        entity: 'event',
        event: 'payment.captured',
        contains: ['payment'],
        payload: {
          payment: {
            entity: {
              id: 'pay_stranger',
              entity: 'payment',
              order_id: 'order_stranger',
              amount: 100,
              currency: 'INR',
              status: 'captured',
              notes: [],
            },
          },
        },
        created_at: Math.floor(Date.now() / 1000),
      }),
    };
    expect((await deliverRazorpayWebhook(stack, hook)).status).toBe(200);
    const stored = await eventually(async () => {
      const row = await stack.prisma.webhookEvent.findFirst({ where: { provider: 'RAZORPAY', eventId: hook.eventId } });
      return row?.status === 'FAILED' && row;
    }, 'event FAILED');
    expect(stored.error).toBe('No order matches RAZORPAY payment order_stranger');
    expect(stored.attemptCount).toBe(1);
  });

  test('a refund to the original payment goes through Razorpay once; Razorpay failing it later reverses it and tells every admin', async () => {
    const { customer, orderId, razorpayOrderId } = await placeRazorpayOrder(stack, admin);
    const { paymentId, webhooks } = stack.razorpay.pay(razorpayOrderId);
    await deliverRazorpayWebhook(stack, webhooks['payment.captured']);
    await untilOrder(stack, orderId, customer.token, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
    const requested = await stack.http.post(`/api/orders/${orderId}/refunds`, { reason: 'wrong size' }, customer.token);
    expect(requested.body).toMatchObject({
      status: 'PENDING_APPROVAL',
      destination: 'ORIGINAL_PAYMENT',
      amount: PRICE,
    });
    const refundId: string = requested.body.refundId;
    const approved = await stack.http.post(
      `/admin/refunds/${refundId}/approve`,
      { reason: 'returned unworn' },
      admin.token,
    );
    expect(approved.body).toMatchObject({ decidedBy: admin.id, stripeRefundId: expect.stringMatching(/^rfnd_/) });
    await eventually(
      async () => (await stack.prisma.refund.findUniqueOrThrow({ where: { id: refundId } })).status === 'COMPLETED',
      'COMPLETED',
    );
    const made = stack.razorpay.refunds.filter((r) => r.payment_id === paymentId);
    expect(made.map((r) => [r.amount, r.notes.idempotencyKey])).toEqual([[PRICE, `refund-${refundId}`]]);
    await untilOrder(stack, orderId, customer.token, (o) => o.status === 'REFUNDED', 'REFUNDED');
    await stack.temporal.workflow.getHandle(refundWorkflowId(refundId)).result();

    // Days later Razorpay reports the refund failed (the card was closed): the customer has not been paid back.
    const body = JSON.stringify({
      entity: 'event',
      event: 'refund.failed',
      contains: ['refund', 'payment'],
      payload: { refund: { entity: { ...made[0], status: 'failed' } } },
      created_at: Math.floor(Date.now() / 1000),
    });
    expect((await deliverRazorpayWebhook(stack, { eventId: `evt_rf_${refundId.slice(0, 8)}`, body })).status).toBe(200);
    await eventually(
      async () => (await stack.prisma.refund.findUniqueOrThrow({ where: { id: refundId } })).status === 'FAILED',
      'refund FAILED',
    );
    expect((await stack.prisma.refund.findUniqueOrThrow({ where: { id: refundId } })).failureReason).toBe(
      `RAZORPAY reported refund ${made[0].id} failed after it was completed`,
    );
    expect((await stack.prisma.order.findUniqueOrThrow({ where: { id: orderId } })).paymentStatus).toBe('PAID');
    const subject = `Refund ${refundId} failed after completion: the customer has not been paid back`;
    const alert = await eventually(
      async () => stack.smtp.messages.find((m) => m.to.includes(admin.email) && m.subject === subject),
      'admins alerted',
    );
    expect(alert.text).toContain(`order ${orderId}`);
  });

  test('out of order and three times over, all at once: one transition, one email', async () => {
    const { customer, product, orderId, razorpayOrderId } = await placeRazorpayOrder(stack, admin);
    const declined = stack.razorpay.pay(razorpayOrderId, 'failed').webhooks['payment.failed'];
    const { webhooks } = stack.razorpay.pay(razorpayOrderId);
    const captured = webhooks['payment.captured'];
    const deliveries = [captured, webhooks['order.paid'], captured, declined, captured, webhooks['order.paid']];
    const answers = await Promise.all(deliveries.map((hook) => deliverRazorpayWebhook(stack, hook)));
    expect(answers.map((a) => a.status)).toEqual(deliveries.map(() => 200));

    await untilOrder(stack, orderId, customer.token, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
    await eventually(
      async () =>
        (await stack.prisma.webhookEvent.count({
          where: {
            provider: 'RAZORPAY',
            eventId: { in: [captured.eventId, declined.eventId, webhooks['order.paid'].eventId] },
            status: 'PROCESSED',
          },
        })) === 3,
      'all three events processed',
    );
    // The failure, whenever it was handled, did not move the order backwards.
    expect(await orderOf(stack, orderId, customer.token)).toMatchObject({ status: 'CONFIRMED', paymentStatus: 'PAID' });
    expect(
      (await stack.http.post(`/admin/orders/${orderId}/ship`, { trackingNumber: 'RZP-1' }, admin.token)).status,
    ).toBe(200);
    await eventually(async () => mailsTo(stack, customer.email, 'shipped').length > 0, 'shipped email');
    expect(mailsTo(stack, customer.email, 'confirmed')).toHaveLength(1);
    const ledger = await stack.prisma.inventoryLedger.findMany({ where: { reference: orderId } });
    expect(ledger.map((l) => [l.type, l.productId])).toEqual(
      expect.arrayContaining([
        ['RESERVE', product.id],
        ['SALE', product.id],
      ]),
    );
    expect(ledger).toHaveLength(2);
    expect(await stack.prisma.payment.count({ where: { orderId, status: 'SUCCEEDED' } })).toBe(1);
  });
});

describe('when webhooks are late or the order has closed', () => {
  const { stack, admin } = useStack({ env: { RESERVATION_TTL: '4s', PAYMENT_RECONCILE_AFTER: '1s' } });

  test("no webhook: the order is confirmed from Razorpay's own status, once, even when the webhook then arrives", async () => {
    const { customer, orderId, razorpayOrderId } = await placeRazorpayOrder(stack, admin);
    const { webhooks } = stack.razorpay.pay(razorpayOrderId); // the customer pays; the webhook is delayed

    const confirmed = await untilOrder(
      stack,
      orderId,
      customer.token,
      (o) => o.status === 'CONFIRMED',
      'CONFIRMED without a webhook',
    );
    const events = confirmed.timeline as { event: string; actor: { id: string } }[];
    expect(events.find((t) => t.event === 'PAYMENT_SUCCEEDED')?.actor.id).toBe('razorpay-status-check');
    const payment = await stack.prisma.payment.findFirstOrThrow({ where: { orderId } });
    expect(payment.confirmedBy).toBe('RAZORPAY status check (no webhook had arrived)');

    for (const hook of Object.values(webhooks)) expect((await deliverRazorpayWebhook(stack, hook)).status).toBe(200);
    await untilProcessed(
      stack,
      Object.values(webhooks).map((w) => w.eventId),
      'late webhooks processed',
    );
    const after = await orderOf(stack, orderId, customer.token);
    expect(after).toMatchObject({ status: 'CONFIRMED', paymentStatus: 'PAID' });
    expect((after.timeline as { event: string }[]).filter((t) => t.event === 'PAYMENT_SUCCEEDED')).toHaveLength(1);
    await eventually(async () => mailsTo(stack, customer.email, 'confirmed').length > 0, 'confirmation email');
    expect(mailsTo(stack, customer.email, 'confirmed')).toHaveLength(1);
    expect(await stack.prisma.inventoryLedger.count({ where: { reference: orderId, type: 'SALE' } })).toBe(1);
  });

  test('a Razorpay payment already refunded when the status check finds it does not pay the order', async () => {
    const { customer, orderId, razorpayOrderId } = await placeRazorpayOrder(stack, admin);
    // The customer paid; the webhook is lost; the payment is refunded at the dashboard before we ask.
    const { paymentId } = stack.razorpay.pay(razorpayOrderId);
    const key = `${stack.config.RAZORPAY_KEY_ID}:${stack.config.RAZORPAY_KEY_SECRET}`;
    const refunded = await fetch(`${stack.razorpay.baseUrl}/v1/payments/${paymentId}/refund`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(key).toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ amount: PRICE }),
    });
    expect(refunded.status).toBe(200);

    const checked = await untilOrder(
      stack,
      orderId,
      customer.token,
      (o) => o.timeline.some((t: { event: string }) => t.event === 'PAYMENT_STATUS_CHECKED'),
      'status checked',
    );
    expect(checked).toMatchObject({ status: 'PENDING', paymentStatus: 'PENDING' });
    expect(checked.timeline.find((t: { event: string }) => t.event === 'PAYMENT_STATUS_CHECKED').detail).toContain(
      'reports PENDING',
    );
    const expired = await untilOrder(stack, orderId, customer.token, (o) => o.status === 'CANCELLED', 'expired');
    expect(expired.cancelReason).toBe('RESERVATION_EXPIRED');
    expect(await stack.prisma.payment.findFirstOrThrow({ where: { orderId } })).toMatchObject({
      status: 'CANCELLED',
      confirmedBy: null,
    });
  });

  test('a payment after the reservation expired is refunded in full, exactly once, and the customer is told', async () => {
    const { customer, orderId, razorpayOrderId } = await placeRazorpayOrder(stack, admin);
    await untilOrder(stack, orderId, customer.token, (o) => o.status === 'CANCELLED', 'expired');
    // The order's workflow has finished: only the webhook's own workflow can act on this payment.
    await stack.temporal.workflow.getHandle(orderWorkflowId(orderId)).result();

    const { paymentId, webhooks } = stack.razorpay.pay(razorpayOrderId);
    const answers = await Promise.all(
      [webhooks['payment.captured'], webhooks['order.paid'], webhooks['payment.captured']].map((hook) =>
        deliverRazorpayWebhook(stack, hook),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);

    await eventually(async () => mailsTo(stack, customer.email, 'refunded').length > 0, 'refund email');
    await untilProcessed(
      stack,
      Object.values(webhooks).map((w) => w.eventId),
      'both events processed',
    );
    expect(stack.razorpay.refunds.filter((r) => r.payment_id === paymentId).map((r) => r.amount)).toEqual([PRICE]);
    expect(mailsTo(stack, customer.email, 'refunded')).toHaveLength(1);
    const payment = await stack.prisma.payment.findFirstOrThrow({ where: { orderId } });
    expect(payment).toMatchObject({ status: 'REFUNDED', failureReason: 'paid after the order had closed' });
    expect(await orderOf(stack, orderId, customer.token)).toMatchObject({
      status: 'CANCELLED',
      cancelReason: 'RESERVATION_EXPIRED',
    });

    // The audit timeline shows the reservation's deadline firing, then the release and the refund.
    const entries = (await stack.http.get(`/admin/orders/${orderId}/history?pageSize=500`, admin.token)).body
      .entries as { at: string; workflowId: string; kind: string; name?: string; detail?: string }[];
    const released = entries.findIndex((e) => e.kind === 'ACTIVITY_COMPLETED' && e.name === 'cancelOrder');
    const refunded = entries.findIndex((e) => e.kind === 'ACTIVITY_COMPLETED' && e.name === 'refundUnexpectedPayment');
    // The waits before the release (status checks every PAYMENT_RECONCILE_AFTER, then the rest of
    // RESERVATION_TTL) each say how long they were set for; the last one fired at the deadline.
    const fired = entries
      .slice(0, released)
      .filter((e) => e.kind === 'TIMER_FIRED' && e.workflowId === `order-${orderId}`);
    expect(fired.length).toBeGreaterThan(0);
    for (const timer of fired) expect(timer.detail).toMatch(/^set for \d+(\.\d)?s$/);
    const { reservationExpiresAt } = await stack.prisma.order.findUniqueOrThrow({ where: { id: orderId } });
    expect(new Date(fired.at(-1)!.at).getTime()).toBeGreaterThanOrEqual(reservationExpiresAt!.getTime());
    expect(released).toBeLessThan(refunded);
  });
});
