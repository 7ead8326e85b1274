/**
 * The HTTP contract as a client sees it (DESIGN.md "HTTP API"): authentication, roles and
 * ownership, validation, unknown ids, request bodies, conflicts, refused transitions, cash on
 * delivery, the catalogue, the admin order list and health. Everything is real: the API, a
 * worker, Temporal, PostgreSQL and stripe-mock. Bad input is always a clear 4xx with a
 * machine-readable code in `{ error: { code, message, details? } }`, never a 500, and it
 * changes nothing.
 */
import jwt from 'jsonwebtoken';
import { randomUUID } from 'node:crypto';
import type { HttpResponse } from '../helpers/http';
import {
  availableOf,
  createProduct,
  createUser,
  eventually,
  orderOf,
  untilOrder,
  useStack,
  type TestUser,
} from '../helpers/stack';
import { deliverStripeEvent, paymentIntentEvent } from '../helpers/webhooks';
import type { OrderView } from '../../src/workflows/order/messages';
import { searchAttributes } from '../../src/workflows/search-attributes';

const { stack, admin } = useStack({ env: { RESERVATION_TTL: '30m' } });
/** A USD product every test may buy from; each test measures its own before/after. */
let product: { id: string; sku: string; price: number };
beforeAll(async () => {
  product = await createProduct(stack, admin, { stock: 200, price: 1500 });
});

type Method = 'card' | 'cod';
const orderBody = (paymentMethod: Method = 'card', productId = product.id, quantity = 1) => ({
  items: [{ productId, quantity }],
  paymentMethod,
});

/** Checks out as `customer`; the order must be accepted. */
async function checkout(customer: TestUser, body: unknown = orderBody()): Promise<string> {
  const answer = await stack.http.post('/api/checkout', body, customer.token);
  expect({ status: answer.status, body: answer.body }).toMatchObject({
    status: 201,
    body: { orderId: expect.any(String) },
  });
  return answer.body.orderId as string;
}

/** The error envelope of the contract: exact status, exact code, a human message. */
function expectError(answer: HttpResponse, status: number, code: string): void {
  expect({ status: answer.status, code: answer.body?.error?.code }).toEqual({ status, code });
  expect(typeof answer.body.error.message).toBe('string');
  expect(answer.body.error.message.length).toBeGreaterThan(0);
}

/** The field paths a 400 VALIDATION_ERROR names. */
function fieldsOf(answer: HttpResponse): string[] {
  return answer.body.error.details.fields.map((f: { path: string }) => f.path);
}

const ordersOf = (customerId: string) => stack.prisma.order.count({ where: { customerId } });
const productsWithSku = (sku: string) => stack.prisma.product.count({ where: { sku } });
const storedOrder = (orderId: string) => stack.prisma.order.findUniqueOrThrow({ where: { id: orderId } });
/** What a customer sees of their orders through the API. */
const listedOrdersOf = async (customer: TestUser) => (await stack.http.get('/api/orders', customer.token)).body.orders;
/**
 * The customer's order workflows as Temporal lists them, each with its close status, OrderStatus
 * and the cancel reason of its result: a refused checkout's workflow closes at once, completed.
 */
async function checkoutWorkflowsOf(customerId: string, count: number) {
  const closed = async () => {
    const found: { status: string; orderStatus?: string; cancelReason?: string }[] = [];
    for await (const run of stack.temporal.workflow.list({ query: `CustomerId="${customerId}"` })) {
      const view: OrderView = await stack.temporal.workflow.getHandle(run.workflowId).result();
      const described = await stack.temporal.workflow.getHandle(run.workflowId).describe();
      found.push({
        status: described.status.name,
        orderStatus: described.typedSearchAttributes.get(searchAttributes.orderStatus),
        cancelReason: view.cancelReason,
      });
    }
    return found;
  };
  return eventually(async () => {
    const found = await closed();
    return found.length === count && found;
  }, `the ${count} order workflows of ${customerId} are listed`);
}
const ledgerOf = async (orderId: string) =>
  (await stack.prisma.inventoryLedger.findMany({ where: { reference: orderId }, orderBy: { createdAt: 'asc' } })).map(
    (l) => [l.type, l.quantity],
  );

