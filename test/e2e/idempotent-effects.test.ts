/**
 * Every side effect an activity retry could repeat is keyed by a business key: a stock movement
 * by order and product, a wallet credit by refund, an email by kind and order. Here the
 * activities run directly against the real PostgreSQL and SMTP listener, called twice as a retry
 * would (and at once, as two workers could), and each effect lands once.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import { emailActivities } from '../../src/activities/email';
import { orderActivities } from '../../src/activities/order';
import { creditWallet } from '../../src/wallet';
import type { OrderWorkflowInput } from '../../src/workflows/messages';
import { createProduct, createUser, eventually, startStack, type Stack, type TestUser } from '../helpers/stack';

let stack: Stack;
let admin: TestUser;

beforeAll(async () => {
  stack = await startStack({ worker: false });
  admin = await createUser(stack, 'ADMIN');
});
afterAll(() => stack.stop());

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

  const ledger = await stack.prisma.inventoryLedger.findMany({ where: { reference: input.orderId }, orderBy: { createdAt: 'asc' } });
  expect(ledger.map((l) => [l.type, l.quantity, l.previousStock, l.newStock])).toEqual([
    ['RESERVE', 3, 10, 10],
    ['SALE', 3, 10, 7],
  ]);
  expect(await stack.prisma.product.findUniqueOrThrow({ where: { id: product.id } })).toMatchObject({ stock: 7, reservedStock: 0 });
  expect(await stack.prisma.order.count({ where: { id: input.orderId } })).toBe(1);
});

test('a wallet credit retried, and sent twice at once, is one ledger entry', async () => {
  const customer = await createUser(stack);
  const credit = { userId: customer.id, amount: 750, currency: 'USD', reason: 'Refund r-1', actor: admin.id, reference: 'r-1', idempotencyKey: `refund-${randomUUID()}` };
  const [a, b] = await Promise.all([creditWallet(stack.prisma, credit), creditWallet(stack.prisma, credit)]);
  const c = await creditWallet(stack.prisma, credit);
  expect(new Set([a.entryId, b.entryId, c.entryId]).size).toBe(1);
  const wallet = await stack.prisma.wallet.findUniqueOrThrow({ where: { userId: customer.id }, include: { entries: true } });
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
  const as = (activityId: string) => new MockActivityEnvironment({ activityId, workflowExecution: { workflowId: `order-${orderId}`, runId: randomUUID() } });
  const send = (activityId: string) => as(activityId).run(mail.sendOrderEmail, { orderId, kind: 'ORDER_CONFIRMED' as const });

  await Promise.all([send('7'), send('8')]);
  await send('7'); // the retry of the activity that sent it
  await eventually(async () => stack.smtp.messages.some((m) => m.to.includes(customer.email)), 'confirmation email');
  expect(stack.smtp.messages.filter((m) => m.to.includes(customer.email))).toHaveLength(1);
  expect(await stack.prisma.emailMessage.count({ where: { idempotencyKey: `ORDER_CONFIRMED:${orderId}` } })).toBe(1);
});
