/**
 * Inventory and catalogue over HTTP: one ledger that every movement writes and `ops inventory
 * check` proves; the catalogue's one product, SKU filter and pages; variants with their own SKU,
 * price and stock (no oversell of one variant under 50 concurrent checkouts; sale and refund
 * restock per variant); adjustments with who and why, refused below the reserved units, and an
 * adjustment racing a checkout. A database of its own: the check covers every product in it.
 */
import { randomUUID } from 'node:crypto';
import {
  availableOf,
  createProduct,
  createUser,
  eventually,
  runOps,
  untilOrder,
  useStack,
  type TestUser,
} from '../helpers/stack';

const { stack, admin } = useStack({ isolatedDatabase: true });

async function checkout(customer: TestUser, items: object[], paymentMethod = 'cod') {
  return stack.http.post('/api/checkout', { items, paymentMethod }, customer.token);
}

async function createWithVariants(stock: [number, number], price?: number) {
  const sku = `TEE-${randomUUID().slice(0, 8)}`;
  const response = await stack.http.post(
    '/admin/products',
    {
      sku,
      name: `T-shirt ${sku}`,
      price: 2000,
      currency: 'USD',
      stock: 0,
      variants: [
        { sku: `${sku}-S`, name: 'Small', stock: stock[0] },
        { sku: `${sku}-L`, name: 'Large', stock: stock[1], price },
      ],
    },
    admin.token,
  );
  expect(response.status).toBe(201);
  return response.body as { id: string; sku: string; variants: { id: string; sku: string; price: number }[] };
}

async function adjust(body: object, token = admin.token) {
  return stack.http.post('/admin/inventory/adjustments', body, token);
}

test('every movement is a ledger row with before and after, and ops inventory check proves stock equals the ledger', async () => {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 20 });
  const kept = await checkout(customer, [{ productId: product.id, quantity: 3 }]);
  const cancelled = await checkout(customer, [{ productId: product.id, quantity: 2 }]);
  expect([kept.status, cancelled.status]).toEqual([201, 201]);
  await stack.http.post(`/api/orders/${cancelled.body.orderId}/cancel`, { reason: 'changed my mind' }, customer.token);
  const shipped = await stack.http.post(
    `/admin/orders/${kept.body.orderId}/ship`,
    { trackingNumber: 'TRACK-1' },
    admin.token,
  );
  expect(shipped.status).toBe(200);
  expect((await adjust({ productId: product.id, newStock: 15, reason: 'Physical count correction' })).status).toBe(201);

  const ledger = await stack.prisma.inventoryLedger.findMany({
    where: { productId: product.id },
    orderBy: { createdAt: 'asc' },
  });
  expect(ledger.map((l) => [l.type, l.previousStock, l.newStock, l.previousReserved, l.newReserved, l.reason])).toEqual(
    [
      ['RESTOCK', 0, 20, 0, 0, 'Opening stock'],
      ['RESERVE', 20, 20, 0, 3, 'Reserved at checkout'],
      ['RESERVE', 20, 20, 3, 5, 'Reserved at checkout'],
      ['RELEASE', 20, 20, 5, 3, expect.stringContaining('CANCELLED_BY_CUSTOMER')],
      ['SALE', 20, 17, 3, 0, 'Sold: shipped cash on delivery'],
      ['ADJUSTMENT', 17, 15, 0, 0, 'Physical count correction'],
    ],
  );
  expect(ledger.every((l) => l.actor && l.idempotencyKey)).toBe(true);

  const good = await runOps(stack, admin.email, 'inventory', 'check');
  expect(good.code).toBe(0);
  expect(JSON.parse(good.stdout)).toMatchObject({ mismatches: [] });
  expect(JSON.parse(good.stdout).checked).toBeGreaterThan(0);

  // Stock changed behind the ledger's back (the runbook's hand-written SQL) is found.
  await stack.prisma.$executeRaw`UPDATE products SET stock = stock + 1 WHERE id = ${product.id}::uuid`;
  const bad = await runOps(stack, admin.email, 'inventory', 'check');
  expect(bad.code).toBe(1);
  expect(JSON.parse(bad.stdout).mismatches).toEqual([
    expect.objectContaining({ productId: product.id, sku: product.sku, stock: 16, ledgerStock: 15 }),
  ]);
  await stack.prisma.$executeRaw`UPDATE products SET stock = stock - 1 WHERE id = ${product.id}::uuid`;
});

