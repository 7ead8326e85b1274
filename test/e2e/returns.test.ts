/**
 * Returns end to end over HTTP (DESIGN.md "Returns and disputes"): a partial return with a
 * damaged unit, restocked and refunded through the refund rules; the same units twice refused;
 * cash on delivery and wallet orders to the wallet; rejection; expiry (a second stack with a short
 * RETURN_RECEIVE_WITHIN); and a return request racing an admin's manual refund of the same order.
 */
import {
  createProduct,
  createUser,
  eventually,
  orderOf,
  untilOrder,
  useStack,
  type Stack,
  type TestUser,
} from '../helpers/stack';
import { deliverStripeEvent, paymentIntentEvent } from '../helpers/webhooks';

// Card refunds settle by a status check a second after they are made (stripe-mock answers succeeded).
const { stack, admin } = useStack({ env: { REFUND_SETTLE_CHECK_AFTER: '1s' } });
// The same database: the first stack's admin acts on this one too.
const { stack: expiring } = useStack({ env: { RETURN_RECEIVE_WITHIN: '1s' } });

/** A card order of `quantity` units paid by a signed webhook, shipped and delivered. */
async function deliveredOrder(
  on: Stack,
  by: TestUser,
  quantity: number,
  price: number,
  method: 'card' | 'cod' | 'wallet' = 'card',
) {
  const customer = await createUser(on);
  const product = await createProduct(on, by, { stock: 10, price });
  if (method === 'wallet') {
    const credit = await on.http.post(
      `/admin/wallets/${customer.id}/credit`,
      { amount: price * quantity, reason: 'store credit to spend' },
      by.token,
    );
    expect(credit.status).toBeLessThan(300);
  }
  const checkout = await on.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity }], paymentMethod: method },
    customer.token,
  );
  expect(checkout.status).toBe(201);
  const orderId: string = checkout.body.orderId;
  if (method === 'card') {
    const { paymentIntentId } = await orderOf(on, orderId, customer.token);
    await deliverStripeEvent(
      on,
      paymentIntentEvent('payment_intent.succeeded', {
        id: paymentIntentId,
        orderId,
        amount: price * quantity,
        currency: 'usd',
      }),
    );
    await untilOrder(on, orderId, customer.token, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
  }
  expect((await on.http.post(`/admin/orders/${orderId}/ship`, { trackingNumber: 'T1' }, by.token)).status).toBe(200);
  expect((await on.http.post(`/admin/orders/${orderId}/deliver`, {}, by.token)).status).toBe(200);
  return { customer, product, orderId };
}

const mailTo = (on: Stack, email: string, subject: string) =>
  eventually(async () => on.smtp.messages.find((m) => m.to.includes(email) && m.subject === subject), subject);

async function returnRow(on: Stack, returnId: string) {
  return on.prisma.return.findUniqueOrThrow({ where: { id: returnId }, include: { lines: true } });
}

