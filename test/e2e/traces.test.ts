/**
 * Traces end to end: the API and the worker run as their production entrypoints (processes of
 * their own) with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a small OTLP receiver. A card order goes
 * from checkout through the Stripe webhook to delivery over HTTP, and the spans they export form
 * one trace per request, linked by parent ids across the two processes and the workflow sandbox:
 * the checkout's HTTP span, the client's update-with-start, the workflow run, the activity's
 * start and run, and the call to Stripe inside it; the webhook's trace reaches into the order's
 * workflow through the signal. The API's log lines carry the trace id and the request id.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { HttpClient } from '../helpers/http';
import { SpanKind, startOtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver';
import {
  createProduct,
  createUser,
  eventually,
  orderOf,
  startApiProcess,
  startWorkerProcess,
  useStack,
} from '../helpers/stack';
import { deliverStripeEvent, paymentIntentEvent } from '../helpers/webhooks';

let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
// The stack's own in-process worker stays off: the worker process takes this task queue's tasks.
const { stack, admin, beforeStop } = useStack({ worker: false });
let api: { process: ChildProcess; http: HttpClient };
let worker: ChildProcess;
const apiLines: string[] = [];
beforeAll(async () => {
  // Spans leave in batches every 200 ms rather than 5 s, so the test waits less.
  const traced = { ...stack.env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: '200' };
  [worker, api] = await Promise.all([
    startWorkerProcess({ ...stack, env: traced }),
    startApiProcess({ ...stack, env: traced }, apiLines),
  ]);
});

beforeStop(async () => {
  const stopped = [worker, api?.process].filter(Boolean).map(
    (child) =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  );
  await Promise.all(stopped);
});
afterAll(() => receiver?.close()); // after the stack stops

/** The span named `name` in `traceId`, once exported. */
function spanNamed(traceId: string, name: string, extra: (span: ReceivedSpan) => boolean = () => true) {
  return receiver.spans.find((s) => s.traceId === traceId && s.name === name && extra(s));
}

/** The chain from `span` up to its trace's root: names and services, child first. */
function ancestry(span: ReceivedSpan): ReceivedSpan[] {
  const chain = [span];
  for (let parent = span.parentSpanId; parent;) {
    const next = receiver.spans.find((s) => s.traceId === span.traceId && s.spanId === parent);
    if (!next) throw new Error(`span ${parent}, parent of ${chain[chain.length - 1].name}, was not exported`);
    chain.push(next);
    parent = next.parentSpanId;
  }
  return chain;
}