describe('authentication', () => {
  test("login answers a token that opens the customer's own order", async () => {
    const customer = await createUser(stack);
    const orderId = await checkout(customer);

    const login = await stack.http.post('/api/auth/login', {
      email: customer.email,
      password: 'correct horse battery staple',
    });
    expect(login.status).toBe(200);
    expect(login.body.token).toEqual(expect.any(String));
    expect(jwt.decode(login.body.token, { complete: true })?.header.alg).toBe('HS256');

    const own = await stack.http.get(`/api/orders/${orderId}`, login.body.token);
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ orderId, customerId: customer.id, status: 'PENDING' });
  });

  test('a wrong password and an unknown email are the same 401, and open no session', async () => {
    const customer = await createUser(stack);
    const sessionsBefore = await stack.prisma.session.count({ where: { userId: customer.id } });

    const wrongPassword = await stack.http.post('/api/auth/login', {
      email: customer.email,
      password: 'not my password',
    });
    expectError(wrongPassword, 401, 'INVALID_CREDENTIALS');
    expect(wrongPassword.body.token).toBeUndefined();

    const unknownEmail = await stack.http.post('/api/auth/login', {
      email: `nobody-${randomUUID()}@example.test`,
      password: 'whatever',
    });
    expectError(unknownEmail, 401, 'INVALID_CREDENTIALS');
    // Nothing tells an attacker which of the two was wrong.
    expect(unknownEmail.body).toEqual(wrongPassword.body);

    expect(await stack.prisma.session.count({ where: { userId: customer.id } })).toBe(sessionsBefore);
  });

  test('missing fields are a 400 naming email and password', async () => {
    const neither = await stack.http.post('/api/auth/login', {});
    expectError(neither, 400, 'VALIDATION_ERROR');
    expect(fieldsOf(neither).sort()).toEqual(['email', 'password']);

    const noPassword = await stack.http.post('/api/auth/login', { email: 'someone@example.test' });
    expectError(noPassword, 400, 'VALIDATION_ERROR');
    expect(fieldsOf(noPassword)).toEqual(['password']);

    const noEmail = await stack.http.post('/api/auth/login', { password: 'secret' });
    expectError(noEmail, 400, 'VALIDATION_ERROR');
    expect(fieldsOf(noEmail)).toEqual(['email']);
  });

  describe('tokens that are missing, garbage or forged are 401 UNAUTHENTICATED', () => {
    let orderPath: string;
    // The admin's real token: its key id and session id, so a forgery differs only in its signature.
    let real: { kid: string; jti: string };

    beforeAll(async () => {
      const customer = await createUser(stack);
      orderPath = `/api/orders/${await checkout(customer)}`;
      const decoded = jwt.decode(admin.token, { complete: true });
      const payload = decoded?.payload as jwt.JwtPayload;
      real = { kid: decoded!.header.kid!, jti: payload.jti! };
      expect(real).toEqual({ kid: expect.any(String), jti: expect.any(String) });
      // The admin may read any order: with a valid admin token this request succeeds.
      expect((await stack.http.get(orderPath, admin.token)).status).toBe(200);
    });

    test('no token', async () => {
      expectError(await stack.http.get(orderPath), 401, 'UNAUTHENTICATED');
    });

    test('a garbage bearer token, and a non-bearer scheme', async () => {
      expectError(await stack.http.get(orderPath, 'garbage'), 401, 'UNAUTHENTICATED');
      expectError(
        await stack.http.request('GET', orderPath, { headers: { authorization: `Basic ${admin.token}` } }),
        401,
        'UNAUTHENTICATED',
      );
    });

    test('a token signed with another secret', async () => {
      const foreign = jwt.sign({ role: 'ADMIN' }, 'not-the-secret-at-all-1234', { subject: admin.id });
      expectError(await stack.http.get(orderPath, foreign), 401, 'UNAUTHENTICATED');
      // Same key id, subject and session as the admin's real token: only the signature is wrong.
      const forged = jwt.sign({ role: 'ADMIN' }, 'not-the-secret-at-all-1234', {
        algorithm: 'HS256',
        subject: admin.id,
        jwtid: real.jti,
        keyid: real.kid,
        expiresIn: 600,
      });
      expectError(await stack.http.get(orderPath, forged), 401, 'UNAUTHENTICATED');
    });

    test('a token with alg "none"', async () => {
      const unsigned = jwt.sign({ role: 'ADMIN' }, '', { algorithm: 'none', subject: admin.id });
      expectError(await stack.http.get(orderPath, unsigned), 401, 'UNAUTHENTICATED');
      const unsignedWithKid = jwt.sign({ role: 'ADMIN' }, '', {
        algorithm: 'none',
        subject: admin.id,
        jwtid: real.jti,
        keyid: real.kid,
        expiresIn: 600,
      });
      expectError(await stack.http.get(orderPath, unsignedWithKid), 401, 'UNAUTHENTICATED');
    });
  });
});

