/**
 * Disputes end to end over HTTP with signed webhooks (DESIGN.md "Returns and disputes"): a Stripe
 * dispute opened, reminded, answered with evidence through stripe-mock and won; a dispute lost
 * after a partial refund, where the refundable amount shrinks by what the bank took back; a
 * refund in flight held for an admin; and Stripe and Razorpay dispute events duplicated and out
 * of order, with one effect each.
 */
import { randomBytes } from 'node:crypto';
import { createProduct, createUser, eventually, orderOf, untilOrder, useStack } from '../helpers/stack';
import { deliverRazorpayWebhook, deliverStripeEvent, paymentIntentEvent } from '../helpers/webhooks';

// Any deadline within a week is reminded at once, so the reminder needs no waiting.
const { stack, admin } = useStack({ env: { DISPUTE_REMINDER_LEAD: '7d', REFUND_SETTLE_CHECK_AFTER: '1s' } });

async function paidOrder(price: number, options: { deliver?: boolean } = {}) {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 5, price });
  const checkout = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' },
    customer.token,
  );
  const orderId: string = checkout.body.orderId;
  const { paymentIntentId } = await orderOf(stack, orderId, customer.token);
  await deliverStripeEvent(
    stack,
    paymentIntentEvent('payment_intent.succeeded', { id: paymentIntentId, orderId, amount: price, currency: 'usd' }),
  );
  await untilOrder(stack, orderId, customer.token, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
  if (options.deliver) {
    await stack.http.post(`/admin/orders/${orderId}/ship`, { trackingNumber: 'T' }, admin.token);
    await stack.http.post(`/admin/orders/${orderId}/deliver`, {}, admin.token);
  }
  return { customer, product, orderId, paymentIntentId: paymentIntentId as string };
}

const now = () => Math.floor(Date.now() / 1000);

/** A Stripe dispute event as Stripe sends it (`created` orders events; later is newer). */
function disputeEvent(
  type: string,
  dispute: { id: string; paymentIntentId: string; amount: number; status: string; dueBy?: number },
  created = now(),
) {
  return {
    id: `evt_${randomBytes(12).toString('hex')}`,
    object: 'event',
    type,
    created,
    data: {
      object: {
        id: dispute.id,
        object: 'dispute',
        amount: dispute.amount,
        currency: 'usd',
        reason: 'fraudulent',
        status: dispute.status,
        charge: `ch_${randomBytes(8).toString('hex')}`,
        payment_intent: dispute.paymentIntentId,
        evidence_details: { due_by: dispute.dueBy ?? now() + 86_400 },
      },
    },
  };
}

async function disputeRow(providerDisputeId: string) {
  return stack.prisma.dispute.findFirst({ where: { providerDisputeId } });
}
const adminMails = (subject: string) =>
  stack.smtp.messages.filter((m) => m.to.includes(admin.email) && m.subject.startsWith(subject));

