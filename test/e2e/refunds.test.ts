/**
 * Refunds end to end (DESIGN.md "Refunds"): one destination per refund, admin decisions through
 * the API or as the Temporal Web UI sends them, every effect once, partial refunds bounded by
 * what was paid, and the runbook's refusals with clear codes.
 */
import { randomUUID } from 'node:crypto';
import { manualRefundId } from '../../src/refunds/requests';
import {
  availableOf,
  createProduct,
  createUser,
  eventually,
  orderOf,
  runOps,
  untilOrder,
  useStack,
  useUser,
  type TestUser,
} from '../helpers/stack';
import { deliverStripeEvent, paymentIntentEvent } from '../helpers/webhooks';
import { paidCardOrder } from '../helpers/orders';
import { orderWorkflowId, refundWorkflowId } from '../../src/workflows/ids';

const { stack, admin } = useStack({ env: { REFUND_SETTLE_CHECK_AFTER: '10m' } });
const otherAdmin = useUser(stack, 'ADMIN');

/** A card order paid through a signed webhook and CONFIRMED (test/helpers/orders.ts). */
const paidOrder = (price = 3000, customer?: TestUser) => paidCardOrder(stack, admin, { price, customer });

/** A cash-on-delivery order shipped, delivered and so paid. */
async function deliveredCodOrder(customer: TestUser, price = 1500) {
  const product = await createProduct(stack, admin, { stock: 5, price });
  const { body } = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'cod' },
    customer.token,
  );
  await stack.http.post(`/admin/orders/${body.orderId}/ship`, { trackingNumber: 'COD' }, admin.token);
  expect((await stack.http.post(`/admin/orders/${body.orderId}/deliver`, {}, admin.token)).body.paymentStatus).toBe(
    'PAID',
  );
  return body.orderId as string;
}

async function requestRefund(customer: TestUser, orderId: string, body: Record<string, unknown>) {
  return stack.http.post(`/api/orders/${orderId}/refunds`, body, customer.token);
}

async function refundRow(refundId: string) {
  return stack.prisma.refund.findUniqueOrThrow({ where: { id: refundId } });
}

async function walletOf(userId: string) {
  const wallet = await stack.prisma.wallet.findUnique({ where: { userId }, include: { entries: true } });
  return { balance: wallet?.balance ?? 0, entries: wallet?.entries ?? [] };
}

function refundEvent(type: string, refund: Record<string, unknown>) {
  return {
    id: `evt_${randomUUID().replace(/-/g, '')}`,
    object: 'event',
    type,
    created: Math.floor(Date.now() / 1000),
    data: { object: refund },
  };
}

test('request, approve through the API: wallet credited, ledger balanced, email received, order refunded', async () => {
  const { customer, product, orderId } = await paidOrder(3000);
  const requested = await requestRefund(customer, orderId, {
    reason: 'arrived too late for the party',
    destination: 'WALLET',
  });
  expect(requested.status).toBe(202);
  expect(requested.body).toMatchObject({
    status: 'PENDING_APPROVAL',
    amount: 3000,
    currency: 'USD',
    destination: 'WALLET',
  });
  const refundId: string = requested.body.refundId;

  const queue = await stack.http.get('/admin/refunds?status=PENDING_APPROVAL', admin.token);
  expect(queue.body.refunds.map((r: { id: string }) => r.id)).toContain(refundId);

  const approved = await stack.http.post(`/admin/refunds/${refundId}/approve`, { reason: 'goodwill' }, admin.token);
  expect(approved.status).toBe(200);
  expect(approved.body).toMatchObject({
    status: 'COMPLETED',
    walletCredited: 3000,
    decidedBy: admin.id,
    stripeRefundId: null,
  });

  const wallet = await walletOf(customer.id);
  expect(wallet.balance).toBe(3000);
  expect(wallet.entries.map((e) => [e.type, e.amount, e.actor, e.reference])).toEqual([
    ['CREDIT', 3000, admin.id, refundId],
  ]);
  expect(wallet.entries.reduce((sum, e) => sum + e.amount, 0)).toBe(wallet.balance);
  expect((await stack.http.get('/api/wallet', customer.token)).body).toMatchObject({ balance: 3000, currency: 'USD' });

  const email = await eventually(
    async () =>
      stack.smtp.messages.find((m) => m.to.includes(customer.email) && m.subject === `Refund for order ${orderId}`),
    'refund email',
  );
  expect(email.text).toContain('$30.00 for order');
  expect(email.text).toContain('your store wallet');
  expect(await refundRow(refundId)).toMatchObject({
    status: 'COMPLETED',
    decidedBy: admin.id,
    decisionReason: 'goodwill',
  });
  // Refunded in full before shipping: nothing to ship, and the unit is back on the shelf.
  expect(await stack.temporal.workflow.getHandle(orderWorkflowId(orderId)).result()).toMatchObject({
    status: 'REFUNDED',
    paymentStatus: 'REFUNDED',
  });
  expect(await orderOf(stack, orderId, customer.token)).toMatchObject({
    status: 'REFUNDED',
    paymentStatus: 'REFUNDED',
  });
  expect(await stack.prisma.product.findUniqueOrThrow({ where: { id: product.id } })).toMatchObject({
    stock: 5,
    reservedStock: 0,
  });
  const audit = await stack.prisma.auditLog.findFirstOrThrow({
    where: { action: 'REFUND_APPROVED', targetId: refundId },
  });
  expect(audit).toMatchObject({ actorId: admin.id, reason: 'goodwill' });
  // The API's decision carries its seal: audited as the API's, not as sent through Temporal.
  expect(audit.after).toEqual({ status: 'APPROVED', decidedBy: admin.id });
});

