/**
 * Dependencies down. The database unreachable: every route answers 503 DATABASE_UNAVAILABLE, a
 * webhook included (so the provider retries), never a 500.
 *
 * Temporal down while a webhook arrives: the endpoint answers 503 (so the provider retries) and
 * nothing is recorded as processed. After Temporal is back, the provider's redelivery is
 * accepted and the order is confirmed; an event the provider never redelivers is found and
 * processed by replay. This file runs a Temporal dev server of its own, with its history on disk
 * so a restart keeps it.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pino from 'pino';
import { createApp } from '../../src/api/app';
import { createPrisma } from '../../src/platform/db';
import { Keyring } from '../../src/keys/keyring';
import { keyringRazorpayGateway } from '../../src/payments/razorpay';
import { HttpClient } from '../helpers/http';
import { freePort, startTemporalDevServer, stopProcess, type TemporalDevServer } from '../../scripts/lib/services';
import { createProduct, createUser, eventually, useStack } from '../helpers/stack';
import { deliverStripeEvent, paymentIntentEvent } from '../helpers/webhooks';
import { cardCheckout } from '../helpers/orders';

let temporal: TemporalDevServer;
const serverOptions = async () => {
  const dir = process.env.TEST_WORK_DIR!;
  return {
    port: await freePort(),
    dbFile: path.join(dir, `outage-${process.pid}.db`),
    logFile: path.join(dir, `outage-${process.pid}.log`),
  };
};
let options: Awaited<ReturnType<typeof serverOptions>>;

beforeAll(async () => {
  options = await serverOptions();
  temporal = await startTemporalDevServer(options);
});
// A database of its own too: replay looks at every stored event of the window.
const { stack, admin } = useStack(() => ({ isolatedDatabase: true, env: { TEMPORAL_ADDRESS: temporal.address } }));
afterAll(() => stopProcess(temporal.process)); // after the stack stops

test('the database unreachable: 503 DATABASE_UNAVAILABLE from every kind of route, never a 500', async () => {
  // The API as deployed, but its database address points at a port where nothing listens.
  const unreachable = createPrisma(`postgresql://postgres@127.0.0.1:${await freePort()}/durable_commerce`, 2);
  const keyring = new Keyring(unreachable, stack.config);
  const app = createApp({
    ...stack,
    prisma: unreachable,
    keyring,
    razorpay: keyringRazorpayGateway(stack.config, keyring),
    logger: pino({ level: 'silent' }),
  });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  try {
    const http = new HttpClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const answers = [
      await http.get('/api/products'),
      await http.post('/api/auth/login', { email: 'admin@durable-commerce.local', password: 'whatever-it-is' }),
      await deliverStripeEvent(
        { ...stack, http },
        paymentIntentEvent('payment_intent.succeeded', {
          id: 'pi_db_down',
          orderId: '00000000-0000-4000-8000-000000000000',
          amount: 100,
          currency: 'usd',
        }),
      ),
    ];
    expect(answers.map((a) => [a.status, a.body.error?.code])).toEqual(Array(3).fill([503, 'DATABASE_UNAVAILABLE']));
    const health = await http.get('/health');
    expect(health.status).toBe(503);
    expect(health.body.checks).toMatchObject({ database: 'down', temporal: 'up' });
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await unreachable.$disconnect();
  }
});

test('a webhook during a Temporal outage gets 503, and its redelivery after recovery is processed', async () => {
  const { customer, orderId, paymentIntentId } = await cardCheckout(stack, admin, { stock: 2, price: 1234 });
  const event = paymentIntentEvent('payment_intent.succeeded', {
    id: paymentIntentId,
    orderId,
    amount: 1234,
    currency: 'usd',
  });

  await stopProcess(temporal.process);
  const during = await deliverStripeEvent(stack, event);
  expect(during.status).toBe(503);
  expect(during.body.error.code).toBe('TEMPORAL_UNAVAILABLE');
  // Another event in the outage, one the provider will never deliver again.
  const abandoned = {
    id: `evt_abandoned_${orderId.slice(0, 8)}`,
    object: 'event',
    type: 'customer.created',
    created: Math.floor(Date.now() / 1000),
    data: { object: { id: 'cus_1', object: 'customer' } },
  };
  expect((await deliverStripeEvent(stack, abandoned)).status).toBe(503);
  const stored = await stack.prisma.webhookEvent.findMany({ where: { eventId: event.id as string } });
  expect(stored.map((e) => e.status)).not.toContain('PROCESSED');
  expect((await stack.prisma.order.findUniqueOrThrow({ where: { id: orderId } })).status).toBe('PENDING');

  temporal = await startTemporalDevServer(options);
  // Stripe redelivers the same event (same id, signed anew).
  const after = await eventually(
    async () => {
      const answer = await deliverStripeEvent(stack, event);
      return answer.status === 200 && answer;
    },
    'redelivery accepted',
    60_000,
  );
  expect(after.body.received).toBe(true);
  await eventually(
    async () => (await stack.http.get(`/api/orders/${orderId}`, customer.token)).body.status === 'CONFIRMED',
    'CONFIRMED',
    60_000,
  );
  await eventually(
    async () =>
      (await stack.prisma.webhookEvent.findFirst({ where: { eventId: event.id as string } }))?.status === 'PROCESSED',
    'PROCESSED',
  );
  expect(await stack.prisma.webhookEvent.count({ where: { eventId: event.id as string } })).toBe(1);
  expect(await stack.prisma.payment.count({ where: { orderId, status: 'SUCCEEDED' } })).toBe(1);

  // The abandoned one sits PENDING; replay finds it (and not the redelivered one) and processes it.
  expect((await stack.prisma.webhookEvent.findFirstOrThrow({ where: { eventId: abandoned.id } })).status).toBe(
    'PENDING',
  );
  const window = {
    provider: 'STRIPE',
    from: new Date(Date.now() - 600_000).toISOString(),
    to: new Date().toISOString(),
  };
  const dryRun = await stack.http.post('/admin/webhooks/replay', { ...window, dryRun: true }, admin.token);
  expect(dryRun.body.events.map((e: { eventId: string }) => e.eventId)).toEqual([abandoned.id]);
  const replayed = await stack.http.post(
    '/admin/webhooks/replay',
    { ...window, dryRun: false, reason: 'lost in the outage' },
    admin.token,
  );
  expect(replayed.body).toMatchObject({ count: 1, success: 1, failed: 0 });
  expect((await stack.prisma.webhookEvent.findFirstOrThrow({ where: { eventId: abandoned.id } })).status).toBe(
    'PROCESSED',
  );
});

describe('no worker answering', () => {
  const { stack: quiet, admin: quietAdmin } = useStack({ env: { API_TEMPORAL_DEADLINE: '5s' } });

  test('an update nobody answers is 503 TEMPORAL_UNAVAILABLE after API_TEMPORAL_DEADLINE, not a hung request', async () => {
    const customer = await createUser(quiet);
    const product = await createProduct(quiet, quietAdmin, { stock: 2, price: 800 });
    const checkout = await quiet.http.post(
      '/api/checkout',
      { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'cod' },
      customer.token,
    );
    expect(checkout.body.status).toBe('CONFIRMED');

    await quiet.stopWorker();
    const shipped = await quiet.http.post(
      `/admin/orders/${checkout.body.orderId}/ship`,
      { trackingNumber: 'NOBODY-HOME' },
      quietAdmin.token,
    );
    expect({ status: shipped.status, code: shipped.body.error.code }).toEqual({
      status: 503,
      code: 'TEMPORAL_UNAVAILABLE',
    });
    expect((await quiet.prisma.order.findUniqueOrThrow({ where: { id: checkout.body.orderId } })).status).toBe(
      'CONFIRMED',
    );
    await quiet.startWorker();
  });
});
