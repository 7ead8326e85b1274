/**
 * The HTTP contract as a client sees it (DESIGN.md "HTTP API"): authentication, roles and
 * ownership, validation, unknown ids, body limits, refused transitions, cash on delivery and the
 * catalogue. Bad input is always a clear 4xx with a machine-readable code, never a 500, and it
 * changes nothing.
 */
import jwt from 'jsonwebtoken';
import { randomUUID } from 'node:crypto';
import { availableOf, createProduct, createUser, eventually, startStack, type Stack, type TestUser } from '../helpers/stack';

let stack: Stack;
let admin: TestUser;
let product: { id: string; sku: string; price: number };

beforeAll(async () => {
  stack = await startStack();
  admin = await createUser(stack, 'ADMIN');
  product = await createProduct(stack, admin, { stock: 50, price: 1500 });
});
afterAll(() => stack.stop());

const cardOrder = (productId = product.id, quantity = 1) => ({ items: [{ productId, quantity }], paymentMethod: 'card' });

async function checkout(customer: TestUser, body: unknown = cardOrder()) {
  const answer = await stack.http.post('/api/checkout', body, customer.token);
  expect(answer.status).toBe(201);
  return answer.body.orderId as string;
}

function expectError(answer: { status: number; body: { error?: { code: string } } }, status: number, code: string) {
  expect({ status: answer.status, code: answer.body?.error?.code }).toEqual({ status, code });
}

describe('authentication', () => {
  test('login answers a token that works; wrong password and unknown email look the same', async () => {
    const customer = await createUser(stack);
    const orderId = await checkout(customer);
    expect((await stack.http.get(`/api/orders/${orderId}`, customer.token)).status).toBe(200);

    expectError(await stack.http.post('/api/auth/login', { email: customer.email, password: 'wrong password' }), 401, 'INVALID_CREDENTIALS');
    expectError(await stack.http.post('/api/auth/login', { email: 'nobody@example.test', password: 'whatever' }), 401, 'INVALID_CREDENTIALS');
    const missing = await stack.http.post('/api/auth/login', {});
    expectError(missing, 400, 'VALIDATION_ERROR');
    expect(missing.body.error.details.fields.map((f: { path: string }) => f.path).sort()).toEqual(['email', 'password']);
  });

  test('no token, a garbage token, a token signed with another key or with alg "none": 401', async () => {
    const path = `/api/orders/${randomUUID()}`;
    expectError(await stack.http.get(path), 401, 'UNAUTHENTICATED');
    expectError(await stack.http.get(path, 'garbage'), 401, 'UNAUTHENTICATED');
    const foreign = jwt.sign({ role: 'ADMIN' }, 'not-the-secret-at-all-1234', { subject: admin.id });
    expectError(await stack.http.get(path, foreign), 401, 'UNAUTHENTICATED');
    const unsigned = jwt.sign({ role: 'ADMIN' }, '', { subject: admin.id, algorithm: 'none' });
    expectError(await stack.http.get(path, unsigned), 401, 'UNAUTHENTICATED');
  });
});

describe('roles and ownership', () => {
  test('customers cannot use admin routes, admins cannot check out', async () => {
    const customer = await createUser(stack);
    expectError(await stack.http.post('/admin/products', { sku: 'X', name: 'X', price: 1, currency: 'USD', stock: 1 }, customer.token), 403, 'FORBIDDEN');
    expectError(await stack.http.get('/admin/orders', customer.token), 403, 'FORBIDDEN');
    expectError(await stack.http.post('/api/checkout', cardOrder(), admin.token), 403, 'FORBIDDEN');
  });

  test("customers see and cancel only their own orders; admins see every order", async () => {
    const alice = await createUser(stack);
    const bob = await createUser(stack);
    const orderId = await checkout(alice);
    expectError(await stack.http.get(`/api/orders/${orderId}`, bob.token), 403, 'FORBIDDEN');
    expectError(await stack.http.post(`/api/orders/${orderId}/cancel`, {}, bob.token), 403, 'FORBIDDEN');
    expectError(await stack.http.post(`/api/orders/${orderId}/payments`, {}, bob.token), 403, 'FORBIDDEN');
    const seenByAdmin = await stack.http.get(`/api/orders/${orderId}`, admin.token);
    expect(seenByAdmin.status).toBe(200);
    expect(seenByAdmin.body).toMatchObject({ orderId, customerId: alice.id, status: 'PENDING' });
  });
});