describe('roles and ownership', () => {
  test('a customer may not create products', async () => {
    const customer = await createUser(stack);
    const sku = `CUST-${randomUUID().slice(0, 8)}`;
    const answer = await stack.http.post(
      '/admin/products',
      { sku, name: 'Sneaky', price: 1, currency: 'USD', stock: 1 },
      customer.token,
    );
    expectError(answer, 403, 'FORBIDDEN');
    expect(await productsWithSku(sku)).toBe(0);
  });

  test('an admin may not check out', async () => {
    const before = await availableOf(stack, product.id);
    expectError(await stack.http.post('/api/checkout', orderBody(), admin.token), 403, 'FORBIDDEN');
    expect(await ordersOf(admin.id)).toBe(0);
    expect(await availableOf(stack, product.id)).toBe(before);
  });

  test("a customer can neither see nor cancel another customer's order; an admin sees any order", async () => {
    const alice = await createUser(stack);
    const bob = await createUser(stack);
    const orderId = await checkout(alice);

    expectError(await stack.http.get(`/api/orders/${orderId}`, bob.token), 403, 'FORBIDDEN');
    expectError(await stack.http.post(`/api/orders/${orderId}/cancel`, {}, bob.token), 403, 'FORBIDDEN');
    expectError(await stack.http.post(`/api/orders/${orderId}/payments`, {}, bob.token), 403, 'FORBIDDEN');

    // Bob's attempts changed nothing: Alice's order is still waiting for her payment.
    const alicesView = await orderOf(stack, orderId, alice.token);
    expect(alicesView).toMatchObject({ orderId, status: 'PENDING', paymentStatus: 'PENDING' });
    expect(alicesView.cancelReason).toBeUndefined();
    expect(await storedOrder(orderId)).toMatchObject({ status: 'PENDING', cancelledAt: null });
    expect(await ledgerOf(orderId)).toEqual([['RESERVE', 1]]);

    const seenByAdmin = await stack.http.get(`/api/orders/${orderId}`, admin.token);
    expect(seenByAdmin.status).toBe(200);
    expect(seenByAdmin.body).toMatchObject({
      orderId,
      customerId: alice.id,
      status: 'PENDING',
      totalAmount: product.price,
      currency: 'USD',
    });
  });
});

describe('validation: 400 VALIDATION_ERROR naming the field, and nothing created', () => {
  test.each([
    ['no items', () => ({ items: [], paymentMethod: 'card' }), 'items'],
    ['quantity 0', () => orderBody('card', product.id, 0), 'items.0.quantity'],
    ['a fractional quantity', () => orderBody('card', product.id, 1.5), 'items.0.quantity'],
    ['a product id that is not a uuid', () => orderBody('card', 'not-a-uuid'), 'items.0.productId'],
    ['payment method "bitcoin"', () => ({ ...orderBody(), paymentMethod: 'bitcoin' }), 'paymentMethod'],
  ])('checkout with %s', async (_name, body, field) => {
    const customer = await createUser(stack);
    const before = await availableOf(stack, product.id);
    const answer = await stack.http.post('/api/checkout', body(), customer.token);
    expectError(answer, 400, 'VALIDATION_ERROR');
    expect(fieldsOf(answer)).toEqual([field]);
    expect(await ordersOf(customer.id)).toBe(0);
    expect(await availableOf(stack, product.id)).toBe(before);
  });

  test.each([
    ['a negative price', { price: -1 }, 'price'],
    ['a price that is not in minor units (12.5)', { price: 12.5 }, 'price'],
    ['currency "DOLLARS"', { currency: 'DOLLARS' }, 'currency'],
  ])('a product with %s', async (_name, override, field) => {
    const sku = `BAD-${randomUUID().slice(0, 8)}`;
    const answer = await stack.http.post(
      '/admin/products',
      { sku, name: 'Bad', price: 100, currency: 'USD', stock: 1, ...override },
      admin.token,
    );
    expectError(answer, 400, 'VALIDATION_ERROR');
    expect(fieldsOf(answer)).toEqual([field]);
    expect(await productsWithSku(sku)).toBe(0);
  });

  test('an order id that is not a uuid', async () => {
    const answer = await stack.http.get('/api/orders/not-a-uuid', admin.token);
    expectError(answer, 400, 'VALIDATION_ERROR');
    expect(fieldsOf(answer)).toEqual(['id']);
  });
});

