/**
 * Inventory resets over HTTP (the runbook's "Reset Product Inventory" without SQL): the workflow
 * inventory-reset-<id> applies every line or none (per-line errors), verifies, and reports; the
 * rollback after sales reverses each line as a delta, keeps the sales, and refuses (and reports)
 * a line that would go below its reserved units. The CLI runs the same operations.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createProduct, createUser, eventually, runOps, useStack } from '../helpers/stack';

const { stack, admin } = useStack();

async function untilReset(resetId: string, done: (status: string) => boolean) {
  return eventually(async () => {
    const { body } = await stack.http.get(`/admin/inventory/resets/${resetId}`, admin.token);
    return done(body.status) && body;
  }, `reset ${resetId}`);
}

const stockOf = async (id: string) => (await stack.prisma.product.findUniqueOrThrow({ where: { id } })).stock;

test('a reset applies every line, verifies, and its rollback after sales keeps the sales; a line below its reserved units is refused and reported', async () => {
  const customer = await createUser(stack);
  const [a, b, c] = await Promise.all([
    createProduct(stack, admin, { stock: 10 }),
    createProduct(stack, admin, { stock: 20 }),
    createProduct(stack, admin, { stock: 10 }),
  ]);
  const started = await stack.http.post(
    '/admin/inventory/resets',
    {
      adjustments: [
        { productId: a.id, newQuantity: 50, reason: 'Physical count shows 50 units' },
        { productId: b.id, newQuantity: 5, reason: 'Water damage' },
        { productId: c.id, newQuantity: 30, reason: 'Found a pallet' },
      ],
      reason: 'Physical inventory reconciliation',
      reference: 'INV-2024-001',
    },
    admin.token,
  );
  expect(started.status).toBe(202);
  const { resetId, workflowId } = started.body;
  expect(workflowId).toBe(`inventory-reset-${resetId}`);
  const verified = await untilReset(resetId, (s) => s === 'VERIFIED');
  expect(verified.lines).toEqual([
    expect.objectContaining({ productId: a.id, previousStock: 10, newStock: 50 }),
    expect.objectContaining({ productId: b.id, previousStock: 20, newStock: 5 }),
    expect.objectContaining({ productId: c.id, previousStock: 10, newStock: 30 }),
  ]);
  expect(
    await stack.prisma.inventoryLedger.count({ where: { type: 'RESET', reference: 'INV-2024-001', productId: a.id } }),
  ).toBe(1);

  // Sales since the reset: 3 of a shipped (SALE), 25 of c reserved by an unpaid order.
  const sold = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: a.id, quantity: 3 }], paymentMethod: 'cod' },
    customer.token,
  );
  await stack.http.post(`/admin/orders/${sold.body.orderId}/ship`, { trackingNumber: 'T-1' }, admin.token);
  const held = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: c.id, quantity: 25 }], paymentMethod: 'card' },
    customer.token,
  );
  expect(held.status).toBe(201);
  expect(await stockOf(a.id)).toBe(47);

  const rolledBack = await stack.http.post(
    `/admin/inventory/resets/${resetId}/rollback`,
    { reason: 'Count sheet was for the other warehouse' },
    admin.token,
  );
  expect(rolledBack.status).toBe(200);
  expect(rolledBack.body).toMatchObject({ resetId, status: 'PARTIALLY_ROLLED_BACK' });
  expect(rolledBack.body.lines).toEqual([
    expect.objectContaining({ productId: a.id, delta: -40, status: 'REVERSED', previousStock: 47, newStock: 7 }),
    expect.objectContaining({ productId: b.id, delta: 15, status: 'REVERSED', previousStock: 5, newStock: 20 }),
    expect.objectContaining({
      productId: c.id,
      delta: -20,
      status: 'REFUSED',
      message: expect.stringContaining('below the 25 units'),
    }),
  ]);
  // The 3 sold stay sold (10 - 3), where the runbook's copy of the backup would have put back 10.
  expect([await stockOf(a.id), await stockOf(b.id), await stockOf(c.id)]).toEqual([7, 20, 30]);
  const rows = await stack.prisma.inventoryLedger.findMany({
    where: { type: 'ROLLBACK', productId: { in: [a.id, b.id, c.id] } },
  });
  expect(rows.map((r) => r.productId).sort()).toEqual([a.id, b.id].sort());
  expect(rows.every((r) => r.actor === admin.id && r.reason.includes('other warehouse'))).toBe(true);
  expect((await stack.http.get(`/admin/inventory/resets/${resetId}`, admin.token)).body).toMatchObject({
    status: 'PARTIALLY_ROLLED_BACK',
    rollback: expect.any(Array),
  });
  // Asking again answers the same rollback; nothing moves twice.
  const again = await stack.http.post(`/admin/inventory/resets/${resetId}/rollback`, { reason: 'again' }, admin.token);
  expect(again.body.lines).toEqual(rolledBack.body.lines);
  expect(await stockOf(a.id)).toBe(7);
  const audited = await stack.prisma.auditLog.findMany({ where: { targetId: resetId }, orderBy: { createdAt: 'asc' } });
  expect(audited.map((e) => e.action)).toEqual(['INVENTORY_RESET_REQUESTED', 'INVENTORY_RESET_ROLLED_BACK']);
});

test('a reset with bad lines is refused whole, with one error per bad line, and changes nothing', async () => {
  const customer = await createUser(stack);
  const [a, b] = await Promise.all([
    createProduct(stack, admin, { stock: 10 }),
    createProduct(stack, admin, { stock: 8 }),
  ]);
  await stack.http.post(
    '/api/checkout',
    { items: [{ productId: b.id, quantity: 6 }], paymentMethod: 'cod' },
    customer.token,
  );
  const started = await stack.http.post(
    '/admin/inventory/resets',
    {
      adjustments: [
        { productId: a.id, newQuantity: 12, reason: 'count' },
        { productId: randomUUID(), newQuantity: 1, reason: 'count' },
        { productId: b.id, newQuantity: 2, reason: 'count' },
        { productId: a.id, newQuantity: 3, reason: 'typed twice' },
      ],
      reason: 'Physical inventory reconciliation',
      reference: 'INV-2024-002',
    },
    admin.token,
  );
  expect(started.status).toBe(202);
  const refused = await untilReset(started.body.resetId, (s) => s === 'REFUSED');
  expect(refused.errors).toEqual([
    expect.objectContaining({ line: 2, code: 'PRODUCT_NOT_FOUND' }),
    expect.objectContaining({ line: 3, productId: b.id, code: 'STOCK_BELOW_RESERVED' }),
    expect.objectContaining({ line: 4, productId: a.id, code: 'DUPLICATE_LINE' }),
  ]);
  expect([await stockOf(a.id), await stockOf(b.id)]).toEqual([10, 8]);
  expect(await stack.prisma.inventoryLedger.count({ where: { reference: 'INV-2024-002' } })).toBe(0);
  const rollback = await stack.http.post(
    `/admin/inventory/resets/${started.body.resetId}/rollback`,
    { reason: 'x' },
    admin.token,
  );
  expect([rollback.status, rollback.body.error.code]).toEqual([409, 'INVALID_RESET_STATE']);

  expect(
    (await stack.http.post('/admin/inventory/resets', { adjustments: [], reason: 'x', reference: 'y' }, admin.token))
      .status,
  ).toBe(400);
  expect(
    (
      await stack.http.post(
        '/admin/inventory/resets',
        { adjustments: [{ productId: a.id, newQuantity: 1, reason: 'x' }], reason: 'x', reference: 'y' },
        customer.token,
      )
    ).status,
  ).toBe(403);
  expect((await stack.http.get(`/admin/inventory/resets/${randomUUID()}`, admin.token)).body.error.code).toBe(
    'RESET_NOT_FOUND',
  );
});

test('ops inventory reset, reset-status and rollback', async () => {
  const product = await createProduct(stack, admin, { stock: 4 });
  const file = path.join(os.tmpdir(), `reset-${randomUUID()}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      adjustments: [{ productId: product.id, newQuantity: 9, reason: 'recount' }],
      reason: 'Cycle count',
      reference: 'CC-1',
    }),
  );
  const started = await runOps(stack, admin.email, 'inventory', 'reset', file);
  expect(started.code).toBe(0);
  const { resetId } = JSON.parse(started.stdout);
  await untilReset(resetId, (s) => s === 'VERIFIED');
  const status = await runOps(stack, admin.email, 'inventory', 'reset-status', resetId);
  expect(JSON.parse(status.stdout)).toMatchObject({ status: 'VERIFIED', lines: [{ previousStock: 4, newStock: 9 }] });
  const rolled = await runOps(stack, admin.email, 'inventory', 'rollback', resetId, '--reason', 'wrong shelf');
  expect(rolled.code).toBe(0);
  expect(JSON.parse(rolled.stdout)).toMatchObject({ status: 'ROLLED_BACK' });
  expect(await stockOf(product.id)).toBe(4);
  expect((await runOps(stack, admin.email, 'inventory', 'check')).stdout).toContain('"mismatches"');
});
