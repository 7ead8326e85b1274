/**
 * Stripe's edge, seen from the wire (an HTTP hop between the worker and stripe-mock): every
 * PaymentIntent carries our order id and an idempotency key; every refund request carries
 * `refund-<refundId>` as its Idempotency-Key, so Stripe makes one refund however often we ask; a
 * worker killed while the request is in flight, or an answer lost on its way back, still ends in
 * one refund; a worker killed while checkout opens its PaymentIntent (a local activity, run again
 * by the next worker) asks again under the same key; two admins approving at once make one
 * request; a refund Stripe refuses ends FAILED with the reason and an email, never stuck APPROVED; a payment it will not give back is reported to
 * every admin; an earlier PaymentIntent paid after all pays the order and closes the open one; a
 * payment reported again after a partial refund is not refunded; and an order whose webhook never comes is
 * confirmed from the PaymentIntent's own status.
 */
import type { ChildProcess } from 'node:child_process';
import { stopProcess } from '../../scripts/lib/services';
import { startHoldingProxy } from '../helpers/holding-proxy';
import {
  availableOf,
  createProduct,
  createUser,
  eventually,
  orderOf,
  startWorkerProcess,
  untilOrder,
  useStack,
  useUser,
  type TestUser,
} from '../helpers/stack';
import { deliverStripeEvent, paymentIntentEvent } from '../helpers/webhooks';
import { orderWorkflowId, refundWorkflowId } from '../../src/workflows/ids';

let proxy: Awaited<ReturnType<typeof startHoldingProxy>>;
beforeAll(async () => {
  proxy = await startHoldingProxy(process.env.STRIPE_API_BASE!);
});
const { stack, admin, beforeStop } = useStack(() => ({
  worker: false,
  env: { STRIPE_API_BASE: proxy.url, REFUND_SETTLE_CHECK_AFTER: '10m' },
}));
const otherAdmin = useUser(stack, 'ADMIN');
let worker: ChildProcess | undefined;
beforeAll(async () => {
  worker = await startWorkerProcess(stack);
});
beforeStop(() => stopProcess(worker, 'SIGKILL'));
afterAll(() => proxy.close()); // after the stack stops

/** A card order paid through a signed webhook, CONFIRMED, with a refund requested to the card. */
async function refundRequested(price: number) {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 2, price });
  const { body } = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' },
    customer.token,
  );
  const orderId: string = body.orderId;
  const { paymentIntentId } = await orderOf(stack, orderId, customer.token);
  // The PaymentIntent carries our order id, by which Stripe's events find their way back.
  const created = proxy.requests.filter(
    (r) => r.route === 'POST /v1/payment_intents' && r.params.get('metadata[orderId]') === orderId,
  );
  expect(created.map((r) => [r.idempotencyKey, r.params.get('amount'), r.params.get('currency')])).toEqual([
    [`order-${orderId}-payment-1`, String(price), 'usd'],
  ]);
  await deliverStripeEvent(
    stack,
    paymentIntentEvent('payment_intent.succeeded', { id: paymentIntentId, orderId, amount: price, currency: 'usd' }),
  );
  await untilOrder(stack, orderId, customer.token, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
  const requested = await stack.http.post(
    `/api/orders/${orderId}/refunds`,
    { reason: 'never arrived' },
    customer.token,
  );
  expect(requested.status).toBe(202);
  return { customer, orderId, refundId: requested.body.refundId as string };
}

const refundRow = (refundId: string) => stack.prisma.refund.findUniqueOrThrow({ where: { id: refundId } });
const refundRequestsFor = (refundId: string) =>
  proxy.requests.filter((r) => r.route === 'POST /v1/refunds' && r.idempotencyKey === `refund-${refundId}`);
const refundEmails = (customer: TestUser, orderId: string) =>
  stack.smtp.messages.filter((m) => m.to.includes(customer.email) && m.subject === `Refund for order ${orderId}`);

