/**
 * No secret or personal data in clear text in Temporal history: payloads are encrypted by our
 * codec (key id in their metadata), and the codec endpoint decodes them for admins, as the
 * Temporal Web UI asks it to, and for nobody else.
 */
import { createProduct, createUser, orderOf, startStack, storedHistoryText, untilOrder, type Stack, type TestUser } from '../helpers/stack';
import { deliverStripeEvent, paymentIntentEvent } from '../helpers/webhooks';

let stack: Stack;
let admin: TestUser;

beforeAll(async () => {
  stack = await startStack();
  admin = await createUser(stack, 'ADMIN');
});
afterAll(() => stack.stop());

test('an order\'s history holds only encrypted payloads, which the codec endpoint opens for admins only', async () => {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 3, price: 1500 });
  const checkout = await stack.http.post('/api/checkout', { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' }, customer.token);
  const { orderId, clientSecret } = checkout.body as { orderId: string; clientSecret: string };
  const { paymentIntentId } = await orderOf(stack, orderId, customer.token);
  await deliverStripeEvent(stack, paymentIntentEvent('payment_intent.succeeded', { id: paymentIntentId, orderId, amount: 1500, currency: 'usd' }));
  await untilOrder(stack, orderId, customer.token, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
  await stack.http.post(`/admin/orders/${orderId}/ship`, { trackingNumber: 'PRIVATE-TRACK-9' }, admin.token);

  // The history as stored, read without any decoding.
  const { history } = await stack.temporal.workflowService.getWorkflowExecutionHistory({ namespace: stack.config.TEMPORAL_NAMESPACE, execution: { workflowId: `order-${orderId}` } });
  const stored = await storedHistoryText(stack, `order-${orderId}`);
  const plain = (text: string) => stored.includes(text);
  expect(plain(orderId)).toBe(true); // ids are in the clear (workflow id, search attributes): the search works
  expect(clientSecret).toMatch(/_secret_/);
  expect(plain(clientSecret)).toBe(false);
  expect(plain('PRIVATE-TRACK-9')).toBe(false);
  expect(plain(customer.email)).toBe(false);

  // What the Web UI sends: the payloads of an event, as JSON.
  const shipped = history!.events!.find((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'shipOrder')!;
  const payloads = shipped.workflowExecutionUpdateAcceptedEventAttributes!.acceptedRequest!.input!.args!.payloads!.map((p) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    data: Buffer.from(p.data!).toString('base64'),
  }));
  expect(Buffer.from(payloads[0].metadata.encoding, 'base64').toString()).toBe('binary/encrypted');
  expect(Buffer.from(payloads[0].metadata['encryption-key-id'], 'base64').toString()).toBe(stack.config.MASTER_KEY_ID);

  const decoded = await stack.http.request('POST', '/codec/decode', { body: { payloads }, token: admin.token, headers: { origin: 'http://127.0.0.1:8233', 'x-namespace': 'default' } });
  expect(decoded.status).toBe(200);
  expect(decoded.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:8233');
  const shipRequest = JSON.parse(Buffer.from(decoded.body.payloads[0].data, 'base64').toString());
  expect(shipRequest).toMatchObject({ trackingNumber: 'PRIVATE-TRACK-9', actor: { id: admin.id, role: 'ADMIN' } });

  expect((await stack.http.request('POST', '/codec/decode', { body: { payloads }, token: customer.token })).status).toBe(403);
  expect((await stack.http.request('POST', '/codec/decode', { body: { payloads } })).status).toBe(401);
  const preflight = await stack.http.request('OPTIONS', '/codec/decode', { headers: { origin: 'http://127.0.0.1:8233', 'access-control-request-method': 'POST' } });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get('access-control-allow-headers')).toContain('Authorization');
});
