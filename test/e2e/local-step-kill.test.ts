/**
 * A worker killed (SIGKILL) in the middle of a local activity, inside its database transaction:
 * the checkout's reservation (createOrderAndReserveStock) and a card payment's one step
 * (recordSignalledPayment). A local activity is not retried by an activity timeout: its workflow
 * task times out and the next worker replays the order and runs the step again from the start
 * (src/workflows/policies.ts, localPolicies). These tests prove that path as it really happens:
 * the step is caught waiting for a row lock a test transaction holds, so the worker dies with its
 * transaction open, and PostgreSQL rolls it back when the connection drops. The order then goes
 * on under the next worker with every effect once: one reservation, one sale, one payment, one
 * email, and the checkout's own HTTP request answered.
 */
import type { ChildProcess } from 'node:child_process';
import pg from 'pg';
import { temporal } from '@temporalio/proto';
import { stopProcess } from '../../scripts/lib/services';
import { orderWorkflowId } from '../../src/workflows/ids';
import { createProduct, createUser, eventually, orderOf, startWorkerProcess, useStack } from '../helpers/stack';
import { cardCheckout } from '../helpers/orders';
import { deliverStripeEvent, paymentIntentEvent } from '../helpers/webhooks';

const EventType = temporal.api.enums.v1.EventType;
const { stack, admin, beforeStop } = useStack({ worker: false });
let worker: ChildProcess | undefined;
const clients: pg.Client[] = [];
// Each test starts its own workers: none may live on into the next one.
afterEach(() => stopProcess(worker, 'SIGKILL'));
beforeStop(() => Promise.all(clients.map((c) => c.end().catch(() => undefined))));

/**
 * Opens a transaction that locks the rows `lockSql` selects FOR UPDATE, and answers how to see a
 * backend stopped behind it and how to let it go.
 */
async function holdRows(lockSql: string, params: unknown[]) {
  const client = new pg.Client({ connectionString: stack.config.DATABASE_URL });
  client.on('error', () => undefined);
  await client.connect();
  clients.push(client);
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  await client.query('BEGIN');
  await client.query(lockSql, params);
  return {
    /** Waits until a backend is blocked by this transaction; answers its pid. */
    blocked: (what: string) =>
      eventually(async () => {
        const waiting = await stack.prisma.$queryRaw<{ pid: number }[]>`
          SELECT pid FROM pg_stat_activity WHERE ${rows[0].pid}::int = ANY (pg_blocking_pids(pid))`;
        return waiting[0]?.pid;
      }, what),
    release: () => client.query('ROLLBACK'),
  };
}

/** Whether backend `pid` is gone: the dead worker's connection, its transaction rolled back. */
async function backendGone(pid: number): Promise<boolean> {
  const rows = await stack.prisma.$queryRaw<unknown[]>`SELECT 1 FROM pg_stat_activity WHERE pid = ${pid}::int`;
  return rows.length === 0;
}

/** The order workflow's history: the workflow tasks that timed out, and the local activities recorded. */
async function historyOf(orderId: string) {
  const events = (await stack.temporal.workflow.getHandle(orderWorkflowId(orderId)).fetchHistory()).events ?? [];
  return {
    timedOutTasks: events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT).length,
    localActivities: events.filter(
      (e) =>
        e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED &&
        e.markerRecordedEventAttributes?.markerName === 'core_local_activity',
    ).length,
    activities: events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED).length,
  };
}

const confirmationsTo = (email: string) =>
  stack.smtp.messages.filter((m) => m.to.includes(email) && m.subject.endsWith('confirmed'));

