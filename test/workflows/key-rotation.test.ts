/**
 * The key rotation workflow's logic against the real Temporal dev server, with stubbed
 * activities (an in-memory keyring): generated and supplied keys, manual steps confirmed by
 * update or by a Web UI signal, verification failure and abandonment rolling back, the provider
 * switch after promotion, and the database login's lock after its grace.
 * With RECORD_HISTORIES=1 scenarios write their histories for replay.test.ts.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import type { Activities } from '../../src/activities';
import type { keyRotationWorkflow } from '../../src/workflows/key-rotation/workflow';
import { keyRotationWorkflowId } from '../../src/workflows/ids';
import {
  confirmManualStepSignal,
  confirmManualStepUpdate,
  getKeyRotationQuery,
  supplyNewSecretUpdate,
  type KeyRotationInput,
  type KeyRotationView,
} from '../../src/workflows/key-rotation/messages';
import { type Actor } from '../../src/workflows/vocabulary';
import { adminNamedBy } from '../../src/access/request-seals';
import { eventually } from '../helpers/stack';
import { keepHistory, recording, useStubWorker, updateRefusal } from '../helpers/workflow-worker';

const admin: Actor = { id: randomUUID(), role: 'ADMIN' };
const webUiAdmin = randomUUID();
const webUiAdminEmail = 'Night.Shift@Example.test';
const REFUSED = 'refused-kid';
const API_SEAL = 'sealed-by-the-api';
/** kid → status, per rotation: the stubbed keyring. */
const keyring = new Map<string, string>();
/** Set while a test plays a DATABASE_ADMIN_URL without the privileges a rotation needs. */
let databaseAdminRefuses = false;

const stubs: Partial<Activities> = {
  async stageKey(input) {
    keyring.set(input.versionId, 'STAGED');
    return { kid: input.versionId, version: 2 };
  },
  async verifyKey(input) {
    if (input.kid === REFUSED)
      throw ApplicationFailure.create({
        type: 'KEY_VERIFICATION_FAILED',
        message: `${input.kid} was refused: Invalid API Key provided`,
        nonRetryable: true,
      });
  },
  async promoteKey(input) {
    keyring.set(input.kid, 'ACTIVE');
    keyring.set(`old-of-${input.kid}`, 'RETIRING');
    return {
      retiringKid: `old-of-${input.kid}`,
      retiringUntil: input.graceMs === null ? undefined : new Date(Date.now() + input.graceMs).toISOString(),
    };
  },
  async startKeyGrace(input) {
    return { retiringUntil: new Date(Date.now() + input.graceMs).toISOString() };
  },
  async retireKey(input) {
    keyring.set(input.kid, 'RETIRED');
  },
  async revokeAllSessions() {
    return { revoked: 3 };
  },
  async auditKeyStep() {},
  // The one active-admin check: the Web UI's admin (by id or email) and the API's; an update is the
  // API's only with its seal (stubbed as API_SEAL; the real one is an HMAC: src/access/request-seals.ts).
  async activeAdminNamed(input) {
    const named = 'named' in input ? input.named : adminNamedBy(input.request);
    const found = [webUiAdmin, webUiAdminEmail].includes(named)
      ? { id: webUiAdmin, email: webUiAdminEmail }
      : named === admin.id
        ? { id: admin.id, email: 'api.admin@example.test' }
        : null;
    return { admin: found, via: 'request' in input && input.request.apiSeal === API_SEAL ? 'api' : 'temporal' };
  },
  async prepareDatabaseLogins() {
    if (databaseAdminRefuses)
      throw ApplicationFailure.create({
        type: 'DATABASE_ADMIN_REFUSED',
        message: 'DATABASE_ADMIN_URL may not manage the login roles: permission denied to create role',
        nonRetryable: true,
      });
    return { logins: ['app_blue', 'app_green'] };
  },
  async stageDatabasePassword(input) {
    keyring.set(input.versionId, 'STAGED');
    return { kid: input.versionId, user: 'app_green' };
  },
  async lockDatabaseLogin() {
    return { user: 'app_blue' };
  },
};
const { wrapped, callsOf } = recording(stubs, () => 'all');

const worker = useStubWorker(wrapped);