describe('unknown ids and routes: 404', () => {
  test('an unknown order id', async () => {
    const customer = await createUser(stack);
    expectError(await stack.http.get(`/api/orders/${randomUUID()}`, customer.token), 404, 'ORDER_NOT_FOUND');
    expectError(await stack.http.get(`/api/orders/${randomUUID()}`, admin.token), 404, 'ORDER_NOT_FOUND');
  });

  test('shipping an unknown order', async () => {
    const orderId = randomUUID();
    expectError(
      await stack.http.post(`/admin/orders/${orderId}/ship`, { trackingNumber: 'T-404' }, admin.token),
      404,
      'ORDER_NOT_FOUND',
    );
    expect(await stack.prisma.auditLog.count({ where: { targetId: orderId } })).toBe(0);
  });

  test('checkout of an unknown product: 404 naming it, and nothing changes', async () => {
    const customer = await createUser(stack);
    const missing = randomUUID();
    const before = await availableOf(stack, product.id);
    const answer = await stack.http.post(
      '/api/checkout',
      {
        items: [
          { productId: product.id, quantity: 1 },
          { productId: missing, quantity: 1 },
        ],
        paymentMethod: 'card',
      },
      customer.token,
    );
    expectError(answer, 404, 'PRODUCT_NOT_FOUND');
    expect(answer.body.error.details).toEqual({ productIds: [missing] });
    expect(answer.body.error.message).toBe(`Unknown products: ${missing}`);
    // Nothing changed: no order to list, the known product's stock as it was.
    expect(await listedOrdersOf(customer)).toEqual([]);
    expect(await availableOf(stack, product.id)).toBe(before);
    expect(await ordersOf(customer.id)).toBe(0);
    // The order's workflow checked the cart, once, and closed at once under the refusal's own code.
    expect(await checkoutWorkflowsOf(customer.id, 1)).toEqual([
      { status: 'COMPLETED', orderStatus: 'CANCELLED', cancelReason: 'PRODUCT_NOT_FOUND' },
    ]);
  });

  test('an unknown route', async () => {
    expectError(await stack.http.get('/api/nothing-here'), 404, 'NOT_FOUND');
    expectError(await stack.http.post('/api/nothing-here', {}), 404, 'NOT_FOUND');
  });
});

describe('request bodies: never a 500', () => {
  test('malformed JSON is 400 MALFORMED_JSON and creates nothing', async () => {
    const customer = await createUser(stack);
    const truncated = await stack.http.request('POST', '/api/checkout', { raw: '{"items": [', token: customer.token });
    expectError(truncated, 400, 'MALFORMED_JSON');
    // Strict JSON: a top-level scalar is not a request body either.
    expectError(
      await stack.http.request('POST', '/api/checkout', { raw: '"card"', token: customer.token }),
      400,
      'MALFORMED_JSON',
    );
    expectError(
      await stack.http.request('POST', '/api/auth/login', { raw: '{"email": "a@b.c", ' }),
      400,
      'MALFORMED_JSON',
    );
    expect(await ordersOf(customer.id)).toBe(0);

    const sku = `RAW-${randomUUID().slice(0, 8)}`;
    const productAnswer = await stack.http.request('POST', '/admin/products', {
      raw: `{"sku": "${sku}", "price": 1,,}`,
      token: admin.token,
    });
    expectError(productAnswer, 400, 'MALFORMED_JSON');
    expect(await productsWithSku(sku)).toBe(0);
  });

  test('a body over 100kb is 413 PAYLOAD_TOO_LARGE and creates nothing', async () => {
    const customer = await createUser(stack);
    const before = await availableOf(stack, product.id);
    const huge = await stack.http.post(
      '/api/checkout',
      { ...orderBody(), note: 'x'.repeat(200 * 1024) },
      customer.token,
    );
    expectError(huge, 413, 'PAYLOAD_TOO_LARGE');
    expect(await ordersOf(customer.id)).toBe(0);
    expect(await availableOf(stack, product.id)).toBe(before);

    const sku = `BIG-${randomUUID().slice(0, 8)}`;
    const bigProduct = await stack.http.post(
      '/admin/products',
      { sku, name: 'y'.repeat(200 * 1024), price: 1, currency: 'USD', stock: 1 },
      admin.token,
    );
    expectError(bigProduct, 413, 'PAYLOAD_TOO_LARGE');
    expect(await productsWithSku(sku)).toBe(0);
  });

  test('a body of the wrong shape and an undecodable path are 400s too', async () => {
    const customer = await createUser(stack);
    const array = await stack.http.request('POST', '/api/checkout', { raw: '[]', token: customer.token });
    expectError(array, 400, 'VALIDATION_ERROR');
    const empty = await stack.http.request('POST', '/api/checkout', { raw: '', token: customer.token });
    expectError(empty, 400, 'VALIDATION_ERROR');
    expect(fieldsOf(empty).sort()).toEqual(['items', 'paymentMethod']);
    expectError(await stack.http.get('/api/orders/%E0%A4%A', customer.token), 400, 'BAD_REQUEST');
    expect(await ordersOf(customer.id)).toBe(0);
  });
});

