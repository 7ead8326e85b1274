/**
 * Money that came and went is visible (issue 13, point 3; DESIGN.md orders rule 6): the order's
 * view lists every payment made for it with its status and any refund, and its refund requests,
 * for the customer and for admins, never carrying an admin's user id to the customer. And a
 * customer lists their own orders, newest first, page by page (`GET /api/orders`).
 */
import {
  createProduct,
  createUser,
  eventually,
  mailsTo,
  orderOf,
  untilOrder,
  useStack,
  type TestUser,
} from '../helpers/stack';
import { deliverRazorpayWebhook, deliverStripeEvent, paymentIntentEvent } from '../helpers/webhooks';

const { stack, admin } = useStack({ env: { RESERVATION_TTL: '30m' } });

describe('with reservations that expire at once', () => {
  const { stack: quick, admin: quickAdmin } = useStack({
    env: { RESERVATION_TTL: '3s', PAYMENT_RECONCILE_AFTER: '30m' },
  });

  test('a late payment on an expired order, refunded automatically, is in the view with its refund', async () => {
    const stack = quick;
    const admin = quickAdmin;
    const customer = await createUser(stack);
    const product = await createProduct(stack, admin, { stock: 3, price: 49_900, currency: 'INR' });
    const checkout = await stack.http.post(
      '/api/checkout',
      { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card', provider: 'razorpay' },
      customer.token,
    );
    expect(checkout.status).toBe(201);
    const { orderId, razorpayOrderId } = checkout.body as { orderId: string; razorpayOrderId: string };
    await untilOrder(stack, orderId, customer.token, (o) => o.status === 'CANCELLED', 'expired');
    await stack.temporal.workflow.getHandle(`order-${orderId}`).result();

    const { paymentId, webhooks } = stack.razorpay.pay(razorpayOrderId);
    expect((await deliverRazorpayWebhook(stack, webhooks['payment.captured'])).status).toBe(200);
    await eventually(async () => mailsTo(stack, customer.email, 'refunded').length > 0, 'refund email');
    const [refund] = stack.razorpay.refunds.filter((r) => r.payment_id === paymentId);

    for (const token of [customer.token, admin.token]) {
      const view = await orderOf(stack, orderId, token);
      expect(view).toMatchObject({ status: 'CANCELLED', cancelReason: 'RESERVATION_EXPIRED' });
      expect(view.payments).toEqual([
        expect.objectContaining({
          provider: 'RAZORPAY',
          providerPaymentId: razorpayOrderId,
          amount: 49_900,
          currency: 'INR',
          status: 'REFUNDED',
          refund: expect.objectContaining({
            providerRefundId: refund.id,
            amount: 49_900,
            reason: 'paid after the order had closed',
            refundedAt: expect.any(String),
          }),
        }),
      ]);
    }
  });
});

test('every attempt and every refund request is listed; the customer sees no admin id', async () => {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 3, price: 3000 });
  const checkout = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' },
    customer.token,
  );
  const orderId: string = checkout.body.orderId;
  const first = (await orderOf(stack, orderId, customer.token)).paymentIntentId as string;
  await deliverStripeEvent(
    stack,
    paymentIntentEvent('payment_intent.payment_failed', { id: first, orderId, amount: 3000, currency: 'usd' }),
  );
  await untilOrder(stack, orderId, customer.token, (o) => o.paymentStatus === 'FAILED', 'payment FAILED');
  expect((await stack.http.post(`/api/orders/${orderId}/payments`, {}, customer.token)).status).toBe(201);
  const second = (await orderOf(stack, orderId, customer.token)).paymentIntentId as string;
  await deliverStripeEvent(
    stack,
    paymentIntentEvent('payment_intent.succeeded', { id: second, orderId, amount: 3000, currency: 'usd' }),
  );
  await untilOrder(stack, orderId, customer.token, (o) => o.status === 'CONFIRMED', 'CONFIRMED');

  const requested = await stack.http.post(
    `/api/orders/${orderId}/refunds`,
    { amount: 500, reason: 'scratched', destination: 'WALLET' },
    customer.token,
  );
  expect(requested.status).toBe(202);
  const decided = await stack.http.post(
    `/admin/refunds/${requested.body.refundId}/approve`,
    { reason: 'photo attached' },
    admin.token,
  );
  expect(decided.body.status).toBe('COMPLETED');
  await untilOrder(stack, orderId, customer.token, (o) => o.status === 'PARTIALLY_REFUNDED', 'PARTIALLY_REFUNDED');
  expect(
    (await stack.http.post(`/admin/orders/${orderId}/ship`, { trackingNumber: 'VIEW-1' }, admin.token)).status,
  ).toBe(200);

  const mine = await orderOf(stack, orderId, customer.token);
  expect(
    mine.payments.map((p: { attempt: number; status: string; amount: number }) => [p.attempt, p.status, p.amount]),
  ).toEqual([
    [1, 'FAILED', 3000],
    [2, 'SUCCEEDED', 3000],
  ]);
  expect(mine.payments[0]).toMatchObject({ failureReason: 'Your card was declined.' });
  expect(mine.payments.some((p: { refund?: unknown }) => p.refund)).toBe(false);
  expect(mine.refunds).toEqual([
    expect.objectContaining({
      refundId: requested.body.refundId,
      amount: 500,
      destination: 'WALLET',
      status: 'COMPLETED',
      reason: 'scratched',
    }),
  ]);
  // Who decided, who shipped: admins' ids stay with admins.
  expect(JSON.stringify(mine)).not.toContain(admin.id);
  expect(mine.timeline.find((t: { event: string }) => t.event === 'ORDER_SHIPPED').actor).toEqual({ role: 'ADMIN' });

  const theirs = await orderOf(stack, orderId, admin.token);
  expect(theirs.refunds[0]).toMatchObject({ decidedBy: admin.id, requestedBy: customer.id });
  expect(theirs.timeline.find((t: { event: string }) => t.event === 'ORDER_SHIPPED').actor).toEqual({
    id: admin.id,
    role: 'ADMIN',
  });
});

