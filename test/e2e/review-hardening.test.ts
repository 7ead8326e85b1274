/**
 * Issue 13 point 7, the review's list, each over HTTP against the real stack: Razorpay bodies
 * replayed under new event ids or long after, sign-in limits that others cannot use to lock an
 * owner out, the codec's own scoped token and cookie, /codec refusing before it parses, provider
 * error text kept from clients, Idempotency-Key length, password change and reset (bcrypt's 72
 * bytes), and empty query parameters. A database of its own: sign-in failures are counted exactly.
 */
import { randomUUID } from 'node:crypto';
import { createProduct, createUser, useStack } from '../helpers/stack';
import { deliverRazorpayWebhook } from '../helpers/webhooks';
import { freePort } from '../../scripts/lib/services';

const PASSWORD = 'correct horse battery staple';
const { stack, admin } = useStack({
  isolatedDatabase: true,
  env: {
    TRUST_PROXY: 'loopback',
    LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS: '3',
    LOGIN_MAX_FAILURES_PER_ADDRESS: '40',
    LOGIN_MAX_FAILURES_PER_ACCOUNT: '10',
  },
});

const loginFrom = (address: string, email: string, password = PASSWORD) =>
  stack.http.request('POST', '/api/auth/login', { body: { email, password }, headers: { 'x-forwarded-for': address } });

describe('Razorpay events are known by their signed body', () => {
  const capturedBody = (paymentId: string, createdAt: number) =>
    JSON.stringify({
      entity: 'event',
      event: 'payment.failed',
      contains: ['payment'],
      payload: {
        payment: {
          entity: { id: paymentId, order_id: `order_${randomUUID().slice(0, 14)}`, amount: 100, currency: 'INR' },
        },
      },
      created_at: createdAt,
    });

  test('the same signed body under a new X-Razorpay-Event-Id is a duplicate with no effect', async () => {
    const body = capturedBody(`pay_${randomUUID().slice(0, 14)}`, Math.floor(Date.now() / 1000));
    const first = await deliverRazorpayWebhook(stack, { eventId: `evt_${randomUUID().slice(0, 14)}`, body });
    expect(first.status).toBe(200);
    const replayed = await deliverRazorpayWebhook(stack, { eventId: `evt_${randomUUID().slice(0, 14)}`, body });
    expect({ status: replayed.status, body: replayed.body }).toEqual({
      status: 200,
      body: { received: true, duplicate: true },
    });
    const stored = await stack.prisma.webhookEvent.findMany({
      where: { provider: 'RAZORPAY', payload: { equals: JSON.parse(body) } },
    });
    expect(stored).toHaveLength(1);
  });

  test('an event older than RAZORPAY_WEBHOOK_MAX_AGE, or from the future, is refused and not stored', async () => {
    for (const createdAt of [Math.floor(Date.now() / 1000) - 2 * 86_400, Math.floor(Date.now() / 1000) + 3600]) {
      const eventId = `evt_${randomUUID().slice(0, 14)}`;
      const stale = await deliverRazorpayWebhook(stack, {
        eventId,
        body: capturedBody(`pay_${randomUUID().slice(0, 14)}`, createdAt),
      });
      expect({ status: stale.status, code: stale.body.error.code }).toEqual({ status: 400, code: 'STALE_EVENT' });
      expect(await stack.prisma.webhookEvent.count({ where: { eventId } })).toBe(0);
    }
  });
});

describe('sign-in limits', () => {
  test("failures from other addresses do not lock out the owner's right password", async () => {
    const owner = await createUser(stack);
    for (let i = 0; i < 6; i += 1) expect((await loginFrom(`198.51.100.${i}`, owner.email, 'guess')).status).toBe(401);
    expect((await loginFrom('203.0.113.7', owner.email)).status).toBe(200);
  });

  test('one account from one address is locked after its own ceiling, even with the right password', async () => {
    const owner = await createUser(stack);
    for (let i = 0; i < 3; i += 1) expect((await loginFrom('198.51.100.50', owner.email, 'guess')).status).toBe(401);
    const locked = await loginFrom('198.51.100.50', owner.email);
    expect({ status: locked.status, code: locked.body.error.code }).toEqual({ status: 429, code: 'TOO_MANY_ATTEMPTS' });
    expect((await loginFrom('203.0.113.8', owner.email)).status).toBe(200); // elsewhere, the owner is not
  });

  test('the account alone has a higher ceiling across every address', async () => {
    const owner = await createUser(stack);
    for (let i = 0; i < 10; i += 1) await loginFrom(`192.0.2.${i}`, owner.email, 'guess');
    expect((await loginFrom('203.0.113.9', owner.email)).status).toBe(429);
  });
});

