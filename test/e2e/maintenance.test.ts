/**
 * Maintenance mode, as the runbook's emergency script turns it on, but without SQL: storefront
 * writes answer 503 MAINTENANCE with Retry-After while a payment webhook arriving in the same
 * moment is still accepted and confirms its order; reads and admin routes go on; switching it
 * is audited and emailed to admins, by the admin API and by the ops CLI. Its own database, since
 * the flag is shared by every replica (and every test file) on one database.
 */
import { createProduct, eventually, mailsTo, runOps, untilOrder, useStack, useUser } from '../helpers/stack';
import { deliverStripeEvent, paymentIntentEvent } from '../helpers/webhooks';

const { stack, admin } = useStack({ isolatedDatabase: true });
const customer = useUser(stack);

test('maintenance refuses a checkout while a webhook in the same moment is processed', async () => {
  const product = await createProduct(stack, admin, { stock: 10, price: 1500 });
  const checkoutBody = { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' };
  const placed = await stack.http.post('/api/checkout', checkoutBody, customer.token);
  expect(placed.status).toBe(201);
  const orderId = placed.body.orderId as string;
  const order = (await stack.http.get(`/api/orders/${orderId}`, customer.token)).body;

  expect((await stack.http.post('/admin/system/maintenance', { enabled: 'yes' }, admin.token)).body.error.code).toBe(
    'VALIDATION_ERROR',
  );
  expect(
    (await stack.http.post('/admin/system/maintenance', { enabled: true, reason: 'x' }, customer.token)).status,
  ).toBe(403);
  const on = await stack.http.post(
    '/admin/system/maintenance',
    { enabled: true, reason: 'database upgrade' },
    admin.token,
  );
  expect(on.status).toBe(200);
  expect(on.body).toMatchObject({
    enabled: true,
    reason: 'database upgrade',
    updatedBy: admin.id,
    adminsNotified: true,
  });

  const [refused, webhook] = await Promise.all([
    stack.http.post('/api/checkout', checkoutBody, customer.token),
    deliverStripeEvent(
      stack,
      paymentIntentEvent('payment_intent.succeeded', {
        id: order.paymentIntentId,
        orderId,
        amount: 1500,
        currency: 'usd',
      }),
    ),
  ]);
  expect(refused.status).toBe(503);
  expect(refused.body.error.code).toBe('MAINTENANCE');
  expect(refused.headers.get('retry-after')).toBe('300');
  expect(webhook.status).toBe(200);
  // Money that arrived is never bounced: the order is confirmed during maintenance.
  await untilOrder(stack, orderId, customer.token, (o) => o.status === 'CONFIRMED', 'order confirmed');
  expect(await stack.prisma.order.count({ where: { customerId: customer.id } })).toBe(1); // nothing was reserved

  // Reads and admin routes go on; the other storefront writes are refused.
  expect((await stack.http.get('/api/products')).status).toBe(200);
  expect((await stack.http.get('/admin/orders', admin.token)).status).toBe(200);
  const refund = await stack.http.post(`/api/orders/${orderId}/refunds`, { reason: 'changed my mind' }, customer.token);
  expect([refund.status, refund.body.error.code]).toEqual([503, 'MAINTENANCE']);
  const retry = await stack.http.post(`/api/orders/${orderId}/payments`, {}, customer.token);
  expect([retry.status, retry.body.error.code]).toEqual([503, 'MAINTENANCE']);
  const returned = await stack.http.post(
    `/api/orders/${orderId}/returns`,
    { lines: [{ productId: product.id, quantity: 1 }], reason: 'too small' },
    customer.token,
  );
  expect([returned.status, returned.body.error.code]).toEqual([503, 'MAINTENANCE']);
  expect(returned.headers.get('retry-after')).toBe('300');
  const cancelled = await stack.http.post(`/api/orders/${orderId}/cancel`, {}, customer.token);
  expect([cancelled.status, cancelled.body.error.code]).toEqual([503, 'MAINTENANCE']);
  expect(await stack.prisma.refund.count({ where: { orderId } })).toBe(0);
  expect(await stack.prisma.return.count({ where: { orderId } })).toBe(0);
  // An admin's write goes on, and the order's workflow with it.
  const shipped = await stack.http.post(
    `/admin/orders/${orderId}/ship`,
    { trackingNumber: 'TRK-MAINT-1' },
    admin.token,
  );
  expect(shipped.status).toBe(200);
  await untilOrder(stack, orderId, customer.token, (o) => o.status === 'SHIPPED', 'order shipped during maintenance');
  // Admins can still sign in to end it.
  expect(
    (await stack.http.post('/api/auth/login', { email: admin.email, password: 'correct horse battery staple' })).status,
  ).toBe(200);

  const audits = await stack.prisma.auditLog.findMany({ where: { action: 'MAINTENANCE_ENABLED' } });
  expect(audits).toEqual([expect.objectContaining({ actorId: admin.id, reason: 'database upgrade' })]);
  await eventually(async () => mailsTo(stack, admin.email, 'Maintenance mode is ON').length === 1, 'admin emailed');

  // Off again from the CLI; this replica sees it within its cache time.
  const off = await runOps(stack, admin.email, 'system', 'maintenance', 'off', '--reason', 'upgrade done');
  expect(off.code).toBe(0);
  expect(JSON.parse(off.stdout)).toMatchObject({ enabled: false, reason: 'upgrade done', adminsNotified: true });
  const bad = await runOps(stack, admin.email, 'system', 'maintenance', 'sideways', '--reason', 'x');
  expect(bad.code).toBe(2);
  await eventually(
    async () => (await stack.http.post('/api/checkout', checkoutBody, customer.token)).status === 201,
    'checkout open again',
  );
  expect(await stack.prisma.auditLog.count({ where: { action: 'MAINTENANCE_DISABLED', reason: 'upgrade done' } })).toBe(
    1,
  );
  await eventually(async () => mailsTo(stack, admin.email, 'Maintenance mode is off').length === 1, 'admin emailed');
});
