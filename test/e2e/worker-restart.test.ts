/**
 * A worker killed (SIGKILL, no chance to clean up) and restarted in the middle of an order:
 * first while the order waits for payment and the webhook arrives with no worker running, then
 * in the middle of sending the confirmation email. The order completes and nothing is
 * duplicated: one reservation, one sale, one payment, one email.
 */
import type { ChildProcess } from 'node:child_process';
import { stopProcess } from '../../scripts/lib/services';
import { cardCheckout } from '../helpers/orders';
import { eventually, startWorkerProcess, useStack } from '../helpers/stack';
import { deliverStripeEvent, paymentIntentEvent } from '../helpers/webhooks';

const { stack, admin, beforeStop } = useStack({ worker: false });
let worker: ChildProcess | undefined;
beforeStop(() => stopProcess(worker, 'SIGKILL'));

test('an order survives its worker being killed twice, with no duplicated effect', async () => {
  worker = await startWorkerProcess(stack);
  const { customer, product, orderId, paymentIntentId } = await cardCheckout(stack, admin, { stock: 3, price: 1999 });

  // 1. The worker dies while the order waits for payment; the webhook arrives with no worker.
  await stopProcess(worker, 'SIGKILL');
  const event = paymentIntentEvent('payment_intent.succeeded', {
    id: paymentIntentId,
    orderId,
    amount: 1999,
    currency: 'usd',
  });
  expect((await deliverStripeEvent(stack, event)).status).toBe(200);

  // 2. A new worker picks the order up and dies again while the confirmation email is in flight.
  const inFlight = stack.smtp.hold();
  worker = await startWorkerProcess(stack);
  await inFlight.started;
  await stopProcess(worker, 'SIGKILL');
  inFlight.release();

  // 3. A third worker finishes the job; the email activity is retried once its attempt times out.
  worker = await startWorkerProcess(stack);
  const confirmations = () =>
    stack.smtp.messages.filter((m) => m.to.includes(customer.email) && m.subject.endsWith('confirmed'));
  await eventually(async () => confirmations().length > 0, 'confirmation email after restart', 90_000);

  const shipped = await stack.http.post(`/admin/orders/${orderId}/ship`, { trackingNumber: 'RESTART-1' }, admin.token);
  expect(shipped.body.status).toBe('SHIPPED');
  const delivered = await stack.http.post(`/admin/orders/${orderId}/deliver`, {}, admin.token);
  expect(delivered.body.status).toBe('DELIVERED');
  await eventually(
    async () => stack.smtp.messages.some((m) => m.to.includes(customer.email) && m.subject.endsWith('shipped')),
    'shipped email',
  );

  expect(confirmations()).toHaveLength(1);
  const ledger = await stack.prisma.inventoryLedger.findMany({ where: { reference: orderId } });
  expect(ledger.map((l) => l.type).sort()).toEqual(['RESERVE', 'SALE']);
  expect(await stack.prisma.product.findUniqueOrThrow({ where: { id: product.id } })).toMatchObject({
    stock: 2,
    reservedStock: 0,
  });
  const payments = await stack.prisma.payment.findMany({ where: { orderId } });
  expect(payments.map((p) => p.status)).toEqual(['SUCCEEDED']);
  const stored = await stack.prisma.webhookEvent.findMany({ where: { orderId } });
  expect(stored.map((e) => e.status)).toEqual(['PROCESSED']);
  expect(await stack.prisma.emailMessage.count({ where: { idempotencyKey: `ORDER_CONFIRMED:${orderId}` } })).toBe(1);
});
