/**
 * Money that came and went is visible (issue 13, point 3; DESIGN.md orders rule 6): the order's
 * view lists every payment made for it with its status and any refund, and its refund requests,
 * for the customer and for admins, never carrying an admin's user id to the customer; every
 * stored fact reaches the view as stored (one statement reads them all). And a customer lists
 * their own orders, newest first, page by page (`GET /api/orders`).
 */
import { randomUUID } from 'node:crypto';
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

test('a finished order read in one statement: every stored fact in the view, admin ids for admins only', async () => {
  // Written straight to the tables (a delivered order has no workflow to ask), with every kind of
  // fact the view shows and each optional field both set and unset.
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 3, price: 3000 });
  const adminId = admin.id;
  const at = (ms: number) => new Date(Date.UTC(2026, 10, 30, 9, 0, 0, ms));
  const orderId = randomUUID();
  const [intent1, intent2] = [`pi_${randomUUID()}`, `pi_${randomUUID()}`];
  await stack.prisma.order.create({
    data: {
      id: orderId,
      customerId: customer.id,
      status: 'DELIVERED',
      paymentStatus: 'PAID',
      paymentMethod: 'CARD',
      paymentProvider: 'STRIPE',
      currency: 'USD',
      totalAmount: 6000,
      trackingNumber: 'T-ONE',
      carrier: 'DHL',
      reservationExpiresAt: at(5),
      deliveredAt: at(900),
      disputeStatus: 'WON',
      createdAt: at(1),
      items: {
        create: [{ productId: product.id, sku: product.sku, name: 'A "quoted" name ✓', quantity: 2, unitPrice: 3000 }],
      },
      payments: {
        create: [
          {
            attempt: 2,
            provider: 'STRIPE',
            providerPaymentId: intent2,
            amount: 6000,
            currency: 'USD',
            status: 'SUCCEEDED',
            confirmedBy: 'webhook:evt_1',
            createdAt: at(20),
          },
          {
            attempt: 1,
            provider: 'STRIPE',
            providerPaymentId: intent1,
            amount: 6000,
            currency: 'USD',
            status: 'FAILED',
            failureReason: 'declined',
            createdAt: at(10),
          },
          {
            attempt: 3,
            provider: 'STRIPE',
            amount: 6000,
            currency: 'USD',
            status: 'REFUNDED',
            failureReason: 'late',
            refundId: 're_1',
            refundedAmount: 100,
            refundedAt: at(30),
            createdAt: at(1000),
          },
        ],
      },
    },
  });
  const [decided, waiting] = [randomUUID(), randomUUID()];
  await stack.prisma.refund.createMany({
    data: [
      {
        id: decided,
        orderId,
        amount: 500,
        currency: 'USD',
        destination: 'WALLET',
        status: 'COMPLETED',
        reason: 'later',
        requestedBy: customer.id,
        decidedBy: adminId,
        decisionReason: 'ok',
        decidedAt: at(60),
        providerRefundId: 'wallet-1',
        completedAt: at(61),
        createdAt: at(50),
      },
      {
        id: waiting,
        orderId,
        amount: 400,
        currency: 'USD',
        destination: 'ORIGINAL_PAYMENT',
        status: 'FAILED',
        reason: 'first',
        requestedBy: customer.id,
        failureReason: 'refused',
        createdAt: at(45),
      },
    ],
  });
  const [received, requested] = [randomUUID(), randomUUID()];
  const returnRefund = randomUUID();
  await stack.prisma.return.create({
    data: {
      id: received,
      orderId,
      customerId: customer.id,
      status: 'REFUNDED',
      reason: 'broken',
      currency: 'USD',
      expiresAt: at(999),
      receivedBy: adminId,
      receivedAt: at(80),
      refundId: returnRefund,
      refundAmount: 3000,
      decidedBy: adminId,
      decisionReason: 'fine',
      closedAt: at(90),
      createdAt: at(75),
      lines: { create: [{ productId: product.id, quantity: 2, unitPrice: 3000, restocked: 1, damaged: 1 }] },
    },
  });
  await stack.prisma.return.create({
    data: {
      id: requested,
      orderId,
      customerId: customer.id,
      status: 'REQUESTED',
      reason: 'meh',
      currency: 'USD',
      expiresAt: at(998),
      createdAt: at(76),
    },
  });
  const iso = (ms: number) => at(ms).toISOString();

  const forCustomer = {
    orderId,
    customerId: customer.id,
    status: 'DELIVERED',
    paymentStatus: 'PAID',
    paymentMethod: 'CARD',
    paymentProvider: 'STRIPE',
    totalAmount: 6000,
    currency: 'USD',
    createdAt: iso(1),
    items: [
      {
        productId: product.id,
        variantId: null,
        sku: product.sku,
        name: 'A "quoted" name ✓',
        quantity: 2,
        unitPrice: 3000,
      },
    ],
    trackingNumber: 'T-ONE',
    carrier: 'DHL',
    reservationExpiresAt: iso(5),
    disputeStatus: 'WON',
    source: 'database',
    payments: [
      {
        attempt: 1,
        provider: 'STRIPE',
        providerPaymentId: intent1,
        amount: 6000,
        currency: 'USD',
        status: 'FAILED',
        failureReason: 'declined',
        createdAt: iso(10),
      },
      {
        attempt: 2,
        provider: 'STRIPE',
        providerPaymentId: intent2,
        amount: 6000,
        currency: 'USD',
        status: 'SUCCEEDED',
        createdAt: iso(20),
      },
      {
        attempt: 3,
        provider: 'STRIPE',
        providerPaymentId: null,
        amount: 6000,
        currency: 'USD',
        status: 'REFUNDED',
        createdAt: iso(1000),
        refund: { providerRefundId: 're_1', amount: 100, reason: 'late', refundedAt: iso(30) },
      },
    ],
    refunds: [
      {
        refundId: waiting,
        amount: 400,
        currency: 'USD',
        destination: 'ORIGINAL_PAYMENT',
        status: 'FAILED',
        reason: 'first',
        failureReason: 'refused',
        createdAt: iso(45),
      },
      {
        refundId: decided,
        amount: 500,
        currency: 'USD',
        destination: 'WALLET',
        status: 'COMPLETED',
        reason: 'later',
        providerRefundId: 'wallet-1',
        createdAt: iso(50),
        completedAt: iso(61),
      },
    ],
    returns: [
      {
        returnId: received,
        status: 'REFUNDED',
        reason: 'broken',
        lines: [{ productId: product.id, quantity: 2, restocked: 1, damaged: 1 }],
        expiresAt: iso(999),
        refundId: returnRefund,
        refundAmount: 3000,
        decisionReason: 'fine',
        createdAt: iso(75),
        closedAt: iso(90),
      },
      { returnId: requested, status: 'REQUESTED', reason: 'meh', lines: [], expiresAt: iso(998), createdAt: iso(76) },
    ],
  };
  const mine = await stack.http.get(`/api/orders/${orderId}`, customer.token);
  expect(mine.status).toBe(200);
  expect(mine.body).toStrictEqual(forCustomer);

  const theirs = await stack.http.get(`/api/orders/${orderId}`, admin.token);
  expect(theirs.body).toStrictEqual({
    ...forCustomer,
    payments: forCustomer.payments.map((p) => (p.attempt === 2 ? { ...p, confirmedBy: 'webhook:evt_1' } : p)),
    refunds: [
      { ...forCustomer.refunds[0], requestedBy: customer.id },
      {
        ...forCustomer.refunds[1],
        requestedBy: customer.id,
        decidedBy: adminId,
        decisionReason: 'ok',
        decidedAt: iso(60),
      },
    ],
    returns: [{ ...forCustomer.returns[0], receivedBy: adminId, decidedBy: adminId }, forCustomer.returns[1]],
  });

  // Another customer's order is 403, an unknown one 404, as before the view was one statement.
  const stranger = await createUser(stack);
  const forbidden = await stack.http.get(`/api/orders/${orderId}`, stranger.token);
  expect([forbidden.status, forbidden.body.error.code]).toEqual([403, 'FORBIDDEN']);
  const unknown = await stack.http.get(`/api/orders/${randomUUID()}`, customer.token);
  expect([unknown.status, unknown.body.error.code]).toEqual([404, 'ORDER_NOT_FOUND']);
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
