/**
 * Access management and sign-in hardening (the runbook's "User Access Management" and "Creating
 * Admin User"): accounts created by an admin (or, for a new deployment's first admin, from the
 * ops CLI), sessions behind every token, logout, suspend / restore / change role with a reason
 * and an audit entry,
 * tokens pinned to HS256 with a `kid`, and failed sign-ins limited per account and per address.
 * This file has a database of its own, so the per-address count is exact.
 */
import jwt from 'jsonwebtoken';
import { randomUUID } from 'node:crypto';
import { createUser, runOps, runOpsWithInput, startStack, useStack, type Stack } from '../helpers/stack';

const PASSWORD = 'correct horse battery staple';
const { stack, admin } = useStack({
  isolatedDatabase: true,
  env: { LOGIN_MAX_FAILURES_PER_ACCOUNT: '5', LOGIN_MAX_FAILURES_PER_ADDRESS: '12' },
});

const login = (email: string, password = PASSWORD) => stack.http.post('/api/auth/login', { email, password });
const whoCanSee = (token: string) => stack.http.get('/api/wallet', token).then((r) => r.status);

test('tokens are HS256 with a kid and name a live session; anything else is refused', async () => {
  const customer = await createUser(stack);
  const header = jwt.decode(customer.token, { complete: true })!.header;
  expect(header).toMatchObject({ alg: 'HS256', kid: stack.config.JWT_KEY_ID });
  expect(await whoCanSee(customer.token)).toBe(200);

  const claims = jwt.decode(customer.token) as { sub: string; jti: string; role: string };
  const secret = stack.config.JWT_SECRET;
  const forged = [
    jwt.sign({ role: 'ADMIN' }, secret, { subject: claims.sub, jwtid: claims.jti }), // no kid
    jwt.sign({ role: 'ADMIN' }, secret, { subject: claims.sub, jwtid: claims.jti, keyid: 'some-other-key' }),
    jwt.sign({ role: 'ADMIN' }, secret, { subject: claims.sub, jwtid: randomUUID(), keyid: stack.config.JWT_KEY_ID }), // no such session
    jwt.sign({ role: 'ADMIN' }, secret, { subject: admin.id, jwtid: claims.jti, keyid: stack.config.JWT_KEY_ID }), // someone else's session
    jwt.sign({ role: 'ADMIN' }, secret, {
      subject: claims.sub,
      jwtid: claims.jti,
      keyid: stack.config.JWT_KEY_ID,
      algorithm: 'HS512',
    }),
  ];
  for (const token of forged) expect(await whoCanSee(token)).toBe(401);
});

test('an admin creates an account (an admin too), with a reason, audited; bad or duplicate input changes nothing', async () => {
  const body = {
    email: `  New.Admin.${randomUUID().slice(0, 6)}@Example.com `,
    name: 'Night shift lead',
    role: 'ADMIN',
    password: 'a long initial passphrase',
    reason: 'night shift starts Monday',
  };
  const customer = await createUser(stack);
  expect((await stack.http.post('/admin/users', body, customer.token)).status).toBe(403);
  const weak = await stack.http.post('/admin/users', { ...body, password: 'short' }, admin.token);
  expect({ status: weak.status, fields: weak.body.error.details.fields.map((f: { path: string }) => f.path) }).toEqual({
    status: 400,
    fields: ['password'],
  });
  expect((await stack.http.post('/admin/users', { ...body, reason: undefined }, admin.token)).status).toBe(400);

  const created = await stack.http.post('/admin/users', body, admin.token);
  expect(created.status).toBe(201);
  const email = body.email.trim().toLowerCase();
  expect(created.body).toMatchObject({ email, name: 'Night shift lead', role: 'ADMIN', status: 'ACTIVE' });
  expect(created.body).not.toHaveProperty('passwordHash');
  const signedIn = await login(email, 'a long initial passphrase');
  expect(signedIn.body.user).toMatchObject({ id: created.body.userId, role: 'ADMIN' });
  expect((await stack.http.get('/admin/refunds', signedIn.body.token)).status).toBe(200);

  const again = await stack.http.post('/admin/users', { ...body, email: email.toUpperCase() }, admin.token);
  expect({ status: again.status, code: again.body.error.code }).toEqual({ status: 409, code: 'EMAIL_TAKEN' });
  const trail = await stack.prisma.auditLog.findMany({
    where: { action: 'USER_CREATED', targetId: created.body.userId },
  });
  expect(trail.map((e) => [e.actorId, e.reason, e.after])).toEqual([
    [admin.id, 'night shift starts Monday', { role: 'ADMIN', status: 'ACTIVE' }],
  ]);
  expect(JSON.stringify(trail)).not.toContain('passphrase');
});

