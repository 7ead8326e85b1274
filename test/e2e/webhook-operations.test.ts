/**
 * The runbook's webhook operations and emergency switch, done by the system instead of by SQL:
 * replaying failed events once the handler is fixed, the health report, the event list, and
 * switching payments off, through the admin API and the ops CLI, each audited.
 * This file has a database of its own, so the health figures are exact.
 */
import { ApplicationFailure } from '@temporalio/common';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Activities } from '../../src/activities';
import { createProduct, createUser, eventually, runOps, useStack } from '../helpers/stack';
import { deliverRazorpayWebhook, deliverStripeEvent, paymentIntentEvent } from '../helpers/webhooks';
import { orderWorkflowId } from '../../src/workflows/ids';

const { stack, admin } = useStack({ isolatedDatabase: true, worker: false });
const started = new Date(Date.now() - 1000);

async function placeCardOrder() {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 5, price: 2000 });
  const checkout = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' },
    customer.token,
  );
  expect(checkout.status).toBe(201);
  const order = (await stack.http.get(`/api/orders/${checkout.body.orderId}`, customer.token)).body;
  return {
    customer,
    orderId: order.orderId as string,
    intent: { id: order.paymentIntentId as string, orderId: order.orderId as string, amount: 2000, currency: 'usd' },
  };
}

/**
 * A card order cancelled by its customer, its workflow closed. A payment's news for an open order
 * goes straight to it (the endpoint signals it); one for a closed order is the webhook workflow's
 * to handle (a late payment, refunded), so its handler's bugs leave events FAILED, to replay.
 */
async function cancelledCardOrder() {
  const placed = await placeCardOrder();
  expect((await stack.http.post(`/api/orders/${placed.orderId}/cancel`, {}, placed.customer.token)).status).toBe(200);
  await stack.temporal.workflow.getHandle(orderWorkflowId(placed.orderId)).result();
  return placed;
}

const ops = (...args: string[]) => runOps(stack, admin.email, ...args);