test('a partial return with one damaged unit: one unit restocked (RETURN), both refunded to the card, once', async () => {
  const { customer, product, orderId } = await deliveredOrder(stack, admin, 3, 2000);
  const stockBefore = (await stack.prisma.product.findUniqueOrThrow({ where: { id: product.id } })).stock;

  const asked = await stack.http.post(
    `/api/orders/${orderId}/returns`,
    { lines: [{ productId: product.id, quantity: 2 }], reason: 'wrong size' },
    customer.token,
  );
  expect(asked.status).toBe(202);
  const returnId: string = asked.body.returnId;
  expect(asked.body.status).toBe('REQUESTED');
  await mailTo(stack, customer.email, `Return ${returnId} for order ${orderId} requested`);

  // The same units twice: only one of the three is still returnable.
  const twice = await stack.http.post(
    `/api/orders/${orderId}/returns`,
    { lines: [{ productId: product.id, quantity: 2 }], reason: 'again' },
    customer.token,
  );
  expect(twice.status).toBe(409);
  expect(twice.body.error).toMatchObject({ code: 'RETURN_QUANTITY_TOO_HIGH', details: { returnable: 1 } });

  // More than asked for is refused, and changes nothing.
  const tooMany = await stack.http.post(
    `/admin/returns/${returnId}/receive`,
    { lines: [{ productId: product.id, quantity: 3, condition: 'RESTOCK' }] },
    admin.token,
  );
  expect(tooMany.status).toBe(409);
  expect(tooMany.body.error.code).toBe('RETURN_QUANTITY_TOO_HIGH');
  expect((await returnRow(stack, returnId)).status).toBe('REQUESTED');

  const received = await stack.http.post(
    `/admin/returns/${returnId}/receive`,
    {
      lines: [
        { productId: product.id, quantity: 1, condition: 'RESTOCK' },
        { productId: product.id, quantity: 1, condition: 'DAMAGED' },
      ],
      note: 'box crushed, one unit broken',
    },
    admin.token,
  );
  expect(received.status).toBe(200);
  expect(received.body).toMatchObject({ status: 'RECEIVED', refundAmount: 4000 });
  expect(received.body.refundId).toBeDefined();

  const done = await eventually(async () => {
    const row = await returnRow(stack, returnId);
    return row.status === 'REFUNDED' && row;
  }, 'return refunded');
  expect(done).toMatchObject({ refundAmount: 4000, receivedBy: admin.id });
  expect(done.lines[0]).toMatchObject({ quantity: 2, restocked: 1, damaged: 1 });

  const refund = await stack.prisma.refund.findUniqueOrThrow({ where: { id: done.refundId! } });
  expect(refund).toMatchObject({
    amount: 4000,
    destination: 'ORIGINAL_PAYMENT',
    status: 'COMPLETED',
    decidedBy: admin.id,
  });
  expect(await stack.prisma.refund.count({ where: { orderId } })).toBe(1);
  const order = await stack.prisma.order.findUniqueOrThrow({ where: { id: orderId } });
  expect(order).toMatchObject({ status: 'PARTIALLY_REFUNDED', paymentStatus: 'PARTIALLY_REFUNDED' });

  // One unit back on the shelf, through the ledger; the damaged one is not.
  expect((await stack.prisma.product.findUniqueOrThrow({ where: { id: product.id } })).stock).toBe(stockBefore + 1);
  const ledger = await stack.prisma.inventoryLedger.findMany({ where: { productId: product.id, type: 'RETURN' } });
  expect(ledger.map((l) => [l.quantity, l.reference, l.actor])).toEqual([[1, returnId, admin.id]]);

  await mailTo(stack, customer.email, `Return ${returnId} received`);
  await mailTo(stack, customer.email, `Return ${returnId} refunded`);
  const actions = (await stack.prisma.auditLog.findMany({ where: { targetId: returnId } })).map((a) => a.action);
  expect(actions.sort()).toEqual(['RETURN_RECEIVED', 'RETURN_REFUNDED', 'RETURN_REQUESTED']);

  // The customer's view of the order shows the return (no admin's id); the admin's names who received it.
  const mine = await orderOf(stack, orderId, customer.token);
  expect(mine.returns).toEqual([
    expect.objectContaining({
      returnId,
      status: 'REFUNDED',
      reason: 'wrong size',
      lines: [{ productId: product.id, quantity: 2, restocked: 1, damaged: 1 }],
      refundId: refund.id,
      refundAmount: 4000,
    }),
  ]);
  expect(mine.returns[0]).not.toHaveProperty('receivedBy');
  expect((await orderOf(stack, orderId, admin.token)).returns[0]).toMatchObject({ receivedBy: admin.id });

  const listed = await stack.http.get('/admin/returns?status=REFUNDED', admin.token);
  expect(listed.body.returns.map((r: { returnId: string }) => r.returnId)).toContain(returnId);

  const history = await stack.http.get(`/admin/orders/${orderId}/history?pageSize=500`, admin.token);
  expect(history.body.workflows).toEqual(expect.arrayContaining([`return-${returnId}`, `refund-${refund.id}`]));
  expect(history.body.entries).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ workflowId: `return-${returnId}`, kind: 'STARTED', actor: `CUSTOMER:${customer.id}` }),
      expect.objectContaining({ workflowId: `return-${returnId}`, kind: 'UPDATE', name: 'receiveReturn' }),
    ]),
  );

  // The last unit may still be returned; a received return does not count the units it did not get.
  const last = await stack.http.post(
    `/api/orders/${orderId}/returns`,
    { lines: [{ productId: product.id, quantity: 2 }], reason: 'the last one too' },
    customer.token,
  );
  expect(last.status).toBe(409);
  expect(last.body.error.details).toMatchObject({ returnable: 1 });
});