describe('conflicts', () => {
  test('a duplicate SKU is 409 SKU_EXISTS and leaves the existing product as it was', async () => {
    const existing = await createProduct(stack, admin, { stock: 4, price: 700 });
    const again = await stack.http.post(
      '/admin/products',
      { sku: existing.sku, name: 'Again', price: 1, currency: 'USD', stock: 99 },
      admin.token,
    );
    expectError(again, 409, 'SKU_EXISTS');
    expect(await productsWithSku(existing.sku)).toBe(1);
    expect(await stack.prisma.product.findUniqueOrThrow({ where: { id: existing.id } })).toMatchObject({
      name: `Product ${existing.sku}`,
      price: 700,
      stock: 4,
    });
  });

  test('a checkout mixing USD and INR is 400 CURRENCY_MISMATCH, nothing reserved', async () => {
    const rupees = await createProduct(stack, admin, { stock: 5, price: 49900, currency: 'INR' });
    const customer = await createUser(stack);
    const before = await availableOf(stack, product.id);
    const mixed = await stack.http.post(
      '/api/checkout',
      {
        items: [
          { productId: product.id, quantity: 1 },
          { productId: rupees.id, quantity: 1 },
        ],
        paymentMethod: 'card',
      },
      customer.token,
    );
    expectError(mixed, 400, 'CURRENCY_MISMATCH');
    // Unstated, the currency is that of the first item listed: the other one is named.
    expect(mixed.body.error.details).toEqual({ currency: 'USD', skus: [rupees.sku] });
    const rupeesFirst = await stack.http.post(
      '/api/checkout',
      {
        items: [
          { productId: rupees.id, quantity: 1 },
          { productId: product.id, quantity: 1 },
        ],
        paymentMethod: 'card',
      },
      customer.token,
    );
    expect(rupeesFirst.body.error.details).toEqual({ currency: 'INR', skus: [product.sku] });

    // With the currency stated, the error names exactly the product not priced in it.
    const statedUsd = await stack.http.post(
      '/api/checkout',
      {
        items: [
          { productId: product.id, quantity: 1 },
          { productId: rupees.id, quantity: 1 },
        ],
        paymentMethod: 'card',
        currency: 'usd',
      },
      customer.token,
    );
    expectError(statedUsd, 400, 'CURRENCY_MISMATCH');
    expect(statedUsd.body.error.details).toEqual({ currency: 'USD', skus: [rupees.sku] });

    expect(await ordersOf(customer.id)).toBe(0);
    expect(await listedOrdersOf(customer)).toEqual([]);
    expect(await availableOf(stack, product.id)).toBe(before);
    expect(await availableOf(stack, rupees.id)).toBe(5);
    const refused = { status: 'COMPLETED', orderStatus: 'CANCELLED', cancelReason: 'CURRENCY_MISMATCH' };
    expect(await checkoutWorkflowsOf(customer.id, 3)).toEqual([refused, refused, refused]);
  });

  test('a total above the largest charge (99,999,999 minor units) is 400 ORDER_TOTAL_TOO_LARGE, nothing reserved', async () => {
    const pricey = await createProduct(stack, admin, { stock: 2000, price: 100_000_000 });
    const customer = await createUser(stack);
    const tooLarge = await stack.http.post(
      '/api/checkout',
      { items: [{ productId: pricey.id, quantity: 1000 }], paymentMethod: 'card' },
      customer.token,
    );
    expectError(tooLarge, 400, 'ORDER_TOTAL_TOO_LARGE');
    expect(tooLarge.body.error.details).toEqual({ total: 100_000_000_000, max: 99_999_999 });
    expect(await ordersOf(customer.id)).toBe(0);
    expect(await availableOf(stack, pricey.id)).toBe(2000);
  });
});