test('a dispute opened, reminded, answered with evidence and won; refunds and returns refused while it is open', async () => {
  const { customer, product, orderId, paymentIntentId } = await paidOrder(4000, { deliver: true });
  const dp = { id: `dp_${randomBytes(8).toString('hex')}`, paymentIntentId, amount: 4000, status: 'needs_response' };
  expect((await deliverStripeEvent(stack, disputeEvent('charge.dispute.created', dp))).status).toBe(200);

  const row = await eventually(() => disputeRow(dp.id), 'dispute recorded');
  expect(row).toMatchObject({ orderId, status: 'OPEN', amount: 4000, reason: 'fraudulent' });
  expect(await stack.prisma.order.findUniqueOrThrow({ where: { id: orderId } })).toMatchObject({
    disputeStatus: 'OPEN',
  });
  expect(await orderOf(stack, orderId, customer.token)).toMatchObject({ disputeStatus: 'OPEN', status: 'DELIVERED' });
  const opened = await eventually(async () => adminMails('Dispute opened')[0], 'opened email');
  expect(opened.text).toContain('$40.00');
  expect(opened.text).toContain('fraudulent');
  expect(opened.text).toContain(row!.evidenceDueBy!.toISOString());
  await eventually(async () => adminMails('Dispute evidence due')[0], 'reminder email');

  // While it is open: no manual refund, no return.
  const refund = await stack.http.post(`/admin/orders/${orderId}/refunds`, { amount: 100, reason: 'x' }, admin.token);
  expect(refund.status).toBe(409);
  expect(refund.body.error.code).toBe('ORDER_DISPUTED');
  const ret = await stack.http.post(
    `/api/orders/${orderId}/returns`,
    { lines: [{ productId: product.id, quantity: 1 }], reason: 'x' },
    customer.token,
  );
  expect(ret.status).toBe(409);
  expect(ret.body.error.code).toBe('ORDER_DISPUTED');

  const listed = await stack.http.get('/admin/disputes?status=OPEN', admin.token);
  expect(listed.body.disputes.map((d: { disputeId: string }) => d.disputeId)).toContain(row!.id);
  const evidence = await stack.http.post(
    `/admin/disputes/${row!.id}/evidence`,
    { note: 'signed delivery receipt attached' },
    admin.token,
  );
  expect(evidence.status).toBe(200);
  expect(evidence.body).toMatchObject({
    evidenceSubmittedBy: admin.id,
    evidenceNote: 'signed delivery receipt attached',
  });
  expect(evidence.body.evidence).toMatchObject({ submittedToProvider: true });
  const again = await stack.http.post(`/admin/disputes/${row!.id}/evidence`, { note: 'again' }, admin.token);
  expect(again.status).toBe(409);

  await deliverStripeEvent(stack, disputeEvent('charge.dispute.closed', { ...dp, status: 'won' }, now() + 1));
  await eventually(async () => (await disputeRow(dp.id))?.status === 'WON', 'won');
  const order = await stack.prisma.order.findUniqueOrThrow({ where: { id: orderId }, include: { payments: true } });
  expect(order).toMatchObject({ disputeStatus: 'WON', paymentStatus: 'PAID', status: 'DELIVERED' });
  expect(order.payments.find((p) => p.status === 'SUCCEEDED')?.disputeStatus).toBe('WON');
  await eventually(async () => adminMails('Dispute won')[0], 'won email');
  expect(adminMails('Dispute opened').filter((m) => m.subject.includes(orderId))).toHaveLength(1);
  const actions = (await stack.prisma.auditLog.findMany({ where: { targetId: row!.id } })).map((a) => a.action);
  expect(actions.sort()).toEqual(['DISPUTE_EVIDENCE_SUBMITTED', 'DISPUTE_OPENED', 'DISPUTE_WON']);

  const history = await stack.http.get(`/admin/orders/${orderId}/history?pageSize=500`, admin.token);
  expect(history.body.workflows).toContain(`dispute-stripe-${dp.id}`);
  // Decided in our favour: refunds are possible again.
  const after = await stack.http.post(
    `/admin/orders/${orderId}/refunds`,
    { amount: 100, reason: 'goodwill', destination: 'WALLET' },
    admin.token,
  );
  expect(after.status).toBe(201);
});