/** Stripe reports the refund succeeded; the refund completes. */
async function settle(refundId: string, providerRefundId: string, eventId: string) {
  const settled = {
    id: eventId,
    object: 'event',
    type: 'refund.updated',
    created: Math.floor(Date.now() / 1000),
    data: { object: { id: providerRefundId, object: 'refund', status: 'succeeded', metadata: { refundId } } },
  };
  expect((await deliverStripeEvent(stack, settled)).status).toBe(200);
  await eventually(async () => (await refundRow(refundId)).status === 'COMPLETED', 'COMPLETED');
}

test('a refund whose worker dies between the decision and the Stripe call happens exactly once', async () => {
  const { customer, orderId, refundId } = await refundRequested(6400);

  const inFlight = proxy.holdNext('POST', '/v1/refunds');
  await stack.temporal.workflow
    .getHandle(refundWorkflowId(refundId))
    .signal('approveRefund', { adminId: admin.id, reason: 'lost parcel' });
  await inFlight;
  expect(await refundRow(refundId)).toMatchObject({ status: 'APPROVED', decidedBy: admin.id, providerRefundId: null });
  await stopProcess(worker, 'SIGKILL');

  // A new worker retries the Stripe call once the lost attempt times out.
  worker = await startWorkerProcess(stack);
  const approved = await eventually(
    async () => {
      const row = await refundRow(refundId);
      return row.providerRefundId ? row : undefined;
    },
    'Stripe refund created after restart',
    90_000,
  );
  await settle(refundId, approved.providerRefundId!, 'evt_refund_restart');
  await eventually(async () => refundEmails(customer, orderId).length > 0, 'refund email');

  expect(
    refundRequestsFor(refundId).map((r) => [
      r.params.get('amount'),
      r.params.get('metadata[refundId]'),
      r.params.get('metadata[orderId]'),
    ]),
  ).toEqual([['6400', refundId, orderId]]);
  const history = await stack.temporal.workflow.getHandle(refundWorkflowId(refundId)).fetchHistory();
  const scheduled = (name: string) =>
    history.events!.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === name).length;
  expect([scheduled('recordRefundDecision'), scheduled('createProviderRefund'), scheduled('completeRefund')]).toEqual([
    1, 1, 1,
  ]);
  expect(refundEmails(customer, orderId)).toHaveLength(1);
  expect(await stack.prisma.refund.count({ where: { orderId } })).toBe(1);
  expect(await orderOf(stack, orderId, customer.token)).toMatchObject({
    status: 'REFUNDED',
    paymentStatus: 'REFUNDED',
  });
});

test("a worker killed while checkout's PaymentIntent request is in flight: the next worker asks again under the same Idempotency-Key, one attempt recorded", async () => {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 2, price: 4700 });
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const arrived = proxy.delayNext('POST', '/v1/payment_intents', gate);
  const checkout = stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' },
    customer.token,
  );
  await arrived; // the checkout's local activity is calling Stripe in the worker's workflow task
  await stopProcess(worker, 'SIGKILL');
  release(); // the request reaches Stripe after all; its answer goes nowhere

  // The workflow task times out; the next worker runs the checkout's task again from the start.
  worker = await startWorkerProcess(stack);
  const answer = await checkout;
  expect(answer.status).toBe(201);
  const orderId: string = answer.body.orderId;
  const sent = proxy.requests.filter(
    (r) => r.route === 'POST /v1/payment_intents' && r.idempotencyKey?.startsWith(`order-${orderId}-`),
  );
  // Stripe is asked twice as the same PaymentIntent: it makes one (stripe-mock keeps no state to show it).
  expect(sent.map((r) => r.idempotencyKey)).toEqual([`order-${orderId}-payment-1`, `order-${orderId}-payment-1`]);
  expect(await stack.prisma.payment.findMany({ where: { orderId }, select: { attempt: true } })).toEqual([
    { attempt: 1 },
  ]);
  expect(await orderOf(stack, orderId, customer.token)).toMatchObject({
    status: 'PENDING',
    paymentAttempt: 1,
    paymentIntentId: expect.stringMatching(/^pi_/),
  });
  expect(await availableOf(stack, product.id)).toBe(1); // reserved once, however often the task ran
});