test('approve by signal, as the Web UI sends it: a Stripe refund, completed by its webhook', async () => {
  const { customer, orderId, paymentIntentId } = await paidOrder(4200);
  const { body } = await requestRefund(customer, orderId, { reason: 'wrong size' });
  expect(body).toMatchObject({ destination: 'ORIGINAL_PAYMENT', status: 'PENDING_APPROVAL' });
  const refundId: string = body.refundId;

  // What the Web UI does: signal approveRefund with a JSON payload.
  await stack.temporal.workflow
    .getHandle(refundWorkflowId(refundId))
    .signal('approveRefund', { adminId: admin.id, reason: 'confirmed with the warehouse' });
  const approved = await eventually(async () => {
    const row = await refundRow(refundId);
    return row.providerRefundId ? row : undefined;
  }, 'Stripe refund created');
  expect(approved).toMatchObject({ status: 'APPROVED', decidedBy: admin.id });
  expect(approved.providerRefundId).toMatch(/^re_/);

  const settled = refundEvent('refund.updated', {
    id: approved.providerRefundId,
    object: 'refund',
    amount: 4200,
    payment_intent: paymentIntentId,
    status: 'succeeded',
    metadata: { refundId, orderId },
  });
  expect((await deliverStripeEvent(stack, settled)).status).toBe(200);
  await eventually(async () => (await refundRow(refundId)).status === 'COMPLETED', 'refund COMPLETED');
  await untilOrder(
    stack,
    orderId,
    customer.token,
    (o) => o.status === 'REFUNDED' && o.paymentStatus === 'REFUNDED',
    'order REFUNDED',
  );
  expect((await walletOf(customer.id)).balance).toBe(0); // one destination: never paid twice
  await eventually(
    async () =>
      stack.smtp.messages.some((m) => m.to.includes(customer.email) && m.subject === `Refund for order ${orderId}`),
    'refund email',
  );
  // A decision typed into the Web UI is in the audit log like one made through the API.
  const trail = (await stack.http.get(`/admin/audit?targetId=${refundId}`, admin.token)).body.entries as {
    action: string;
    actorId: string;
    reason: string;
  }[];
  expect(trail.map((e) => [e.action, e.actorId, e.reason])).toEqual([
    ['REFUND_APPROVED', admin.id, 'confirmed with the warehouse'],
  ]);
});

// Two admins on a card refund, counted at the wire: stripe-edge.test.ts.
test('two admins approving at the same moment: one decision, one ledger entry', async () => {
  const wallet = await paidOrder(1800);
  const walletRefund = (await requestRefund(wallet.customer, wallet.orderId, { reason: 'late', destination: 'WALLET' }))
    .body.refundId as string;
  // One admin through the API, the other from the Web UI, at once.
  await Promise.all([
    stack.http.post(`/admin/refunds/${walletRefund}/approve`, { reason: 'api' }, admin.token),
    stack.temporal.workflow
      .getHandle(refundWorkflowId(walletRefund))
      .signal('approveRefund', { adminId: otherAdmin.id, reason: 'ui' }),
  ]);
  await eventually(async () => (await refundRow(walletRefund)).status === 'COMPLETED', 'COMPLETED');
  expect((await walletOf(wallet.customer.id)).entries).toHaveLength(1);
  expect((await walletOf(wallet.customer.id)).balance).toBe(1800);
});

test('reject: status REJECTED, an email with the reason, nothing paid', async () => {
  const { customer, orderId } = await paidOrder(900);
  const refundId = (await requestRefund(customer, orderId, { reason: 'changed my mind', destination: 'WALLET' })).body
    .refundId;
  const rejected = await stack.http.post(
    `/admin/refunds/${refundId}/reject`,
    { reason: 'outside the return window' },
    admin.token,
  );
  expect(rejected.body).toMatchObject({ status: 'REJECTED', decidedBy: admin.id });
  const email = await eventually(
    async () => stack.smtp.messages.find((m) => m.to.includes(customer.email) && m.subject.includes('declined')),
    'rejection email',
  );
  expect(email.text).toContain('outside the return window');
  expect((await walletOf(customer.id)).balance).toBe(0);
  expect(await orderOf(stack, orderId, customer.token)).toMatchObject({ status: 'CONFIRMED', paymentStatus: 'PAID' });
  // A later approval is refused: decided is decided.
  const late = await stack.http.post(
    `/admin/refunds/${refundId}/approve`,
    { reason: 'second thoughts' },
    otherAdmin.token,
  );
  expect(late.status).toBe(409);
  expect(late.body.error).toMatchObject({ code: 'REFUND_ALREADY_DECIDED', details: { status: 'REJECTED' } });
});

