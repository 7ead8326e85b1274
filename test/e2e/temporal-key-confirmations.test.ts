/**
 * A key rotation's manual step confirmed by update straight through Temporal (the CLI's
 * `temporal workflow update execute --name confirmManualStep`, the Web UI's update form), unsealed,
 * is checked by the one active-admin check and audited by the workflow under the admin's account
 * with `via: temporal-update` (patch manual-step-update-audited); a suspended admin is refused and
 * nothing changes. The API's own confirmation is audited exactly once, as the API's. The keyring
 * is database-wide, so this file has a database of its own.
 */
import { randomBytes } from 'node:crypto';
import { confirmManualStepUpdate, type KeyRotationView } from '../../src/workflows/key-rotation/messages';
import { createUser, eventually, useStack } from '../helpers/stack';
import { updateRefusal } from '../helpers/workflow-worker';

const { stack, admin } = useStack({ isolatedDatabase: true, env: { KEY_ROTATION_GRACE: '1s' } });

/** A Stripe webhook secret rotation through the API, given its new secret: it waits for its manual step. */
async function rotationAwaitingStep(): Promise<string> {
  const started = await stack.http.post(
    '/admin/keys/rotate',
    { purpose: 'STRIPE_WEBHOOK_SECRET', reason: 'rotating after a staff change' },
    admin.token,
  );
  expect(started.status).toBe(202);
  const workflowId: string = started.body.workflowId;
  await eventually(
    async () =>
      (await stack.http.get(`/admin/keys/rotations/${workflowId}`, admin.token)).body.step === 'AWAITING_SECRET',
    'awaiting the secret',
  );
  const supplied = await stack.http.post(
    `/admin/keys/rotations/${workflowId}/secret`,
    { secret: `whsec_${randomBytes(24).toString('hex')}` },
    admin.token,
  );
  expect(supplied.status).toBe(200);
  await eventually(
    async () =>
      (await stack.http.get(`/admin/keys/rotations/${workflowId}`, admin.token)).body.step === 'AWAITING_MANUAL_STEPS',
    'awaiting the manual step',
  );
  return workflowId;
}

const confirmations = (workflowId: string) =>
  stack.prisma.auditLog.findMany({ where: { targetId: workflowId, action: 'KEY_MANUAL_STEP_CONFIRMED' } });

test('a manual step confirmed by an update typed into Temporal: a suspended admin is refused and nothing changes; an active admin by email confirms it, audited once under their account as sent through Temporal', async () => {
  const workflowId = await rotationAwaitingStep();
  const handle = stack.temporal.workflow.getHandle(workflowId);
  const suspended = await createUser(stack, 'ADMIN');
  await stack.prisma.user.update({ where: { id: suspended.id }, data: { status: 'SUSPENDED' } });

  for (const named of [suspended.email, suspended.id]) {
    const refused = await updateRefusal(
      handle.executeUpdate(confirmManualStepUpdate, { args: [{ stepId: 'old-secret-expiry', adminId: named }] }),
    );
    expect({ type: refused.type, message: refused.message }).toEqual({
      type: 'NOT_AN_ADMIN',
      message: `${named} is not an active admin`,
    });
  }
  const untouched: KeyRotationView = (await stack.http.get(`/admin/keys/rotations/${workflowId}`, admin.token)).body;
  expect(untouched.step).toBe('AWAITING_MANUAL_STEPS');
  expect(untouched.manualSteps[0].confirmedBy).toBeUndefined();
  expect(await confirmations(workflowId)).toEqual([]);

  const confirmed = await handle.executeUpdate(confirmManualStepUpdate, {
    args: [
      {
        stepId: 'old-secret-expiry',
        adminId: admin.email.toUpperCase(),
        note: 'rolled in the dashboard',
        apiSeal: 'local-1.forged',
      },
    ],
  });
  expect(confirmed.manualSteps[0]).toMatchObject({ confirmedBy: admin.id, audited: true });
  expect(await confirmations(workflowId)).toEqual([
    expect.objectContaining({
      actorId: admin.id,
      reason: 'rolled in the dashboard',
      after: {
        stepId: 'old-secret-expiry',
        note: 'rolled in the dashboard',
        via: 'temporal-update',
        named: admin.email.toUpperCase(),
      },
    }),
  ]);
  expect((await handle.result()).step).toBe('DONE');
});

test("a manual step confirmed through the API is audited exactly once, as the API's", async () => {
  const workflowId = await rotationAwaitingStep();
  const confirmed = await stack.http.post(
    `/admin/keys/rotations/${workflowId}/steps/old-secret-expiry/confirm`,
    { note: 'rolled, old expires in 24h' },
    admin.token,
  );
  expect(confirmed.status).toBe(200);
  expect(confirmed.body.manualSteps[0]).toMatchObject({ confirmedBy: admin.id, audited: true });
  expect(await confirmations(workflowId)).toEqual([
    expect.objectContaining({
      actorId: admin.id,
      reason: 'rolled, old expires in 24h',
      after: { stepId: 'old-secret-expiry', note: 'rolled, old expires in 24h' },
    }),
  ]);
  expect((await stack.temporal.workflow.getHandle(workflowId).result()).step).toBe('DONE');
});
