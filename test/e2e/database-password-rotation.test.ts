/**
 * Database password rotation with two alternating logins, under continuous order traffic: the
 * API and the worker move to the new login without one failed request, the old login keeps its
 * password through the grace and loses it after, and each step is audited. The keyring is
 * database-wide and the logins are cluster-wide, so this file has a database and roles of its own.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { matchesVerifier } from '../../src/keys/database-login';
import { Keyring, type DatabaseLogin } from '../../src/keys/keyring';
import type { KeyRotationView } from '../../src/workflows/key-rotation/messages';
import { createProduct, createUser, eventually, storedHistoryText, useStack, type TestUser } from '../helpers/stack';

const prefix = `dc_test_${randomBytes(4).toString('hex')}`;
const [blue, green] = [`${prefix}_blue`, `${prefix}_green`];
const { stack, admin, beforeStop } = useStack({
  isolatedDatabase: true,
  env: { DATABASE_ROLE_PREFIX: prefix, DATABASE_LOGIN_REFRESH: '250ms', DATABASE_PASSWORD_GRACE: '3s' },
});
let superuser: pg.Client;
beforeAll(async () => {
  superuser = new pg.Client({ connectionString: stack.config.DATABASE_URL });
  await superuser.connect();
});
beforeStop(() => superuser.end());
// Once the stack has stopped, dropping its database and with it every grant to the roles.
afterAll(async () => {
  const cleanup = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await cleanup.connect();
  for (const role of [blue, green, prefix])
    await cleanup.query(`DROP ROLE IF EXISTS ${cleanup.escapeIdentifier(role)}`);
  await cleanup.end();
});

/** Who the app's connections to this database are logged in as (API and worker pools). */
async function appLogins(): Promise<string[]> {
  const { rows } = await superuser.query<{ usename: string }>(
    `SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND usename <> current_user`,
  );
  return rows.map((r) => r.usename).sort();
}
async function storedPassword(role: string): Promise<string | null> {
  return (
    await superuser.query<{ rolpassword: string | null }>('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [
      role,
    ])
  ).rows[0].rolpassword;
}
const activeLogin = async () =>
  JSON.parse((await new Keyring(stack.prisma, stack.config).active('DATABASE_PASSWORD')).secret) as DatabaseLogin;

/** Customers ordering (cash on delivery) and reading their orders and the catalogue, without pause, until stopped. */
function startTraffic(productId: string, customers: TestUser[]) {
  const statuses: number[] = [];
  let running = true;
  const shopper = async (customer: TestUser) => {
    while (running) {
      const checkout = await stack.http.post(
        '/api/checkout',
        { items: [{ productId, quantity: 1 }], paymentMethod: 'cod' },
        customer.token,
      );
      statuses.push(checkout.status);
      if (checkout.status === 201)
        statuses.push((await stack.http.get(`/api/orders/${checkout.body.orderId}`, customer.token)).status);
      statuses.push((await stack.http.get('/api/products', customer.token)).status);
    }
  };
  const done = Promise.all(customers.map(shopper));
  return {
    statuses,
    async stop() {
      running = false;
      await done;
      return statuses;
    },
  };
}

async function rotate(): Promise<{ workflowId: string; result: Promise<KeyRotationView> }> {
  const answer = await stack.http.post(
    '/admin/keys/rotate',
    { purpose: 'DATABASE_PASSWORD', reason: 'quarterly database credential rotation' },
    admin.token,
  );
  expect(answer.status).toBe(202);
  return {
    workflowId: answer.body.workflowId,
    result: stack.temporal.workflow.getHandle(answer.body.workflowId).result(),
  };
}

test('two rotations under continuous order traffic: every request succeeds, the logins alternate, the old password goes after its grace', async () => {
  const product = await createProduct(stack, admin, { stock: 100_000, price: 1200 });
  const customers = await Promise.all([1, 2, 3].map(() => createUser(stack)));
  const traffic = startTraffic(product.id, customers);
  await eventually(async () => traffic.statuses.length > 20, 'traffic flowing');

  // First rotation: from DATABASE_URL's own login to the first of the two.
  const first = await rotate();
  const firstDone = await first.result;
  expect(firstDone).toMatchObject({ step: 'DONE', databaseUser: blue, newKid: 'database-password-1' });
  expect(firstDone.oldKid).toBeUndefined(); // DATABASE_URL's login is not the keyring's to retire
  expect((await activeLogin()).user).toBe(blue);
  expect(matchesVerifier((await storedPassword(blue))!, (await activeLogin()).password)).toBe(true);
  await eventually(async () => (await appLogins()).join() === blue, `the app connected only as ${blue}`);
  const afterFirst = traffic.statuses.length;
  await eventually(async () => traffic.statuses.length > afterFirst + 20, 'traffic flowing as blue');

  // Second rotation: blue → green, with blue still valid through the grace.
  const second = await rotate();
  const grace = await eventually(async () => {
    const view = (await stack.http.get(`/admin/keys/rotations/${second.workflowId}`, admin.token))
      .body as KeyRotationView;
    return view.step === 'GRACE' && view;
  }, 'second rotation in its grace');
  expect(grace).toMatchObject({ databaseUser: green, oldKid: 'database-password-1', newKid: 'database-password-2' });
  expect(await storedPassword(blue)).not.toBeNull();
  await eventually(async () => (await appLogins()).join() === green, `the app moved to ${green}`);

  const secondDone = await second.result;
  expect(secondDone.step).toBe('DONE');
  expect(await storedPassword(blue)).toBeNull(); // the old password no longer opens a connection
  expect(matchesVerifier((await storedPassword(green))!, (await activeLogin()).password)).toBe(true);
  const afterSecond = traffic.statuses.length;
  await eventually(async () => traffic.statuses.length > afterSecond + 20, 'traffic flowing as green');

  const statuses = await traffic.stop();
  const failures = statuses.filter((status) => status !== 200 && status !== 201);
  expect({ requests: statuses.length > 100, failures }).toEqual({ requests: true, failures: [] });
  expect(await appLogins()).toEqual([green]);

  const keys = (await stack.http.get('/admin/keys?purpose=DATABASE_PASSWORD', admin.token)).body.keys.map(
    (k: { kid: string; status: string }) => [k.kid, k.status],
  );
  expect(keys).toEqual([
    ['database-password-1', 'RETIRED'],
    ['database-password-2', 'ACTIVE'],
  ]);
  const trail = (
    (await stack.http.get(`/admin/audit?targetId=${second.workflowId}`, admin.token)).body.entries as {
      action: string;
      actorId: string;
      after: unknown;
    }[]
  ).reverse();
  expect(trail.map((e) => [e.action, e.actorId])).toEqual([
    ['KEY_ROTATION_STARTED', admin.id],
    ['KEY_STAGED', admin.id],
    ['KEY_VERIFIED', admin.id],
    ['KEY_PROMOTED', admin.id],
    ['KEY_RETIRED', admin.id],
  ]);
  const { password } = await activeLogin();
  expect(JSON.stringify(trail)).not.toContain(password);
  expect(await storedHistoryText(stack, second.workflowId)).not.toContain(password);
});