test('Stripe made the refund but its answer was lost: the retry asks again under the same Idempotency-Key', async () => {
  const { customer, orderId, refundId } = await refundRequested(5100);

  const answered = proxy.dropAnswerNext('POST', '/v1/refunds');
  await stack.temporal.workflow
    .getHandle(refundWorkflowId(refundId))
    .signal('approveRefund', { adminId: admin.id, reason: 'lost parcel' });
  await answered;
  const approved = await eventually(
    async () => {
      const row = await refundRow(refundId);
      return row.providerRefundId ? row : undefined;
    },
    'Stripe refund recorded after the retry',
    90_000,
  );
  await settle(refundId, approved.providerRefundId!, `evt_lost_answer_${refundId.slice(0, 8)}`);

  // Stripe saw the request twice, both times as the same refund: it refunds once.
  const sent = refundRequestsFor(refundId);
  expect(sent.length).toBeGreaterThanOrEqual(2);
  expect(proxy.requests.filter((r) => r.route === 'POST /v1/refunds' && r.idempotencyKey?.includes(refundId))).toEqual(
    sent,
  );
  await eventually(async () => refundEmails(customer, orderId).length > 0, 'refund email');
  expect(refundEmails(customer, orderId)).toHaveLength(1);
  expect(await orderOf(stack, orderId, customer.token)).toMatchObject({
    status: 'REFUNDED',
    paymentStatus: 'REFUNDED',
  });
});

test('two admins approving at the same moment: one decision and one request to Stripe', async () => {
  const { orderId, refundId } = await refundRequested(2500);
  const answers = await Promise.all(
    [admin, otherAdmin].map((a) =>
      stack.http.post(`/admin/refunds/${refundId}/approve`, { reason: `approved by ${a.id}` }, a.token),
    ),
  );
  expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
  expect(answers.find((a) => a.status === 409)!.body.error.code).toBe('REFUND_ALREADY_DECIDED');
  const winner = answers.find((a) => a.status === 200)!.body;
  expect(winner).toMatchObject({ status: 'APPROVED', stripeRefundId: expect.stringMatching(/^re_/) });
  expect(refundRequestsFor(refundId)).toHaveLength(1);
  expect(await stack.prisma.refund.count({ where: { orderId } })).toBe(1);
});

test('a refund Stripe refuses ends FAILED with its reason and an email; the order keeps its payment', async () => {
  const { customer, orderId, refundId } = await refundRequested(3300);
  proxy.refuseNext('POST', '/v1/refunds', 400, {
    type: 'invalid_request_error',
    code: 'charge_already_refunded',
    message: 'Charge ch_1 has already been refunded.',
  });

  const approved = await stack.http.post(
    `/admin/refunds/${refundId}/approve`,
    { reason: 'damaged in transit' },
    admin.token,
  );
  expect(approved.status).toBe(200);
  expect(approved.body).toMatchObject({
    status: 'FAILED',
    failureReason: 'Charge ch_1 has already been refunded.',
    decidedBy: admin.id,
    stripeRefundId: null,
  });
  expect(await refundRow(refundId)).toMatchObject({
    status: 'FAILED',
    failureReason: 'Charge ch_1 has already been refunded.',
    decidedBy: admin.id,
  });
  const email = await eventually(
    async () =>
      stack.smtp.messages.find(
        (m) => m.to.includes(customer.email) && m.subject === `Refund for order ${orderId} did not go through`,
      ),
    'failure email',
  );
  expect(email.text).toContain('$33.00');
  expect(await stack.temporal.workflow.getHandle(refundWorkflowId(refundId)).result()).toMatchObject({
    status: 'FAILED',
  });
  expect(await orderOf(stack, orderId, customer.token)).toMatchObject({ status: 'CONFIRMED', paymentStatus: 'PAID' });

  // The failed refund does not block the customer from asking again.
  const again = await stack.http.post(
    `/api/orders/${orderId}/refunds`,
    { reason: 'still never arrived' },
    customer.token,
  );
  expect(again.status).toBe(202);
  expect(again.body).toMatchObject({ status: 'PENDING_APPROVAL', amount: 3300 });
});

