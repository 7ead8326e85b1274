/**
 * JWT signing key rotation as a workflow, while tokens are in use: old tokens are accepted until
 * the grace ends, new tokens carry the new kid, `revokeSessions` ends every session at once, each
 * step is audited, and no key material appears in the workflow's history. The keyring is
 * database-wide, so this file has a database of its own.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { ensureTool } from '../../scripts/lib/services';
import { Keyring } from '../../src/keys/keyring';
import { rewrapKeyring } from '../../src/keys/rotations';
import { ensureKeyRotationSchedule } from '../../src/platform/temporal';
import type { KeyRotationView } from '../../src/workflows/key-rotation/workflow';
import { createUser, decodedHistoryText, eventually, storedHistoryText, useStack } from '../helpers/stack';

const { stack, admin } = useStack({ isolatedDatabase: true, env: { JWT_TTL: '4s', JWT_ROTATION_GRACE: '4s' } });

// Tokens here live 4 seconds (and keys get retired): every admin call signs in afresh.
const adminToken = async () =>
  (await stack.http.post('/api/auth/login', { email: admin.email, password: 'correct horse battery staple' })).body
    .token as string;
const kidOf = (token: string) => jwt.decode(token, { complete: true })!.header.kid;
const canUse = async (token: string) => (await stack.http.get('/api/wallet', token)).status;

async function rotate(body: Record<string, unknown>, token: string) {
  const answer = await stack.http.post('/admin/keys/rotate', body, token);
  expect(answer.status).toBe(202);
  return stack.temporal.workflow.getHandle(answer.body.workflowId as string);
}

test('old tokens work until the grace ends, new ones carry the new kid, and no secret is in the history', async () => {
  const customer = await createUser(stack);
  const oldKid = kidOf(customer.token);
  const handle = await rotate({ purpose: 'JWT_SIGNING', reason: 'quarterly rotation' }, await adminToken());

  const promoted = await eventually(async () => {
    const view = await handle.query<KeyRotationView>('getKeyRotation');
    return view.step === 'GRACE' && view;
  }, 'new key promoted');
  expect(promoted.oldKid).toBe(oldKid);
  const keys = (await stack.http.get('/admin/keys?purpose=JWT_SIGNING', await adminToken())).body.keys as {
    kid: string;
    status: string;
  }[];
  expect(keys.map((k) => [k.kid, k.status])).toEqual([
    [oldKid, 'RETIRING'],
    [promoted.newKid, 'ACTIVE'],
  ]);
  expect(JSON.stringify(keys)).not.toMatch(/ciphertext|secret/i);

  expect(await canUse(customer.token)).toBe(200); // still within its grace
  const fresh = (
    await stack.http.post('/api/auth/login', { email: customer.email, password: 'correct horse battery staple' })
  ).body.token;
  expect(kidOf(fresh)).toBe(promoted.newKid);
  expect(await canUse(fresh)).toBe(200);

  const done = await handle.result();
  expect(done.step).toBe('DONE');
  expect(await canUse(customer.token)).toBe(401);
  // Not merely expired: for a session alive right now, a token signed with the retired key is
  // refused, while the same session's genuine token (new key) is accepted.
  const keyring = new Keyring(stack.prisma, stack.config);
  const retiredSecret = stack.config.JWT_SECRET;
  const live = (
    await stack.http.post('/api/auth/login', { email: customer.email, password: 'correct horse battery staple' })
  ).body.token as string;
  const claims = jwt.decode(live) as { sub: string; jti: string };
  expect(await canUse(live)).toBe(200);
  expect(
    await canUse(
      jwt.sign({}, retiredSecret, {
        algorithm: 'HS256',
        keyid: oldKid,
        subject: claims.sub,
        jwtid: claims.jti,
        expiresIn: 60,
      }),
    ),
  ).toBe(401);

  const newSecret = await keyring.secretOf(promoted.newKid!);
  const [stored, decoded] = [
    await storedHistoryText(stack, handle.workflowId),
    await decodedHistoryText(stack, handle.workflowId),
  ];
  expect(stored).not.toContain('quarterly rotation'); // payloads are stored encrypted...
  expect(decoded).toContain('quarterly rotation'); // ...and decoded, the text is really there to search
  for (const history of [stored, decoded]) {
    expect(history).not.toContain(newSecret);
    expect(history).not.toContain(retiredSecret);
  }

  const steps = (
    await stack.http.get(`/admin/audit?targetId=${handle.workflowId}`, await adminToken())
  ).body.entries.map((e: { action: string; actorId: string }) => [e.action, e.actorId]);
  expect(steps.reverse()).toEqual([
    ['KEY_ROTATION_STARTED', admin.id],
    ['KEY_STAGED', admin.id],
    ['KEY_VERIFIED', admin.id],
    ['KEY_PROMOTED', admin.id],
    ['KEY_RETIRED', admin.id],
  ]);
});

test('with revokeSessions every session ends at once, and everyone signs in again', async () => {
  const customer = await createUser(stack);
  const otherAdmin = await createUser(stack, 'ADMIN');
  Object.assign(admin, { token: await adminToken() });
  expect(await canUse(customer.token)).toBe(200);
  const handle = await rotate(
    { purpose: 'JWT_SIGNING', reason: 'suspected key leak', revokeSessions: true },
    otherAdmin.token,
  );
  const revoked = await eventually(async () => {
    const view = await handle.query<KeyRotationView>('getKeyRotation');
    return view.sessionsRevoked !== undefined && view;
  }, 'sessions revoked');
  expect(revoked.sessionsRevoked).toBeGreaterThanOrEqual(3);
  expect([await canUse(customer.token), await canUse(admin.token), await canUse(otherAdmin.token)]).toEqual([
    401, 401, 401,
  ]);
  const again = await stack.http.post('/api/auth/login', {
    email: customer.email,
    password: 'correct horse battery staple',
  });
  expect(kidOf(again.body.token)).toBe(revoked.newKid);
  expect(await canUse(again.body.token)).toBe(200);
  await handle.result();
});

test('only an admin with a reason may rotate a known purpose; revokeSessions is for JWT keys only', async () => {
  const customer = await createUser(stack);
  expect(
    (await stack.http.post('/admin/keys/rotate', { purpose: 'JWT_SIGNING', reason: 'x' }, customer.token)).status,
  ).toBe(403);
  const token = await adminToken();
  expect((await stack.http.post('/admin/keys/rotate', { purpose: 'JWT_SIGNING' }, token)).status).toBe(400);
  expect(
    (await stack.http.post('/admin/keys/rotate', { purpose: 'SSH_KEY', reason: 'x' }, token)).body.error.code,
  ).toBe('VALIDATION_ERROR');
  const revoking = await stack.http.post(
    '/admin/keys/rotate',
    { purpose: 'STRIPE_WEBHOOK_SECRET', revokeSessions: true, reason: 'x' },
    token,
  );
  expect({ status: revoking.status, code: revoking.body.error.code }).toEqual({
    status: 400,
    code: 'VALIDATION_ERROR',
  });
  expect((await stack.http.get('/admin/keys/rotations/key-rotation-SSH_KEY-1', token)).body.error.code).toBe(
    'ROTATION_NOT_FOUND',
  );
});

test('a Temporal Schedule rotates the JWT key every 90 days, visible in `temporal schedule list`', async () => {
  const scheduleId = await ensureKeyRotationSchedule(stack.temporal, {
    ...stack.config,
    JWT_ROTATION_INTERVAL: 90 * 24 * 3_600_000,
  });
  await ensureKeyRotationSchedule(stack.temporal, { ...stack.config, JWT_ROTATION_INTERVAL: 90 * 24 * 3_600_000 }); // idempotent
  const description = await stack.temporal.schedule.getHandle(scheduleId).describe();
  expect(description.spec.intervals?.[0].every).toBe(90 * 24 * 3_600_000);
  expect(description.action).toMatchObject({ type: 'startWorkflow', workflowType: 'keyRotationWorkflow' });
  const listed = await eventually(async () => {
    const out = execFileSync(ensureTool('temporal'), [
      'schedule',
      'list',
      '--address',
      stack.config.TEMPORAL_ADDRESS,
    ]).toString();
    return out.includes(scheduleId) && out;
  }, 'schedule listed');
  expect(listed).toContain(scheduleId);
  await stack.temporal.schedule.getHandle(scheduleId).delete();
});

// Last in this file: afterwards the keyring is under a master key this stack's API does not have.
test('master key rotation: every secret re-encrypted under the new master key, readable without the old one, audited', async () => {
  const token = await adminToken();
  const before = new Keyring(stack.prisma, stack.config);
  const secrets = async (keyring: Keyring) =>
    Promise.all((await keyring.list()).map(async (k) => [k.kid, await keyring.secretOf(k.kid)]));
  const clear = await secrets(before);
  expect(clear.length).toBeGreaterThan(3);

  // Under the master key the API already uses, there is nothing to move.
  const noop = await stack.http.post('/admin/keys/rewrap', { reason: 'check' }, token);
  expect(noop.body).toEqual({ masterKeyId: stack.config.MASTER_KEY_ID, rewrapped: [] });
  expect((await stack.http.post('/admin/keys/rewrap', {}, token)).status).toBe(400);

  // The new master key is deployed beside the old one and made current; the keyring moves to it.
  const newMaster = `local-2:${randomBytes(32).toString('base64')}`;
  const rotated = {
    ...stack.config,
    MASTER_KEYS: `${stack.config.MASTER_KEYS},${newMaster}`,
    MASTER_KEY_ID: 'local-2',
  };
  const moved = await rewrapKeyring(
    { prisma: stack.prisma, temporal: stack.temporal, config: rotated },
    'yearly master key rotation',
    admin.id,
  );
  expect(moved.rewrapped.map((r) => r.kid).sort()).toEqual(clear.map(([kid]) => kid).sort());
  expect(new Set((await stack.prisma.secretVersion.findMany()).map((row) => row.masterKeyId))).toEqual(
    new Set(['local-2']),
  );

  // The old master key can go: the new one alone reads every secret, unchanged.
  const newOnly = new Keyring(stack.prisma, { ...rotated, MASTER_KEYS: newMaster });
  expect(await secrets(newOnly)).toEqual(clear);
  expect(
    await stack.prisma.auditLog.findFirst({ where: { action: 'KEYRING_REWRAPPED', targetId: 'local-2' } }),
  ).toMatchObject({ actorId: admin.id, reason: 'yearly master key rotation' });
});