test('the catalogue answers one product, filters by SKU, and pages with a cursor', async () => {
  const product = await createProduct(stack, admin, { stock: 3 });
  const one = await stack.http.get(`/api/products/${product.id}`);
  expect(one.status).toBe(200);
  expect(one.body).toMatchObject({ id: product.id, sku: product.sku, availableStock: 3, stockMessage: 'Only 3 left' });
  expect((await stack.http.get(`/api/products/${randomUUID()}`)).body.error.code).toBe('PRODUCT_NOT_FOUND');
  expect((await stack.http.get('/api/products/not-an-id')).status).toBe(400);

  const bySku = await stack.http.get(`/api/products?sku=${product.sku}`);
  expect(bySku.body.products.map((p: { id: string }) => p.id)).toEqual([product.id]);
  const tee = await createWithVariants([1, 1]);
  const byVariantSku = await stack.http.get(`/api/products?sku=${tee.variants[0].sku}`);
  expect(byVariantSku.body.products.map((p: { id: string }) => p.id)).toEqual([tee.id]);

  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { status: number; body: { products: { id: string }[]; nextCursor: string | null } } =
      await stack.http.get(`/api/products?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
    expect(page.body.products.length).toBeLessThanOrEqual(1);
    seen.push(...page.body.products.map((p) => p.id));
    cursor = page.body.nextCursor;
  } while (cursor);
  const all = await stack.prisma.product.count();
  expect(new Set(seen).size).toBe(all);
  expect((await stack.http.get('/api/products?limit=0')).status).toBe(400);
});

test('variants: own SKU, price and stock; 50 concurrent checkouts of one variant never oversell it', async () => {
  const tee = await createWithVariants([10, 5], 2500);
  const [small, large] = tee.variants;
  expect(large.price).toBe(2500);
  expect(small.price).toBe(2000);
  const customers = await Promise.all(Array.from({ length: 50 }, () => createUser(stack)));
  const answers = await Promise.all(
    customers.map((c) => checkout(c, [{ productId: tee.id, variantId: small.id, quantity: 1 }], 'card')),
  );
  expect(answers.filter((a) => a.status === 201)).toHaveLength(10);
  const refused = answers.filter((a) => a.status === 409);
  expect(refused).toHaveLength(40);
  expect(refused[0].body.error.details.products).toEqual([
    expect.objectContaining({ productId: tee.id, variantId: small.id, sku: small.sku, available: 0 }),
  ]);
  const stored = await stack.prisma.productVariant.findMany({ where: { productId: tee.id }, orderBy: { sku: 'desc' } });
  expect(stored.map((v) => [v.sku, v.stock, v.reservedStock])).toEqual([
    [small.sku, 10, 10],
    [large.sku, 5, 0],
  ]);
  expect(await stack.prisma.inventoryLedger.count({ where: { variantId: small.id, type: 'RESERVE' } })).toBe(10);

  // A product with variants needs one named; an unknown one is 404.
  const customer = customers[0];
  const unnamed = await checkout(customer, [{ productId: tee.id, quantity: 1 }]);
  expect([unnamed.status, unnamed.body.error.code]).toEqual([400, 'VARIANT_REQUIRED']);
  const unknown = await checkout(customer, [{ productId: tee.id, variantId: randomUUID(), quantity: 1 }]);
  expect([unknown.status, unknown.body.error.code]).toEqual([404, 'VARIANT_NOT_FOUND']);

  // The variant's own price; a sale and a full refund's restock move that variant only.
  await stack.http.post(`/admin/wallets/${customer.id}/credit`, { amount: 10_000, reason: 'test credit' }, admin.token);
  const paid = await checkout(customer, [{ productId: tee.id, variantId: large.id, quantity: 2 }], 'wallet');
  expect(paid.body).toMatchObject({ status: 'CONFIRMED', totalAmount: 5000 });
  await eventually(
    async () => (await stack.prisma.productVariant.findUniqueOrThrow({ where: { id: large.id } })).stock === 3,
    'the sale of 2 large',
  );
  const refund = await stack.http.post(
    `/api/orders/${paid.body.orderId}/refunds`,
    { reason: 'too big' },
    customer.token,
  );
  expect(refund.status).toBe(202);
  await stack.http.post(`/admin/refunds/${refund.body.refundId}/approve`, { reason: 'unworn' }, admin.token);
  await untilOrder(stack, paid.body.orderId, customer.token, (o) => o.status === 'REFUNDED', 'refunded');
  await eventually(
    async () => (await stack.prisma.productVariant.findUniqueOrThrow({ where: { id: large.id } })).stock === 5,
    'the restock of 2 large',
  );
  const types = await stack.prisma.inventoryLedger.findMany({
    where: { variantId: large.id },
    orderBy: { createdAt: 'asc' },
    select: { type: true },
  });
  expect(types.map((t) => t.type)).toEqual(['RESTOCK', 'RESERVE', 'SALE', 'RESTOCK']);
  expect((await stack.http.get(`/api/products/${tee.id}`)).body).toMatchObject({ availableStock: 5 });
  expect((await runOps(stack, admin.email, 'inventory', 'check')).code).toBe(0);
});

test('adjustments: 201 with before and after, 409 STOCK_BELOW_RESERVED, listed newest first with who and why', async () => {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 50 });
  const made = await adjust({ productId: product.id, newStock: 45, reason: 'Physical count correction' });
  expect(made.status).toBe(201);
  expect(made.body).toMatchObject({ productId: product.id, previousStock: 50, newStock: 45, quantity: -5 });
  expect(made.body.adjustmentId).toEqual(expect.any(String));

  expect((await checkout(customer, [{ productId: product.id, quantity: 30 }])).status).toBe(201);
  const below = await adjust({ productId: product.id, newStock: 29, reason: 'recount' });
  expect(below.status).toBe(409);
  expect(below.body.error).toMatchObject({ code: 'STOCK_BELOW_RESERVED', details: { reserved: 30, requested: 29 } });
  expect((await stack.prisma.product.findUniqueOrThrow({ where: { id: product.id } })).stock).toBe(45);
  const second = await adjust({ productId: product.id, newStock: 60, reason: 'Delivery counted', reference: 'PO-7' });
  expect(second.body).toMatchObject({ previousStock: 45, newStock: 60, quantity: 15 });

  // An Idempotency-Key makes a retried adjustment answer the first.
  const retry = () =>
    stack.http.request('POST', '/admin/inventory/adjustments', {
      body: { productId: product.id, newStock: 58, reason: 'two damaged' },
      token: admin.token,
      headers: { 'idempotency-key': 'count-2026-12-01' },
    });
  const [first, again] = [await retry(), await retry()];
  expect(again.body.adjustmentId).toBe(first.body.adjustmentId);

  const listed = await stack.http.get(`/admin/inventory/adjustments?productId=${product.id}&from=`, admin.token);
  expect(listed.status).toBe(200);
  expect(listed.body.adjustments.map((a: { newStock: number }) => a.newStock)).toEqual([58, 60, 45]);
  expect(listed.body.adjustments[1]).toMatchObject({
    reason: 'Delivery counted',
    reference: 'PO-7',
    adjustedBy: { id: admin.id, email: admin.email },
  });
  const audited = await stack.prisma.auditLog.findMany({
    where: { action: 'INVENTORY_ADJUSTED', targetId: product.id },
  });
  expect(audited).toHaveLength(3);

  expect((await adjust({ productId: product.id, newStock: 1, reason: 'x' }, customer.token)).status).toBe(403);
  expect((await adjust({ productId: product.id, newStock: -1, reason: 'x' })).status).toBe(400);
  expect((await adjust({ productId: product.id, newStock: 1 })).status).toBe(400);
  expect((await adjust({ productId: randomUUID(), newStock: 1, reason: 'x' })).body.error.code).toBe(
    'PRODUCT_NOT_FOUND',
  );
  const tee = await createWithVariants([2, 2]);
  expect((await adjust({ productId: tee.id, newStock: 1, reason: 'x' })).body.error.code).toBe('VARIANT_REQUIRED');
  const variant = await adjust({ productId: tee.id, variantId: tee.variants[0].id, newStock: 7, reason: 'found more' });
  expect(variant.body).toMatchObject({ previousStock: 2, newStock: 7 });

  const viaOps = await runOps(
    stack,
    admin.email,
    'inventory',
    'adjust',
    '--product',
    product.id,
    '--new-stock',
    '57',
    '--reason',
    'one more damaged',
  );
  expect(viaOps.code).toBe(0);
  expect(JSON.parse(viaOps.stdout)).toMatchObject({ previousStock: 58, newStock: 57 });
  const refusedOps = await runOps(
    stack,
    admin.email,
    'inventory',
    'adjust',
    '--product',
    product.id,
    '--new-stock',
    '1',
    '--reason',
    'typo',
  );
  expect(refusedOps.code).toBe(2);
  expect(refusedOps.stderr).toContain('unpaid orders hold 30');
});

test('an adjustment racing a checkout: exactly one of them wins, and stock never falls below what is reserved', async () => {
  const rounds = await Promise.all(
    Array.from({ length: 8 }, async () => {
      const customer = await createUser(stack);
      const product = await createProduct(stack, admin, { stock: 5 });
      const [placed, adjusted] = await Promise.all([
        checkout(customer, [{ productId: product.id, quantity: 5 }]),
        adjust({ productId: product.id, newStock: 2, reason: 'recount' }),
      ]);
      const stored = await stack.prisma.product.findUniqueOrThrow({ where: { id: product.id } });
      return {
        placed: placed.status,
        adjusted: adjusted.status,
        codes: [placed.body.error?.code, adjusted.body.error?.code],
        stored,
      };
    }),
  );
  for (const round of rounds) {
    if (round.placed === 201) {
      expect(round).toMatchObject({ adjusted: 409, codes: [undefined, 'STOCK_BELOW_RESERVED'] });
      expect(round.stored).toMatchObject({ stock: 5, reservedStock: 5 });
    } else {
      expect(round).toMatchObject({ placed: 409, adjusted: 201, codes: ['INSUFFICIENT_STOCK', undefined] });
      expect(round.stored).toMatchObject({ stock: 2, reservedStock: 0 });
    }
  }
  expect((await runOps(stack, admin.email, 'inventory', 'check')).code).toBe(0);
  expect(await availableOf(stack, (await createProduct(stack, admin, { stock: 1 })).id)).toBe(1);
});
