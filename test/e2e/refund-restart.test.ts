/**
 * A worker killed in the middle of an approved refund: the decision is written, the Stripe
 * refund request has left the worker but not reached Stripe. After a restart there is exactly
 * one decision, one refund at Stripe, one completion and one email.
 */
import type { ChildProcess } from 'node:child_process';
import { stopProcess } from '../../scripts/lib/services';
import { startHoldingProxy } from '../helpers/holding-proxy';
import { createProduct, createUser, eventually, orderOf, startStack, startWorkerProcess, untilOrder, type Stack } from '../helpers/stack';
import { deliverStripeEvent, paymentIntentEvent } from '../helpers/webhooks';

let proxy: Awaited<ReturnType<typeof startHoldingProxy>>;
let stack: Stack;
let worker: ChildProcess | undefined;

beforeAll(async () => {
  proxy = await startHoldingProxy(process.env.STRIPE_API_BASE!);
  stack = await startStack({ worker: false, env: { STRIPE_API_BASE: proxy.url } });
});
afterAll(async () => {
  await stopProcess(worker, 'SIGKILL');
  await stack.stop();
  await proxy.close();
});

test('a refund whose worker dies between the decision and the Stripe call happens exactly once', async () => {
  const admin = await createUser(stack, 'ADMIN');
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 2, price: 6400 });
  worker = await startWorkerProcess(stack);

  const { body } = await stack.http.post('/api/checkout', { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' }, customer.token);
  const orderId: string = body.orderId;
  const { paymentIntentId } = await orderOf(stack, orderId, customer.token);
  await deliverStripeEvent(stack, paymentIntentEvent('payment_intent.succeeded', { id: paymentIntentId, orderId, amount: 6400, currency: 'usd' }));
  await untilOrder(stack, orderId, customer.token, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
  const refundId: string = (await stack.http.post(`/api/orders/${orderId}/refunds`, { reason: 'never arrived' }, customer.token)).body.refundId;

  const inFlight = proxy.holdNext('POST', '/v1/refunds');
  await stack.temporal.workflow.getHandle(`refund-${refundId}`).signal('approveRefund', { adminId: admin.id, reason: 'lost parcel' });
  await inFlight;
  expect(await stack.prisma.refund.findUniqueOrThrow({ where: { id: refundId } })).toMatchObject({ status: 'APPROVED', decidedBy: admin.id, providerRefundId: null });
  await stopProcess(worker, 'SIGKILL');

  // A new worker retries the Stripe call once the lost attempt times out.
  worker = await startWorkerProcess(stack);
  const approved = await eventually(async () => {
    const row = await stack.prisma.refund.findUniqueOrThrow({ where: { id: refundId } });
    return row.providerRefundId ? row : undefined;
  }, 'Stripe refund created after restart', 90_000);
  const settled = { id: 'evt_refund_restart', object: 'event', type: 'refund.updated', created: Math.floor(Date.now() / 1000), data: { object: { id: approved.providerRefundId, object: 'refund', status: 'succeeded', metadata: { refundId } } } };
  expect((await deliverStripeEvent(stack, settled)).status).toBe(200);
  await eventually(async () => (await stack.prisma.refund.findUniqueOrThrow({ where: { id: refundId } })).status === 'COMPLETED', 'COMPLETED');
  await eventually(async () => stack.smtp.messages.some((m) => m.to.includes(customer.email) && m.subject === `Refund for order ${orderId}`), 'refund email');

  expect(proxy.forwarded.filter((request) => request === 'POST /v1/refunds')).toHaveLength(1);
  const history = await stack.temporal.workflow.getHandle(`refund-${refundId}`).fetchHistory();
  const scheduled = (name: string) =>
    history.events!.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === name).length;
  expect([scheduled('recordRefundDecision'), scheduled('createProviderRefund'), scheduled('completeRefund')]).toEqual([1, 1, 1]);
  expect(stack.smtp.messages.filter((m) => m.subject === `Refund for order ${orderId}`)).toHaveLength(1);
  expect(await stack.prisma.refund.count({ where: { orderId } })).toBe(1);
  expect(await orderOf(stack, orderId, customer.token)).toMatchObject({ status: 'REFUNDED', paymentStatus: 'REFUNDED' });
});