describe('refused transitions: 409 INVALID_ORDER_STATE with the current status', () => {
  test('shipping or delivering a PENDING card order, or retrying a payment that has not failed', async () => {
    const customer = await createUser(stack);
    const orderId = await checkout(customer);

    const ship = await stack.http.post(`/admin/orders/${orderId}/ship`, { trackingNumber: 'T-1' }, admin.token);
    expectError(ship, 409, 'INVALID_ORDER_STATE');
    expect(ship.body.error.details).toMatchObject({ status: 'PENDING', paymentStatus: 'PENDING' });

    const deliver = await stack.http.post(`/admin/orders/${orderId}/deliver`, {}, admin.token);
    expectError(deliver, 409, 'INVALID_ORDER_STATE');
    expect(deliver.body.error.details).toMatchObject({ status: 'PENDING', paymentStatus: 'PENDING' });

    const retry = await stack.http.post(`/api/orders/${orderId}/payments`, {}, customer.token);
    expectError(retry, 409, 'INVALID_ORDER_STATE');
    expect(retry.body.error.details).toMatchObject({ status: 'PENDING', paymentStatus: 'PENDING' });

    // Nothing moved: same status, one payment attempt, no tracking number, nothing audited.
    const after = await orderOf(stack, orderId, customer.token);
    expect(after).toMatchObject({ status: 'PENDING', paymentStatus: 'PENDING', paymentAttempt: 1 });
    expect(after.trackingNumber).toBeUndefined();
    expect(await storedOrder(orderId)).toMatchObject({
      status: 'PENDING',
      trackingNumber: null,
      shippedAt: null,
      deliveredAt: null,
    });
    expect(await stack.prisma.payment.count({ where: { orderId } })).toBe(1);
    expect(await stack.prisma.auditLog.count({ where: { targetId: orderId } })).toBe(0);
  });

  test('cancelling a paid order, and shipping an order twice', async () => {
    const customer = await createUser(stack);
    const orderId = await checkout(customer);
    const { paymentIntentId } = await orderOf(stack, orderId, customer.token);
    await deliverStripeEvent(
      stack,
      paymentIntentEvent('payment_intent.succeeded', {
        id: paymentIntentId,
        orderId,
        amount: product.price,
        currency: 'usd',
      }),
    );
    await untilOrder(stack, orderId, customer.token, (o) => o.status === 'CONFIRMED', 'CONFIRMED');

    const cancel = await stack.http.post(`/api/orders/${orderId}/cancel`, {}, customer.token);
    expectError(cancel, 409, 'INVALID_ORDER_STATE');
    expect(cancel.body.error.details).toMatchObject({ status: 'CONFIRMED', paymentStatus: 'PAID' });

    expect(
      (await stack.http.post(`/admin/orders/${orderId}/ship`, { trackingNumber: 'ONCE' }, admin.token)).status,
    ).toBe(200);
    const again = await stack.http.post(`/admin/orders/${orderId}/ship`, { trackingNumber: 'TWICE' }, admin.token);
    expectError(again, 409, 'INVALID_ORDER_STATE');
    expect(again.body.error.details).toMatchObject({ status: 'SHIPPED' });
    expect(await storedOrder(orderId)).toMatchObject({
      status: 'SHIPPED',
      paymentStatus: 'PAID',
      trackingNumber: 'ONCE',
    });
  });

  test('delivering a CONFIRMED (cash on delivery) order that has not shipped', async () => {
    const customer = await createUser(stack);
    const orderId = await checkout(customer, orderBody('cod'));
    const answer = await stack.http.post(`/admin/orders/${orderId}/deliver`, {}, admin.token);
    expectError(answer, 409, 'INVALID_ORDER_STATE');
    expect(answer.body.error.details).toMatchObject({ status: 'CONFIRMED', paymentStatus: 'PENDING' });
    expect(await storedOrder(orderId)).toMatchObject({
      status: 'CONFIRMED',
      paymentStatus: 'PENDING',
      deliveredAt: null,
    });
    expect(await stack.prisma.payment.count({ where: { orderId } })).toBe(0);
  });

  test('cancelling an order that is already cancelled', async () => {
    const customer = await createUser(stack);
    const before = await availableOf(stack, product.id);
    const orderId = await checkout(customer, orderBody('card', product.id, 2));

    const first = await stack.http.post(`/api/orders/${orderId}/cancel`, { reason: 'changed my mind' }, customer.token);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: 'CANCELLED', cancelReason: 'CANCELLED_BY_CUSTOMER' });

    const second = await stack.http.post(`/api/orders/${orderId}/cancel`, {}, customer.token);
    expectError(second, 409, 'INVALID_ORDER_STATE');
    expect(second.body.error.details).toMatchObject({ status: 'CANCELLED' });

    // Released once, not twice.
    expect(await ledgerOf(orderId)).toEqual([
      ['RESERVE', 2],
      ['RELEASE', 2],
    ]);
    expect(await availableOf(stack, product.id)).toBe(before);
  });

  test('an admin cancels only with a reason; then the order is CANCELLED and its stock released', async () => {
    const customer = await createUser(stack);
    const before = await availableOf(stack, product.id);
    const orderId = await checkout(customer, orderBody('card', product.id, 2));
    expect(await availableOf(stack, product.id)).toBe(before - 2);

    const noReason = await stack.http.post(`/admin/orders/${orderId}/cancel`, {}, admin.token);
    expectError(noReason, 400, 'VALIDATION_ERROR');
    expect(fieldsOf(noReason)).toEqual(['reason']);
    const blankReason = await stack.http.post(`/admin/orders/${orderId}/cancel`, { reason: '   ' }, admin.token);
    expectError(blankReason, 400, 'VALIDATION_ERROR');
    expect(fieldsOf(blankReason)).toEqual(['reason']);
    // Refused requests changed nothing.
    expect((await orderOf(stack, orderId, customer.token)).status).toBe('PENDING');
    expect(await availableOf(stack, product.id)).toBe(before - 2);

    const cancelled = await stack.http.post(`/admin/orders/${orderId}/cancel`, { reason: 'fraud check' }, admin.token);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({
      orderId,
      status: 'CANCELLED',
      cancelReason: 'CANCELLED_BY_ADMIN',
      cancelNote: 'fraud check',
    });
    expect(await availableOf(stack, product.id)).toBe(before);
    expect(await storedOrder(orderId)).toMatchObject({ status: 'CANCELLED', cancelReason: 'CANCELLED_BY_ADMIN' });
    const audits = await stack.prisma.auditLog.findMany({ where: { targetId: orderId } });
    expect(audits.map((a) => [a.actorId, a.action, a.reason])).toEqual([[admin.id, 'ORDER_CANCELLED', 'fraud check']]);
  });

  test('an admin cancelling through the customer route needs a reason and is audited too', async () => {
    const customer = await createUser(stack);
    const orderId = await checkout(customer);
    expectError(await stack.http.post(`/api/orders/${orderId}/cancel`, {}, admin.token), 400, 'VALIDATION_ERROR');
    const cancelled = await stack.http.post(
      `/api/orders/${orderId}/cancel`,
      { reason: 'customer phoned in' },
      admin.token,
    );
    expect(cancelled.body).toMatchObject({ status: 'CANCELLED', cancelReason: 'CANCELLED_BY_ADMIN' });
    const audits = await stack.prisma.auditLog.findMany({ where: { targetId: orderId } });
    expect(audits.map((a) => [a.actorId, a.action, a.reason, a.before, a.after])).toEqual([
      [
        admin.id,
        'ORDER_CANCELLED',
        'customer phoned in',
        { status: 'PENDING', paymentStatus: 'PENDING' },
        { status: 'CANCELLED', paymentStatus: 'PENDING' },
      ],
    ]);
  });
});