test('who may decide: not a customer, not the admin who asked for the refund', async () => {
  const { customer, orderId } = await paidOrder(1200);
  const refundId = (await requestRefund(customer, orderId, { reason: 'not as described', destination: 'WALLET' })).body
    .refundId;

  expect((await stack.http.post(`/admin/refunds/${refundId}/approve`, { reason: 'me' }, customer.token)).status).toBe(
    403,
  );
  // From the Web UI anyone can type a customer's id: the workflow refuses it and says so.
  const handle = stack.temporal.workflow.getHandle(refundWorkflowId(refundId));
  const bystander = await createUser(stack);
  await handle.signal('approveRefund', { adminId: bystander.id, reason: 'looks fine to me' });
  const refused = await eventually(async () => {
    const view = await handle.query('getRefund');
    return (view as { timeline: { event: string; detail?: string }[] }).timeline.find(
      (t) => t.event === 'DECISION_REFUSED',
    );
  }, 'decision refused');
  expect(refused.detail).toContain('is not an active admin');
  expect((await refundRow(refundId)).status).toBe('PENDING_APPROVAL');

  // Nor can an admin who has been suspended.
  const suspended = await createUser(stack, 'ADMIN');
  expect(
    (await stack.http.post(`/admin/users/${suspended.id}/suspend`, { reason: 'left the company' }, admin.token)).status,
  ).toBe(200);
  await handle.signal('approveRefund', { adminId: suspended.id, reason: 'approving on my way out' });
  const refusedAgain = await eventually(async () => {
    const view = (await handle.query('getRefund')) as { timeline: { event: string; detail?: string }[] };
    return view.timeline.find((t) => t.event === 'DECISION_REFUSED' && t.detail?.includes(suspended.id));
  }, 'suspended admin refused');
  expect(refusedAgain.detail).toContain('is not an active admin');
  expect((await refundRow(refundId)).status).toBe('PENDING_APPROVAL');

  // The customer is made an admin: they still may not decide their own refund.
  await stack.prisma.user.update({ where: { id: customer.id }, data: { role: 'ADMIN' } });
  const promoted = (
    await stack.http.post('/api/auth/login', { email: customer.email, password: 'correct horse battery staple' })
  ).body.token;
  const self = await stack.http.post(`/admin/refunds/${refundId}/approve`, { reason: 'mine' }, promoted);
  expect(self.status).toBe(403);
  expect(self.body.error.code).toBe('SELF_APPROVAL');
  expect((await refundRow(refundId)).status).toBe('PENDING_APPROVAL');
  expect((await stack.http.post(`/admin/refunds/${refundId}/approve`, { reason: 'ok' }, admin.token)).body.status).toBe(
    'COMPLETED',
  );
});

test('partial refunds add up to what was paid and no further', async () => {
  const { customer, orderId } = await paidOrder(3000);
  const approve = async (refundId: string) =>
    (await stack.http.post(`/admin/refunds/${refundId}/approve`, { reason: 'ok' }, admin.token)).body;

  const first = await requestRefund(customer, orderId, {
    amount: 1000,
    reason: 'one item broken',
    destination: 'WALLET',
  });
  expect(first.body.amount).toBe(1000);
  expect(await approve(first.body.refundId)).toMatchObject({ status: 'COMPLETED', walletCredited: 1000 });
  await untilOrder(
    stack,
    orderId,
    customer.token,
    (o) => o.status === 'PARTIALLY_REFUNDED' && o.paymentStatus === 'PARTIALLY_REFUNDED',
    'PARTIALLY_REFUNDED',
  );

  const tooMuch = await requestRefund(customer, orderId, { amount: 2500, reason: 'more', destination: 'WALLET' });
  expect(tooMuch.status).toBe(409);
  expect(tooMuch.body.error).toMatchObject({
    code: 'REFUND_AMOUNT_TOO_HIGH',
    details: { refundable: 2000, currency: 'USD' },
  });

  const rest = await requestRefund(customer, orderId, { reason: 'the rest', destination: 'WALLET' });
  expect(rest.body.amount).toBe(2000);
  expect(await approve(rest.body.refundId)).toMatchObject({ status: 'COMPLETED', walletCredited: 2000 });
  await untilOrder(stack, orderId, customer.token, (o) => o.status === 'REFUNDED', 'REFUNDED');

  const again = await requestRefund(customer, orderId, { reason: 'again', destination: 'WALLET' });
  expect(again.status).toBe(409);
  expect(again.body.error).toMatchObject({
    code: 'REFUND_ALREADY_PROCESSED',
    message: 'Refund already processed for this order',
  });
  // Two credits in the ledger, summing to the balance, each with its running balance.
  const wallet = await walletOf(customer.id);
  expect(wallet.balance).toBe(3000);
  const entries = [...wallet.entries].sort((a, b) => a.balanceAfter - b.balanceAfter);
  expect(entries.map((e) => [e.type, e.amount, e.balanceAfter])).toEqual([
    ['CREDIT', 1000, 1000],
    ['CREDIT', 2000, 3000],
  ]);
  expect(entries.reduce((sum, e) => sum + e.amount, 0)).toBe(wallet.balance);
});

test("refused requests: duplicate, unpaid, shipped, another customer's order, cash on delivery to the card", async () => {
  const { customer, orderId } = await paidOrder(1100);
  expect((await requestRefund(customer, orderId, { reason: 'first' })).status).toBe(202);
  const duplicate = await requestRefund(customer, orderId, { reason: 'second' });
  expect(duplicate.status).toBe(409);
  expect(duplicate.body.error.code).toBe('REFUND_PENDING');
  expect(await stack.prisma.refund.count({ where: { orderId } })).toBe(1);

  const stranger = await createUser(stack);
  expect((await requestRefund(stranger, orderId, { reason: 'mine?' })).status).toBe(403);

  const unpaidProduct = await createProduct(stack, admin, { stock: 2 });
  const unpaid = (
    await stack.http.post(
      '/api/checkout',
      { items: [{ productId: unpaidProduct.id, quantity: 1 }], paymentMethod: 'card' },
      stranger.token,
    )
  ).body.orderId;
  const notPaid = await requestRefund(stranger, unpaid, { reason: 'never paid' });
  expect(notPaid.body.error.code).toBe('ORDER_NOT_PAID');

  const shipped = await paidOrder(1300);
  await stack.http.post(`/admin/orders/${shipped.orderId}/ship`, { trackingNumber: 'SHIPPED-1' }, admin.token);
  const afterShipping = await requestRefund(shipped.customer, shipped.orderId, { reason: 'too late?' });
  expect({ status: afterShipping.status, code: afterShipping.body.error.code }).toEqual({
    status: 409,
    code: 'ORDER_ALREADY_SHIPPED',
  });

  const codOrder = await deliveredCodOrder(stranger);
  const toCard = await stack.http.post(
    `/admin/orders/${codOrder}/refunds`,
    { amount: 500, reason: 'damaged', destination: 'ORIGINAL_PAYMENT' },
    admin.token,
  );
  expect({ status: toCard.status, code: toCard.body.error.code }).toEqual({
    status: 409,
    code: 'REFUND_DESTINATION_NOT_ALLOWED',
  });
  const toWallet = await stack.http.post(
    `/admin/orders/${codOrder}/refunds`,
    { amount: 500, reason: 'damaged' },
    admin.token,
  );
  expect(toWallet.status).toBe(201);
  expect(toWallet.body).toMatchObject({
    status: 'COMPLETED',
    walletCredited: 500,
    stripeRefundId: null,
    destination: 'WALLET',
  });
  expect(await stack.prisma.order.findUniqueOrThrow({ where: { id: codOrder } })).toMatchObject({
    status: 'PARTIALLY_REFUNDED',
    paymentStatus: 'PARTIALLY_REFUNDED',
  });
});