test('events failed by a broken handler are listed by a dry run, then replayed once each after the fix', async () => {
  // A release with a bug in the webhook handler: it cannot find any order.
  await stack.startWorker({
    wrapActivities: (activities) => ({
      ...activities,
      resolvePaymentOrder: async () => {
        throw ApplicationFailure.create({
          type: 'BUG',
          message: 'handler bug: order lookup broken',
          nonRetryable: true,
        });
      },
    }),
  });
  const orders = [await cancelledCardOrder(), await cancelledCardOrder()];
  const events = orders.map(({ intent }) => paymentIntentEvent('payment_intent.succeeded', intent));
  for (const event of events) expect((await deliverStripeEvent(stack, event)).status).toBe(200);
  const eventIds = events.map((e) => e.id as string);
  await eventually(
    async () =>
      (await stack.prisma.webhookEvent.count({ where: { eventId: { in: eventIds }, status: 'FAILED' } })) === 2,
    'both events FAILED',
  );

  // The fix is deployed.
  await stack.stopWorker();
  await stack.startWorker();
  const window = { provider: 'STRIPE', from: started.toISOString(), to: new Date().toISOString() };

  const dryRun = await stack.http.post('/admin/webhooks/replay', { ...window, dryRun: true }, admin.token);
  expect(dryRun.status).toBe(200);
  expect(dryRun.body).toMatchObject({ dryRun: true, count: 2 });
  expect(dryRun.body.events.map((e: { eventId: string; error: string }) => [e.eventId, e.error])).toEqual(
    eventIds.map((id) => [id, 'handler bug: order lookup broken']),
  );
  const cli = await ops(
    'webhooks',
    'replay',
    '--provider',
    'STRIPE',
    '--from',
    window.from,
    '--to',
    window.to,
    '--dry-run',
  );
  expect(cli.code).toBe(0);
  expect(JSON.parse(cli.stdout)).toMatchObject({ dryRun: true, count: 2 });
  for (const { orderId } of orders) {
    expect(await stack.prisma.payment.findFirstOrThrow({ where: { orderId } })).toMatchObject({ refundId: null });
  }

  const replay = await stack.http.post(
    '/admin/webhooks/replay',
    { ...window, dryRun: false, reason: 'order lookup fixed' },
    admin.token,
  );
  expect(replay.body).toMatchObject({ dryRun: false, count: 2, success: 2, failed: 0, skipped: 0, errors: [] });
  // Each late payment refunded in full, once, and its customer told once.
  const refunded = (email: string) =>
    stack.smtp.messages.filter((m) => m.to.includes(email) && m.subject.endsWith('refunded'));
  for (const { customer, orderId } of orders) {
    await eventually(async () => refunded(customer.email).length > 0, 'refund email');
    expect(refunded(customer.email)).toHaveLength(1);
    expect(await stack.prisma.payment.findFirstOrThrow({ where: { orderId } })).toMatchObject({
      refundId: expect.any(String),
      refundedAmount: 2000,
    });
    expect((await stack.http.get(`/api/orders/${orderId}`, customer.token)).body.status).toBe('CANCELLED');
  }
  const stored = await stack.prisma.webhookEvent.findMany({ where: { eventId: { in: eventIds } } });
  expect(stored.map((e) => [e.status, e.attemptCount, e.error])).toEqual([
    ['PROCESSED', 2, null],
    ['PROCESSED', 2, null],
  ]);

  // Nothing is left to replay; a processed event is never run again.
  const again = await stack.http.post('/admin/webhooks/replay', { ...window, dryRun: false }, admin.token);
  expect(again.body).toMatchObject({ count: 0, success: 0, failed: 0 });
  expect((await deliverStripeEvent(stack, events[0])).body).toEqual({ received: true, duplicate: true });

  const audit = await stack.prisma.auditLog.findMany({
    where: { action: { startsWith: 'WEBHOOKS_REPLAY' } },
    orderBy: { createdAt: 'asc' },
  });
  expect(audit.map((a) => [a.action, a.actorId])).toEqual([
    ['WEBHOOKS_REPLAY_DRY_RUN', admin.id],
    ['WEBHOOKS_REPLAY_DRY_RUN', admin.id],
    ['WEBHOOKS_REPLAYED', admin.id],
    ['WEBHOOKS_REPLAYED', admin.id],
  ]);
  expect(audit[2]).toMatchObject({
    reason: 'order lookup fixed',
    after: { success: 2, failed: 0, skipped: 0, errors: [] },
  });
});

test('the health report counts per provider and flags a success rate under 95% over more than 10 events', async () => {
  // Eleven Razorpay payments for orders that do not exist: all accepted, all FAILED.
  for (let i = 0; i < 11; i += 1) {
    const body = JSON.stringify({
      entity: 'event',
      event: 'payment.captured',
      payload: {
        payment: { entity: { id: `pay_${i}`, order_id: `order_nope_${i}`, amount: 100, currency: 'INR', notes: [] } },
      },
      created_at: Math.floor(Date.now() / 1000), // Razorpay signs it with every event
    });
    expect((await deliverRazorpayWebhook(stack, { eventId: `evt_health_${i}`, body })).status).toBe(200);
  }
  await eventually(
    async () => (await stack.prisma.webhookEvent.count({ where: { provider: 'RAZORPAY', status: 'FAILED' } })) === 11,
    '11 FAILED',
  );
  // Deliveries refused at the door (the runbook's "signature verification fails"): counted, not stored.
  const { intent } = await placeCardOrder();
  for (let i = 0; i < 3; i += 1)
    expect(
      (
        await deliverStripeEvent(stack, paymentIntentEvent('payment_intent.succeeded', intent), {
          secret: 'whsec_from_the_wrong_dashboard',
        })
      ).status,
    ).toBe(400);
  expect((await stack.http.request('POST', '/api/payments/stripe/webhook', { raw: '{}' })).status).toBe(400);
  expect((await deliverRazorpayWebhook(stack, { eventId: 'evt_garbled', body: 'not json' })).status).toBe(400);

  const health = await stack.http.get('/admin/webhooks/health?hours=24', admin.token);
  expect(health.status).toBe(200);
  expect(health.body.providers).toEqual({
    STRIPE: {
      total: 2,
      processed: 2,
      failed: 0,
      pending: 0,
      successRate: 100,
      alert: false,
      rejected: { total: 4, byReason: { INVALID_SIGNATURE: 3, MISSING_SIGNATURE: 1 } },
    },
    RAZORPAY: {
      total: 11,
      processed: 0,
      failed: 11,
      pending: 0,
      successRate: 0,
      alert: true,
      rejected: { total: 1, byReason: { MALFORMED_EVENT: 1 } },
    },
  });
  const cli = await ops('webhooks', 'health', '--hours', '24');
  expect(cli.code).toBe(0);
  expect(JSON.parse(cli.stdout).providers.RAZORPAY.alert).toBe(true);

  const failedOnly = await stack.http.get(
    `/admin/webhooks?provider=RAZORPAY&status=FAILED&from=${encodeURIComponent(started.toISOString())}`,
    admin.token,
  );
  expect(failedOnly.body.events).toHaveLength(11);
  expect(failedOnly.body.events[0]).toMatchObject({
    provider: 'RAZORPAY',
    type: 'payment.captured',
    status: 'FAILED',
    attemptCount: 1,
  });
  expect((await stack.http.get('/admin/webhooks?status=BOGUS', admin.token)).status).toBe(400);
  expect(await stack.prisma.auditLog.count({ where: { action: 'WEBHOOKS_HEALTH_CHECKED', actorId: admin.id } })).toBe(
    2,
  );
});

