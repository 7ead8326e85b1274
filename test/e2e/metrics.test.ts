/**
 * GET /metrics after real traffic: a card checkout, a signed webhook, a forged one, a request
 * that fails validation. The counts move by what happened; the worker process serves our
 * metrics and the Temporal SDK's on METRICS_PORT.
 */
import type { ChildProcess } from 'node:child_process';
import { freePort } from '../../scripts/lib/services';
import { sample, scrape } from '../helpers/metrics';
import { createProduct, createUser, eventually, startWorkerProcess, untilOrder, useStack } from '../helpers/stack';
import { deliverStripeEvent, paymentIntentEvent } from '../helpers/webhooks';
import { cardCheckout } from '../helpers/orders';

const { stack, admin } = useStack();

const metrics = () => scrape(`${stack.http.baseUrl}/metrics`);

test('business counters, request durations and pool connections move with real traffic', async () => {
  const before = await metrics();
  const { customer, orderId, paymentIntentId } = await cardCheckout(stack, admin, { stock: 3, price: 1200 });
  const event = paymentIntentEvent('payment_intent.succeeded', {
    id: paymentIntentId,
    orderId,
    amount: 1200,
    currency: 'usd',
  });
  expect((await deliverStripeEvent(stack, event)).status).toBe(200);
  expect((await deliverStripeEvent(stack, event)).status).toBe(200); // a redelivery
  expect((await deliverStripeEvent(stack, event, { secret: 'whsec_forged' })).status).toBe(400);
  expect((await stack.http.post('/api/checkout', { items: [] }, customer.token)).status).toBe(400);
  await untilOrder(stack, orderId, customer.token, (o) => o.status === 'CONFIRMED', 'order CONFIRMED');
  await eventually(
    async () =>
      sample(await metrics(), 'durable_commerce_webhook_events_total', { outcome: 'processed' }) >
      sample(before, 'durable_commerce_webhook_events_total', { outcome: 'processed' }),
    'processed webhook counted',
  );

  const after = await metrics();
  const moved = (name: string, labels: Record<string, string> = {}) =>
    sample(after, name, labels) - sample(before, name, labels);
  expect(moved('durable_commerce_webhook_events_total', { provider: 'STRIPE', outcome: 'received' })).toBe(1);
  expect(moved('durable_commerce_webhook_events_total', { provider: 'STRIPE', outcome: 'duplicate' })).toBe(1);
  expect(moved('durable_commerce_webhook_events_total', { provider: 'STRIPE', outcome: 'processed' })).toBe(1);
  expect(moved('durable_commerce_webhook_rejections_total', { provider: 'STRIPE', reason: 'INVALID_SIGNATURE' })).toBe(
    1,
  );
  expect(moved('durable_commerce_payment_attempts_total', { provider: 'STRIPE', outcome: 'opened' })).toBe(1);
  expect(moved('durable_commerce_payment_attempts_total', { provider: 'STRIPE', outcome: 'succeeded' })).toBe(1);
  expect(moved('http_request_duration_seconds_count', { method: 'POST', route: '/api/checkout', status: '201' })).toBe(
    1,
  );
  expect(moved('http_request_duration_seconds_count', { method: 'POST', route: '/api/checkout', status: '400' })).toBe(
    1,
  );
  expect(
    moved('http_request_duration_seconds_count', { method: 'GET', route: '/api/orders/:id', status: '200' }),
  ).toBeGreaterThanOrEqual(1);
  expect(after).not.toContain(orderId); // route templates, never ids
  expect(sample(after, 'durable_commerce_db_connections', { state: 'max' })).toBeGreaterThan(0);
  expect(after).toMatch(/^durable_commerce_db_connections\{state="idle"\} \d+$/m);
  expect(after).toMatch(/^durable_commerce_refunds_pending_oldest_age_seconds \d/m);
  expect(after).toContain('# TYPE durable_commerce_refunds_pending gauge');
  expect(after).toContain('# TYPE durable_commerce_reservation_expiries_total counter');
  expect(after).toContain('# TYPE durable_commerce_unexpected_payment_refunds_total counter');
  expect(after).toContain('process_resident_memory_bytes');
});

describe('the worker process', () => {
  let worker: ChildProcess | undefined;
  afterAll(async () => {
    if (!worker || worker.exitCode !== null) return;
    const exited = new Promise((resolve) => worker!.once('exit', resolve));
    worker.kill('SIGTERM');
    await exited;
  });

  test("serves our metrics and the Temporal SDK's worker metrics on METRICS_PORT", async () => {
    await stack.stopWorker(); // the worker process alone takes this task queue's tasks
    const [port, sdkPort] = [await freePort(), await freePort()];
    worker = await startWorkerProcess({
      ...stack,
      env: { ...stack.env, METRICS_PORT: String(port), TEMPORAL_SDK_METRICS_PORT: String(sdkPort) },
    });
    const customer = await createUser(stack);
    const product = await createProduct(stack, admin, { stock: 3, price: 900 });
    const checkout = await stack.http.post(
      '/api/checkout',
      { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'cod' },
      customer.token,
    );
    expect(checkout.status).toBe(201);
    // The SDK reports task latencies and its sticky cache once a workflow task has run there.
    const text = await eventually(async () => {
      const body = await scrape(`http://127.0.0.1:${port}/metrics`);
      return body.includes('temporal_sticky_cache_size') && body;
    }, 'SDK worker metrics');
    expect(text).toContain('temporal_worker_task_slots_available');
    expect(text).toContain('temporal_workflow_task_schedule_to_start_latency');
    expect(text).toContain('durable_commerce_db_connections');
    expect(text).toContain('# TYPE durable_commerce_payment_attempts_total counter');
  });
});