test('a checkout is one trace from the HTTP request through the workflow and its activity to the Stripe call', async () => {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 2, price: 1500 });
  const requestId = `trace-test-${randomUUID()}`;
  const checkout = await api.http.request('POST', '/api/checkout', {
    body: { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' },
    token: customer.token,
    headers: { 'x-request-id': requestId },
  });
  expect(checkout.status).toBe(201);
  expect(checkout.headers.get('x-request-id')).toBe(requestId);
  const orderId: string = checkout.body.orderId;
  const order = await orderOf(stack, orderId, customer.token);
  const event = paymentIntentEvent('payment_intent.succeeded', {
    id: order.paymentIntentId,
    orderId,
    amount: 1500,
    currency: 'usd',
  });
  expect((await deliverStripeEvent({ ...stack, http: api.http }, event)).status).toBe(200);
  // A forged delivery is refused after its body is read: that line too is the request's.
  const forgedId = `forged-${randomUUID()}`;
  const forged = await api.http.request('POST', '/api/payments/stripe/webhook', {
    raw: JSON.stringify(event),
    headers: { 'stripe-signature': `t=${Math.floor(Date.now() / 1000)},v1=00`, 'x-request-id': forgedId },
  });
  expect(forged.status).toBe(400);
  await eventually(async () => (await orderOf(stack, orderId, customer.token)).status === 'CONFIRMED', 'CONFIRMED');
  const shipped = await api.http.post(`/admin/orders/${orderId}/ship`, { trackingNumber: 'TRACE-1' }, admin.token);
  expect(shipped.status).toBe(200);
  expect((await api.http.post(`/admin/orders/${orderId}/deliver`, {}, admin.token)).status).toBe(200);

  // The checkout's HTTP span is its trace's root, named by its route template.
  const root = await eventually(
    async () =>
      receiver.spans.find(
        (s) => s.name === 'POST /api/checkout' && s.kind === SpanKind.SERVER && s.attributes.request_id === requestId,
      ),
    'the checkout request span',
  );
  expect(root).toMatchObject({ parentSpanId: '', service: 'durable-commerce-api' });
  expect(root.attributes['http.route']).toBe('/api/checkout');
  const traceId = root.traceId;

  // The run of the order's workflow ends with the delivery, and is exported then.
  const stripeCall = await eventually(
    async () =>
      spanNamed(traceId, 'RunWorkflow:orderWorkflow') &&
      spanNamed(
        traceId,
        'POST',
        (s) => s.kind === SpanKind.CLIENT && String(s.attributes['url.full']).includes('/v1/payment_intents'),
      ),
    'the workflow run and the Stripe call exported',
  );
  expect(stripeCall.service).toBe('durable-commerce-worker');
  expect(ancestry(stripeCall).map((s) => [s.name, s.service])).toEqual([
    ['POST', 'durable-commerce-worker'],
    ['RunActivity:createPaymentIntent', 'durable-commerce-worker'],
    ['StartActivity:createPaymentIntent', 'durable-commerce-worker'],
    ['RunWorkflow:orderWorkflow', 'durable-commerce-worker'],
    ['UpdateWithStartWorkflow:placeOrder', 'durable-commerce-api'],
    ['POST /api/checkout', 'durable-commerce-api'],
  ]);
  // The workflow's spans name the workflow, and only by its ids (no memo, no search attributes).
  const run = spanNamed(traceId, 'RunWorkflow:orderWorkflow')!;
  expect(run.attributes).toMatchObject({
    temporalWorkflowId: `order-${orderId}`,
    temporalWorkflowType: 'orderWorkflow',
  });
  expect(Object.keys(run.attributes).sort()).toEqual([
    'run_id',
    'temporalNamespace',
    'temporalTaskQueue',
    'temporalWorkflowId',
    'temporalWorkflowType',
  ]);
  // The checkout's update handler ran inside the same trace, under the client's call.
  const handler = spanNamed(traceId, 'HandleUpdate:placeOrder')!;
  expect(ancestry(handler).map((s) => s.name)).toEqual([
    'HandleUpdate:placeOrder',
    'UpdateWithStartWorkflow:placeOrder',
    'POST /api/checkout',
  ]);

  // The webhook's trace reaches the order's workflow through the signal the endpoint sends.
  const webhookRoot = receiver.spans.find(
    (s) => s.name === 'POST /api/payments/stripe/webhook' && s.attributes['http.response.status_code'] === 200,
  )!;
  expect(webhookRoot).toMatchObject({ parentSpanId: '', kind: SpanKind.SERVER });
  const handled = await eventually(
    async () => spanNamed(webhookRoot.traceId, 'HandleSignal:paymentEvent'),
    'the signal handled in the webhook trace',
  );
  expect(ancestry(handled).map((s) => s.name)).toEqual([
    'HandleSignal:paymentEvent',
    'SignalWorkflow:paymentEvent',
    'POST /api/payments/stripe/webhook',
  ]);
  // The ship update is a trace of its own, through the admin route into the workflow.
  const ship = await eventually(async () => receiver.spans.find((s) => s.name === 'HandleUpdate:shipOrder'), 'ship');
  expect(ancestry(ship).map((s) => s.name)).toEqual([
    'HandleUpdate:shipOrder',
    'StartWorkflowUpdate:shipOrder',
    'POST /admin/orders/:id/ship',
  ]);

  // The API's line for the checkout request carries its trace and its request id; so does a line
  // logged by a route after its body was read (Node runs the body parser's callbacks elsewhere).
  const lines = apiLines.map((line) => JSON.parse(line) as Record<string, unknown>);
  const completed = lines.find((l) => l.msg === 'request completed' && l.request_id === requestId);
  expect(completed).toMatchObject({ trace_id: traceId, span_id: root.spanId });
  const forgedSpan = receiver.spans.find((s) => s.attributes.request_id === forgedId)!;
  expect(forgedSpan).toMatchObject({ name: 'POST /api/payments/stripe/webhook', parentSpanId: '' });
  const refused = lines.find((l) => l.msg === 'webhook delivery refused' && l.request_id === forgedId);
  expect(refused).toMatchObject({ trace_id: forgedSpan.traceId, span_id: forgedSpan.spanId });
});