describe('a new deployment, with no admin yet', () => {
  let fresh: Stack;
  beforeAll(async () => {
    fresh = await startStack({ isolatedDatabase: true, worker: false });
  });
  afterAll(() => fresh.stop());

  test('its first admin is created from the ops CLI without an acting admin; every later account needs one', async () => {
    const create = (actorEmail: string, email: string, role = 'ADMIN', password = 'first admin passphrase\n') =>
      runOpsWithInput(
        fresh,
        actorEmail,
        password,
        'users',
        'create',
        '--email',
        email,
        '--name',
        'Founder',
        '--role',
        role,
        '--reason',
        'new deployment',
      );
    const noPassword = await create('', 'founder@shop.example', 'ADMIN', '');
    expect({ code: noPassword.code, stderr: noPassword.stderr }).toEqual({
      code: 2,
      stderr: expect.stringContaining('standard input'),
    });
    const customerFirst = await create('', 'someone@shop.example', 'CUSTOMER');
    expect(customerFirst.code).toBe(2);

    // Two operators bootstrapping at once: one first admin, never two.
    const [first, rival] = await Promise.all([
      create('', 'founder@shop.example'),
      create('', 'cofounder@shop.example'),
    ]);
    const winner = first.code === 0 ? first : rival;
    expect([first.code, rival.code].sort()).toEqual([0, 2]);
    const founder = JSON.parse(winner.stdout) as { userId: string; email: string; role: string };
    expect(founder.role).toBe('ADMIN');
    expect(
      (await fresh.http.post('/api/auth/login', { email: founder.email, password: 'first admin passphrase' })).status,
    ).toBe(200);

    // Now there is an admin: nobody else gets in without one.
    const second = await create('', 'intruder@shop.example');
    expect({ code: second.code, stderr: second.stderr }).toEqual({
      code: 2,
      stderr: expect.stringContaining('--actor'),
    });
    const byFounder = await create(founder.email, 'deputy@shop.example');
    expect(byFounder.code).toBe(0);
    const audited = await fresh.prisma.auditLog.findMany({
      where: { action: 'USER_CREATED' },
      orderBy: { createdAt: 'asc' },
    });
    expect(audited.map((e) => [e.actorId, e.reason])).toEqual([
      ['bootstrap', 'new deployment'],
      [founder.userId, 'new deployment'],
    ]);
    // Who ran the bootstrap, as the operating system knows them.
    expect(audited[0].after).toMatchObject({ role: 'ADMIN', ranBy: expect.stringMatching(/^.+@.+$/) });
    // Every admin suspended (a lockdown) does not reopen the door.
    await fresh.prisma.user.updateMany({ where: { role: 'ADMIN' }, data: { status: 'SUSPENDED' } });
    expect((await create('', 'lockdown@shop.example')).code).toBe(2);
    expect(await fresh.prisma.user.count()).toBe(2);
  });
});

test('logout ends that session only', async () => {
  const customer = await createUser(stack);
  const second = (await login(customer.email)).body.token;
  expect((await stack.http.post('/api/auth/logout', undefined, customer.token)).status).toBe(204);
  expect(await whoCanSee(customer.token)).toBe(401);
  expect(await whoCanSee(second)).toBe(200);
});

test('a session past its expiry, or a user suspended with sessions left, is refused: 401 UNAUTHENTICATED', async () => {
  const customer = await createUser(stack);
  const other = await login(customer.email);
  expect(await whoCanSee(customer.token)).toBe(200);
  const { jti } = jwt.decode(customer.token) as { jti: string };
  await stack.prisma.session.update({ where: { id: jti }, data: { expiresAt: new Date(Date.now() - 1000) } });
  const expired = await stack.http.get('/api/wallet', customer.token);
  expect([expired.status, expired.body.error.code]).toEqual([401, 'UNAUTHENTICATED']);
  // The status alone refuses, whatever sessions are left (suspension revokes them too).
  expect(await whoCanSee(other.body.token)).toBe(200);
  await stack.prisma.user.update({ where: { id: customer.id }, data: { status: 'SUSPENDED' } });
  const suspended = await stack.http.get('/api/wallet', other.body.token);
  expect([suspended.status, suspended.body.error.code]).toEqual([401, 'UNAUTHENTICATED']);
  await stack.prisma.user.update({ where: { id: customer.id }, data: { status: 'ACTIVE' } });
  expect(await whoCanSee(other.body.token)).toBe(200);
});

