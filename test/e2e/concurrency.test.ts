/**
 * No oversell under any concurrency: 50 customers race for 10 units. Exactly 10 checkouts
 * succeed, 40 are refused with INSUFFICIENT_STOCK, and stock, reservations, the ledger and the
 * orders all agree afterwards.
 */
import { availableOf, createProduct, createUser, useStack } from '../helpers/stack';

const { stack, admin } = useStack();

test('50 concurrent checkouts for a product with stock 10: exactly 10 succeed', async () => {
  const product = await createProduct(stack, admin, { stock: 10, price: 999 });
  const customers = await Promise.all(Array.from({ length: 50 }, () => createUser(stack)));

  const answers = await Promise.all(
    customers.map((customer) =>
      stack.http.post(
        '/api/checkout',
        { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' },
        customer.token,
      ),
    ),
  );

  const placed = answers.filter((a) => a.status === 201);
  const refused = answers.filter((a) => a.status === 409);
  expect(placed).toHaveLength(10);
  expect(refused).toHaveLength(40);
  for (const answer of refused) {
    expect(answer.body.error.code).toBe('INSUFFICIENT_STOCK');
    expect(answer.body.error.details.products).toEqual([
      expect.objectContaining({ productId: product.id, sku: product.sku, requested: 1, available: 0 }),
    ]);
  }

  const stored = await stack.prisma.product.findUniqueOrThrow({ where: { id: product.id } });
  expect(stored).toMatchObject({ stock: 10, reservedStock: 10 });
  const { body } = await stack.http.get(`/api/products/${product.id}`);
  expect(body).toMatchObject({
    available: 0,
    stockMessage: 'Out of stock',
  });

  // The ledger explains the numbers: the opening RESTOCK, then one RESERVE per placed order.
  const ledger = await stack.prisma.inventoryLedger.findMany({
    where: { productId: product.id },
    orderBy: { createdAt: 'asc' },
  });
  expect(ledger.map((l) => l.type)).toEqual(['RESTOCK', ...Array(10).fill('RESERVE')]);
  const reserves = ledger.filter((l) => l.type === 'RESERVE');
  expect(reserves.reduce((sum, l) => sum + l.quantity, 0)).toBe(stored.reservedStock);
  expect(new Set(reserves.map((l) => l.reference))).toEqual(new Set(placed.map((a) => a.body.orderId)));
  expect(ledger.every((l) => l.newStock >= 0 && l.newReserved >= 0 && l.newReserved <= l.newStock)).toBe(true);

  // Only the placed orders exist, and only they opened a PaymentIntent.
  const orders = await stack.prisma.order.findMany({ where: { items: { some: { productId: product.id } } } });
  expect(orders).toHaveLength(10);
  expect(await stack.prisma.payment.count({ where: { orderId: { in: orders.map((o) => o.id) } } })).toBe(10);
  const refusedCustomers = customers.filter((_, i) => answers[i].status === 409).map((c) => c.id);
  expect(await stack.prisma.order.count({ where: { customerId: { in: refusedCustomers } } })).toBe(0);
});

test('a multi-item checkout with one short item reserves nothing at all', async () => {
  const plenty = await createProduct(stack, admin, { stock: 20 });
  const scarce = await createProduct(stack, admin, { stock: 1 });
  const customer = await createUser(stack);

  const answer = await stack.http.post(
    '/api/checkout',
    {
      items: [
        { productId: plenty.id, quantity: 3 },
        { productId: scarce.id, quantity: 2 },
      ],
      paymentMethod: 'card',
    },
    customer.token,
  );
  expect(answer.status).toBe(409);
  expect(answer.body.error.code).toBe('INSUFFICIENT_STOCK');
  expect(answer.body.error.details.products.map((p: { sku: string }) => p.sku)).toEqual([scarce.sku]);

  expect(await availableOf(stack, plenty.id)).toBe(20);
  expect(await availableOf(stack, scarce.id)).toBe(1);
  expect(await stack.prisma.order.count({ where: { customerId: customer.id } })).toBe(0);
  expect(
    await stack.prisma.inventoryLedger.count({ where: { productId: { in: [plenty.id, scarce.id] }, type: 'RESERVE' } }),
  ).toBe(0);
});