test('a cash-on-delivery order is refunded to the wallet; rejection is emailed, audited, and final', async () => {
  const { customer, product, orderId } = await deliveredOrder(stack, admin, 2, 1500, 'cod');
  const first = await stack.http.post(
    `/api/orders/${orderId}/returns`,
    { lines: [{ productId: product.id, quantity: 1 }], reason: 'not needed' },
    customer.token,
  );
  expect(first.status).toBe(202);
  const rejected = await stack.http.post(
    `/admin/returns/${first.body.returnId}/reject`,
    { reason: 'opened and used' },
    admin.token,
  );
  expect(rejected.status).toBe(200);
  expect(rejected.body.status).toBe('REJECTED');
  await mailTo(stack, customer.email, `Return ${first.body.returnId} declined`);
  expect(
    await stack.prisma.auditLog.findFirst({ where: { targetId: first.body.returnId, action: 'RETURN_REJECTED' } }),
  ).toMatchObject({ actorId: admin.id, reason: 'opened and used' });
  expect(first.headers.get('location')).toBe(`/api/orders/${orderId}`);
  expect((await orderOf(stack, orderId, customer.token)).returns[0]).toMatchObject({
    returnId: first.body.returnId,
    status: 'REJECTED',
    decisionReason: 'opened and used',
  });
  const late = await stack.http.post(
    `/admin/returns/${first.body.returnId}/receive`,
    { lines: [{ productId: product.id, quantity: 1, condition: 'RESTOCK' }] },
    admin.token,
  );
  expect(late.status).toBe(409);
  expect(late.body.error.code).toBe('INVALID_RETURN_STATE');

  // A rejected return frees its units: both may be asked for again.
  const second = await stack.http.post(
    `/api/orders/${orderId}/returns`,
    { lines: [{ productId: product.id, quantity: 2 }], reason: 'changed my mind' },
    customer.token,
  );
  expect(second.status).toBe(202);
  await stack.http.post(
    `/admin/returns/${second.body.returnId}/receive`,
    { lines: [{ productId: product.id, quantity: 2, condition: 'RESTOCK' }], refundShipping: true },
    admin.token,
  );
  const done = await eventually(async () => {
    const row = await returnRow(stack, second.body.returnId);
    return row.status === 'REFUNDED' && row;
  }, 'refunded');
  expect(done.refundAmount).toBe(3000);
  const wallet = await stack.prisma.wallet.findUniqueOrThrow({ where: { userId: customer.id } });
  expect(wallet.balance).toBe(3000);
  expect(await stack.prisma.order.findUniqueOrThrow({ where: { id: orderId } })).toMatchObject({
    status: 'REFUNDED',
    paymentStatus: 'REFUNDED',
  });
});

test("a wallet-paid order's return is refunded to the wallet, the received line only", async () => {
  const { customer, product, orderId } = await deliveredOrder(stack, admin, 2, 1800, 'wallet');
  expect((await stack.prisma.wallet.findUniqueOrThrow({ where: { userId: customer.id } })).balance).toBe(0);
  const asked = await stack.http.post(
    `/api/orders/${orderId}/returns`,
    { lines: [{ productId: product.id, quantity: 1 }], reason: 'one too many' },
    customer.token,
  );
  expect(asked.status).toBe(202);
  await stack.http.post(
    `/admin/returns/${asked.body.returnId}/receive`,
    { lines: [{ productId: product.id, quantity: 1, condition: 'RESTOCK' }] },
    admin.token,
  );
  const done = await eventually(async () => {
    const row = await returnRow(stack, asked.body.returnId);
    return row.status === 'REFUNDED' && row;
  }, 'refunded');
  expect(done.refundAmount).toBe(1800);
  expect(await stack.prisma.refund.findUniqueOrThrow({ where: { id: done.refundId! } })).toMatchObject({
    destination: 'WALLET',
    status: 'COMPLETED',
    amount: 1800,
  });
  expect((await stack.prisma.wallet.findUniqueOrThrow({ where: { userId: customer.id } })).balance).toBe(1800);
  expect(await stack.prisma.order.findUniqueOrThrow({ where: { id: orderId } })).toMatchObject({
    status: 'PARTIALLY_REFUNDED',
    paymentStatus: 'PARTIALLY_REFUNDED',
  });
});

test('requests that cannot be returned are refused with a code, and nothing is recorded', async () => {
  const { customer, product, orderId } = await deliveredOrder(stack, admin, 1, 1000);
  const bad = await stack.http.post(`/api/orders/${orderId}/returns`, { lines: [], reason: 'x' }, customer.token);
  expect(bad.status).toBe(400);
  const stranger = await createUser(stack);
  const notTheirs = await stack.http.post(
    `/api/orders/${orderId}/returns`,
    { lines: [{ productId: product.id, quantity: 1 }], reason: 'x' },
    stranger.token,
  );
  expect(notTheirs.status).toBe(403);
  const otherProduct = await createProduct(stack, admin, { stock: 1 });
  const notInOrder = await stack.http.post(
    `/api/orders/${orderId}/returns`,
    { lines: [{ productId: otherProduct.id, quantity: 1 }], reason: 'x' },
    customer.token,
  );
  expect(notInOrder.status).toBe(400);

  // Delivered 31 days ago: the 30-day window has closed.
  await stack.prisma.order.update({
    where: { id: orderId },
    data: { deliveredAt: new Date(Date.now() - 31 * 24 * 3600_000) },
  });
  const closed = await stack.http.post(
    `/api/orders/${orderId}/returns`,
    { lines: [{ productId: product.id, quantity: 1 }], reason: 'too late' },
    customer.token,
  );
  expect(closed.status).toBe(409);
  expect(closed.body.error.code).toBe('RETURN_WINDOW_CLOSED');
  expect(await stack.prisma.return.count({ where: { orderId } })).toBe(0);
});

