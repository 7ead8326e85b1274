/**
 * Low stock (runbook scenario 3's "email to vendor when stock falls below 10 units"): a
 * reservation or adjustment that takes available stock to or below the threshold emails the
 * vendor (else every admin) once per crossing, re-armed when stock recovers; the list of what is
 * low; the daily digest from its Temporal Schedule; "Only N left" under 5.
 */
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { ensureLowStockSchedules } from '../../src/inventory/low-stock-schedule';
import { createProduct, createUser, eventually, runOps, useStack } from '../helpers/stack';

// A database of its own: a tick emails every pending crossing in the database to every active
// admin, and the rest of the suite leaves hundreds of both behind.
const { stack, admin, beforeStop } = useStack({ isolatedDatabase: true });
let schedules: { alerts: string; digest: string };
beforeAll(async () => {
  schedules = await ensureLowStockSchedules(stack.temporal, stack.config);
});
beforeStop(async () => {
  for (const id of Object.values(schedules)) await stack.temporal.schedule.getHandle(id).delete();
});

/**
 * One run of the schedule now, taken. A schedule names each run by its workflow id and the second
 * it starts, so a trigger in the same second as the run before it is dropped without a word (seen
 * with two triggers in a row; here the ticks for "still low" and the second crossing can be that
 * close), and the email then waits for the next interval. So a tick waits until the schedule
 * counts a new action and triggers again if it did not; a second run is harmless, since each
 * crossing is emailed once.
 */
async function tick(id: string): Promise<void> {
  const handle = stack.temporal.schedule.getHandle(id);
  const taken = async () => (await handle.describe()).info.numActionsTaken;
  const before = await taken();
  for (let attempt = 1; ; attempt++) {
    await handle.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
    const took = await eventually(async () => (await taken()) > before, `a run of ${id} taken`, 5000).then(
      () => true,
      (error: unknown) => {
        if (attempt === 3) throw error;
        return false;
      },
    );
    if (took) return;
  }
}
const mailTo = (email: string, contains: string) =>
  stack.smtp.messages.filter((m) => m.to.includes(email) && m.subject.includes(contains));

test('a crossing emails the vendor once, re-arms when stock recovers; without a vendor every admin hears; list and digest', async () => {
  const customer = await createUser(stack);
  const vendor = `vendor-${randomUUID()}@example.test`;
  const sku = `RICE-${randomUUID().slice(0, 8)}`;
  const created = await stack.http.post(
    '/admin/products',
    { sku, name: 'Basmati rice', price: 1899, currency: 'USD', stock: 15, vendorEmail: vendor },
    admin.token,
  );
  expect(created.body).toMatchObject({ lowStockThreshold: 10, vendorEmail: vendor });
  const rice = created.body.id as string;
  const buy = (quantity: number) =>
    stack.http.post('/api/checkout', { items: [{ productId: rice, quantity }], paymentMethod: 'cod' }, customer.token);

  expect((await buy(5)).status).toBe(201); // 15 -> 10 available: at the threshold
  await tick(schedules.alerts);
  await eventually(async () => mailTo(vendor, sku).length === 1, 'the vendor told of the crossing', 60_000);
  expect(mailTo(vendor, sku)[0].subject).toBe(`Low stock: ${sku} has 10 left`);

  expect((await buy(1)).status).toBe(201); // still low: no second alert for the same crossing
  await tick(schedules.alerts);
  await eventually(
    async () => (await stack.prisma.lowStockAlert.count({ where: { productId: rice, notifiedAt: null } })) === 0,
    'the alerts sent',
  );
  expect(await stack.prisma.lowStockAlert.count({ where: { productId: rice } })).toBe(1);

  // Restocked above the threshold re-arms it; the next fall is a new crossing.
  await stack.http.post(
    '/admin/inventory/adjustments',
    { productId: rice, newStock: 36, reason: 'Delivery' },
    admin.token,
  );
  expect((await buy(26)).status).toBe(201); // 36 - 6 - 26 = 4 available
  await tick(schedules.alerts);
  await eventually(async () => mailTo(vendor, sku).length === 2, 'the vendor told of the second crossing');
  expect(mailTo(vendor, sku)[1].subject).toBe(`Low stock: ${sku} has 4 left`);
  expect((await stack.http.get(`/api/products/${rice}`)).body.stockMessage).toBe('Only 4 left');
  expect(mailTo(admin.email, sku)).toHaveLength(0);

  // No vendor: every admin hears.
  const flour = await createProduct(stack, admin, { stock: 3 });
  await stack.http.post(
    '/admin/inventory/adjustments',
    { productId: flour.id, newStock: 2, reason: 'Torn bag' },
    admin.token,
  );
  await tick(schedules.alerts);
  // The same path as the vendor's first email (a tick, the schedule's workflow, its activity), given
  // as long: in a full run on two cores its workflow tasks have taken over 5 s each.
  await eventually(async () => mailTo(admin.email, flour.sku).length === 1, 'the admins told', 60_000);

  const listed = await stack.http.get('/admin/inventory/low-stock', admin.token);
  expect(listed.status).toBe(200);
  const skus = listed.body.items.map((i: { sku: string }) => i.sku);
  expect(skus).toEqual(expect.arrayContaining([sku, flour.sku]));
  expect(listed.body.items.find((i: { sku: string }) => i.sku === flour.sku)).toMatchObject({
    availableStock: 2,
    threshold: 10,
  });
  expect((await stack.http.get('/admin/inventory/low-stock', customer.token)).status).toBe(403);
  const viaOps = await runOps(stack, admin.email, 'inventory', 'low-stock');
  expect(JSON.parse(viaOps.stdout).items.map((i: { sku: string }) => i.sku)).toEqual(expect.arrayContaining([sku]));

  await tick(schedules.digest);
  await eventually(async () => mailTo(admin.email, 'Low stock digest').length >= 1, 'the digest');
  expect(mailTo(admin.email, 'Low stock digest')[0].text).toContain(flour.sku);
});