test('an admin refunds a delivered card order to the card: approved by that admin, completed by webhook', async () => {
  const { customer, orderId, paymentIntentId } = await paidOrder(5000);
  await stack.http.post(`/admin/orders/${orderId}/ship`, { trackingNumber: 'T' }, admin.token);
  await stack.http.post(`/admin/orders/${orderId}/deliver`, {}, admin.token);
  const manual = await stack.http.post(
    `/admin/orders/${orderId}/refunds`,
    { amount: 2000, reason: 'Customer dissatisfaction' },
    admin.token,
  );
  expect(manual.status).toBe(201);
  expect(manual.body).toMatchObject({
    status: 'APPROVED',
    walletCredited: 0,
    destination: 'ORIGINAL_PAYMENT',
    decidedBy: admin.id,
  });
  expect(manual.body.stripeRefundId).toMatch(/^re_/);
  const charge = {
    id: 'ch_1',
    object: 'charge',
    payment_intent: paymentIntentId,
    refunds: {
      object: 'list',
      data: [
        {
          id: manual.body.stripeRefundId,
          object: 'refund',
          status: 'succeeded',
          metadata: { refundId: manual.body.refundId },
        },
      ],
    },
  };
  expect((await deliverStripeEvent(stack, refundEvent('charge.refunded', charge))).status).toBe(200);
  await eventually(async () => (await refundRow(manual.body.refundId)).status === 'COMPLETED', 'COMPLETED');
  expect(await orderOf(stack, orderId, customer.token)).toMatchObject({
    status: 'PARTIALLY_REFUNDED',
    paymentStatus: 'PARTIALLY_REFUNDED',
  });
  expect(
    await stack.prisma.auditLog.count({ where: { action: 'REFUND_ISSUED', actorId: admin.id, targetId: orderId } }),
  ).toBe(1);
});

test('a card refund Stripe fails after it completed: FAILED, the payment counts it no more, every admin told', async () => {
  const { customer, orderId, paymentIntentId } = await paidOrder(5200);
  await stack.http.post(`/admin/orders/${orderId}/ship`, { trackingNumber: 'T-REV' }, admin.token);
  await stack.http.post(`/admin/orders/${orderId}/deliver`, {}, admin.token);
  const manual = await stack.http.post(
    `/admin/orders/${orderId}/refunds`,
    { amount: 2000, reason: 'late delivery' },
    admin.token,
  );
  const { refundId, stripeRefundId } = manual.body as { refundId: string; stripeRefundId: string };
  const refundObject = (status: string) => ({
    id: stripeRefundId,
    object: 'refund',
    status,
    payment_intent: paymentIntentId,
    metadata: { refundId },
    failure_reason: status === 'failed' ? 'expired_or_canceled_card' : null,
  });
  await deliverStripeEvent(stack, refundEvent('refund.updated', refundObject('succeeded')));
  await stack.temporal.workflow.getHandle(refundWorkflowId(refundId)).result();
  expect(await orderOf(stack, orderId, customer.token)).toMatchObject({
    status: 'PARTIALLY_REFUNDED',
    paymentStatus: 'PARTIALLY_REFUNDED',
  });

  const failedLater = refundEvent('refund.updated', refundObject('failed'));
  expect((await deliverStripeEvent(stack, failedLater)).status).toBe(200);
  await eventually(async () => (await refundRow(refundId)).status === 'FAILED', 'refund FAILED');
  expect(await refundRow(refundId)).toMatchObject({
    failureReason: `STRIPE reported refund ${stripeRefundId} failed after it was completed (expired_or_canceled_card)`,
  });
  expect((await stack.prisma.order.findUniqueOrThrow({ where: { id: orderId } })).paymentStatus).toBe('PAID');
  const subject = `Refund ${refundId} failed after completion: the customer has not been paid back`;
  await eventually(
    async () => stack.smtp.messages.some((m) => m.to.includes(admin.email) && m.subject === subject),
    'admins alerted',
  );
  // The same news again is one alert, not two.
  await deliverStripeEvent(stack, refundEvent('charge.refund.updated', refundObject('failed')));
  await eventually(
    async () =>
      (await stack.prisma.webhookEvent.count({
        where: { type: 'charge.refund.updated', payload: { path: ['data', 'object', 'id'], equals: stripeRefundId } },
      })) === 1,
    'second event stored',
  );
  await eventually(
    async () =>
      (
        await stack.prisma.webhookEvent.findFirst({
          where: { type: 'charge.refund.updated', payload: { path: ['data', 'object', 'id'], equals: stripeRefundId } },
        })
      )?.status === 'PROCESSED',
    'second event processed',
  );
  expect(stack.smtp.messages.filter((m) => m.to.includes(admin.email) && m.subject === subject)).toHaveLength(1);
});