test("GET /api/orders: the customer's own orders, newest first, a page at a time", async () => {
  const customer = await createUser(stack);
  const other = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 10, price: 1000 });
  const place = async (who: TestUser, quantity: number) => {
    const answer = await stack.http.post(
      '/api/checkout',
      { items: [{ productId: product.id, quantity }], paymentMethod: 'cod' },
      who.token,
    );
    expect(answer.status).toBe(201);
    return answer.body.orderId as string;
  };
  const placed: string[] = [];
  for (const quantity of [1, 2, 3]) placed.push(await place(customer, quantity));
  await place(other, 1);

  const page1 = await stack.http.get('/api/orders?limit=2', customer.token);
  expect(page1.status).toBe(200);
  expect(page1.body.orders.map((o: { orderId: string }) => o.orderId)).toEqual([placed[2], placed[1]]);
  expect(page1.body.orders[0]).toMatchObject({
    status: 'CONFIRMED',
    paymentMethod: 'COD',
    totalAmount: 3000,
    currency: 'USD',
    createdAt: expect.any(String),
  });
  expect(page1.body.nextCursor).toEqual(expect.any(String));
  const page2 = await stack.http.get(
    `/api/orders?limit=2&cursor=${encodeURIComponent(page1.body.nextCursor)}`,
    customer.token,
  );
  expect(page2.body.orders.map((o: { orderId: string }) => o.orderId)).toEqual([placed[0]]);
  expect(page2.body.nextCursor).toBeNull();

  // Only one's own; admins may name the customer.
  expect((await stack.http.get(`/api/orders?customerId=${other.id}`, customer.token)).status).toBe(403);
  const byAdmin = await stack.http.get(`/api/orders?customerId=${customer.id}&limit=10`, admin.token);
  expect(byAdmin.body.orders).toHaveLength(3);
  for (const bad of ['limit=0', 'limit=abc', 'cursor=not-a-cursor']) {
    const answer = await stack.http.get(`/api/orders?${bad}`, customer.token);
    expect({ status: answer.status, code: answer.body.error?.code }).toEqual({ status: 400, code: 'VALIDATION_ERROR' });
  }
  // An empty parameter means none.
  expect((await stack.http.get('/api/orders?limit=&cursor=', customer.token)).body.orders).toHaveLength(3);
  expect((await stack.http.get('/api/orders')).status).toBe(401);
});
