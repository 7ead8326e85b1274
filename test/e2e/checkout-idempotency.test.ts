/**
 * A retried checkout never makes a second order (issue 13, point 2). The `Idempotency-Key`
 * header names the order (and so its workflow, which Temporal allows once): the same key and
 * body answer the same order, at once or later, a different body under it is 422, and a
 * checkout that answers 503 at its deadline still says which order it may have created.
 */
import { temporal } from '@temporalio/proto';
import { randomUUID } from 'node:crypto';
import { checkoutOrderId } from '../../src/api/orders';
import { checkoutUpdateId, orderWorkflowId } from '../../src/workflows/ids';
import { createProduct, createUser, eventually, orderOf, useStack, type Stack, type TestUser } from '../helpers/stack';

const { stack, admin } = useStack({ env: { RESERVATION_TTL: '30m' } });

const checkout = (s: Stack, customer: TestUser, body: unknown, key?: string) =>
  s.http.request('POST', '/api/checkout', {
    body,
    token: customer.token,
    headers: key === undefined ? {} : { 'idempotency-key': key },
  });

test('the same key and body, twice at once and again later: one order, stock reserved once, one payment', async () => {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 5, price: 1900 });
  const body = { items: [{ productId: product.id, quantity: 2 }], paymentMethod: 'card' };
  const key = `cart-${randomUUID()}`;

  const together = await Promise.all([checkout(stack, customer, body, key), checkout(stack, customer, body, key)]);
  const later = await checkout(stack, customer, body, key);
  const answers = [...together, later];
  expect(answers.map((a) => a.status)).toEqual([201, 201, 201]);
  const orderId: string = together[0].body.orderId;
  expect(answers.map((a) => a.body.orderId)).toEqual([orderId, orderId, orderId]);
  expect(answers.map((a) => a.headers.get('location'))).toEqual(answers.map(() => `/api/orders/${orderId}`));
  expect(later.body).toMatchObject({
    status: 'PENDING',
    totalAmount: 3800,
    clientSecret: together[0].body.clientSecret,
    paymentIntentId: together[0].body.paymentIntentId,
  });
  expect(later.body.paymentIntentId).toMatch(/^pi_/);

  expect(await stack.prisma.order.count({ where: { customerId: customer.id } })).toBe(1);
  expect(await stack.prisma.payment.count({ where: { orderId } })).toBe(1);
  expect(await stack.prisma.product.findUniqueOrThrow({ where: { id: product.id } })).toMatchObject({
    stock: 5,
    reservedStock: 2,
  });

  // Keys are the customer's own: another customer's same key is another order.
  const other = await createUser(stack);
  const theirs = await checkout(stack, other, body, key);
  expect(theirs.status).toBe(201);
  expect(theirs.body.orderId).not.toBe(orderId);
});

test('a different body under a used key is 422 IDEMPOTENCY_KEY_REUSED and changes nothing', async () => {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 5, price: 1200 });
  const key = `cart-${randomUUID()}`;
  const first = await checkout(
    stack,
    customer,
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' },
    key,
  );
  expect(first.status).toBe(201);

  for (const body of [
    { items: [{ productId: product.id, quantity: 2 }], paymentMethod: 'card' },
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'cod' },
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card', provider: 'razorpay' },
  ]) {
    const reused = await checkout(stack, customer, body, key);
    expect({ status: reused.status, code: reused.body.error?.code }).toEqual({
      status: 422,
      code: 'IDEMPOTENCY_KEY_REUSED',
    });
    expect(reused.body.error.details).toEqual({ orderId: first.body.orderId });
  }
  expect(await stack.prisma.order.count({ where: { customerId: customer.id } })).toBe(1);
  expect((await stack.prisma.product.findUniqueOrThrow({ where: { id: product.id } })).reservedStock).toBe(1);
});

test('a refused checkout retried with its key is refused again the same way', async () => {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 1, price: 900 });
  const body = { items: [{ productId: product.id, quantity: 3 }], paymentMethod: 'cod' };
  const key = `cart-${randomUUID()}`;
  const first = await checkout(stack, customer, body, key);
  expect({ status: first.status, code: first.body.error?.code }).toEqual({ status: 409, code: 'INSUFFICIENT_STOCK' });
  // The refused order's workflow has finished: the retry is answered from it.
  await stack.temporal.workflow.getHandle(`order-${checkoutOrderId(customer.id, key)}`).result();
  const again = await checkout(stack, customer, body, key);
  expect({ status: again.status, code: again.body.error?.code }).toEqual({ status: 409, code: 'INSUFFICIENT_STOCK' });
  expect(again.body.error.message).toBe(first.body.error.message);
  expect(again.body.error.details).toEqual(first.body.error.details);
  expect(await stack.prisma.order.count({ where: { customerId: customer.id } })).toBe(0);
});

