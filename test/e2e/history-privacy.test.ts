/**
 * No secret or personal data in clear text in Temporal history: payloads are encrypted by our
 * codec (key id in their metadata), and the codec endpoint decodes them for admins, as the
 * Temporal Web UI asks it to, and for nobody else.
 */
import {
  createProduct,
  createUser,
  eventually,
  orderOf,
  storedHistoryText,
  untilOrder,
  useStack,
} from '../helpers/stack';
import { deliverStripeEvent, paymentIntentEvent } from '../helpers/webhooks';
import { orderWorkflowId } from '../../src/workflows/ids';

const { stack, admin } = useStack();

test("an order's history holds only encrypted payloads, which the codec endpoint opens for admins only", async () => {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 3, price: 1500 });
  const checkout = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' },
    customer.token,
  );
  const { orderId, clientSecret } = checkout.body as { orderId: string; clientSecret: string };
  const { paymentIntentId } = await orderOf(stack, orderId, customer.token);
  await deliverStripeEvent(
    stack,
    paymentIntentEvent('payment_intent.succeeded', { id: paymentIntentId, orderId, amount: 1500, currency: 'usd' }),
  );
  await untilOrder(stack, orderId, customer.token, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
  await stack.http.post(`/admin/orders/${orderId}/ship`, { trackingNumber: 'PRIVATE-TRACK-9' }, admin.token);

  // The history as stored, read without any decoding.
  const { history } = await stack.temporal.workflowService.getWorkflowExecutionHistory({
    namespace: stack.config.TEMPORAL_NAMESPACE,
    execution: { workflowId: orderWorkflowId(orderId) },
  });
  const stored = await storedHistoryText(stack, `order-${orderId}`);
  const plain = (text: string) => stored.includes(text);
  expect(plain(orderId)).toBe(true); // ids are in the clear (workflow id, search attributes): the search works
  expect(clientSecret).toMatch(/_secret_/);
  expect(plain(clientSecret)).toBe(false);
  expect(plain('PRIVATE-TRACK-9')).toBe(false);
  expect(plain(customer.email)).toBe(false);

  // What the Web UI sends: the payloads of an event, as JSON.
  const shipped = history!.events!.find(
    (e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'shipOrder',
  )!;
  const payloads = shipped.workflowExecutionUpdateAcceptedEventAttributes!.acceptedRequest!.input!.args!.payloads!.map(
    (p) => ({
      metadata: Object.fromEntries(
        Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
      ),
      data: Buffer.from(p.data!).toString('base64'),
    }),
  );
  expect(Buffer.from(payloads[0].metadata.encoding, 'base64').toString()).toBe('binary/encrypted');
  expect(Buffer.from(payloads[0].metadata['encryption-key-id'], 'base64').toString()).toBe(stack.config.MASTER_KEY_ID);

  const decoded = await stack.http.request('POST', '/codec/decode', {
    body: { payloads },
    token: admin.token,
    headers: { origin: 'http://127.0.0.1:8233', 'x-namespace': 'default' },
  });
  expect(decoded.status).toBe(200);
  expect(decoded.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:8233');
  const shipRequest = JSON.parse(Buffer.from(decoded.body.payloads[0].data, 'base64').toString());
  expect(shipRequest).toMatchObject({ trackingNumber: 'PRIVATE-TRACK-9', actor: { id: admin.id, role: 'ADMIN' } });

  expect(
    (await stack.http.request('POST', '/codec/decode', { body: { payloads }, token: customer.token })).status,
  ).toBe(403);
  expect((await stack.http.request('POST', '/codec/decode', { body: { payloads } })).status).toBe(401);
  const preflight = await stack.http.request('OPTIONS', '/codec/decode', {
    headers: { origin: 'http://127.0.0.1:8233', 'access-control-request-method': 'POST' },
  });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get('access-control-allow-headers')).toContain('Authorization');

  // What the Web UI really sends: no token, only the browser's cookies, from the admin's sign-in at /codec/login.
  const page = await stack.http.get('/codec/login');
  expect(page.status).toBe(200);
  expect(page.headers.get('content-security-policy')).not.toContain('upgrade-insecure-requests'); // the form must post over plain http in dev
  const signIn = (email: string) =>
    stack.http.request('POST', '/codec/login', {
      raw: new URLSearchParams({ email, password: 'correct horse battery staple' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    });
  const signedIn = await signIn(admin.email);
  expect(signedIn.status).toBe(200);
  const cookie = signedIn.headers.get('set-cookie')!;
  expect(cookie).toMatch(/^durable_commerce_codec=[^;]+;/);
  expect(cookie).toMatch(/HttpOnly/);
  expect(cookie).toMatch(/Path=\/codec/);
  expect(cookie).toMatch(/SameSite=Strict/);
  const byCookie = await stack.http.request('POST', '/codec/decode', {
    body: { payloads },
    headers: { cookie: cookie.split(';')[0], origin: 'http://127.0.0.1:8233' },
  });
  expect(byCookie.status).toBe(200);
  expect(JSON.parse(Buffer.from(byCookie.body.payloads[0].data, 'base64').toString())).toMatchObject({
    trackingNumber: 'PRIVATE-TRACK-9',
  });
  // The cookie is an admin's token: the API's request log shows neither it nor the password.
  const logged = stack.apiLogs.join('');
  expect(logged).toContain('/codec/decode');
  expect(logged).not.toContain(cookie.split(';')[0].split('=')[1]);
  expect(logged).not.toContain('correct horse battery staple');
  const customerSignIn = await signIn(customer.email);
  expect({ status: customerSignIn.status, cookie: customerSignIn.headers.get('set-cookie') }).toEqual({
    status: 403,
    cookie: null,
  });
});

test("an error that repeats a customer's email address is sealed like any payload; the codec opens it for admins", async () => {
  const customer = await createUser(stack);
  const refusal = `550 5.1.1 <${customer.email}>: Recipient address rejected`;
  await stack.stopWorker();
  await stack.startWorker({
    // The mail server refuses the address, as a real one would, repeating it in its answer.
    wrapActivities: (activities) => ({
      ...activities,
      async sendOrderEmail() {
        throw new Error(refusal);
      },
    }),
  });
  try {
    const product = await createProduct(stack, admin, { stock: 1, price: 800 });
    const { body } = await stack.http.post(
      '/api/checkout',
      { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'cod' },
      customer.token,
    );
    const execution = { workflowId: orderWorkflowId(body.orderId) };
    const described = await eventually(async () => {
      const raw = await stack.temporal.workflowService.describeWorkflowExecution({
        namespace: stack.config.TEMPORAL_NAMESPACE,
        execution,
      });
      return raw.pendingActivities?.find((a) => a.lastFailure) && raw;
    }, 'the email activity failed once');
    const lastFailure = described.pendingActivities!.find((a) => a.lastFailure)!.lastFailure!;
    // What Temporal holds (and the Web UI shows without the codec): no address, no message.
    expect(JSON.stringify(described.toJSON())).not.toContain(customer.email);
    expect(lastFailure.message).toBe('Encoded failure');
    // Through the codec, as an admin's Web UI asks for it, the refusal reads in full.
    const sealed = lastFailure.encodedAttributes!;
    const decoded = await stack.http.request('POST', '/codec/decode', {
      body: {
        payloads: [
          {
            metadata: Object.fromEntries(
              Object.entries(sealed.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
            ),
            data: Buffer.from(sealed.data!).toString('base64'),
          },
        ],
      },
      token: admin.token,
    });
    expect(JSON.parse(Buffer.from(decoded.body.payloads[0].data, 'base64').toString())).toMatchObject({
      message: refusal,
    });
  } finally {
    await stack.stopWorker();
    await stack.startWorker();
  }
});

test('payloads the codec cannot open are a 400 UNDECODABLE_PAYLOAD, never a 500', async () => {
  const [sealed] = await stack.temporal.options.loadedDataConverter.payloadCodecs[0].encode([
    { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{"secret":true}') },
  ]);
  const asJson = (metadata: Record<string, Uint8Array | null | undefined>, data: Uint8Array) => ({
    metadata: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])),
    data: Buffer.from(data).toString('base64'),
  });
  const tampered = Buffer.from(sealed.data!);
  tampered[tampered.length - 1] ^= 0xff;
  const { 'encryption-key-id': _keyId, ...withoutKeyId } = sealed.metadata!;
  for (const payload of [
    asJson(sealed.metadata!, tampered),
    asJson({ ...sealed.metadata, 'encryption-key-id': Buffer.from('retired-long-ago') }, sealed.data!),
    asJson(withoutKeyId, sealed.data!),
    asJson(sealed.metadata!, Buffer.from('short')),
  ]) {
    const answer = await stack.http.request('POST', '/codec/decode', {
      body: { payloads: [payload] },
      token: admin.token,
    });
    expect({ status: answer.status, code: answer.body.error?.code }).toEqual({
      status: 400,
      code: 'UNDECODABLE_PAYLOAD',
    });
  }
  const intact = await stack.http.request('POST', '/codec/decode', {
    body: { payloads: [asJson(sealed.metadata!, sealed.data!)] },
    token: admin.token,
  });
  expect(Buffer.from(intact.body.payloads[0].data, 'base64').toString()).toBe('{"secret":true}');
});