test('goods that never arrive expire the return, with an email; the units may be asked for again', async () => {
  const expiringAdmin = await createUser(expiring, 'ADMIN');
  const { customer, product, orderId } = await deliveredOrder(expiring, expiringAdmin, 1, 1200);
  const asked = await expiring.http.post(
    `/api/orders/${orderId}/returns`,
    { lines: [{ productId: product.id, quantity: 1 }], reason: 'faulty' },
    customer.token,
  );
  expect(asked.status).toBe(202);
  const returnId: string = asked.body.returnId;
  await eventually(async () => (await returnRow(expiring, returnId)).status === 'EXPIRED', 'expired');
  await mailTo(expiring, customer.email, `Return ${returnId} expired`);
  expect(
    await expiring.prisma.auditLog.findFirst({ where: { targetId: returnId, action: 'RETURN_EXPIRED' } }),
  ).toMatchObject({
    actorId: 'system',
  });
  const late = await expiring.http.post(
    `/admin/returns/${returnId}/receive`,
    { lines: [{ productId: product.id, quantity: 1, condition: 'RESTOCK' }] },
    expiringAdmin.token,
  );
  expect(late.status).toBe(409);
  expect(await expiring.prisma.refund.count({ where: { orderId } })).toBe(0);
  const listed = await expiring.http.get('/admin/returns?status=EXPIRED', expiringAdmin.token);
  expect(listed.body.returns.map((r: { returnId: string }) => r.returnId)).toContain(returnId);
  const again = await expiring.http.post(
    `/api/orders/${orderId}/returns`,
    { lines: [{ productId: product.id, quantity: 1 }], reason: 'sending it now' },
    customer.token,
  );
  expect(again.status).toBe(202);
});

test("a return request racing an admin's full manual refund: the customer is paid back once", async () => {
  const { customer, product, orderId } = await deliveredOrder(stack, admin, 2, 2500);
  const [asked, manual] = await Promise.all([
    stack.http.post(
      `/api/orders/${orderId}/returns`,
      { lines: [{ productId: product.id, quantity: 2 }], reason: 'both faulty' },
      customer.token,
    ),
    stack.http.post(
      `/admin/orders/${orderId}/refunds`,
      { amount: 5000, reason: 'faulty batch', destination: 'WALLET' },
      admin.token,
    ),
  ]);
  expect(manual.status).toBe(201);
  expect(manual.body).toMatchObject({ status: 'COMPLETED', walletCredited: 5000 });
  if (asked.status === 202) {
    // The return came first: its goods still come back, but there is nothing left to refund.
    await stack.http.post(
      `/admin/returns/${asked.body.returnId}/receive`,
      { lines: [{ productId: product.id, quantity: 2, condition: 'RESTOCK' }] },
      admin.token,
    );
    const row = await eventually(async () => {
      const r = await returnRow(stack, asked.body.returnId);
      return r.status !== 'RECEIVED' && r.status !== 'REQUESTED' && r;
    }, 'return settled');
    expect(row).toMatchObject({ status: 'REFUND_FAILED', refundAmount: 0 });
    expect(row.decisionReason).toContain('Refund already processed');
  } else {
    // The manual refund came first: the order has nothing left to refund.
    expect(asked.status).toBe(409);
    expect(asked.body.error.code).toBe('REFUND_ALREADY_PROCESSED');
  }
  const completed = await stack.prisma.refund.findMany({ where: { orderId, status: 'COMPLETED' } });
  expect(completed.reduce((sum, r) => sum + r.amount, 0)).toBe(5000);
  expect((await stack.prisma.wallet.findUniqueOrThrow({ where: { userId: customer.id } })).balance).toBe(5000);
  expect((await stack.prisma.order.findUniqueOrThrow({ where: { id: orderId } })).paymentStatus).toBe('REFUNDED');
});