describe('validation: 400 naming the field, and nothing created', () => {
  test.each([
    ['no items', { items: [], paymentMethod: 'card' }, 'items'],
    ['quantity 0', { items: [{ productId: randomUUID(), quantity: 0 }], paymentMethod: 'card' }, 'items.0.quantity'],
    ['fractional quantity', { items: [{ productId: randomUUID(), quantity: 1.5 }], paymentMethod: 'card' }, 'items.0.quantity'],
    ['product id not a uuid', { items: [{ productId: 'abc', quantity: 1 }], paymentMethod: 'card' }, 'items.0.productId'],
    ['unknown payment method', { items: [{ productId: randomUUID(), quantity: 1 }], paymentMethod: 'bitcoin' }, 'paymentMethod'],
  ])('checkout with %s', async (_name, body, field) => {
    const customer = await createUser(stack);
    const answer = await stack.http.post('/api/checkout', body, customer.token);
    expectError(answer, 400, 'VALIDATION_ERROR');
    expect(answer.body.error.details.fields.map((f: { path: string }) => f.path)).toContain(field);
    expect(await stack.prisma.order.count({ where: { customerId: customer.id } })).toBe(0);
  });

  test.each([
    ['a negative price', { price: -1 }, 'price'],
    ['a price that is not in minor units', { price: 12.5 }, 'price'],
    ['a currency that is not ISO 4217', { currency: 'DOLLARS' }, 'currency'],
  ])('a product with %s', async (_name, override, field) => {
    const sku = `BAD-${randomUUID().slice(0, 8)}`;
    const answer = await stack.http.post('/admin/products', { sku, name: 'Bad', price: 100, currency: 'USD', stock: 1, ...override }, admin.token);
    expectError(answer, 400, 'VALIDATION_ERROR');
    expect(answer.body.error.details.fields.map((f: { path: string }) => f.path)).toEqual([field]);
    expect(await stack.prisma.product.count({ where: { sku } })).toBe(0);
  });

  test('an order id that is not a uuid', async () => {
    expectError(await stack.http.get('/api/orders/not-a-uuid', admin.token), 400, 'VALIDATION_ERROR');
  });
});

describe('unknown ids and routes: 404', () => {
  test('orders, products and routes', async () => {
    const customer = await createUser(stack);
    expectError(await stack.http.get(`/api/orders/${randomUUID()}`, customer.token), 404, 'ORDER_NOT_FOUND');
    expectError(await stack.http.post(`/admin/orders/${randomUUID()}/ship`, { trackingNumber: 'T' }, admin.token), 404, 'ORDER_NOT_FOUND');
    const unknownProduct = await stack.http.post('/api/checkout', cardOrder(randomUUID()), customer.token);
    expectError(unknownProduct, 404, 'PRODUCT_NOT_FOUND');
    expectError(await stack.http.get('/api/nothing-here'), 404, 'NOT_FOUND');
  });
});

describe('request bodies', () => {
  test('malformed JSON is 400, an oversized body 413, never 500', async () => {
    const customer = await createUser(stack);
    const malformed = await stack.http.request('POST', '/api/checkout', { raw: '{"items": [', token: customer.token });
    expectError(malformed, 400, 'MALFORMED_JSON');
    const huge = await stack.http.post('/api/checkout', { ...cardOrder(), note: 'x'.repeat(200 * 1024) }, customer.token);
    expectError(huge, 413, 'PAYLOAD_TOO_LARGE');
    expect(await stack.prisma.order.count({ where: { customerId: customer.id } })).toBe(0);
  });

  test('a duplicate SKU is 409; a checkout mixing currencies is 400', async () => {
    const again = await stack.http.post('/admin/products', { sku: product.sku, name: 'Again', price: 1, currency: 'USD', stock: 1 }, admin.token);
    expectError(again, 409, 'SKU_EXISTS');
    const rupees = await createProduct(stack, admin, { stock: 5, currency: 'INR' });
    const customer = await createUser(stack);
    const mixed = await stack.http.post(
      '/api/checkout',
      { items: [{ productId: product.id, quantity: 1 }, { productId: rupees.id, quantity: 1 }], paymentMethod: 'card' },
      customer.token,
    );
    expectError(mixed, 400, 'CURRENCY_MISMATCH');
  });
});