test('a second payment Stripe will not refund is reported to every admin by email; the order carries on', async () => {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 2, price: 2300 });
  const { body } = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' },
    customer.token,
  );
  const orderId: string = body.orderId;
  const { paymentIntentId: first } = await orderOf(stack, orderId, customer.token);
  await deliverStripeEvent(
    stack,
    paymentIntentEvent('payment_intent.payment_failed', { id: first, orderId, amount: 2300, currency: 'usd' }),
  );
  await untilOrder(stack, orderId, customer.token, (o) => o.paymentStatus === 'FAILED', 'payment FAILED');
  expect((await stack.http.post(`/api/orders/${orderId}/payments`, {}, customer.token)).status).toBe(201);
  const { paymentIntentId: second } = await orderOf(stack, orderId, customer.token);
  await deliverStripeEvent(
    stack,
    paymentIntentEvent('payment_intent.succeeded', { id: second, orderId, amount: 2300, currency: 'usd' }),
  );
  await untilOrder(stack, orderId, customer.token, (o) => o.status === 'CONFIRMED', 'CONFIRMED');

  // The first attempt, reported failed, went through after all: the customer paid twice, and
  // Stripe refuses the refund we then ask for.
  proxy.refuseNext('POST', '/v1/refunds', 400, {
    type: 'invalid_request_error',
    code: 'charge_disputed',
    message: 'Charge ch_2 has been disputed.',
  });
  await deliverStripeEvent(
    stack,
    paymentIntentEvent('payment_intent.succeeded', { id: first, orderId, amount: 2300, currency: 'usd' }),
  );
  const subject = `Order ${orderId}: a payment to give back was not refunded`;
  await eventually(
    async () =>
      [admin, otherAdmin].every((a) =>
        stack.smtp.messages.some((m) => m.to.includes(a.email) && m.subject === subject),
      ),
    'admins alerted',
  );
  expect(stack.smtp.messages.find((m) => m.subject === subject)!.text).toContain('Charge ch_2 has been disputed.');
  const order = await orderOf(stack, orderId, customer.token);
  expect(order).toMatchObject({ status: 'CONFIRMED', paymentStatus: 'PAID' });
  expect((order.timeline as { event: string }[]).map((t) => t.event)).toContain('UNEXPECTED_PAYMENT_REFUND_REFUSED');
  expect(
    (await stack.http.post(`/admin/orders/${orderId}/ship`, { trackingNumber: 'CARRY-ON' }, admin.token)).body.status,
  ).toBe('SHIPPED');
});

test('a payment for a cancelled order that Stripe will not refund: every admin is alerted and the event stays FAILED', async () => {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 2, price: 2700 });
  const { body } = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' },
    customer.token,
  );
  const orderId: string = body.orderId;
  const { paymentIntentId } = await orderOf(stack, orderId, customer.token);
  expect(
    (await stack.http.post(`/api/orders/${orderId}/cancel`, { reason: 'changed my mind' }, customer.token)).status,
  ).toBe(200);
  // The order's workflow has finished: only the webhook's own workflow can act on this payment.
  await stack.temporal.workflow.getHandle(orderWorkflowId(orderId)).result();

  proxy.refuseNext('POST', '/v1/refunds', 400, {
    type: 'invalid_request_error',
    code: 'charge_disputed',
    message: 'Charge ch_3 has been disputed.',
  });
  const late = paymentIntentEvent('payment_intent.succeeded', {
    id: paymentIntentId,
    orderId,
    amount: 2700,
    currency: 'usd',
  });
  const eventId = late.id as string;
  expect((await deliverStripeEvent(stack, late)).status).toBe(200);

  const subject = `Order ${orderId}: a payment to give back was not refunded`;
  await eventually(
    async () =>
      [admin, otherAdmin].every((a) =>
        stack.smtp.messages.some((m) => m.to.includes(a.email) && m.subject === subject),
      ),
    'admins alerted',
  );
  const alert = stack.smtp.messages.find((m) => m.subject === subject)!;
  expect(alert.text).toContain('Charge ch_3 has been disputed.');
  expect(alert.text).toContain(`webhook-stripe-${eventId}`);
  const stored = await eventually(async () => {
    const event = await stack.prisma.webhookEvent.findFirst({ where: { provider: 'STRIPE', eventId } });
    return event?.status === 'FAILED' && event;
  }, 'event FAILED');
  expect(stored.error).toContain('Charge ch_3 has been disputed.');
  expect(await orderOf(stack, orderId, customer.token)).toMatchObject({
    status: 'CANCELLED',
    paymentStatus: 'PENDING',
  });
  // No refund email tells the customer their money is back: it is not.
  expect(stack.smtp.messages.filter((m) => m.to.includes(customer.email) && /refunded/i.test(m.subject))).toEqual([]);
});