test('a dispute lost after a partial refund: what the bank took back counts, nothing is paid twice', async () => {
  const { orderId, paymentIntentId } = await paidOrder(5000, { deliver: true });
  const partial = await stack.http.post(
    `/admin/orders/${orderId}/refunds`,
    { amount: 2000, reason: 'one item missing', destination: 'WALLET' },
    admin.token,
  );
  expect(partial.body.status).toBe('COMPLETED');
  const dp = { id: `dp_${randomBytes(8).toString('hex')}`, paymentIntentId, amount: 2000, status: 'needs_response' };
  await deliverStripeEvent(stack, disputeEvent('charge.dispute.created', dp));
  await deliverStripeEvent(stack, disputeEvent('charge.dispute.funds_withdrawn', dp, now() + 1));
  await deliverStripeEvent(stack, disputeEvent('charge.dispute.closed', { ...dp, status: 'lost' }, now() + 2));
  const lost = await eventually(async () => {
    const d = await disputeRow(dp.id);
    return d?.status === 'LOST' && d;
  }, 'lost');
  // The withdrawal's event may be applied after the decision (its webhook ran in parallel).
  await eventually(async () => (await disputeRow(dp.id))?.fundsWithdrawn, 'funds withdrawn recorded');
  expect(lost.status).toBe('LOST');
  const order = await stack.prisma.order.findUniqueOrThrow({ where: { id: orderId } });
  expect(order).toMatchObject({
    disputeStatus: 'LOST',
    paymentStatus: 'PARTIALLY_REFUNDED',
    status: 'PARTIALLY_REFUNDED',
  });
  await eventually(async () => adminMails('Dispute lost').find((m) => m.subject.includes(orderId)), 'lost email');

  // 5000 paid, 2000 refunded, 2000 taken back by the bank: 1000 is left.
  const tooMuch = await stack.http.post(
    `/admin/orders/${orderId}/refunds`,
    { amount: 1500, reason: 'rest' },
    admin.token,
  );
  expect(tooMuch.status).toBe(409);
  expect(tooMuch.body.error).toMatchObject({ code: 'REFUND_AMOUNT_TOO_HIGH', details: { refundable: 1000 } });
  const rest = await stack.http.post(
    `/admin/orders/${orderId}/refunds`,
    { amount: 1000, reason: 'rest', destination: 'WALLET' },
    admin.token,
  );
  expect(rest.body.status).toBe('COMPLETED');
  expect((await stack.prisma.order.findUniqueOrThrow({ where: { id: orderId } })).paymentStatus).toBe('REFUNDED');
  const none = await stack.http.post(`/admin/orders/${orderId}/refunds`, { amount: 1, reason: 'more' }, admin.token);
  expect(none.body.error.code).toBe('REFUND_ALREADY_PROCESSED');
});

test('a refund approved while its order is disputed is held until an admin releases it', async () => {
  const { customer, orderId, paymentIntentId } = await paidOrder(3000);
  const asked = await stack.http.post(
    `/api/orders/${orderId}/refunds`,
    { reason: 'changed my mind', destination: 'WALLET' },
    customer.token,
  );
  expect(asked.status).toBe(202);
  const dp = { id: `dp_${randomBytes(8).toString('hex')}`, paymentIntentId, amount: 3000, status: 'needs_response' };
  await deliverStripeEvent(stack, disputeEvent('charge.dispute.created', dp));
  await eventually(async () => (await disputeRow(dp.id))?.status === 'OPEN', 'open');

  const otherAdmin = await createUser(stack, 'ADMIN');
  const approved = await stack.http.post(
    `/admin/refunds/${asked.body.refundId}/approve`,
    { reason: 'ok' },
    otherAdmin.token,
  );
  expect(approved.status).toBe(200);
  expect(approved.body).toMatchObject({ status: 'APPROVED', walletCredited: 0 });
  const held = await eventually(async () => {
    const view = await stack.temporal.workflow.getHandle(`refund-${asked.body.refundId}`).query('getRefund');
    return (view as { heldFor?: string }).heldFor && view;
  }, 'held');
  expect(held).toMatchObject({ heldFor: dp.id });
  expect((await stack.prisma.wallet.findUnique({ where: { userId: customer.id } }))?.balance ?? 0).toBe(0);

  const released = await stack.http.post(
    `/admin/refunds/${asked.body.refundId}/release`,
    { reason: 'customer confirmed they will withdraw the dispute' },
    admin.token,
  );
  expect(released.status).toBe(200);
  expect(released.body).toMatchObject({ status: 'COMPLETED', walletCredited: 3000 });
  expect(
    await stack.prisma.auditLog.findFirst({ where: { targetId: asked.body.refundId, action: 'REFUND_RELEASED' } }),
  ).toMatchObject({ actorId: admin.id });
  const notHeld = await stack.http.post(`/admin/refunds/${asked.body.refundId}/cancel`, { reason: 'x' }, admin.token);
  expect(notHeld.status).toBe(409);
});