describe('cash on delivery', () => {
  test('confirmed at checkout with no client secret, and the customer may cancel it before shipment', async () => {
    const customer = await createUser(stack);
    const before = await availableOf(stack, product.id);
    const answer = await stack.http.post('/api/checkout', orderBody('cod', product.id, 3), customer.token);
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({
      status: 'CONFIRMED',
      paymentStatus: 'PENDING',
      paymentMethod: 'COD',
      totalAmount: 3 * product.price,
      currency: 'USD',
    });
    expect(answer.body.clientSecret).toBeUndefined();
    expect(await availableOf(stack, product.id)).toBe(before - 3);

    const orderId: string = answer.body.orderId;
    const cancelled = await stack.http.post(`/api/orders/${orderId}/cancel`, {}, customer.token);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'CANCELLED', cancelReason: 'CANCELLED_BY_CUSTOMER' });
    expect(await availableOf(stack, product.id)).toBe(before);
    expect(await storedOrder(orderId)).toMatchObject({ status: 'CANCELLED', paymentStatus: 'PENDING' });
    expect(await stack.prisma.payment.count({ where: { orderId } })).toBe(0);
  });

  test('shipped, then delivered: paid in cash, recorded as a COD payment', async () => {
    const customer = await createUser(stack);
    const before = await availableOf(stack, product.id);
    const orderId = await checkout(customer, orderBody('cod', product.id, 2));

    const shipped = await stack.http.post(
      `/admin/orders/${orderId}/ship`,
      { trackingNumber: 'COD-9', carrier: 'UPS' },
      admin.token,
    );
    expect(shipped.status).toBe(200);
    expect(shipped.body).toMatchObject({
      status: 'SHIPPED',
      paymentStatus: 'PENDING',
      trackingNumber: 'COD-9',
      carrier: 'UPS',
    });

    const delivered = await stack.http.post(`/admin/orders/${orderId}/deliver`, {}, admin.token);
    expect(delivered.status).toBe(200);
    expect(delivered.body).toMatchObject({ status: 'DELIVERED', paymentStatus: 'PAID' });

    const payments = await stack.prisma.payment.findMany({ where: { orderId } });
    expect(
      payments.map((p) => ({ provider: p.provider, status: p.status, amount: p.amount, currency: p.currency })),
    ).toEqual([{ provider: 'COD', status: 'SUCCEEDED', amount: 2 * product.price, currency: 'USD' }]);
    const finalOrder = await eventually(async () => {
      const order = await orderOf(stack, orderId, customer.token);
      return order.source === 'database' && order;
    }, 'the delivered order read from the database');
    expect(finalOrder).toMatchObject({ status: 'DELIVERED', paymentStatus: 'PAID', trackingNumber: 'COD-9' });
    // The two units were sold at shipment: still gone from the catalogue, no longer reserved.
    expect(await availableOf(stack, product.id)).toBe(before - 2);
    expect(await ledgerOf(orderId)).toEqual([
      ['RESERVE', 2],
      ['SALE', 2],
    ]);
  });
});