test('an earlier PaymentIntent paid after all pays the order; the open one is cancelled, and refunded when it is paid too', async () => {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 2, price: 2900 });
  const { body } = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' },
    customer.token,
  );
  const orderId: string = body.orderId;
  const { paymentIntentId: first } = await orderOf(stack, orderId, customer.token);
  await deliverStripeEvent(
    stack,
    paymentIntentEvent('payment_intent.payment_failed', { id: first, orderId, amount: 2900, currency: 'usd' }),
  );
  await untilOrder(stack, orderId, customer.token, (o) => o.paymentStatus === 'FAILED', 'payment FAILED');
  // stripe-mock answers every PaymentIntent with one fixture id; a real Stripe gives the second its own.
  const second = `pi_retry_${orderId.slice(0, 8)}`;
  proxy.rewriteNext('POST', '/v1/payment_intents', (intent) => ({ ...intent, id: second }));
  expect((await stack.http.post(`/api/orders/${orderId}/payments`, {}, customer.token)).status).toBe(201);

  // The first PaymentIntent succeeded after all (the customer retried in Stripe's own form as the second opened).
  await deliverStripeEvent(
    stack,
    paymentIntentEvent('payment_intent.succeeded', { id: first, orderId, amount: 2900, currency: 'usd' }),
  );
  const confirmed = await untilOrder(stack, orderId, customer.token, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
  expect(confirmed).toMatchObject({ paymentStatus: 'PAID', paymentIntentId: first });
  const attempts = await stack.prisma.payment.findMany({ where: { orderId }, orderBy: { attempt: 'asc' } });
  expect(attempts.map((a) => [a.attempt, a.providerPaymentId, a.status])).toEqual([
    [1, first, 'SUCCEEDED'],
    [2, second, 'CANCELLED'],
  ]);
  await eventually(
    async () => proxy.requests.some((r) => r.route === `POST /v1/payment_intents/${second}/cancel`),
    'second PaymentIntent cancelled',
  );

  // Had the customer managed to pay the second one too, that money goes back, once.
  await deliverStripeEvent(
    stack,
    paymentIntentEvent('payment_intent.succeeded', { id: second, orderId, amount: 2900, currency: 'usd' }),
  );
  const refunds = await eventually(async () => {
    const sent = proxy.requests.filter(
      (r) => r.route === 'POST /v1/refunds' && r.params.get('payment_intent') === second,
    );
    return sent.length > 0 && sent;
  }, 'second payment refunded');
  expect(refunds.map((r) => r.idempotencyKey)).toEqual([`unexpected-payment-refund-${second}`]);
  expect(
    proxy.requests
      .filter((r) => r.route === 'POST /v1/refunds' && r.params.get('metadata[orderId]') === orderId)
      .map((r) => r.params.get('payment_intent')),
  ).toEqual([second]);
  expect(await orderOf(stack, orderId, customer.token)).toMatchObject({ status: 'CONFIRMED', paymentStatus: 'PAID' });
});