describe('refused transitions: 409 with the current status', () => {
  test('shipping or delivering an unpaid order, retrying a payment that has not failed', async () => {
    const customer = await createUser(stack);
    const orderId = await checkout(customer);
    for (const [path, body] of [
      [`/admin/orders/${orderId}/ship`, { trackingNumber: 'T-1' }],
      [`/admin/orders/${orderId}/deliver`, {}],
    ] as const) {
      const answer = await stack.http.post(path, body, admin.token);
      expectError(answer, 409, 'INVALID_ORDER_STATE');
      expect(answer.body.error.details).toEqual({ status: 'PENDING', paymentStatus: 'PENDING' });
    }
    expectError(await stack.http.post(`/api/orders/${orderId}/payments`, {}, customer.token), 409, 'INVALID_ORDER_STATE');
  });

  test('delivering an order that has not shipped', async () => {
    const customer = await createUser(stack);
    const orderId = await checkout(customer, { ...cardOrder(), paymentMethod: 'cod' });
    const answer = await stack.http.post(`/admin/orders/${orderId}/deliver`, {}, admin.token);
    expectError(answer, 409, 'INVALID_ORDER_STATE');
    expect(answer.body.error.details.status).toBe('CONFIRMED');
  });

  test('cancelling twice', async () => {
    const customer = await createUser(stack);
    const orderId = await checkout(customer);
    const first = await stack.http.post(`/api/orders/${orderId}/cancel`, { reason: 'changed my mind' }, customer.token);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: 'CANCELLED', cancelReason: 'CANCELLED_BY_CUSTOMER' });
    const second = await stack.http.post(`/api/orders/${orderId}/cancel`, {}, customer.token);
    expectError(second, 409, 'INVALID_ORDER_STATE');
    expect(second.body.error.details.status).toBe('CANCELLED');
  });

  test('an admin cancels only with a reason, and the stock comes back', async () => {
    const customer = await createUser(stack);
    const before = await availableOf(stack, product.id);
    const orderId = await checkout(customer, cardOrder(product.id, 2));
    expect(await availableOf(stack, product.id)).toBe(before - 2);
    expectError(await stack.http.post(`/admin/orders/${orderId}/cancel`, {}, admin.token), 400, 'VALIDATION_ERROR');
    const cancelled = await stack.http.post(`/admin/orders/${orderId}/cancel`, { reason: 'fraud check' }, admin.token);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'CANCELLED', cancelReason: 'CANCELLED_BY_ADMIN', cancelNote: 'fraud check' });
    expect(cancelled.body.timeline.at(-1)).toMatchObject({ event: 'ORDER_CANCELLED', actor: { id: admin.id, role: 'ADMIN' } });
    expect(await availableOf(stack, product.id)).toBe(before);
  });
});

describe('cash on delivery', () => {
  test('confirmed at once and cancellable until shipped', async () => {
    const customer = await createUser(stack);
    const before = await availableOf(stack, product.id);
    const answer = await stack.http.post('/api/checkout', { ...cardOrder(), paymentMethod: 'cod' }, customer.token);
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ status: 'CONFIRMED', paymentStatus: 'PENDING', paymentMethod: 'COD' });
    expect(answer.body.clientSecret).toBeUndefined();
    const cancelled = await stack.http.post(`/api/orders/${answer.body.orderId}/cancel`, {}, customer.token);
    expect(cancelled.body.status).toBe('CANCELLED');
    expect(await availableOf(stack, product.id)).toBe(before);
  });

  test('shipped, then delivered and paid in cash', async () => {
    const customer = await createUser(stack);
    const orderId = await checkout(customer, { ...cardOrder(), paymentMethod: 'cod' });
    expect((await stack.http.post(`/admin/orders/${orderId}/ship`, { trackingNumber: 'COD-9' }, admin.token)).body.status).toBe('SHIPPED');
    const delivered = await stack.http.post(`/admin/orders/${orderId}/deliver`, {}, admin.token);
    expect(delivered.body).toMatchObject({ status: 'DELIVERED', paymentStatus: 'PAID' });
    const payments = await stack.prisma.payment.findMany({ where: { orderId } });
    expect(payments.map((p) => [p.provider, p.status, p.amount])).toEqual([['COD', 'SUCCEEDED', product.price]]);
  });
});

describe('catalogue, order list and health', () => {
  test('"Only N left" below 5 available, "Out of stock" at 0', async () => {
    const few = await createProduct(stack, admin, { stock: 3 });
    const many = await createProduct(stack, admin, { stock: 10 });
    const none = await createProduct(stack, admin, { stock: 0 });
    const { body } = await stack.http.get('/api/products');
    const message = (id: string) => body.products.find((p: { id: string }) => p.id === id).stockMessage;
    expect([message(few.id), message(many.id), message(none.id)]).toEqual(['Only 3 left', null, 'Out of stock']);
  });

  test('admins list orders by status and customer, newest first', async () => {
    const customer = await createUser(stack);
    const first = await checkout(customer, { ...cardOrder(), paymentMethod: 'cod' });
    const second = await checkout(customer, { ...cardOrder(), paymentMethod: 'cod' });
    await checkout(customer); // a PENDING card order, filtered out
    const list = await stack.http.get(`/admin/orders?status=CONFIRMED&customerId=${customer.id}&limit=5`, admin.token);
    expect(list.status).toBe(200);
    expect(list.body.orders.map((o: { orderId: string }) => o.orderId)).toEqual([second, first]);
    expectError(await stack.http.get('/admin/orders?status=BOGUS', admin.token), 400, 'VALIDATION_ERROR');
  });

  test('health reports every dependency up', async () => {
    const health = await eventually(async () => {
      const answer = await stack.http.get('/health');
      return answer.status === 200 && answer;
    }, 'healthy');
    expect(health.body).toEqual({ status: 'healthy', checks: { database: 'up', temporal: 'up', stripe: 'up' } });
  });
});
