/**
 * Every side effect an activity retry could repeat is keyed by a business key: a stock movement
 * by order and product, a wallet credit by refund, an email by kind and order. Here the
 * activities run directly against the real PostgreSQL and SMTP listener, called twice as a retry
 * would (and at once, as two workers could), and each effect lands once. Shipping and completing
 * a full refund at the same moment take turns on the order: goods never leave for an order paid
 * back in full and restocked. A signalled payment's one step (checked against its stored webhook
 * event, recorded and confirmed) retried answers the same, and news it does not believe moves nothing.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import { emailActivities } from '../../src/activities/email';
import { orderActivities } from '../../src/activities/order';
import { refundActivities } from '../../src/activities/refund';
import { keyringRazorpayGateway } from '../../src/payments/razorpay';
import { Keyring } from '../../src/keys/keyring';
import { creditWallet } from '../../src/refunds/wallet';
import type { OrderWorkflowInput, PaymentEvent } from '../../src/workflows/order/messages';
import { createProduct, createUser, eventually, useStack } from '../helpers/stack';
import { paymentIntentEvent } from '../helpers/webhooks';
import { orderWorkflowId } from '../../src/workflows/ids';

const { stack, admin } = useStack({ worker: false });

test('reserving, selling and confirming twice move the stock once, with one ledger entry each', async () => {
  const orders = orderActivities(stack.prisma);
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 10, price: 500 });
  const input: OrderWorkflowInput & { actor: { id: string; role: 'CUSTOMER' } } = {
    orderId: randomUUID(),
    customerId: customer.id,
    items: [{ productId: product.id, quantity: 3 }],
    paymentMethod: 'CARD',
    currency: 'USD',
    reservationTtlMs: 60_000,
    actor: { id: customer.id, role: 'CUSTOMER' },
  };
  const first = await orders.createOrderAndReserveStock(input);
  expect(await orders.createOrderAndReserveStock(input)).toEqual(first); // the retry finds the order it made
  await orders.confirmOrder({ orderId: input.orderId, commitStock: true, actor: { id: 'system', role: 'SYSTEM' } });
  await orders.confirmOrder({ orderId: input.orderId, commitStock: true, actor: { id: 'system', role: 'SYSTEM' } });

  const ledger = await stack.prisma.inventoryLedger.findMany({
    where: { reference: input.orderId },
    orderBy: { createdAt: 'asc' },
  });
  expect(ledger.map((l) => [l.type, l.quantity, l.previousStock, l.newStock])).toEqual([
    ['RESERVE', 3, 10, 10],
    ['SALE', 3, 10, 7],
  ]);
  expect(await stack.prisma.product.findUniqueOrThrow({ where: { id: product.id } })).toMatchObject({
    stock: 7,
    reservedStock: 0,
  });
  expect(await stack.prisma.order.count({ where: { id: input.orderId } })).toBe(1);
});

test("a payment recorded with the order's confirmation, retried, is one payment, one sale and one confirmation", async () => {
  const orders = orderActivities(stack.prisma);
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 10, price: 700 });
  const orderId = randomUUID();
  await orders.createOrderAndReserveStock({
    orderId,
    customerId: customer.id,
    items: [{ productId: product.id, quantity: 2 }],
    paymentMethod: 'CARD',
    currency: 'USD',
    reservationTtlMs: 60_000,
    actor: { id: customer.id, role: 'CUSTOMER' },
  });
  const intent = `pi_${randomUUID().replace(/-/g, '')}`;
  await stack.prisma.payment.create({
    data: {
      id: randomUUID(),
      orderId,
      attempt: 1,
      provider: 'STRIPE',
      providerPaymentId: intent,
      amount: 1400,
      currency: 'USD',
    },
  });
  const paid = {
    orderId,
    attempt: 1,
    providerPaymentId: intent,
    confirmedBy: 'STRIPE webhook evt_once',
    confirm: { actor: { id: 'system', role: 'SYSTEM' as const } },
  };
  await orders.recordPaymentSucceeded(paid);
  await orders.recordPaymentSucceeded(paid); // the retry of an attempt whose worker died after the commit

  const ledger = await stack.prisma.inventoryLedger.findMany({
    where: { reference: orderId },
    orderBy: { createdAt: 'asc' },
  });
  expect(ledger.map((l) => [l.type, l.quantity, l.previousStock, l.newStock])).toEqual([
    ['RESERVE', 2, 10, 10],
    ['SALE', 2, 10, 8],
  ]);
  expect(await stack.prisma.order.findUniqueOrThrow({ where: { id: orderId } })).toMatchObject({
    status: 'CONFIRMED',
    paymentStatus: 'PAID',
  });
  expect(await stack.prisma.payment.findMany({ where: { orderId } })).toMatchObject([
    { status: 'SUCCEEDED', providerPaymentId: intent, confirmedBy: 'STRIPE webhook evt_once' },
  ]);
  expect(await stack.prisma.product.findUniqueOrThrow({ where: { id: product.id } })).toMatchObject({
    stock: 8,
    reservedStock: 0,
  });
});

test('a signalled payment checked against its stored event and recorded in one step, retried, is answered the same; news the stored event contradicts, or none names, moves nothing', async () => {
  const orders = orderActivities(stack.prisma);
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 10, price: 600 });
  const orderId = randomUUID();
  await orders.createOrderAndReserveStock({
    orderId,
    customerId: customer.id,
    items: [{ productId: product.id, quantity: 2 }],
    paymentMethod: 'CARD',
    currency: 'USD',
    reservationTtlMs: 60_000,
    actor: { id: customer.id, role: 'CUSTOMER' },
  });
  const intent = `pi_${randomUUID().replace(/-/g, '')}`;
  await stack.prisma.payment.create({
    data: {
      id: randomUUID(),
      orderId,
      attempt: 1,
      provider: 'STRIPE',
      providerPaymentId: intent,
      amount: 1200,
      currency: 'USD',
    },
  });
  // The webhook as the API stored it after checking its signature.
  const stored = paymentIntentEvent('payment_intent.succeeded', { id: intent, orderId, amount: 1200, currency: 'usd' });
  const eventId = stored.id as string;
  await stack.prisma.webhookEvent.create({
    data: {
      provider: 'STRIPE',
      eventId,
      type: 'payment_intent.succeeded',
      status: 'PROCESSED',
      payload: stored as object,
    },
  });
  const news = (event: Partial<PaymentEvent> = {}) => ({
    orderId,
    attempt: 1,
    event: {
      provider: 'STRIPE' as const,
      eventId,
      outcome: 'SUCCEEDED' as const,
      providerPaymentId: intent,
      amount: 1200,
      currency: 'USD',
      ...event,
    },
    confirmedBy: `STRIPE webhook ${event.eventId ?? eventId}`,
    confirm: { actor: { id: 'system', role: 'SYSTEM' as const } },
  });
  const runId = randomUUID();
  const step = (activityId: string, input: ReturnType<typeof news>) =>
    new MockActivityEnvironment({
      activityId,
      workflowExecution: { workflowId: orderWorkflowId(orderId), runId },
    }).run(orders.recordSignalledPayment, input);
  const unmoved = async () => {
    expect(await stack.prisma.order.findUniqueOrThrow({ where: { id: orderId } })).toMatchObject({
      status: 'PENDING',
      paymentStatus: 'PENDING',
    });
    expect(await stack.prisma.payment.findMany({ where: { orderId } })).toMatchObject([{ status: 'PENDING' }]);
    expect(await stack.prisma.inventoryLedger.count({ where: { reference: orderId, type: 'SALE' } })).toBe(0);
  };

  // Typed by hand under the stored event's id, claiming more than it says: nothing moves, audited
  // once however often the check is retried.
  const contradicted = news({ amount: 1300 });
  const refusal = await step('1', contradicted);
  expect(refusal).toEqual({
    outcome: 'UNVERIFIED',
    reason: expect.stringContaining(`stored STRIPE event ${eventId} reports`),
  });
  expect(await step('1', contradicted)).toEqual(refusal);
  await unmoved();
  expect(
    await stack.prisma.auditLog.findMany({ where: { targetId: orderId, action: 'UNVERIFIED_PAYMENT_NEWS_IGNORED' } }),
  ).toEqual([
    expect.objectContaining({
      actorId: 'temporal-signal',
      after: expect.objectContaining({ signal: 'paymentEvent', claimed: expect.objectContaining({ amount: 1300 }) }),
    }),
  ]);
  // An event id nothing stored: left to the provider, nothing moved, nothing audited here.
  expect(await step('2', news({ eventId: 'evt_typed_by_hand' }))).toEqual({ outcome: 'NOT_STORED' });
  await unmoved();

  // The stored event's own news: paid, confirmed and sold in one transaction; the retry of an
  // attempt whose worker died after the commit finds it so and answers the same.
  expect(await step('3', news())).toEqual({ outcome: 'RECORDED' });
  const recorded = await stack.prisma.payment.findFirstOrThrow({ where: { orderId } });
  expect(await step('3', news())).toEqual({ outcome: 'RECORDED' });
  expect(await stack.prisma.payment.findMany({ where: { orderId } })).toEqual([recorded]); // not written again
  expect(recorded).toMatchObject({
    status: 'SUCCEEDED',
    providerPaymentId: intent,
    confirmedBy: `STRIPE webhook ${eventId}`,
  });
  expect(await stack.prisma.order.findUniqueOrThrow({ where: { id: orderId } })).toMatchObject({
    status: 'CONFIRMED',
    paymentStatus: 'PAID',
  });
  const ledger = await stack.prisma.inventoryLedger.findMany({
    where: { reference: orderId },
    orderBy: { createdAt: 'asc' },
  });
  expect(ledger.map((l) => [l.type, l.quantity, l.previousStock, l.newStock])).toEqual([
    ['RESERVE', 2, 10, 10],
    ['SALE', 2, 10, 8],
  ]);
  expect(
    await stack.prisma.auditLog.count({ where: { targetId: orderId, action: 'UNVERIFIED_PAYMENT_NEWS_IGNORED' } }),
  ).toBe(1);
});

test('a wallet credit retried, and sent twice at once, is one ledger entry', async () => {
  const customer = await createUser(stack);
  const credit = {
    userId: customer.id,
    amount: 750,
    currency: 'USD',
    reason: 'Refund r-1',
    actor: admin.id,
    reference: 'r-1',
    idempotencyKey: `refund-${randomUUID()}`,
  };
  const [a, b] = await Promise.all([creditWallet(stack.prisma, credit), creditWallet(stack.prisma, credit)]);
  const c = await creditWallet(stack.prisma, credit);
  expect(new Set([a.entryId, b.entryId, c.entryId]).size).toBe(1);
  const wallet = await stack.prisma.wallet.findUniqueOrThrow({
    where: { userId: customer.id },
    include: { entries: true },
  });
  expect(wallet.balance).toBe(750);
  expect(wallet.entries).toHaveLength(1);
});

test('an email sent by an activity retried, and by two activities at once, arrives once', async () => {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 2, price: 900 });
  const orderId = randomUUID();
  await orderActivities(stack.prisma).createOrderAndReserveStock({
    orderId,
    customerId: customer.id,
    items: [{ productId: product.id, quantity: 1 }],
    paymentMethod: 'COD',
    reservationTtlMs: 60_000,
    actor: { id: customer.id, role: 'CUSTOMER' },
  });
  const mail = emailActivities(stack.prisma, nodemailer.createTransport(stack.config.SMTP_URL), stack.config.MAIL_FROM);
  const as = (activityId: string) =>
    new MockActivityEnvironment({
      activityId,
      workflowExecution: { workflowId: orderWorkflowId(orderId), runId: randomUUID() },
    });
  const send = (activityId: string) =>
    as(activityId).run(mail.sendOrderEmail, { orderId, kind: 'ORDER_CONFIRMED' as const });

  await Promise.all([send('7'), send('8')]);
  await send('7'); // the retry of the activity that sent it
  await eventually(async () => stack.smtp.messages.some((m) => m.to.includes(customer.email)), 'confirmation email');
  expect(stack.smtp.messages.filter((m) => m.to.includes(customer.email))).toHaveLength(1);
  expect(await stack.prisma.emailMessage.count({ where: { idempotencyKey: `ORDER_CONFIRMED:${orderId}` } })).toBe(1);
});

test('a shipment and a full refund at the same moment: one or the other, never goods shipped for an order paid back and restocked', async () => {
  const orders = orderActivities(stack.prisma);
  const refunds = refundActivities(
    stack.prisma,
    stack.stripe,
    keyringRazorpayGateway(stack.config, new Keyring(stack.prisma, stack.config)),
  );
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 20, price: 700 });
  const system = { id: 'system', role: 'SYSTEM' as const };
  const outcomes: string[] = [];
  for (let i = 0; i < 8; i++) {
    const orderId = randomUUID();
    await orders.createOrderAndReserveStock({
      orderId,
      customerId: customer.id,
      items: [{ productId: product.id, quantity: 1 }],
      paymentMethod: 'CARD',
      currency: 'USD',
      reservationTtlMs: 60_000,
      actor: { id: customer.id, role: 'CUSTOMER' },
    });
    await stack.prisma.order.update({ where: { id: orderId }, data: { status: 'PAID', paymentStatus: 'PAID' } });
    await orders.confirmOrder({ orderId, commitStock: true, actor: system });
    const refundId = randomUUID();
    await stack.prisma.refund.create({
      data: {
        id: refundId,
        orderId,
        amount: 700,
        currency: 'USD',
        destination: 'WALLET',
        status: 'APPROVED',
        reason: 'lost',
        requestedBy: admin.id,
      },
    });

    const [shipped, refunded] = await Promise.allSettled([
      orders.markShipped({
        orderId,
        trackingNumber: `RACE-${i}`,
        commitStock: false,
        actor: { id: admin.id, role: 'ADMIN' },
      }),
      refunds.completeRefund({ refundId, orderId, actor: { id: admin.id, role: 'ADMIN' } }),
    ]);
    expect(refunded.status).toBe('fulfilled');
    const order = await stack.prisma.order.findUniqueOrThrow({ where: { id: orderId } });
    const restocked = await stack.prisma.inventoryLedger.count({ where: { reference: orderId, type: 'RESTOCK' } });
    if (shipped.status === 'fulfilled') {
      // Shipped first: the refund is recorded against the payment, the goods are gone, nothing restocked.
      expect([order.status, order.paymentStatus, restocked]).toEqual(['SHIPPED', 'REFUNDED', 0]);
      outcomes.push('shipped first');
    } else {
      expect((shipped.reason as { type?: string }).type).toBe('INVALID_ORDER_STATE');
      expect([order.status, order.shippedAt, restocked]).toEqual(['REFUNDED', null, 1]);
      outcomes.push('refunded first');
    }
    // The shipment's retry (its answer lost) is the same shipment, not a refusal.
    if (shipped.status === 'fulfilled')
      await orders.markShipped({
        orderId,
        trackingNumber: `RACE-${i}`,
        commitStock: false,
        actor: { id: admin.id, role: 'ADMIN' },
      });
  }
  expect(outcomes).toHaveLength(8);
  // Every unit is either shipped or back on the shelf: stock and ledger agree.
  const stock = await stack.prisma.product.findUniqueOrThrow({ where: { id: product.id } });
  expect(stock.stock).toBe(20 - outcomes.filter((o) => o === 'shipped first').length);
});