async function startRotation(
  overrides: Partial<KeyRotationInput>,
): Promise<WorkflowHandle<typeof keyRotationWorkflow>> {
  const input: KeyRotationInput = {
    purpose: 'JWT_SIGNING',
    requestedBy: admin,
    reason: 'test rotation',
    revokeSessions: false,
    graceMs: 500,
    stepTimeoutMs: 60_000,
    ...overrides,
  };
  return worker.client.workflow.start<typeof keyRotationWorkflow>('keyRotationWorkflow', {
    workflowId: keyRotationWorkflowId(input.purpose, randomUUID()),
    taskQueue: worker.taskQueue,
    args: [input],
  });
}
const untilStep = (handle: WorkflowHandle, step: KeyRotationView['step']) =>
  eventually(async () => {
    const view = await handle.query(getKeyRotationQuery);
    return view.step === step && view;
  }, `rotation ${step}`);
/** The activities a rotation called, in order, with the kids they touched. */
const callsFor = (kid: string) =>
  callsOf('all')
    .filter((c) => JSON.stringify(c.input ?? {}).includes(kid))
    .map((c) => c.name);

test('JWT: stage, verify, promote, revoke sessions, wait out the grace, retire the old key', async () => {
  const handle = await startRotation({ revokeSessions: true });
  const result = await handle.result();
  expect(result).toMatchObject({ step: 'DONE', sessionsRevoked: 3, manualSteps: [] });
  expect(callsFor(result.newKid!)).toEqual([
    'stageKey',
    'auditKeyStep',
    'verifyKey',
    'auditKeyStep',
    'promoteKey',
    'auditKeyStep',
    'retireKey',
    'auditKeyStep',
  ]);
  expect(keyring.get(result.oldKid!)).toBe('RETIRED');
  await keepHistory('key-rotation-jwt', handle);
});

test('Stripe webhook secret: waits for the secret and the manual step (confirmed from the Web UI), then rotates', async () => {
  const handle = await startRotation({ purpose: 'STRIPE_WEBHOOK_SECRET' });
  const waiting = await untilStep(handle, 'AWAITING_SECRET');
  expect(waiting.manualSteps.map((s) => s.id)).toEqual(['old-secret-expiry']);

  const kid = `whsec-${randomUUID()}`;
  expect((await handle.executeUpdate(supplyNewSecretUpdate, { args: [{ kid, actor: admin }] })).newKid).toBe(kid);
  expect(
    (await updateRefusal(handle.executeUpdate(supplyNewSecretUpdate, { args: [{ kid: 'another', actor: admin }] })))
      .type,
  ).toBe('INVALID_ROTATION_STATE');
  await untilStep(handle, 'AWAITING_MANUAL_STEPS');

  // From the Web UI: someone who is not an active admin is ignored; an admin, named by email, is
  // taken and recorded under their account id, as sent through Temporal.
  await handle.signal(confirmManualStepSignal, { stepId: 'old-secret-expiry', adminId: randomUUID() });
  await handle.signal(confirmManualStepSignal, {
    stepId: 'old-secret-expiry',
    adminId: webUiAdminEmail,
    note: 'rolled',
  });
  const result = await handle.result();
  expect(result).toMatchObject({
    step: 'DONE',
    newKid: kid,
    manualSteps: [{ id: 'old-secret-expiry', confirmedBy: webUiAdmin, note: 'rolled' }],
  });
  const confirmedAudit = callsOf('all', 'auditKeyStep').find(
    (c) => c.input.action === 'KEY_MANUAL_STEP_CONFIRMED' && c.input.rotationId === handle.workflowId,
  );
  expect(confirmedAudit?.input).toMatchObject({
    actorId: webUiAdmin,
    after: { stepId: 'old-secret-expiry', note: 'rolled', via: 'temporal-signal', named: webUiAdminEmail },
  });
  expect(callsFor(kid)).toEqual([
    'auditKeyStep',
    'verifyKey',
    'auditKeyStep',
    'promoteKey',
    'auditKeyStep',
    'retireKey',
    'auditKeyStep',
  ]);
  // Both confirmations were asked of the one active-admin check, by the name as typed.
  expect(
    callsOf('all', 'activeAdminNamed')
      .slice(-2)
      .map((c) => c.input),
  ).toEqual([{ named: expect.any(String) }, { named: webUiAdminEmail }]);
  // (key-rotation-stripe-webhook-secret.json was recorded before the admin was resolved, and
  // key-rotation-stripe-webhook-secret-by-email.json before key-rotation-one-admin-check: each
  // replays its old path.)
  await keepHistory('key-rotation-stripe-webhook-secret-one-admin-check', handle);
});