test('a suspended user is refused at once, everywhere; a restored one signs in again; all audited', async () => {
  const customer = await createUser(stack);
  const phone = (await login(customer.email)).body.token;

  expect((await stack.http.post(`/admin/users/${customer.id}/suspend`, {}, admin.token)).status).toBe(400); // a reason is required
  expect((await stack.http.post(`/admin/users/${customer.id}/suspend`, { reason: 'x' }, customer.token)).status).toBe(
    403,
  );
  expect(
    (await stack.http.post(`/admin/users/${admin.id}/suspend`, { reason: 'oops' }, admin.token)).body.error.code,
  ).toBe('SELF_ACTION');

  const suspended = await stack.http.post(
    `/admin/users/${customer.id}/suspend`,
    { reason: 'chargeback fraud investigation' },
    admin.token,
  );
  expect(suspended.body).toMatchObject({
    status: 'SUSPENDED',
    sessionsRevoked: 2,
    suspensionReason: 'chargeback fraud investigation',
  });
  expect([await whoCanSee(customer.token), await whoCanSee(phone)]).toEqual([401, 401]);
  const refused = await login(customer.email);
  expect({ status: refused.status, code: refused.body.error.code }).toEqual({ status: 403, code: 'ACCOUNT_SUSPENDED' });

  const restored = await stack.http.post(
    `/admin/users/${customer.id}/restore`,
    { reason: 'investigation cleared' },
    admin.token,
  );
  expect(restored.body).toMatchObject({ status: 'ACTIVE', suspensionReason: null });
  const again = await login(customer.email);
  expect(again.status).toBe(200);
  expect(await whoCanSee(again.body.token)).toBe(200);
  expect(await whoCanSee(customer.token)).toBe(401); // old sessions stay ended

  const trail = await stack.http.get(`/admin/audit?targetId=${customer.id}`, admin.token);
  expect(
    trail.body.entries.map((e: { action: string; actorId: string; reason: string }) => [e.action, e.actorId, e.reason]),
  ).toEqual([
    ['USER_RESTORED', admin.id, 'investigation cleared'],
    ['USER_SUSPENDED', admin.id, 'chargeback fraud investigation'],
  ]);
  expect(trail.body.entries[1]).toMatchObject({
    before: { status: 'ACTIVE' },
    after: { status: 'SUSPENDED', sessionsRevoked: 2 },
  });
});

test('a role change applies at once and is audited with before and after', async () => {
  const user = await createUser(stack);
  expect((await stack.http.get('/admin/orders', user.token)).status).toBe(403);
  const changed = await stack.http.post(
    `/admin/users/${user.id}/role`,
    { role: 'ADMIN', reason: 'joined the support team' },
    admin.token,
  );
  expect(changed.body).toMatchObject({ role: 'ADMIN' });
  expect((await stack.http.get('/admin/orders', user.token)).status).toBe(200);
  const entries = (await stack.http.get(`/admin/audit?actor=${admin.id}&action=USER_ROLE_CHANGED`, admin.token)).body
    .entries;
  expect(entries).toEqual([
    expect.objectContaining({
      targetId: user.id,
      reason: 'joined the support team',
      before: expect.objectContaining({ role: 'CUSTOMER' }),
      after: expect.objectContaining({ role: 'ADMIN' }),
    }),
  ]);
  expect((await stack.http.get('/admin/audit?from=not-a-date', admin.token)).status).toBe(400);

  // A time window: the role change is inside the last minute, and nothing is inside a window in the past.
  const since = new Date(Date.now() - 60_000).toISOString();
  const inWindow = (
    await stack.http.get(
      `/admin/audit?action=USER_ROLE_CHANGED&targetId=${user.id}&from=${since}&to=${new Date(Date.now() + 1000).toISOString()}`,
      admin.token,
    )
  ).body.entries;
  expect(inWindow).toHaveLength(1);
  const before = (
    await stack.http.get(`/admin/audit?action=USER_ROLE_CHANGED&targetId=${user.id}&to=${since}`, admin.token)
  ).body.entries;
  expect(before).toEqual([]);
});