test('a manual refund retried with its Idempotency-Key, at once and later, is one refund, one credit, one audit entry', async () => {
  const { customer, orderId } = await paidOrder(6000);
  const issue = (amount: number, key = 'ticket-4711') =>
    stack.http.request('POST', `/admin/orders/${orderId}/refunds`, {
      body: { amount, reason: 'parcel lost', destination: 'WALLET' },
      token: admin.token,
      headers: { 'idempotency-key': key },
    });
  const together = await Promise.all([issue(1500), issue(1500)]);
  await stack.temporal.workflow.getHandle(refundWorkflowId(together[0].body.refundId)).result();
  const later = await issue(1500); // after the refund's workflow has finished
  const answers = [...together, later];
  expect(answers.map((a) => a.status)).toEqual([201, 201, 201]);
  expect(new Set(answers.map((a) => a.body.refundId)).size).toBe(1);
  expect(later.body).toMatchObject({ status: 'COMPLETED', amount: 1500, walletCredited: 1500 });
  expect(await stack.prisma.refund.count({ where: { orderId } })).toBe(1);
  expect((await walletOf(customer.id)).balance).toBe(1500);
  expect(await stack.prisma.auditLog.count({ where: { action: 'REFUND_ISSUED', targetId: orderId } })).toBe(1);

  // The same key for a different refund is a client mistake, and changes nothing.
  const reused = await issue(900);
  expect(reused.status).toBe(422);
  expect(reused.body.error).toMatchObject({
    code: 'IDEMPOTENCY_KEY_REUSED',
    details: { refundId: later.body.refundId },
  });
  // Another key is another refund.
  expect((await issue(900, 'ticket-4712')).body).toMatchObject({ status: 'COMPLETED', walletCredited: 900 });
  expect((await walletOf(customer.id)).balance).toBe(2400);
  // A refused refund retried with its key is refused again the same way, not taken for a key reused.
  const tooMuch = await issue(99_000, 'ticket-4713');
  expect({ status: tooMuch.status, code: tooMuch.body.error.code }).toEqual({
    status: 409,
    code: 'REFUND_AMOUNT_TOO_HIGH',
  });
  const refusedId = manualRefundId(admin.id, orderId, 'ticket-4713');
  expect((await stack.temporal.workflow.getHandle(refundWorkflowId(refusedId)).result()).status).toBe('REFUSED');
  const tooMuchAgain = await issue(99_000, 'ticket-4713');
  expect({ status: tooMuchAgain.status, code: tooMuchAgain.body.error.code }).toEqual({
    status: 409,
    code: 'REFUND_AMOUNT_TOO_HIGH',
  });
  expect(tooMuch.body.error.details).toMatchObject({ refundable: expect.any(Number) });
  expect(tooMuchAgain.body.error.details).toEqual(tooMuch.body.error.details);
  // That key with another amount is another request: a reused key, not the old refusal.
  const reusedRefused = await issue(100, 'ticket-4713');
  expect({ status: reusedRefused.status, code: reusedRefused.body.error.code }).toEqual({
    status: 422,
    code: 'IDEMPOTENCY_KEY_REUSED',
  });
});

test("a customer's refund request retried with its Idempotency-Key, at once and later, is one request", async () => {
  const { customer, orderId } = await paidOrder(4000);
  const ask = (reason = 'arrived broken', key = 'my-request-1') =>
    stack.http.request('POST', `/api/orders/${orderId}/refunds`, {
      body: { reason, destination: 'WALLET' },
      token: customer.token,
      headers: { 'idempotency-key': key },
    });
  const together = await Promise.all([ask(), ask()]);
  expect(together.map((a) => a.status)).toEqual([202, 202]);
  expect(together[1].body.refundId).toBe(together[0].body.refundId);
  expect(together[0].body).toMatchObject({ status: 'PENDING_APPROVAL', amount: 4000 });
  const later = await ask(); // the answer was lost: the client asks again
  expect({ status: later.status, refundId: later.body.refundId }).toEqual({
    status: 202,
    refundId: together[0].body.refundId,
  });
  expect(await stack.prisma.refund.count({ where: { orderId } })).toBe(1);

  // The same key for another request is a client mistake, and changes nothing.
  const reused = await ask('changed my mind');
  expect({ status: reused.status, code: reused.body.error.code, details: reused.body.error.details }).toEqual({
    status: 422,
    code: 'IDEMPOTENCY_KEY_REUSED',
    details: { refundId: together[0].body.refundId },
  });
  // Without a key (or with another) a second request waits behind the first: refused as before.
  const another = await ask('arrived broken', 'my-request-2');
  expect({ status: another.status, code: another.body.error.code }).toEqual({ status: 409, code: 'REFUND_PENDING' });
  expect(await stack.prisma.refund.count({ where: { orderId } })).toBe(1);

  // Decided and finished, the retry still answers that request as it now stands.
  await stack.http.post(`/admin/refunds/${together[0].body.refundId}/approve`, { reason: 'photo seen' }, admin.token);
  await stack.temporal.workflow.getHandle(refundWorkflowId(together[0].body.refundId)).result();
  expect((await ask()).body).toMatchObject({ refundId: together[0].body.refundId, status: 'COMPLETED' });
  expect((await walletOf(customer.id)).balance).toBe(4000);
});