/** The audit entries of `handle`'s manual step confirmations, as the workflow asked for them. */
const confirmationAudits = (handle: WorkflowHandle) =>
  callsOf('all', 'auditKeyStep')
    .filter((c) => c.input.action === 'KEY_MANUAL_STEP_CONFIRMED' && c.input.rotationId === handle.workflowId)
    .map((c) => c.input);

test('a manual step confirmed by an update typed into Temporal must name an active admin; it is recorded under their account and audited by the workflow as sent through Temporal', async () => {
  const handle = await startRotation({ purpose: 'STRIPE_API_KEY' });
  const kid = `sk-${randomUUID()}`;
  await handle.executeUpdate(supplyNewSecretUpdate, { args: [{ kid, actor: admin }] });
  await untilStep(handle, 'AWAITING_MANUAL_STEPS');

  // What `temporal workflow update execute --name confirmManualStep` sends: any name, no API seal.
  const stranger = randomUUID();
  const refused = await updateRefusal(
    handle.executeUpdate(confirmManualStepUpdate, { args: [{ stepId: 'old-key-expiry', adminId: stranger }] }),
  );
  expect({ type: refused.type, message: refused.message }).toEqual({
    type: 'NOT_AN_ADMIN',
    message: `${stranger} is not an active admin`,
  });
  expect(
    (
      await updateRefusal(
        handle.executeUpdate(confirmManualStepUpdate, { args: [{ stepId: 'old-key-expiry' }] } as never),
      )
    ).type,
  ).toBe('VALIDATION_ERROR');
  expect((await handle.query(getKeyRotationQuery)).manualSteps[0].confirmedBy).toBeUndefined();
  expect(confirmationAudits(handle)).toEqual([]);

  const confirmed = await handle.executeUpdate(confirmManualStepUpdate, {
    args: [{ stepId: 'old-key-expiry', adminId: webUiAdminEmail, note: 'rolled, expiring in 24h', apiSeal: 'forged' }],
  });
  expect(confirmed.manualSteps).toEqual([
    expect.objectContaining({
      id: 'old-key-expiry',
      confirmedBy: webUiAdmin,
      note: 'rolled, expiring in 24h',
      audited: true,
    }),
  ]);
  expect(confirmationAudits(handle)).toEqual([
    {
      actorId: webUiAdmin,
      action: 'KEY_MANUAL_STEP_CONFIRMED',
      rotationId: handle.workflowId,
      reason: 'rolled, expiring in 24h',
      after: {
        stepId: 'old-key-expiry',
        note: 'rolled, expiring in 24h',
        via: 'temporal-update',
        named: webUiAdminEmail,
      },
      onceFor: 'old-key-expiry',
    },
  ]);
  // A second confirmation of the step is refused; nothing more is audited.
  expect(
    (
      await updateRefusal(
        handle.executeUpdate(confirmManualStepUpdate, { args: [{ stepId: 'old-key-expiry', adminId: admin.id }] }),
      )
    ).type,
  ).toBe('INVALID_ROTATION_STATE');
  expect(await handle.result()).toMatchObject({ step: 'DONE', newKid: kid });
  expect(confirmationAudits(handle)).toHaveLength(1);
  await keepHistory('key-rotation-manual-step-confirmed-through-temporal-update', handle);
});

test('a promoted rotation that was cancelled still takes its provider switch confirmed by update, checked and audited', async () => {
  const handle = await startRotation({ purpose: 'RAZORPAY_WEBHOOK_SECRET' });
  await handle.executeUpdate(supplyNewSecretUpdate, { args: [{ kid: `rzp-whsec-${randomUUID()}`, actor: admin }] });
  await untilStep(handle, 'AWAITING_PROVIDER_SWITCH');
  await handle.cancel();
  const confirmed = await handle.executeUpdate(confirmManualStepUpdate, {
    args: [{ stepId: 'dashboard-secret-updated', adminId: webUiAdmin }],
  });
  expect(confirmed.manualSteps[0]).toMatchObject({ confirmedBy: webUiAdmin, audited: true });
  expect(await handle.result()).toMatchObject({ step: 'DONE' });
  expect(confirmationAudits(handle)).toEqual([
    expect.objectContaining({ actorId: webUiAdmin, after: expect.objectContaining({ via: 'temporal-update' }) }),
  ]);
  await keepHistory('key-rotation-manual-step-confirmed-after-cancel', handle);
});