test('the ops CLI suspends, restores, changes a role and credits a wallet through the same audited actions', async () => {
  const customer = await createUser(stack);
  const ops = (...args: string[]) => runOps(stack, admin.email, ...args);

  const suspended = await ops('users', 'suspend', customer.email.toUpperCase(), '--reason', 'card testing');
  expect(suspended.code).toBe(0);
  expect(JSON.parse(suspended.stdout)).toMatchObject({ userId: customer.id, status: 'SUSPENDED', sessionsRevoked: 1 });
  expect(await whoCanSee(customer.token)).toBe(401);
  // The same refusals as the API's: an admin never changes their own access; an unknown user is named.
  const self = await ops('users', 'suspend', admin.email, '--reason', 'oops');
  expect([self.code, self.stderr]).toEqual([2, expect.stringContaining('cannot change their own access')]);
  const nobody = await ops('users', 'restore', 'nobody@example.com', '--reason', 'x');
  expect([nobody.code, nobody.stderr]).toEqual([2, expect.stringContaining('No user nobody@example.com')]);

  expect(JSON.parse((await ops('users', 'restore', customer.id, '--reason', 'cleared')).stdout)).toMatchObject({
    status: 'ACTIVE',
  });
  expect(JSON.parse((await ops('users', 'role', customer.id, 'ADMIN', '--reason', 'support')).stdout)).toMatchObject({
    role: 'ADMIN',
  });
  expect((await ops('users', 'role', customer.id, 'ROOT', '--reason', 'x')).code).toBe(2);

  const credit = ['wallets', 'credit', customer.email, '--amount', '500', '--reason', 'late parcel', '--key', 'T-77'];
  const credited = JSON.parse((await ops(...credit)).stdout);
  expect(credited).toMatchObject({ balance: 500 });
  expect(JSON.parse((await ops(...credit)).stdout)).toEqual(credited); // the same key credits once
  expect((await ops('wallets', 'credit', customer.id, '--amount', '1.5', '--reason', 'x')).code).toBe(2);

  const trail = (await stack.http.get(`/admin/audit?targetId=${customer.id}`, admin.token)).body.entries;
  expect(
    trail.map((e: { action: string; actorId: string; reason: string }) => [e.action, e.actorId, e.reason]),
  ).toEqual([
    ['WALLET_CREDITED', admin.id, 'late parcel'],
    ['USER_ROLE_CHANGED', admin.id, 'support'],
    ['USER_RESTORED', admin.id, 'cleared'],
    ['USER_SUSPENDED', admin.id, 'card testing'],
  ]);
});

test('creating a product is an audited admin action', async () => {
  const sku = `AUDIT-${randomUUID().slice(0, 8)}`;
  const created = await stack.http.post(
    '/admin/products',
    { sku, name: 'Audited lamp', price: 1999, currency: 'USD', stock: 4 },
    admin.token,
  );
  expect(created.status).toBe(201);
  const entries = (await stack.http.get(`/admin/audit?action=PRODUCT_CREATED&targetId=${created.body.id}`, admin.token))
    .body.entries;
  expect(entries).toEqual([
    expect.objectContaining({
      actorId: admin.id,
      targetType: 'product',
      after: { sku, price: 1999, currency: 'USD', stock: 4, variants: [] }, // no variants were created
    }),
  ]);
});

test('failed sign-ins are limited per account, even in a parallel burst, then per address', async () => {
  const target = await createUser(stack);
  const burst = await Promise.all(Array.from({ length: 12 }, () => login(target.email, 'guess')));
  expect(burst.map((r) => r.status).sort()).toEqual([...Array(5).fill(401), ...Array(7).fill(429)]);
  const locked = await login(target.email); // even the right password, for now
  expect({ status: locked.status, code: locked.body.error.code }).toEqual({ status: 429, code: 'TOO_MANY_ATTEMPTS' });
  expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);

  // Another account from the same address still signs in, until the address has failed too often.
  const other = await createUser(stack);
  expect((await login(other.email)).status).toBe(200);
  for (let i = 0; i < 7; i += 1) await login(`nobody-${i}@example.test`, 'guess');
  expect((await login(other.email)).status).toBe(429);
});

test('responses carry security headers', async () => {
  const { headers } = await stack.http.get('/api/products');
  expect(headers.get('x-content-type-options')).toBe('nosniff');
  expect(headers.get('x-frame-options')).toBe('SAMEORIGIN');
  expect(headers.get('x-powered-by')).toBeNull();
});