test('after a partial wallet refund, the payment reported again is not refunded a second time', async () => {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 2, price: 4000 });
  const { body } = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' },
    customer.token,
  );
  const orderId: string = body.orderId;
  const { paymentIntentId } = await orderOf(stack, orderId, customer.token);
  await deliverStripeEvent(
    stack,
    paymentIntentEvent('payment_intent.succeeded', { id: paymentIntentId, orderId, amount: 4000, currency: 'usd' }),
  );
  await untilOrder(stack, orderId, customer.token, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
  const refund = await stack.http.post(
    `/admin/orders/${orderId}/refunds`,
    { amount: 1000, reason: 'one item scratched', destination: 'WALLET' },
    admin.token,
  );
  expect(refund.body).toMatchObject({ status: 'COMPLETED', walletCredited: 1000 });
  await untilOrder(stack, orderId, customer.token, (o) => o.status === 'PARTIALLY_REFUNDED', 'PARTIALLY_REFUNDED');

  // A second event about the same payment (Stripe sends several; a late one after a status check).
  const again = paymentIntentEvent('payment_intent.succeeded', {
    id: paymentIntentId,
    orderId,
    amount: 4000,
    currency: 'usd',
  });
  expect((await deliverStripeEvent(stack, again)).status).toBe(200);
  await eventually(
    async () =>
      (await stack.prisma.webhookEvent.findFirst({ where: { provider: 'STRIPE', eventId: again.id as string } }))
        ?.status === 'PROCESSED',
    'event processed',
  );
  const order = await untilOrder(
    stack,
    orderId,
    customer.token,
    (o) => (o.timeline as { event: string }[]).some((t) => t.event === 'PAYMENT_EVENT_IGNORED'),
    'event ignored',
  );
  expect(order).toMatchObject({ status: 'PARTIALLY_REFUNDED', paymentStatus: 'PARTIALLY_REFUNDED' });
  expect(
    proxy.requests.filter((r) => r.route === 'POST /v1/refunds' && r.params.get('metadata[orderId]') === orderId),
  ).toEqual([]);
});

describe('when the webhook is late', () => {
  const { stack: late } = useStack(() => ({ env: { STRIPE_API_BASE: proxy.url, PAYMENT_RECONCILE_AFTER: '2s' } }));

  test("no webhook: the order is confirmed from the PaymentIntent's own status, once, even when the webhook then arrives", async () => {
    const customer = await createUser(late);
    const product = await createProduct(late, admin, { stock: 2, price: 4100 });
    const { body } = await late.http.post(
      '/api/checkout',
      { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' },
      customer.token,
    );
    const orderId: string = body.orderId;
    const { paymentIntentId } = await orderOf(late, orderId, customer.token);
    // The customer paid; Stripe knows, its webhook is delayed. (stripe-mock answers a fixture: move it on.)
    proxy.rewriteNext('GET', `/v1/payment_intents/${paymentIntentId}`, (intent) => ({
      ...intent,
      id: paymentIntentId,
      status: 'succeeded',
      amount: 4100,
      amount_received: 4100,
      currency: 'usd',
      last_payment_error: null,
    }));

    const confirmed = await untilOrder(
      late,
      orderId,
      customer.token,
      (o) => o.status === 'CONFIRMED',
      'CONFIRMED without a webhook',
    );
    expect(
      (confirmed.timeline as { event: string; actor: { id: string } }[]).find((t) => t.event === 'PAYMENT_SUCCEEDED')
        ?.actor.id,
    ).toBe('stripe-status-check');
    expect(await late.prisma.payment.findFirstOrThrow({ where: { orderId } })).toMatchObject({
      status: 'SUCCEEDED',
      confirmedBy: 'STRIPE status check (no webhook had arrived)',
    });

    const webhook = paymentIntentEvent('payment_intent.succeeded', {
      id: paymentIntentId,
      orderId,
      amount: 4100,
      currency: 'usd',
    });
    expect((await deliverStripeEvent(late, webhook)).status).toBe(200);
    await eventually(
      async () =>
        (await late.prisma.webhookEvent.findFirst({ where: { eventId: webhook.id as string } }))?.status ===
        'PROCESSED',
      'late webhook processed',
    );
    const after = await orderOf(late, orderId, customer.token);
    expect((after.timeline as { event: string }[]).filter((t) => t.event === 'PAYMENT_SUCCEEDED')).toHaveLength(1);
    expect(await late.prisma.inventoryLedger.count({ where: { reference: orderId, type: 'SALE' } })).toBe(1);
    await eventually(
      async () => late.smtp.messages.some((m) => m.to.includes(customer.email) && m.subject.endsWith('confirmed')),
      'confirmation email',
    );
    expect(
      late.smtp.messages.filter((m) => m.to.includes(customer.email) && m.subject.endsWith('confirmed')),
    ).toHaveLength(1);
  });
});
