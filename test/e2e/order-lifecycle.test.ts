/**
 * End to end through HTTP, everything real: checkout -> signed Stripe webhook -> CONFIRMED with
 * the confirmation email received over SMTP -> ship -> deliver; plus payment failure and retry,
 * cancellation, reservation expiry and cash on delivery.
 */
import { execFileSync } from 'node:child_process';
import { ensureTool } from '../../scripts/lib/services';
import { availableOf, createProduct, createUser, eventually, orderOf, useStack } from '../helpers/stack';
import { deliverStripeEvent, paymentIntentEvent } from '../helpers/webhooks';
import { orderWorkflowId } from '../../src/workflows/ids';

const { stack, admin } = useStack({ env: { RESERVATION_TTL: '30m' } });

test('a card order goes from checkout to delivery, with a confirmation email', async () => {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 7, price: 4599 });

  const checkout = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 2 }], paymentMethod: 'card' },
    customer.token,
  );
  expect(checkout.status).toBe(201);
  expect(checkout.body).toMatchObject({
    status: 'PENDING',
    paymentStatus: 'PENDING',
    totalAmount: 9198,
    currency: 'USD',
  });
  expect(checkout.body.clientSecret).toMatch(/_secret_/);
  const orderId: string = checkout.body.orderId;
  expect(await availableOf(stack, product.id)).toBe(5);

  const pending = await orderOf(stack, orderId, customer.token);
  expect(pending).toMatchObject({ status: 'PENDING', source: 'workflow' });
  // The checkout's answer names the PaymentIntent its webhooks will name, as the view does.
  expect(pending.paymentIntentId).toMatch(/^pi_/);
  expect(checkout.body.paymentIntentId).toBe(pending.paymentIntentId);

  const event = paymentIntentEvent('payment_intent.succeeded', {
    id: pending.paymentIntentId,
    orderId,
    amount: 9198,
    currency: 'usd',
  });
  const delivered = await deliverStripeEvent(stack, event);
  expect(delivered.status).toBe(200);

  const confirmed = await eventually(async () => {
    const order = await orderOf(stack, orderId, customer.token);
    return order.status === 'CONFIRMED' && order;
  }, 'order CONFIRMED');
  expect(confirmed.paymentStatus).toBe('PAID');
  const email = await eventually(
    async () => stack.smtp.messages.find((m) => m.to.includes(customer.email)),
    'confirmation email',
  );
  expect(email.subject).toBe(`Order ${orderId} confirmed`);
  expect(email.text).toContain('$91.98');

  // The reservation became a sale: on-hand stock went down, nothing is held any more.
  const stored = await stack.prisma.product.findUniqueOrThrow({ where: { id: product.id } });
  expect(stored).toMatchObject({ stock: 5, reservedStock: 0 });
  const ledger = await stack.prisma.inventoryLedger.findMany({
    where: { reference: orderId },
    orderBy: { createdAt: 'asc' },
  });
  expect(ledger.map((l) => [l.type, l.quantity])).toEqual([
    ['RESERVE', 2],
    ['SALE', 2],
  ]);

  const shipped = await stack.http.post(
    `/admin/orders/${orderId}/ship`,
    { trackingNumber: 'TRACK-123', carrier: 'DHL' },
    admin.token,
  );
  expect(shipped.status).toBe(200);
  expect(shipped.body).toMatchObject({ status: 'SHIPPED', trackingNumber: 'TRACK-123' });

  const done = await stack.http.post(`/admin/orders/${orderId}/deliver`, {}, admin.token);
  expect(done.status).toBe(200);
  expect(done.body.status).toBe('DELIVERED');

  const finalOrder = await eventually(async () => {
    const order = await orderOf(stack, orderId, customer.token);
    return order.source === 'database' && order;
  }, 'order closed');
  expect(finalOrder).toMatchObject({ status: 'DELIVERED', paymentStatus: 'PAID', trackingNumber: 'TRACK-123' });
  const timeline = (await stack.temporal.workflow.getHandle(orderWorkflowId(orderId)).result()).timeline.map(
    (t: { event: string }) => t.event,
  );
  expect(timeline).toEqual([
    'STOCK_RESERVED',
    'PAYMENT_STARTED',
    'PAYMENT_SUCCEEDED',
    'ORDER_CONFIRMED',
    'ORDER_SHIPPED',
    'ORDER_DELIVERED',
  ]);
});

