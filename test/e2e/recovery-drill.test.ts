/**
 * The README's recovery drill, run as written with the ops CLI, for two of its P0 situations:
 * payments failing (see it, switch payments off and the shop into maintenance, switch both back,
 * checkouts go through) and data corruption (stock changed behind the ledger's back: seen by the
 * ledger check, maintenance on, the evidence backed up, the workers stopped, last night's backup
 * restored and verified, the check clean again). The other commands of the drill run in the
 * e2e tests of their features; test/deploy/recovery-drill.test.ts checks every one exists.
 * Its own database, as it restores it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createProduct, createUser, eventually, runOps, useStack, type TestUser } from '../helpers/stack';
import { deliverStripeEvent, paymentIntentEvent } from '../helpers/webhooks';

const backupDir = mkdtempSync(path.join(os.tmpdir(), 'dc-drill-'));
const { stack, admin } = useStack({
  isolatedDatabase: true,
  env: { BACKUP_DIR: backupDir, RESERVATION_TTL: '1h' },
});
afterAll(() => rmSync(backupDir, { recursive: true, force: true }));

const ops = async (...args: string[]) => {
  const run = await runOps(stack, admin.email, ...args);
  return { ...run, json: run.stdout.trim().startsWith('{') ? JSON.parse(run.stdout) : undefined };
};

async function checkout(customer: TestUser, productId: string, paymentMethod: 'card' | 'cod') {
  return stack.http.post('/api/checkout', { items: [{ productId, quantity: 1 }], paymentMethod }, customer.token);
}

test('payments failing: diagnose, switch payments off and maintenance on, then both back, by the CLI', async () => {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 20, price: 1800 });
  const declined = await checkout(customer, product.id, 'card');
  expect(declined.status).toBe(201);
  const order = (await stack.http.get(`/api/orders/${declined.body.orderId}`, customer.token)).body;
  const intent = { id: order.paymentIntentId, orderId: order.orderId, amount: 1800, currency: 'usd' };
  await deliverStripeEvent(stack, paymentIntentEvent('payment_intent.payment_failed', intent));
  await eventually(
    async () => (await stack.prisma.payment.count({ where: { orderId: order.orderId, status: 'FAILED' } })) === 1,
    'the decline recorded',
  );

  // 1. See it.
  const seen = await ops('payments', 'diagnose');
  expect(seen.code).toBe(0);
  expect(seen.json.payments.STRIPE).toMatchObject({ failed: 1, byReason: { 'Your card was declined.': 1 } });
  expect(seen.json.providers.STRIPE.status).toBe('up');

  // 2. Stop the damage: card payments off (cash on delivery goes on), then the whole shop.
  expect((await ops('payments', 'disable', '--reason', 'Stripe incident')).code).toBe(0);
  const card = await checkout(customer, product.id, 'card');
  expect([card.status, card.body.error.code]).toEqual([503, 'PAYMENTS_DISABLED']);
  expect((await checkout(customer, product.id, 'cod')).status).toBe(201);
  const on = await ops('system', 'maintenance', 'on', '--reason', 'payments incident');
  expect(on.code).toBe(0);
  expect(on.json).toMatchObject({ enabled: true, updatedBy: admin.id, adminsNotified: true });
  await eventually(async () => (await checkout(customer, product.id, 'cod')).status === 503, 'maintenance seen');
  const refused = await checkout(customer, product.id, 'cod');
  expect([refused.status, refused.body.error.code]).toEqual([503, 'MAINTENANCE']);
  // A payment that arrives meanwhile is still taken.
  await deliverStripeEvent(stack, paymentIntentEvent('payment_intent.succeeded', intent));
  await eventually(
    async () => (await stack.http.get(`/api/orders/${order.orderId}`, customer.token)).body.status === 'CONFIRMED',
    'the paid order confirmed during maintenance',
  );
  const during = await ops('payments', 'diagnose');
  expect(during.json.paymentsSwitch).toMatchObject({ enabled: false, reason: 'Stripe incident' });
  expect(during.json.maintenance).toMatchObject({ enabled: true, reason: 'payments incident' });

  // 4. Verify and reopen.
  expect((await ops('payments', 'enable', '--reason', 'Stripe recovered')).code).toBe(0);
  expect((await ops('system', 'maintenance', 'off', '--reason', 'recovered')).code).toBe(0);
  await eventually(async () => (await checkout(customer, product.id, 'card')).status === 201, 'card checkouts again');
  const trail = await stack.prisma.auditLog.findMany({
    where: { actorId: admin.id, targetType: 'system_settings' },
    orderBy: { createdAt: 'asc' },
  });
  expect(trail.map((entry) => [entry.action, entry.reason])).toEqual([
    ['PAYMENTS_DISABLED', 'Stripe incident'],
    ['MAINTENANCE_ENABLED', 'payments incident'],
    ['PAYMENTS_ENABLED', 'Stripe recovered'],
    ['MAINTENANCE_DISABLED', 'recovered'],
  ]);
});

test('data corruption: the ledger check sees it, maintenance on, evidence kept, last backup restored and verified', async () => {
  const product = await createProduct(stack, admin, { stock: 12 });
  const nightly = await ops('db', 'backup', '--reason', 'nightly');
  expect(nightly.code).toBe(0);
  // The runbook's "unsafe" intervention: stock changed by hand, behind the ledger.
  await stack.prisma.$executeRaw`UPDATE products SET stock = 500 WHERE id = ${product.id}::uuid`;

  // 1. See it.
  const check = await ops('inventory', 'check');
  expect(check.code).toBe(1);
  expect(check.json.mismatches).toEqual([
    expect.objectContaining({ productId: product.id, stock: 500, ledgerStock: 12 }),
  ]);

  // 2. Stop the damage, and keep the evidence.
  expect((await ops('system', 'maintenance', 'on', '--reason', 'data corruption')).code).toBe(0);
  const evidence = await ops('db', 'backup', '--reason', 'before repair');
  expect(evidence.code).toBe(0);
  expect(evidence.json.file).not.toBe(nightly.json.file);

  // 3. Recover: the workers stopped, last night's backup restored.
  await stack.stopWorker();
  const restored = await ops('db', 'restore', nightly.json.file, '--yes', '--reason', 'restore after corruption');
  expect(restored.code).toBe(0);
  expect(restored.json.verified).toEqual({ rowCounts: true, migrations: true, mismatches: [] });
  // Last night maintenance was off; the restore keeps it on, as it was before, until the operator says.
  expect(restored.json.switchesKept).toEqual(['maintenance']);
  await stack.startWorker();
  const customer = await createUser(stack);
  await eventually(async () => (await checkout(customer, product.id, 'cod')).status === 503, 'still in maintenance');
  const held = await checkout(customer, product.id, 'cod');
  expect([held.status, held.body.error.code]).toEqual([503, 'MAINTENANCE']);

  // 4. Verify: the ledger agrees again; nothing is waiting in the webhook inbox; open again.
  const clean = await eventually(async () => {
    const run = await ops('inventory', 'check');
    return run.code === 0 && run;
  }, 'the ledger check clean');
  expect(clean.json.mismatches).toEqual([]);
  expect((await stack.prisma.product.findUniqueOrThrow({ where: { id: product.id } })).stock).toBe(12);
  const failed = await ops('webhooks', 'list', '--status', 'FAILED');
  expect(failed.code).toBe(0);
  expect(failed.json).toMatchObject({ events: [] });
  expect((await ops('system', 'maintenance', 'off', '--reason', 'restored')).code).toBe(0);
  await eventually(async () => (await checkout(customer, product.id, 'cod')).status === 201, 'open again');
  // The restore is recorded, in the restored database, with who and why, and so is the switch it kept.
  const trail = await stack.prisma.auditLog.findMany({
    where: { action: { in: ['DATABASE_RESTORED', 'MAINTENANCE_ENABLED', 'MAINTENANCE_DISABLED'] } },
    orderBy: { createdAt: 'asc' },
  });
  expect(trail.slice(-3).map((entry) => [entry.action, entry.actorId, entry.reason])).toEqual([
    ['MAINTENANCE_ENABLED', admin.id, 'kept across the restore: restore after corruption'],
    ['DATABASE_RESTORED', admin.id, 'restore after corruption'],
    ['MAINTENANCE_DISABLED', admin.id, 'restored'],
  ]);
});