describe('the codec sign-in', () => {
  test('mints a token for /codec only, authenticated before the body is read', async () => {
    const signedIn = await stack.http.request('POST', '/codec/login', {
      body: { email: admin.email, password: PASSWORD },
      headers: { accept: 'application/json' },
    });
    expect(signedIn.status).toBe(200);
    const cookie = signedIn.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Path=\/codec/);
    expect(cookie).not.toMatch(/Secure/); // plain http is allowed in local development and tests only
    const token = /durable_commerce_codec=([^;]+)/.exec(cookie)![1];
    const decode = await stack.http.request('POST', '/codec/decode', {
      body: { payloads: [] },
      headers: { cookie: `durable_commerce_codec=${token}` },
    });
    expect(decode.status).toBe(200);
    // As a bearer token for the rest of the admin API it is worth nothing.
    const elsewhere = await stack.http.get('/admin/audit', token);
    expect(elsewhere.status).toBe(401);

    // Unauthenticated: 401 before 4 MB (or a malformed body) is parsed.
    for (const raw of ['x'.repeat(5 * 1024 * 1024), '{"payloads": [']) {
      const refused = await stack.http.request('POST', '/codec/decode', { raw });
      expect({ status: refused.status, code: refused.body.error.code }).toEqual({
        status: 401,
        code: 'UNAUTHENTICATED',
      });
    }
  });
});