test("a manual step confirmed by the API's sealed update is audited by the workflow as the API's", async () => {
  const handle = await startRotation({ purpose: 'STRIPE_API_KEY' });
  await handle.executeUpdate(supplyNewSecretUpdate, { args: [{ kid: `sk-${randomUUID()}`, actor: admin }] });
  const confirmed = await handle.executeUpdate(confirmManualStepUpdate, {
    args: [{ stepId: 'old-key-expiry', adminId: admin.id, apiSeal: API_SEAL }],
  });
  expect(confirmed.manualSteps[0]).toMatchObject({ confirmedBy: admin.id, audited: true });
  expect(confirmationAudits(handle)).toEqual([
    expect.objectContaining({ actorId: admin.id, reason: 'test rotation', after: { stepId: 'old-key-expiry' } }),
  ]);
  await handle.result();
});

test('a key the provider refuses is rolled back: retired, never promoted', async () => {
  const handle = await startRotation({ purpose: 'STRIPE_API_KEY' });
  await handle.executeUpdate(supplyNewSecretUpdate, { args: [{ kid: REFUSED, actor: admin }] });
  expect(
    (
      await updateRefusal(
        handle.executeUpdate(confirmManualStepUpdate, { args: [{ stepId: 'nope', adminId: admin.id }] }),
      )
    ).type,
  ).toBe('UNKNOWN_MANUAL_STEP');
  await handle.executeUpdate(confirmManualStepUpdate, { args: [{ stepId: 'old-key-expiry', adminId: admin.id }] });
  const result = await handle.result();
  expect(result).toMatchObject({ step: 'ROLLED_BACK', newKid: REFUSED, failure: expect.stringContaining('refused') });
  expect(keyring.get(REFUSED)).toBe('RETIRED');
  expect(callsOf('all', 'promoteKey').some((c) => c.input.kid === REFUSED)).toBe(false);
  await keepHistory('key-rotation-stripe-key-rolled-back', handle);
});

test('Razorpay webhook secret: both accepted until the dashboard switch is confirmed, then the grace starts', async () => {
  const handle = await startRotation({ purpose: 'RAZORPAY_WEBHOOK_SECRET' });
  const kid = `rzp-whsec-${randomUUID()}`;
  await handle.executeUpdate(supplyNewSecretUpdate, { args: [{ kid, actor: admin }] });
  const switching = await untilStep(handle, 'AWAITING_PROVIDER_SWITCH');
  expect(switching.oldKeyAcceptedUntil).toBeUndefined();
  expect(callsOf('all', 'promoteKey').find((c) => c.input.kid === kid)?.input.graceMs).toBeNull();
  await handle.executeUpdate(confirmManualStepUpdate, {
    args: [{ stepId: 'dashboard-secret-updated', adminId: admin.id }],
  });
  const result = await handle.result();
  expect(result.step).toBe('DONE');
  expect(result.oldKeyAcceptedUntil).toBeDefined();
  expect(callsOf('all', 'startKeyGrace').map((c) => c.input.kid)).toContain(`old-of-${kid}`);
  await keepHistory('key-rotation-razorpay-webhook-secret', handle);
});

test('nobody supplies the secret in time: rolled back', async () => {
  const handle = await startRotation({ purpose: 'RAZORPAY_KEY', stepTimeoutMs: 300 });
  expect(await handle.result()).toMatchObject({
    step: 'ROLLED_BACK',
    failure: expect.stringContaining('no new secret'),
  });
});

test('database password: the standby login gets a new password, and the old one is locked after the grace', async () => {
  const handle = await startRotation({ purpose: 'DATABASE_PASSWORD' });
  const result = await handle.result();
  expect(result).toMatchObject({ step: 'DONE', databaseUser: 'app_green' });
  expect(callsFor(result.newKid!)).toEqual([
    'stageDatabasePassword',
    'auditKeyStep',
    'verifyKey',
    'auditKeyStep',
    'promoteKey',
    'auditKeyStep',
    'retireKey',
    'lockDatabaseLogin',
    'auditKeyStep',
  ]);
  await keepHistory('key-rotation-database-password', handle);
});

test('database password: an admin login without the privileges rolls back at once, nothing staged', async () => {
  databaseAdminRefuses = true;
  const stagedBefore = callsOf('all', 'stageDatabasePassword').length;
  try {
    const handle = await startRotation({ purpose: 'DATABASE_PASSWORD' });
    const result = await handle.result();
    expect(result).toMatchObject({
      step: 'ROLLED_BACK',
      failure: expect.stringContaining('may not manage the login roles'),
    });
    expect(result.newKid).toBeUndefined();
    expect(callsOf('all', 'stageDatabasePassword')).toHaveLength(stagedBefore);
  } finally {
    databaseAdminRefuses = false;
  }
});