test('switching payments off refuses new card payments with 503, while payments already made are confirmed', async () => {
  const customer = await createUser(stack);
  const pending = await placeCardOrder();
  const paidDuringOutage = await placeCardOrder();
  expect((await stack.http.post('/admin/system/payments', { enabled: false }, admin.token)).status).toBe(400); // a reason is required
  expect(
    (await stack.http.post('/admin/system/payments', { enabled: false, reason: 'x' }, customer.token)).status,
  ).toBe(403);

  const off = await stack.http.post(
    '/admin/system/payments',
    { enabled: false, reason: 'Stripe incident INC-42' },
    admin.token,
  );
  expect(off.body).toMatchObject({ enabled: false, reason: 'Stripe incident INC-42', updatedBy: admin.id });

  const product = await createProduct(stack, admin, { stock: 5 });
  const card = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' },
    customer.token,
  );
  expect(card.status).toBe(503);
  expect(card.body.error).toMatchObject({ code: 'PAYMENTS_DISABLED', details: { reason: 'Stripe incident INC-42' } });
  const cod = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'cod' },
    customer.token,
  );
  expect(cod.status).toBe(201);
  await deliverStripeEvent(stack, paymentIntentEvent('payment_intent.payment_failed', pending.intent));
  await eventually(
    async () =>
      (await stack.http.get(`/api/orders/${pending.orderId}`, pending.customer.token)).body.paymentStatus === 'FAILED',
    'payment FAILED',
  );
  expect(
    (await stack.http.post(`/api/orders/${pending.orderId}/payments`, {}, pending.customer.token)).body.error.code,
  ).toBe('PAYMENTS_DISABLED');
  // A customer who had already paid is still confirmed.
  expect(
    (await deliverStripeEvent(stack, paymentIntentEvent('payment_intent.succeeded', paidDuringOutage.intent))).status,
  ).toBe(200);
  await eventually(
    async () =>
      (await stack.http.get(`/api/orders/${paidDuringOutage.orderId}`, paidDuringOutage.customer.token)).body.status ===
      'CONFIRMED',
    'paid order CONFIRMED',
  );

  const on = await ops('payments', 'enable', '--reason', 'incident over');
  expect(on.code).toBe(0);
  expect(JSON.parse(on.stdout)).toMatchObject({ enabled: true, reason: 'incident over', updatedBy: admin.id });
  expect(
    (
      await stack.http.post(
        '/api/checkout',
        { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' },
        customer.token,
      )
    ).status,
  ).toBe(201);

  const switches = await stack.prisma.auditLog.findMany({
    where: { targetId: 'payments_enabled' },
    orderBy: { createdAt: 'asc' },
  });
  expect(switches.map((a) => [a.action, a.actorId, a.reason])).toEqual([
    ['PAYMENTS_DISABLED', admin.id, 'Stripe incident INC-42'],
    ['PAYMENTS_ENABLED', admin.id, 'incident over'],
  ]);
  expect(switches[0]).toMatchObject({ before: { enabled: true }, after: { enabled: false } });
});