test('orders are searchable by status in Temporal visibility (OrderId, CustomerId, OrderStatus)', async () => {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 2 });
  const { body } = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'cod' },
    customer.token,
  );
  // What `temporal workflow list --query 'OrderStatus="CONFIRMED"'` runs.
  const query = `OrderStatus = "CONFIRMED" AND CustomerId = "${customer.id}"`;
  const found = await eventually(async () => {
    const ids: string[] = [];
    for await (const execution of stack.temporal.workflow.list({ query })) ids.push(execution.workflowId);
    return ids.length > 0 && ids;
  }, 'order visible with OrderStatus CONFIRMED');
  expect(found).toEqual([`order-${body.orderId}`]);
});

describe('with a short reservation', () => {
  const { stack: shortStack, admin: shortAdmin } = useStack({ env: { RESERVATION_TTL: '2s' } });

  test('an unpaid order is cancelled when its reservation expires, and its stock comes back', async () => {
    const customer = await createUser(shortStack);
    const product = await createProduct(shortStack, shortAdmin, { stock: 4 });
    const checkout = await shortStack.http.post(
      '/api/checkout',
      { items: [{ productId: product.id, quantity: 3 }], paymentMethod: 'card' },
      customer.token,
    );
    expect(checkout.status).toBe(201);
    const orderId: string = checkout.body.orderId;

    const cancelled = await eventually(async () => {
      const { body } = await shortStack.http.get(`/api/orders/${orderId}`, customer.token);
      return body.status === 'CANCELLED' && body;
    }, 'reservation expiry');
    expect(cancelled).toMatchObject({ cancelReason: 'RESERVATION_EXPIRED', paymentStatus: 'PENDING' });
    const { body: catalogued } = await shortStack.http.get(`/api/products/${product.id}`);
    expect(catalogued.availableStock).toBe(4);
    const ledger = await shortStack.prisma.inventoryLedger.findMany({
      where: { reference: orderId },
      orderBy: { createdAt: 'asc' },
    });
    expect(ledger.map((l) => [l.type, l.quantity, l.actor])).toEqual([
      ['RESERVE', 3, customer.id],
      ['RELEASE', 3, 'system'],
    ]);
    const email = await eventually(
      async () => shortStack.smtp.messages.find((m) => m.to.includes(customer.email)),
      'cancellation email',
    );
    expect(email.subject).toBe(`Order ${orderId} cancelled`);
    // Paying for an expired order is refused, never silently accepted.
    const retry = await shortStack.http.post(`/api/orders/${orderId}/payments`, {}, customer.token);
    expect(retry.status).toBe(409);
    expect(retry.body.error).toMatchObject({ code: 'INVALID_ORDER_STATE', details: { status: 'CANCELLED' } });
  });
});

test('search attributes follow the order (temporal workflow list --query works), and its handlers describe themselves', async () => {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 2, price: 1200 });
  const { body } = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' },
    customer.token,
  );
  const orderId: string = body.orderId;

  // What an engineer types: the CLI against the same cluster.
  const listed = (status: string) =>
    JSON.parse(
      execFileSync(ensureTool('temporal'), [
        'workflow',
        'list',
        '--address',
        stack.config.TEMPORAL_ADDRESS,
        '--output',
        'json',
        '--query',
        `OrderStatus="${status}" AND OrderId="${orderId}" AND CustomerId="${customer.id}"`,
      ]).toString() || '[]',
    ) as { execution: { workflowId: string } }[];
  await eventually(async () => listed('PENDING').length === 1, 'listed as PENDING');
  expect(listed('PENDING').map((w) => w.execution.workflowId)).toEqual([`order-${orderId}`]);

  const { paymentIntentId } = await orderOf(stack, orderId, customer.token);
  await deliverStripeEvent(
    stack,
    paymentIntentEvent('payment_intent.succeeded', { id: paymentIntentId, orderId, amount: 1200, currency: 'usd' }),
  );
  await eventually(async () => listed('CONFIRMED').length === 1, 'listed as CONFIRMED');
  expect(listed('PENDING')).toEqual([]);

  // What the Web UI reads to offer signals, queries and updates with their help text.
  const { definition } = await stack.temporal.workflow
    .getHandle(orderWorkflowId(orderId))
    .query<{ definition: Record<string, { name: string; description?: string }[]> }>('__temporal_workflow_metadata');
  const described = (kind: string) => Object.fromEntries(definition[kind].map((d) => [d.name, d.description ?? '']));
  expect(described('signalDefinitions').paymentEvent).toMatch(/payment outcome/i);
  expect(described('queryDefinitions').getOrder).toMatch(/status/);
  for (const update of ['placeOrder', 'retryPayment', 'cancelOrder', 'shipOrder', 'deliverOrder'])
    expect(described('updateDefinitions')[update]).not.toBe('');
});