test('goodwill credit: transactional, in the ledger with the admin, once per idempotency key', async () => {
  const customer = await createUser(stack);
  const credit = () =>
    stack.http.request('POST', `/admin/wallets/${customer.id}/credit`, {
      body: { amount: 1000, reason: 'Compensation for delayed shipment' },
      token: admin.token,
      headers: { 'idempotency-key': 'ticket-981' },
    });
  const [first, retried] = [await credit(), await credit()];
  expect([first.status, retried.status]).toEqual([201, 201]);
  expect(retried.body.entryId).toBe(first.body.entryId);
  const wallet = await walletOf(customer.id);
  expect(wallet.balance).toBe(1000);
  expect(wallet.entries.map((e) => [e.type, e.amount, e.actor, e.reason])).toEqual([
    ['CREDIT', 1000, admin.id, 'Compensation for delayed shipment'],
  ]);
  const audited = await stack.prisma.auditLog.findMany({ where: { action: 'WALLET_CREDITED', targetId: customer.id } });
  expect(audited.map((a) => [a.actorId, a.reason, a.before, a.after])).toEqual([
    [admin.id, 'Compensation for delayed shipment', { balance: 0 }, { entryId: first.body.entryId, balance: 1000 }],
  ]);
  expect(
    (await stack.http.post(`/admin/wallets/${customer.id}/credit`, { amount: 1000, reason: 'x' }, customer.token))
      .status,
  ).toBe(403);
  expect(
    (await stack.http.post(`/admin/wallets/${customer.id}/credit`, { amount: -5, reason: 'x' }, admin.token)).status,
  ).toBe(400);
  expect(
    (await stack.http.post(`/admin/wallets/${randomUUID()}/credit`, { amount: 5, reason: 'x' }, admin.token)).status,
  ).toBe(404);
});

test('store credit pays for an order at once; too little is 409 with nothing reserved; spending races never overdraw; refunds go back to the wallet', async () => {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 10, price: 1500 });
  expect(
    (
      await stack.http.post(
        `/admin/wallets/${customer.id}/credit`,
        { amount: 4000, reason: 'apology for the broken parcel' },
        admin.token,
      )
    ).status,
  ).toBe(201);
  const buy = () =>
    stack.http.post(
      '/api/checkout',
      { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'wallet' },
      customer.token,
    );

  const paid = await buy();
  expect(paid.status).toBe(201);
  expect(paid.body).toMatchObject({
    status: 'CONFIRMED',
    paymentStatus: 'PAID',
    paymentMethod: 'WALLET',
    totalAmount: 1500,
  });
  expect(paid.body.clientSecret).toBeUndefined();
  const orderId: string = paid.body.orderId;
  expect(await stack.prisma.inventoryLedger.count({ where: { reference: orderId, type: 'SALE' } })).toBe(1);
  await eventually(
    async () =>
      stack.smtp.messages.some((m) => m.to.includes(customer.email) && m.subject === `Order ${orderId} confirmed`),
    'confirmation email',
  );

  // 2500 left: two orders of 1500 at once, and only one can be paid.
  const racing = await Promise.all([buy(), buy()]);
  expect(racing.map((r) => r.status).sort()).toEqual([201, 409]);
  const refused = racing.find((r) => r.status === 409)!;
  expect(refused.body.error).toMatchObject({
    code: 'INSUFFICIENT_WALLET_BALANCE',
    details: { required: 1500, currency: 'USD' },
  });
  const wallet = await walletOf(customer.id);
  expect(wallet.balance).toBe(1000);
  const signed = (e: { type: string; amount: number }) => (e.type === 'CREDIT' ? e.amount : -e.amount);
  expect(wallet.entries.reduce((sum, e) => sum + signed(e), 0)).toBe(1000);
  expect(wallet.entries.filter((e) => e.type === 'DEBIT').map((e) => [e.amount, e.actor])).toEqual([
    [1500, customer.id],
    [1500, customer.id],
  ]);
  // The refused checkout reserved nothing: 10 units, 2 sold.
  expect(await availableOf(stack, product.id)).toBe(8);

  // A refund of a wallet-paid order goes back to the wallet, never to a card it never touched.
  const toCard = await requestRefund(customer, orderId, { reason: 'changed my mind', destination: 'ORIGINAL_PAYMENT' });
  expect({ status: toCard.status, code: toCard.body.error.code }).toEqual({
    status: 409,
    code: 'REFUND_DESTINATION_NOT_ALLOWED',
  });
  const requested = await requestRefund(customer, orderId, { reason: 'changed my mind' });
  expect(requested.body).toMatchObject({ destination: 'WALLET', amount: 1500 });
  await stack.http.post(`/admin/refunds/${requested.body.refundId}/approve`, { reason: 'unopened' }, admin.token);
  await eventually(async () => (await walletOf(customer.id)).balance === 2500, 'credit back in the wallet');

  // A free item takes nothing from the wallet; a wallet in another currency cannot pay at all.
  const freebie = await createProduct(stack, admin, { stock: 3, price: 0 });
  const free = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: freebie.id, quantity: 1 }], paymentMethod: 'wallet' },
    customer.token,
  );
  expect(free.body).toMatchObject({ status: 'CONFIRMED', paymentStatus: 'PAID', totalAmount: 0 });
  expect((await walletOf(customer.id)).balance).toBe(2500);
  const euroProduct = await createProduct(stack, admin, { stock: 3, price: 100, currency: 'EUR' });
  const inEuros = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: euroProduct.id, quantity: 1 }], paymentMethod: 'wallet' },
    customer.token,
  );
  expect({ status: inEuros.status, code: inEuros.body.error.code }).toEqual({
    status: 409,
    code: 'WALLET_CURRENCY_MISMATCH',
  });
  expect(await availableOf(stack, euroProduct.id)).toBe(3);
});