test('dispute events duplicated and out of order have one effect each (Stripe and Razorpay)', async () => {
  // Stripe: the decision arrives first, then the opening, an older update, and the decision again.
  const { orderId, paymentIntentId } = await paidOrder(2500);
  const dp = { id: `dp_${randomBytes(8).toString('hex')}`, paymentIntentId, amount: 2500, status: 'needs_response' };
  const t = now();
  const closed = disputeEvent('charge.dispute.closed', { ...dp, status: 'lost' }, t + 10);
  const created = disputeEvent('charge.dispute.created', dp, t);
  const updated = disputeEvent('charge.dispute.updated', { ...dp, status: 'under_review' }, t + 5);
  expect((await deliverStripeEvent(stack, closed)).status).toBe(200);
  await eventually(async () => (await disputeRow(dp.id))?.status === 'LOST', 'lost first');
  await Promise.all([
    deliverStripeEvent(stack, created),
    deliverStripeEvent(stack, updated),
    deliverStripeEvent(stack, closed), // the same event id again
  ]);
  await eventually(async () => {
    const events = await stack.prisma.webhookEvent.findMany({
      where: { eventId: { in: [created.id, updated.id, closed.id] } },
    });
    return events.length === 3 && events.every((e) => e.status === 'PROCESSED');
  }, 'all processed');
  expect(await disputeRow(dp.id)).toMatchObject({ status: 'LOST', providerStatus: 'lost' });
  expect(await stack.prisma.order.findUniqueOrThrow({ where: { id: orderId } })).toMatchObject({
    paymentStatus: 'REFUNDED',
    disputeStatus: 'LOST',
  });
  const recordId = (await disputeRow(dp.id))!.id;
  expect((await stack.prisma.auditLog.findMany({ where: { targetId: recordId } })).map((a) => a.action)).toEqual([
    'DISPUTE_OPENED',
  ]);
  await eventually(async () => adminMails('Dispute lost').find((m) => m.subject.includes(orderId)), 'lost email');
  expect(adminMails('Dispute lost').filter((m) => m.subject.includes(orderId))).toHaveLength(1);
  expect(adminMails('Dispute opened').filter((m) => m.subject.includes(orderId))).toHaveLength(1);

  // Razorpay: the opening delivered twice, an update, then won; routed by the Razorpay order we created.
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 5, price: 49_900, currency: 'INR' });
  const checkout = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card', provider: 'razorpay' },
    customer.token,
  );
  const razorpayOrderId: string = checkout.body.razorpayOrderId;
  const { paymentId, webhooks } = stack.razorpay.pay(razorpayOrderId);
  await deliverRazorpayWebhook(stack, webhooks['payment.captured']);
  await untilOrder(stack, checkout.body.orderId, customer.token, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
  const disputeId = `disp_${randomBytes(7).toString('hex')}`;
  const razorpayEvent = (event: string, status: string, at: number) => ({
    eventId: `evt_${randomBytes(8).toString('hex')}`,
    body: JSON.stringify({
      entity: 'event',
      event,
      created_at: at,
      payload: {
        payment: { entity: { id: paymentId, order_id: razorpayOrderId, amount: 49_900, currency: 'INR' } },
        dispute: {
          entity: {
            id: disputeId,
            amount: 49_900,
            currency: 'INR',
            reason_code: 'chargeback',
            reason_description: 'Item not received',
            respond_by: at + 3 * 86_400,
            status,
          },
        },
      },
    }),
  });
  const rOpened = razorpayEvent('payment.dispute.created', 'open', t);
  await deliverRazorpayWebhook(stack, rOpened);
  expect((await deliverRazorpayWebhook(stack, rOpened)).body).toMatchObject({ duplicate: true });
  await eventually(() => disputeRow(disputeId), 'opened');
  await deliverRazorpayWebhook(stack, razorpayEvent('payment.dispute.under_review', 'under_review', t + 5));
  await eventually(async () => (await disputeRow(disputeId))?.providerStatus === 'under_review', 'under review');
  await deliverRazorpayWebhook(stack, razorpayEvent('payment.dispute.won', 'won', t + 10));
  await eventually(async () => (await disputeRow(disputeId))?.status === 'WON', 'won');
  expect(await stack.prisma.order.findUniqueOrThrow({ where: { id: checkout.body.orderId } })).toMatchObject({
    disputeStatus: 'WON',
    paymentStatus: 'PAID',
  });
  const razorpayRecord = (await disputeRow(disputeId))!;
  expect(razorpayRecord).toMatchObject({ reason: 'Item not received', amount: 49_900, currency: 'INR' });
  expect(
    (await stack.prisma.auditLog.findMany({ where: { targetId: razorpayRecord.id } })).map((a) => a.action).sort(),
  ).toEqual(['DISPUTE_OPENED', 'DISPUTE_UPDATED', 'DISPUTE_WON']);
});
