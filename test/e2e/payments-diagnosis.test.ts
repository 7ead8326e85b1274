/**
 * The runbook's payment diagnosis in one read, by the admin API and the ops CLI: a declined card
 * and an expired reservation in the last hour by provider and reason, the webhook figures for
 * the hour, each provider reached with its active key (and a provider that stops answering
 * shown as down), and the payments switch. Its own database, so the figures are exact.
 */
import { createProduct, eventually, runOps, untilOrder, useStack, useUser } from '../helpers/stack';
import { deliverStripeEvent, paymentIntentEvent } from '../helpers/webhooks';

const { stack, admin } = useStack({ isolatedDatabase: true, env: { RESERVATION_TTL: '5s' } });
const customer = useUser(stack);

async function cardOrder(productId: string) {
  const placed = await stack.http.post(
    '/api/checkout',
    { items: [{ productId, quantity: 1 }], paymentMethod: 'card' },
    customer.token,
  );
  expect(placed.status).toBe(201);
  return (await stack.http.get(`/api/orders/${placed.body.orderId}`, customer.token)).body;
}

test('failed and expired payments, webhook figures, provider connectivity and the switch, by API and CLI', async () => {
  const product = await createProduct(stack, admin, { stock: 10, price: 1200 });
  const declined = await cardOrder(product.id);
  const event = paymentIntentEvent('payment_intent.payment_failed', {
    id: declined.paymentIntentId,
    orderId: declined.orderId,
    amount: 1200,
    currency: 'usd',
  });
  expect((await deliverStripeEvent(stack, event)).status).toBe(200);
  await eventually(
    async () => (await stack.prisma.payment.count({ where: { orderId: declined.orderId, status: 'FAILED' } })) === 1,
    'payment FAILED',
  );
  const abandoned = await cardOrder(product.id);
  await untilOrder(stack, abandoned.orderId, customer.token, (o) => o.status === 'CANCELLED', 'reservation expired');
  await stack.http.post('/admin/system/payments', { enabled: false, reason: 'card declines spike' }, admin.token);

  const { status, body } = await stack.http.get('/admin/system/payments/diagnosis', admin.token);
  expect(status).toBe(200);
  expect(body.payments).toEqual({
    STRIPE: { failed: 1, expired: 1, byReason: { 'Your card was declined.': 1, RESERVATION_EXPIRED: 1 } },
    RAZORPAY: { failed: 0, expired: 0, byReason: {} },
  });
  expect(body.webhooks.STRIPE).toMatchObject({ total: 1, processed: 1, failed: 0, successRate: 100 });
  expect(body.providers.STRIPE).toMatchObject({ status: 'up', activeKeyId: expect.stringMatching(/^stripe-api-key-/) });
  expect(body.providers.RAZORPAY).toMatchObject({ status: 'up', activeKeyId: expect.stringMatching(/^razorpay-key-/) });
  expect(body.paymentsSwitch).toMatchObject({ enabled: false, reason: 'card declines spike', updatedBy: admin.id });
  expect((await stack.http.get('/admin/system/payments/diagnosis', customer.token)).status).toBe(403);

  // Razorpay stops answering: the CLI's diagnosis says so.
  await stack.razorpay.close();
  const run = await runOps(stack, admin.email, 'payments', 'diagnose');
  expect(run.code).toBe(0);
  const cli = JSON.parse(run.stdout);
  expect(cli.payments.STRIPE).toEqual(body.payments.STRIPE);
  // (The razorpay client reports a refused connection as a TypeError of its own.)
  expect(cli.providers.RAZORPAY).toMatchObject({ status: 'down', error: expect.any(String) });
  expect(cli.providers.STRIPE.status).toBe('up');
});