describe('outside local development', () => {
  // NODE_ENV=staging: not local, so the codec cookie is Secure; Razorpay is unreachable.
  const { stack: staging, admin: stagingAdmin } = useStack(async () => ({
    env: { NODE_ENV: 'staging', RAZORPAY_API_BASE: `http://127.0.0.1:${await freePort()}` },
  }));

  test('the codec cookie is Secure', async () => {
    const signedIn = await staging.http.request('POST', '/codec/login', {
      body: { email: stagingAdmin.email, password: PASSWORD },
      headers: { accept: 'application/json' },
    });
    expect(signedIn.headers.get('set-cookie')).toMatch(/; Secure/);
  });

  test("a provider's error text never reaches the client; the logs have it", async () => {
    const customer = await createUser(staging);
    const product = await createProduct(staging, stagingAdmin, { stock: 3, price: 10_000, currency: 'INR' });
    const checkout = await staging.http.post(
      '/api/checkout',
      { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card', provider: 'razorpay' },
      customer.token,
    );
    expect(checkout.status).toBe(503);
    expect(checkout.body.error).toEqual({
      code: 'PAYMENT_PROVIDER_UNAVAILABLE',
      message: 'The payment provider is unavailable; try again shortly',
    });
    // What the provider's client said is logged, with the code the client got.
    const logged = staging.apiLogs
      .map((line) => JSON.parse(line) as { code?: string; detail?: string })
      .find((line) => line.code === 'PAYMENT_PROVIDER_UNAVAILABLE');
    expect(logged?.detail).toMatch(/^Payment could not be started: ./);
    expect(JSON.stringify(checkout.body)).not.toContain(logged!.detail!.slice('Payment could not be started: '.length));
  });
});

test('an Idempotency-Key of 4 kB on a goodwill credit is a 400, and nothing is credited', async () => {
  const customer = await createUser(stack);
  const credit = await stack.http.request('POST', `/admin/wallets/${customer.id}/credit`, {
    body: { amount: 500, reason: 'sorry' },
    token: admin.token,
    headers: { 'idempotency-key': 'k'.repeat(4096) },
  });
  expect({ status: credit.status, code: credit.body.error.code }).toEqual({
    status: 400,
    code: 'INVALID_IDEMPOTENCY_KEY',
  });
  expect(await stack.prisma.wallet.count({ where: { userId: customer.id } })).toBe(0);
});

describe('passwords', () => {
  test('a user changes their own password with the current one; their other sessions end', async () => {
    const user = await createUser(stack);
    const other = (await loginFrom('203.0.113.20', user.email)).body.token as string;
    const wrong = await stack.http.post(
      '/api/auth/password',
      { currentPassword: 'not it', newPassword: 'a brand new passphrase' },
      user.token,
    );
    expect({ status: wrong.status, code: wrong.body.error.code }).toEqual({ status: 403, code: 'WRONG_PASSWORD' });
    const changed = await stack.http.post(
      '/api/auth/password',
      { currentPassword: PASSWORD, newPassword: 'a brand new passphrase' },
      user.token,
    );
    expect(changed).toMatchObject({ status: 200, body: { sessionsRevoked: 1 } });
    expect((await stack.http.get('/api/wallet', user.token)).status).toBe(200);
    expect((await stack.http.get('/api/wallet', other)).status).toBe(401);
    expect((await loginFrom('203.0.113.21', user.email)).status).toBe(401);
    expect((await loginFrom('203.0.113.21', user.email, 'a brand new passphrase')).status).toBe(200);
    const audited = await stack.http.get(`/admin/audit?action=PASSWORD_CHANGED&targetId=${user.id}`, admin.token);
    expect(audited.body.entries).toEqual([expect.objectContaining({ actorId: user.id })]);
  });

  test('an admin resets a password with a reason: audited, and every session of that user ends', async () => {
    const user = await createUser(stack);
    const reset = await stack.http.post(
      `/admin/users/${user.id}/password`,
      { password: 'set by the help desk', reason: 'forgot it (ticket 42)' },
      admin.token,
    );
    expect(reset).toMatchObject({ status: 200, body: { userId: user.id, sessionsRevoked: 1 } });
    expect((await stack.http.get('/api/wallet', user.token)).status).toBe(401);
    expect((await loginFrom('203.0.113.22', user.email, 'set by the help desk')).status).toBe(200);
    const audited = await stack.http.get(`/admin/audit?action=USER_PASSWORD_RESET&targetId=${user.id}`, admin.token);
    expect(audited.body.entries).toEqual([
      expect.objectContaining({ actorId: admin.id, reason: 'forgot it (ticket 42)' }),
    ]);
    const customer = await createUser(stack);
    expect(
      (
        await stack.http.post(
          `/admin/users/${user.id}/password`,
          { password: 'x'.repeat(20), reason: 'r' },
          customer.token,
        )
      ).status,
    ).toBe(403);
  });

  test("passwords are capped at bcrypt's 72 bytes (UTF-8), never silently truncated", async () => {
    const user = await createUser(stack);
    const tooLong = 'é'.repeat(37); // 74 bytes, 37 characters
    for (const [path, body] of [
      [`/admin/users/${user.id}/password`, { password: tooLong, reason: 'test' }],
      ['/admin/users', { email: `long-${randomUUID()}@example.test`, name: 'Long', password: tooLong, reason: 'test' }],
    ] as const) {
      const refused = await stack.http.post(path, body, admin.token);
      expect({ status: refused.status, code: refused.body.error.code }).toEqual({
        status: 400,
        code: 'VALIDATION_ERROR',
      });
    }
    const refused = await stack.http.post(
      '/api/auth/password',
      { currentPassword: PASSWORD, newPassword: tooLong },
      user.token,
    );
    expect(refused.status).toBe(400);
    const exact = 'é'.repeat(36); // 72 bytes
    expect(
      (await stack.http.post(`/admin/users/${user.id}/password`, { password: exact, reason: 'test' }, admin.token))
        .status,
    ).toBe(200);
    expect((await loginFrom('203.0.113.23', user.email, exact)).status).toBe(200);
    expect((await loginFrom('203.0.113.23', user.email, exact.slice(0, 35) + 'e')).status).toBe(401);
  });
});

test('an empty query parameter means no filter', async () => {
  const audit = await stack.http.get('/admin/audit?action=&actor=&limit=5', admin.token);
  expect(audit.status).toBe(200);
  expect(audit.body.entries.length).toBeGreaterThan(0);
  const orders = await stack.http.get('/admin/orders?status=&customerId=', admin.token);
  expect(orders.status).toBe(200);
  const refunds = await stack.http.get('/admin/refunds?status=&orderId=', admin.token);
  expect(refunds.status).toBe(200);
});