test('a worker killed inside the checkout reservation: the next worker reserves once and the checkout is answered', async () => {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 3, price: 1999 });
  worker = await startWorkerProcess(stack);

  // The reservation's transaction will wait for the product row this test holds.
  const held = await holdRows('SELECT * FROM products WHERE id = $1 FOR UPDATE', [product.id]);
  const checkout = stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' },
    customer.token,
  );
  const stuck = await held.blocked('the reservation to wait for the product row');
  await stopProcess(worker, 'SIGKILL');
  await held.release();
  await eventually(() => backendGone(stuck), "the dead worker's connection to close");
  // Nothing of the dead run was kept: no order row's stock is held.
  expect(await stack.prisma.product.findUniqueOrThrow({ where: { id: product.id } })).toMatchObject({
    stock: 3,
    reservedStock: 0,
  });

  // The next worker takes the order's timed-out workflow task and places it; checkout answers.
  worker = await startWorkerProcess(stack);
  const answered = await checkout;
  expect(answered.status).toBe(201);
  const orderId: string = answered.body.orderId;
  const order = await orderOf(stack, orderId, customer.token);
  expect(order).toMatchObject({ status: 'PENDING', totalAmount: 1999 });
  expect(order.paymentIntentId).toMatch(/^pi_/);

  expect(await stack.prisma.product.findUniqueOrThrow({ where: { id: product.id } })).toMatchObject({
    stock: 3,
    reservedStock: 1,
  });
  const ledger = await stack.prisma.inventoryLedger.findMany({ where: { reference: orderId } });
  expect(ledger.map((l) => l.type)).toEqual(['RESERVE']);
  expect(await stack.prisma.order.count({ where: { customerId: customer.id } })).toBe(1);
  const payments = await stack.prisma.payment.findMany({ where: { orderId } });
  expect(payments.map((p) => [p.attempt, p.status])).toEqual([[1, 'PENDING']]);
  // The dead worker's task timed out; the reservation and the payment attempt ran once, locally.
  expect(await historyOf(orderId)).toMatchObject({ timedOutTasks: 1, localActivities: 2, activities: 0 });
});

test("a worker killed inside a card payment's one step: the next worker records the payment and sells once", async () => {
  worker = await startWorkerProcess(stack);
  const { customer, product, orderId, paymentIntentId } = await cardCheckout(stack, admin, { stock: 3, price: 1999 });

  // The one step's transaction will wait for the payment attempt's row this test holds.
  const held = await holdRows('SELECT * FROM payments WHERE order_id = $1::uuid FOR UPDATE', [orderId]);
  const event = paymentIntentEvent('payment_intent.succeeded', {
    id: paymentIntentId,
    orderId,
    amount: 1999,
    currency: 'usd',
  });
  // The webhook is answered once the event is durable, while the step is still to run.
  expect((await deliverStripeEvent(stack, event)).status).toBe(200);
  const stuck = await held.blocked('the payment step to wait for the payment row');
  await stopProcess(worker, 'SIGKILL');
  await held.release();
  await eventually(() => backendGone(stuck), "the dead worker's connection to close");
  expect((await stack.prisma.payment.findFirstOrThrow({ where: { orderId } })).status).toBe('PENDING');
  expect((await orderOf(stack, orderId, customer.token)).status).toBe('PENDING');

  // The task comes back after the 10 s workflow task timeout, to the dead worker's sticky queue
  // first: the next worker gets it once that queue's schedule-to-start timeout passes too.
  worker = await startWorkerProcess(stack);
  await eventually(async () => confirmationsTo(customer.email).length > 0, 'the confirmation email', 90_000);
  expect((await orderOf(stack, orderId, customer.token)).status).toBe('CONFIRMED');

  expect(confirmationsTo(customer.email)).toHaveLength(1);
  const ledger = await stack.prisma.inventoryLedger.findMany({ where: { reference: orderId } });
  expect(ledger.map((l) => l.type).sort()).toEqual(['RESERVE', 'SALE']);
  expect(await stack.prisma.product.findUniqueOrThrow({ where: { id: product.id } })).toMatchObject({
    stock: 2,
    reservedStock: 0,
  });
  const payments = await stack.prisma.payment.findMany({ where: { orderId } });
  expect(payments.map((p) => [p.status, p.providerPaymentId])).toEqual([['SUCCEEDED', paymentIntentId]]);
  const stored = await stack.prisma.webhookEvent.findMany({ where: { orderId } });
  expect(stored.map((e) => e.status)).toEqual(['PROCESSED']);
  // Checkout's two local steps, then the one step once: the dead worker's run left no marker.
  expect(await historyOf(orderId)).toMatchObject({ timedOutTasks: 1, localActivities: 3 });
});
