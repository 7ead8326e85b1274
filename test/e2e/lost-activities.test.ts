/**
 * Activities lost with their worker (kill -9 mid-activity), simulated by an attempt that never
 * reports back:
 * - a checkout whose createOrderAndReserveStock attempt is lost still answers 201: the attempt
 *   times out well inside API_TEMPORAL_DEADLINE and its retry places the order (with a 30 s
 *   start-to-close, the default deadline's own length, it answered 503 every time);
 * - webhook_events.attempt_count counts processing attempts (the first delivery, each replay),
 *   not activity retries: a retry of the webhook workflow's write of the outcome (here for a
 *   payment that arrives after its order closed: an open order's news skips that workflow, signalled
 *   by the endpoint itself) is not a second attempt;
 * - a payment's one step (recordSignalledPayment: verified against the stored webhook, recorded and
 *   the order confirmed) whose worker dies after the commit is retried and answered the same: the
 *   order is paid, sold and confirmed once, with one email.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Activities } from '../../src/activities';
import { createProduct, createUser, eventually, useStack } from '../helpers/stack';
import { deliverStripeEvent, paymentIntentEvent } from '../helpers/webhooks';
import { orderWorkflowId } from '../../src/workflows/ids';
import { getOrderQuery } from '../../src/workflows/order/messages';

const { stack, admin } = useStack({ worker: false });

test('a checkout whose reservation attempt is lost is still answered 201 within the deadline', async () => {
  let release!: () => void;
  const lostAttempt = new Promise<void>((resolve) => (release = resolve));
  let attempts = 0;
  await stack.startWorker({
    wrapActivities: (activities: Activities) => ({
      ...activities,
      createOrderAndReserveStock: async (input) => {
        if (attempts++ === 0) {
          await lostAttempt; // never reports back, as if its worker had died holding it
          throw ApplicationFailure.create({ type: 'WORKER_LOST', message: 'this attempt was lost' });
        }
        return activities.createOrderAndReserveStock(input);
      },
    }),
  });
  try {
    const customer = await createUser(stack);
    const product = await createProduct(stack, admin, { stock: 5, price: 1100 });
    const checkout = await stack.http.post(
      '/api/checkout',
      { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'cod' },
      customer.token,
    );
    expect(checkout.status).toBe(201);
    expect(attempts).toBe(2);
    expect(await stack.prisma.inventoryLedger.count({ where: { reference: checkout.body.orderId } })).toBe(1);
  } finally {
    release();
    await stack.stopWorker();
  }
});

test('an outcome recorded twice by an activity retry is one attempt', async () => {
  let lost = 0;
  await stack.startWorker({
    wrapActivities: (activities: Activities) => ({
      ...activities,
      // The write lands, then the worker "dies" before Temporal hears of it: the activity is retried.
      recordWebhookOutcome: async (input) => {
        await activities.recordWebhookOutcome(input);
        if (lost++ === 0)
          throw ApplicationFailure.create({ type: 'WORKER_LOST', message: 'worker lost after the write' });
      },
    }),
  });
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 5, price: 1500 });
  const checkout = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' },
    customer.token,
  );
  expect(checkout.status).toBe(201);
  const order = (await stack.http.get(`/api/orders/${checkout.body.orderId}`, customer.token)).body;
  // Cancelled, its workflow closed: the payment's news goes to the webhook workflow, which refunds it.
  expect((await stack.http.post(`/api/orders/${order.orderId}/cancel`, {}, customer.token)).status).toBe(200);
  await stack.temporal.workflow.getHandle(orderWorkflowId(order.orderId)).result();
  const event = paymentIntentEvent('payment_intent.succeeded', {
    id: order.paymentIntentId,
    orderId: order.orderId,
    amount: 1500,
    currency: 'usd',
  });
  expect((await deliverStripeEvent(stack, event)).status).toBe(200);
  await eventually(async () => lost >= 2, 'the outcome recorded by the retry');

  const stored = await stack.prisma.webhookEvent.findFirstOrThrow({ where: { eventId: event.id as string } });
  expect(stored.status).toBe('PROCESSED');
  expect(stored.attemptCount).toBe(1);
  await stack.stopWorker(); // the next test starts a worker of its own
});

test("a payment's one step lost with its worker after the commit is retried: paid, sold and confirmed once", async () => {
  let attempts = 0;
  const answers: unknown[] = [];
  await stack.startWorker({
    wrapActivities: (activities: Activities) => ({
      ...activities,
      recordSignalledPayment: async (input) => {
        const answer = await activities.recordSignalledPayment(input);
        answers.push(answer);
        if (attempts++ === 0)
          throw ApplicationFailure.create({ type: 'WORKER_LOST', message: 'worker lost after the commit' });
        return answer;
      },
    }),
  });
  try {
    const customer = await createUser(stack);
    const product = await createProduct(stack, admin, { stock: 5, price: 1300 });
    const checkout = await stack.http.post(
      '/api/checkout',
      { items: [{ productId: product.id, quantity: 2 }], paymentMethod: 'card' },
      customer.token,
    );
    expect(checkout.status).toBe(201);
    const orderId: string = checkout.body.orderId;
    const order = (await stack.http.get(`/api/orders/${orderId}`, customer.token)).body;
    const event = paymentIntentEvent('payment_intent.succeeded', {
      id: order.paymentIntentId,
      orderId,
      amount: 2600,
      currency: 'usd',
    });
    expect((await deliverStripeEvent(stack, event)).status).toBe(200);
    await eventually(async () => {
      const row = await stack.prisma.order.findUniqueOrThrow({ where: { id: orderId } });
      return row.status === 'CONFIRMED' && attempts === 2;
    }, 'confirmed by the retry');
    expect(answers).toEqual([{ outcome: 'RECORDED' }, { outcome: 'RECORDED' }]);
    expect(await stack.prisma.payment.findMany({ where: { orderId } })).toMatchObject([
      { status: 'SUCCEEDED', providerPaymentId: order.paymentIntentId, confirmedBy: `STRIPE webhook ${event.id}` },
    ]);
    const ledger = await stack.prisma.inventoryLedger.findMany({ where: { reference: orderId } });
    expect(ledger.map((l) => l.type).sort()).toEqual(['RESERVE', 'SALE']);
    expect(await stack.prisma.product.findUniqueOrThrow({ where: { id: product.id } })).toMatchObject({
      stock: 3,
      reservedStock: 0,
    });
    const { timeline } = await stack.temporal.workflow.getHandle(orderWorkflowId(orderId)).query(getOrderQuery);
    expect(timeline.filter((e) => e.event === 'PAYMENT_SUCCEEDED')).toHaveLength(1);
    expect(timeline.filter((e) => e.event === 'ORDER_CONFIRMED')).toHaveLength(1);
    await eventually(
      async () =>
        stack.smtp.messages.some((m) => m.to.includes(customer.email) && m.subject === `Order ${orderId} confirmed`),
      'the confirmation email',
    );
    expect(
      stack.smtp.messages.filter((m) => m.to.includes(customer.email) && m.subject === `Order ${orderId} confirmed`),
    ).toHaveLength(1);
  } finally {
    await stack.stopWorker();
  }
});