test('the ops CLI refuses without an admin actor and explains its usage errors', async () => {
  const noActor = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', path.join(__dirname, '..', '..', 'scripts', 'ops.ts'), 'webhooks', 'health'],
    { env: { ...stack.env, OPS_ACTOR: '' } },
  ).catch((e) => e);
  expect(noActor.code).toBe(2);
  expect(noActor.stderr).toContain('--actor');
  const badDate = await ops(
    'webhooks',
    'replay',
    '--provider',
    'STRIPE',
    '--from',
    'yesterday',
    '--to',
    'now',
    '--dry-run',
  );
  expect(badDate.code).toBe(2);
  expect(badDate.stderr).toContain('not a date: yesterday');
  // A suspended admin may not act from the command line either.
  const suspended = await createUser(stack, 'ADMIN');
  expect(
    (await stack.http.post(`/admin/users/${suspended.id}/suspend`, { reason: 'left the company' }, admin.token)).status,
  ).toBe(200);
  const refused = await runOps(stack, suspended.email, 'webhooks', 'health');
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain('suspended');
});

test('a replay while the cause is not fixed: counted as failed with the error, the event stays FAILED, the CLI exits 1', async () => {
  const broken = {
    wrapActivities: (activities: Activities) => ({
      ...activities,
      resolvePaymentOrder: async () => {
        throw ApplicationFailure.create({ type: 'BUG', message: 'still broken', nonRetryable: true });
      },
    }),
  };
  await stack.stopWorker();
  await stack.startWorker(broken);
  const from = new Date().toISOString();
  const { customer, orderId, intent } = await cancelledCardOrder();
  const event = paymentIntentEvent('payment_intent.succeeded', intent);
  expect((await deliverStripeEvent(stack, event)).status).toBe(200);
  await eventually(
    async () =>
      (await stack.prisma.webhookEvent.findFirst({ where: { eventId: event.id as string } }))?.status === 'FAILED',
    'event FAILED',
  );
  const window = { provider: 'STRIPE', from, to: new Date().toISOString() };

  const replay = await stack.http.post(
    '/admin/webhooks/replay',
    { ...window, dryRun: false, reason: 'try again' },
    admin.token,
  );
  expect(replay.body).toMatchObject({
    count: 1,
    success: 0,
    failed: 1,
    errors: [{ eventId: event.id, error: 'still broken' }],
  });
  expect(await stack.prisma.webhookEvent.findFirstOrThrow({ where: { eventId: event.id as string } })).toMatchObject({
    status: 'FAILED',
    attemptCount: 2,
    error: 'still broken',
  });
  const cli = await ops('webhooks', 'replay', '--provider', 'STRIPE', '--from', window.from, '--to', window.to);
  expect(cli.code).toBe(1);
  expect(JSON.parse(cli.stdout)).toMatchObject({ failed: 1 });
  expect(await stack.prisma.payment.findFirstOrThrow({ where: { orderId } })).toMatchObject({ refundId: null });

  // Customers may neither list nor replay the inbox, nor act through the CLI.
  expect((await stack.http.get('/admin/webhooks', customer.token)).status).toBe(403);
  expect((await stack.http.post('/admin/webhooks/replay', { ...window, dryRun: true }, customer.token)).status).toBe(
    403,
  );
  const asCustomer = await runOps(stack, customer.email, 'webhooks', 'health');
  expect(asCustomer.code).toBe(2);
  expect(asCustomer.stderr).toMatch(/admin/i);

  await stack.stopWorker();
  await stack.startWorker();
});