describe('catalogue and health', () => {
  test('stockMessage: "Only 3 left" at 3, null at 10, "Out of stock" at 0', async () => {
    const few = await createProduct(stack, admin, { stock: 3 });
    const many = await createProduct(stack, admin, { stock: 10 });
    const none = await createProduct(stack, admin, { stock: 0 });
    const catalogue = await Promise.all([few, many, none].map((p) => stack.http.get(`/api/products/${p.id}`)));
    expect(catalogue.map((c) => c.status)).toEqual([200, 200, 200]);
    const entry = (id: string) => catalogue.find((c) => c.body.id === id)!.body;
    expect(entry(few.id)).toMatchObject({ available: 3, inStock: true, stockMessage: 'Only 3 left' });
    expect(entry(many.id)).toMatchObject({ available: 10, inStock: true, stockMessage: null });
    expect(entry(none.id)).toMatchObject({ available: 0, inStock: false, stockMessage: 'Out of stock' });
  });

  test('GET /health is 200 with database, Temporal, Stripe and Razorpay up', async () => {
    const health = await stack.http.get('/health');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({
      status: 'healthy',
      checks: { database: 'up', temporal: 'up', stripe: 'up', razorpay: 'up' },
    });
  });
});

describe('admin order list', () => {
  test('filters by status and customer, newest first, at most `limit`', async () => {
    const customer = await createUser(stack);
    const other = await createUser(stack);
    const confirmed: string[] = [];
    for (let i = 0; i < 6; i++) confirmed.push(await checkout(customer, orderBody('cod')));
    await checkout(customer); // PENDING card order: another status
    await checkout(other, orderBody('cod')); // CONFIRMED, but another customer's

    const list = await stack.http.get(`/admin/orders?status=CONFIRMED&customerId=${customer.id}&limit=5`, admin.token);
    expect(list.status).toBe(200);
    expect(list.body.orders.map((o: { orderId: string }) => o.orderId)).toEqual(confirmed.slice(1).reverse());
    for (const order of list.body.orders)
      expect(order).toMatchObject({ customerId: customer.id, status: 'CONFIRMED', paymentMethod: 'COD' });
    const times = list.body.orders.map((o: { createdAt: string }) => Date.parse(o.createdAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  test('customers may not list orders; an unknown status is 400', async () => {
    const customer = await createUser(stack);
    expectError(
      await stack.http.get(`/admin/orders?status=CONFIRMED&customerId=${customer.id}&limit=5`, customer.token),
      403,
      'FORBIDDEN',
    );
    const bogus = await stack.http.get('/admin/orders?status=BOGUS', admin.token);
    expectError(bogus, 400, 'VALIDATION_ERROR');
    expect(fieldsOf(bogus)).toEqual(['status']);
  });
});