test('a wallet never goes past its limit: credits at once that would overflow it are 409 WALLET_BALANCE_LIMIT, never a 500', async () => {
  const customer = await createUser(stack);
  const big = (n: number) =>
    stack.http.post(
      `/admin/wallets/${customer.id}/credit`,
      { amount: 100_000_000, reason: `large credit ${n}` },
      admin.token,
    );
  const answers = await Promise.all(Array.from({ length: 22 }, (_, n) => big(n)));
  const statuses = answers.map((a) => a.status).sort();
  expect(statuses).toEqual([...Array(20).fill(201), 409, 409]);
  expect(answers.find((a) => a.status === 409)!.body.error.code).toBe('WALLET_BALANCE_LIMIT');
  const wallet = await walletOf(customer.id);
  expect(wallet.balance).toBe(2_000_000_000);
  expect(wallet.entries.reduce((sum, e) => sum + e.amount, 0)).toBe(wallet.balance);
  expect(await stack.prisma.auditLog.count({ where: { action: 'WALLET_CREDITED', targetId: customer.id } })).toBe(20);
});

test('a wallet in another currency: refused at request, or FAILED with the reason when it appears before approval', async () => {
  const goodwill = (customer: TestUser) =>
    stack.http.post(
      `/admin/wallets/${customer.id}/credit`,
      { amount: 500, reason: 'sorry for the wait', currency: 'EUR' },
      admin.token,
    );

  // The customer already holds euros: a dollar refund to the wallet is refused, nothing recorded.
  const holder = await createUser(stack);
  expect((await goodwill(holder)).status).toBe(201);
  const paid = await paidOrder(2000, holder);
  const refused = await requestRefund(holder, paid.orderId, { reason: 'broken', destination: 'WALLET' });
  expect(refused.status).toBe(409);
  expect(refused.body.error).toMatchObject({
    code: 'WALLET_CURRENCY_MISMATCH',
    details: { walletCurrency: 'EUR', currency: 'USD' },
  });
  expect(await stack.prisma.refund.count({ where: { orderId: paid.orderId } })).toBe(0);
  // To the card it goes through.
  expect((await requestRefund(holder, paid.orderId, { reason: 'broken' })).status).toBe(202);

  // The euro wallet is opened between the request and the approval: the refund fails, it does not hang.
  const { customer, orderId } = await paidOrder(2100);
  const refundId: string = (await requestRefund(customer, orderId, { reason: 'broken', destination: 'WALLET' })).body
    .refundId;
  expect((await goodwill(customer)).status).toBe(201);
  const approved = await stack.http.post(`/admin/refunds/${refundId}/approve`, { reason: 'ok' }, admin.token);
  expect(approved.status).toBe(200);
  expect(approved.body).toMatchObject({
    status: 'FAILED',
    walletCredited: 0,
    failureReason: 'The wallet holds EUR; it cannot be credited in USD',
  });
  expect(await refundRow(refundId)).toMatchObject({
    status: 'FAILED',
    failureReason: 'The wallet holds EUR; it cannot be credited in USD',
  });
  expect(await walletOf(customer.id)).toMatchObject({ balance: 500 });
  await eventually(
    async () =>
      stack.smtp.messages.find(
        (m) => m.to.includes(customer.email) && m.subject === `Refund for order ${orderId} did not go through`,
      ),
    'failure email',
  );
  expect(await orderOf(stack, orderId, customer.token)).toMatchObject({ status: 'CONFIRMED', paymentStatus: 'PAID' });
});