test('a cart with an unknown product, with its key: refused, the retry answered the same from the closed workflow, a new key checks out', async () => {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 3, price: 800 });
  const missing = randomUUID();
  const refusedCart = {
    items: [
      { productId: product.id, quantity: 1 },
      { productId: missing, quantity: 1 },
    ],
    paymentMethod: 'card',
  };
  const key = `cart-${randomUUID()}`;
  const first = await checkout(stack, customer, refusedCart, key);
  expect({ status: first.status, body: first.body }).toEqual({
    status: 404,
    body: {
      error: { code: 'PRODUCT_NOT_FOUND', message: `Unknown products: ${missing}`, details: { productIds: [missing] } },
    },
  });
  // The workflow the key named checked the cart and closed: completed, CANCELLED under the refusal's code.
  const refusedOrder = stack.temporal.workflow.getHandle(`order-${checkoutOrderId(customer.id, key)}`);
  expect(await refusedOrder.result()).toMatchObject({ status: 'CANCELLED', cancelReason: 'PRODUCT_NOT_FOUND' });
  expect((await refusedOrder.describe()).status.name).toBe('COMPLETED');

  const again = await checkout(stack, customer, refusedCart, key);
  expect({ status: again.status, body: again.body }).toEqual({ status: first.status, body: first.body });

  // The key is spent, as any checkout's that reached its workflow: another cart under it is 422.
  const corrected = { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' };
  const reused = await checkout(stack, customer, corrected, key);
  expect({ status: reused.status, code: reused.body.error?.code }).toEqual({
    status: 422,
    code: 'IDEMPOTENCY_KEY_REUSED',
  });
  // The refused workflow's id blocks nothing else: the corrected cart under a new key is placed.
  const placed = await checkout(stack, customer, corrected, `cart-${randomUUID()}`);
  expect(placed.status).toBe(201);
  expect(
    (await stack.http.get('/api/orders', customer.token)).body.orders.map((o: { orderId: string }) => o.orderId),
  ).toEqual([placed.body.orderId]);
  expect((await stack.http.get(`/api/products/${product.id}`)).body.availableStock).toBe(2);
});

test('a key that is empty or too long is 400 INVALID_IDEMPOTENCY_KEY, not a 500, and nothing is reserved', async () => {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 2, price: 900 });
  const body = { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'cod' };
  for (const key of ['x'.repeat(4000), 'x'.repeat(201), '   ']) {
    const answer = await checkout(stack, customer, body, key);
    expect({ status: answer.status, code: answer.body.error?.code }).toEqual({
      status: 400,
      code: 'INVALID_IDEMPOTENCY_KEY',
    });
  }
  expect((await stack.prisma.product.findUniqueOrThrow({ where: { id: product.id } })).reservedStock).toBe(0);
  expect((await checkout(stack, customer, body, 'x'.repeat(200))).status).toBe(201);

  // The same rule, from the same code, on the other routes that take a key.
  const credit = await stack.http.request('POST', `/admin/wallets/${customer.id}/credit`, {
    body: { amount: 100, reason: 'goodwill' },
    token: admin.token,
    headers: { 'idempotency-key': 'k'.repeat(4000) },
  });
  expect({ status: credit.status, code: credit.body.error?.code }).toEqual({
    status: 400,
    code: 'INVALID_IDEMPOTENCY_KEY',
  });
  expect(await stack.prisma.wallet.count({ where: { userId: customer.id } })).toBe(0);
});

describe('at the deadline', () => {
  const { stack: slow, admin: slowAdmin } = useStack({ env: { API_TEMPORAL_DEADLINE: '2s', RESERVATION_TTL: '30m' } });

  test('a checkout answered 503 names the order it may have created and when to retry; the retry with its key finds that order, through the same update', async () => {
    const customer = await createUser(slow);
    const product = await createProduct(slow, slowAdmin, { stock: 4, price: 700 });
    const body = { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'cod' };
    await slow.stopWorker();
    const key = `cart-${randomUUID()}`;
    const [keyed, unkeyed] = await Promise.all([checkout(slow, customer, body, key), checkout(slow, customer, body)]);
    for (const answer of [keyed, unkeyed]) {
      expect({ status: answer.status, code: answer.body.error?.code }).toEqual({
        status: 503,
        code: 'TEMPORAL_UNAVAILABLE',
      });
      expect(answer.body.error.details.orderId).toEqual(expect.any(String));
      expect(answer.headers.get('location')).toBe(`/api/orders/${answer.body.error.details.orderId}`);
      expect(answer.headers.get('retry-after')).toBe('5');
    }
    // Retried with its key while the workflow still cannot answer: 503 again, and no second update.
    const again = await checkout(slow, customer, body, key);
    expect({ status: again.status, orderId: again.body.error?.details?.orderId }).toEqual({
      status: 503,
      orderId: keyed.body.error.details.orderId,
    });
    await slow.startWorker();

    // The client without a key looks instead of retrying blind: the order was made.
    const made = await eventually(
      async () =>
        (await slow.http.get(`/api/orders/${unkeyed.body.error.details.orderId}`, customer.token)).status === 200,
      'the unkeyed order exists',
    );
    expect(made).toBe(true);
    const retried = await checkout(slow, customer, body, key);
    expect(retried.status).toBe(201);
    expect(retried.body.orderId).toBe(keyed.body.error.details.orderId);
    expect(await orderOf(slow, retried.body.orderId, customer.token)).toMatchObject({ status: 'CONFIRMED' });
    expect(await slow.prisma.order.count({ where: { customerId: customer.id } })).toBe(2);
    // Three requests with the key, one placeOrder update in the order's history: a retry attaches
    // to the update already there instead of queueing another on a busy order.
    const { history } = await slow.temporal.workflowService.getWorkflowExecutionHistory({
      namespace: slow.config.TEMPORAL_NAMESPACE,
      execution: { workflowId: orderWorkflowId(retried.body.orderId) },
    });
    const accepted = (history?.events ?? []).filter(
      (e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
    );
    expect(
      accepted.map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.meta?.updateId),
    ).toEqual([checkoutUpdateId(retried.body.orderId)]);
  });
});