describe('policies and reminders', () => {
  const { stack: quick, admin: quickAdmin } = useStack({ env: { REFUND_REMINDER_AFTER: '1s' } });

  test('admins are reminded by email while a request waits; it never lapses', async () => {
    const customer = await createUser(quick);
    const product = await createProduct(quick, quickAdmin, { stock: 2, price: 700 });
    const { body } = await quick.http.post(
      '/api/checkout',
      { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' },
      customer.token,
    );
    const { paymentIntentId } = await orderOf(quick, body.orderId, customer.token);
    await deliverStripeEvent(
      quick,
      paymentIntentEvent('payment_intent.succeeded', {
        id: paymentIntentId,
        orderId: body.orderId,
        amount: 700,
        currency: 'usd',
      }),
    );
    await untilOrder(quick, body.orderId, customer.token, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
    const refundId = (
      await quick.http.post(
        `/api/orders/${body.orderId}/refunds`,
        { reason: 'late', destination: 'WALLET' },
        customer.token,
      )
    ).body.refundId;

    const reminders = () =>
      quick.smtp.messages.filter(
        (m) => m.to.includes(quickAdmin.email) && m.subject === `Refund ${refundId} is waiting for a decision`,
      );
    await eventually(async () => reminders().length >= 2, 'two reminders');
    expect(reminders()[0].text).toContain(`refund-${refundId}`);
    expect((await quick.prisma.refund.findUniqueOrThrow({ where: { id: refundId } })).status).toBe('PENDING_APPROVAL');
    expect(
      (await quick.http.post(`/admin/refunds/${refundId}/approve`, { reason: 'ok' }, quickAdmin.token)).body.status,
    ).toBe('COMPLETED');
  });

  test('a trusted customer (more than 10 delivered orders, no refund before) is approved by policy, once', async () => {
    const customer = await createUser(quick);
    const product = await createProduct(quick, quickAdmin, { stock: 20, price: 300 });
    for (let i = 0; i < 11; i += 1) {
      const { body } = await quick.http.post(
        '/api/checkout',
        { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'cod' },
        customer.token,
      );
      await quick.http.post(`/admin/orders/${body.orderId}/ship`, { trackingNumber: `T${i}` }, quickAdmin.token);
      await quick.http.post(`/admin/orders/${body.orderId}/deliver`, {}, quickAdmin.token);
    }
    // A twelfth order, paid by card and not yet shipped, is the one refunded.
    const { body: placed } = await quick.http.post(
      '/api/checkout',
      { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' },
      customer.token,
    );
    const lastOrder: string = placed.orderId;
    const { paymentIntentId } = await orderOf(quick, lastOrder, customer.token);
    await deliverStripeEvent(
      quick,
      paymentIntentEvent('payment_intent.succeeded', {
        id: paymentIntentId,
        orderId: lastOrder,
        amount: 300,
        currency: 'usd',
      }),
    );
    await untilOrder(quick, lastOrder, customer.token, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
    const first = (
      await quick.http.post(
        `/api/orders/${lastOrder}/refunds`,
        { amount: 100, reason: 'scratched', destination: 'WALLET' },
        customer.token,
      )
    ).body.refundId;
    const completed = await eventually(async () => {
      const row = await quick.prisma.refund.findUniqueOrThrow({ where: { id: first } });
      return row.status === 'COMPLETED' && row;
    }, 'approved by policy');
    expect(completed.decidedBy).toBe('policy:trusted-customer');

    // Having had a refund, the customer's next request waits for a person.
    const second = (
      await quick.http.post(
        `/api/orders/${lastOrder}/refunds`,
        { amount: 100, reason: 'another scratch', destination: 'WALLET' },
        customer.token,
      )
    ).body;
    expect(second.status).toBe('PENDING_APPROVAL');
    const view = await quick.temporal.workflow.getHandle(refundWorkflowId(second.refundId)).query('getRefund');
    expect((view as { status: string }).status).toBe('PENDING_APPROVAL');
  });
});

test('the history of an order paid, partly refunded and shipped says who did what, and when', async () => {
  const { customer, orderId } = await paidOrder(4000);
  const refundId = (
    await requestRefund(customer, orderId, { amount: 1000, reason: 'one jar cracked', destination: 'WALLET' })
  ).body.refundId;
  await stack.http.post(`/admin/refunds/${refundId}/approve`, { reason: 'photo checked' }, admin.token);
  await untilOrder(stack, orderId, customer.token, (o) => o.status === 'PARTIALLY_REFUNDED', 'PARTIALLY_REFUNDED');
  expect(
    (await stack.http.post(`/admin/orders/${orderId}/ship`, { trackingNumber: 'HIST-7', carrier: 'DHL' }, admin.token))
      .body.status,
  ).toBe('SHIPPED');

  const history = await stack.http.get(`/admin/orders/${orderId}/history?pageSize=500`, admin.token);
  expect(history.status).toBe(200);
  const entries = history.body.entries as {
    at: string;
    workflowId: string;
    kind: string;
    name?: string;
    actor?: string;
    detail?: string;
  }[];
  expect(entries.map((e) => e.at)).toEqual([...entries.map((e) => e.at)].sort());
  const find = (kind: string, name: string) => entries.find((e) => e.kind === kind && e.name === name);
  expect(find('STARTED', 'orderWorkflow')).toMatchObject({
    workflowId: orderWorkflowId(orderId),
    actor: `CUSTOMER:${customer.id}`,
  });
  // The webhook endpoint signals the order itself: the signal names the provider's event.
  expect(find('SIGNAL', 'paymentEvent')).toMatchObject({
    workflowId: orderWorkflowId(orderId),
    actor: 'PROVIDER:STRIPE',
    detail: expect.stringMatching(/eventId=evt_/),
  });
  expect(find('STARTED', 'refundWorkflow')).toMatchObject({
    workflowId: refundWorkflowId(refundId),
    actor: `CUSTOMER:${customer.id}`,
  });
  expect(find('UPDATE', 'approveRefund')).toMatchObject({ actor: `ADMIN:${admin.id}`, detail: 'reason=photo checked' });
  expect(find('ACTIVITY_COMPLETED', 'creditRefundToWallet')).toBeDefined();
  expect(find('SIGNAL', 'orderRefunded')?.detail).toContain('amount=1000');
  expect(find('UPDATE', 'shipOrder')).toMatchObject({
    actor: `ADMIN:${admin.id}`,
    detail: 'trackingNumber=HIST-7 carrier=DHL',
  });
  expect(find('UPDATE_RESULT', 'shipOrder')?.detail).toBe('done');
  // Who paid, refunded and shipped, in that order.
  const order = ['paymentEvent', 'approveRefund', 'shipOrder'].map((name) => entries.findIndex((e) => e.name === name));
  expect(order).toEqual([...order].sort((a, b) => a - b));
  expect(JSON.stringify(history.body)).not.toContain(customer.email);

  const firstPage = await stack.http.get(`/admin/orders/${orderId}/history?page=1&pageSize=3`, admin.token);
  // The shipped email may still be completing: the timeline only grows at its end.
  expect(firstPage.body).toMatchObject({ page: 1, pageSize: 3 });
  expect(firstPage.body.total).toBeGreaterThanOrEqual(entries.length);
  expect(firstPage.body.entries).toEqual(entries.slice(0, 3));
  expect((await stack.http.get(`/admin/orders/${orderId}/history`, customer.token)).status).toBe(403);
  expect((await stack.http.get(`/admin/orders/${randomUUID()}/history`, admin.token)).status).toBe(404);

  const cli = await runOps(stack, admin.email, 'audit', 'order', orderId);
  expect(cli.code).toBe(0);
  expect(cli.stdout).toMatch(
    new RegExp(`order-${orderId}\\s+UPDATE\\s+shipOrder\\s+by ADMIN:${admin.id}\\s+trackingNumber=HIST-7`),
  );
});
