/**
 * A key rotation's manual step confirmation has exactly one audit entry, whatever the workflow's
 * code: the API's confirmRotationStep (src/keys/rotations.ts) seals its update (the seal covers
 * the step, the admin and the note), writes no entry when the workflow answers the step audited
 * (patch manual-step-update-audited), and writes it under the workflow's id for it when the
 * workflow did not (started before the patch, run by a worker of the release before). Stubbed
 * Temporal handle and audit table; the real seal.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { RequestSeals } from '../../src/access/request-seals';
import { confirmRotationStep, rotationStepAuditId } from '../../src/keys/rotations';
import type { KeyRotationView, ManualStep } from '../../src/workflows/key-rotation/messages';

const seals = new RequestSeals(new Map([['k1', randomBytes(32)]]), 'k1');

function deps(step: Partial<ManualStep>) {
  const workflowId = `key-rotation-STRIPE_API_KEY-${randomUUID()}`;
  const written: { id?: string; action: string; actorId: string }[] = [];
  const sent: { args: unknown[] }[] = [];
  const view = (confirmed: boolean): KeyRotationView => ({
    rotationId: workflowId,
    purpose: 'STRIPE_API_KEY',
    step: 'AWAITING_MANUAL_STEPS',
    manualSteps: [{ id: 'old-key-expiry', phase: 'BEFORE_VERIFY', instruction: 'roll it', ...(confirmed ? step : {}) }],
  });
  const temporal = {
    workflow: {
      getHandle: () => ({
        query: async () => view(false),
        executeUpdate: async (_update: unknown, options: { args: unknown[] }) => {
          sent.push(options);
          return view(true);
        },
      }),
    },
  };
  const prisma = { auditLog: { createMany: async ({ data }: { data: typeof written }) => void written.push(...data) } };
  return {
    workflowId,
    written,
    sent,
    deps: { prisma, temporal, seals, config: {} } as unknown as Parameters<typeof confirmRotationStep>[0],
  };
}

test('the API sends its confirmation sealed, and writes no audit entry when the workflow audited it', async () => {
  const adminId = randomUUID();
  const { workflowId, written, sent, deps: d } = deps({ confirmedBy: adminId, audited: true });
  await confirmRotationStep(d, workflowId, 'old-key-expiry', 'rolled', adminId);
  const [confirmation] = sent[0].args as [{ stepId: string; adminId: string; note?: string; apiSeal: string }];
  expect(confirmation).toMatchObject({ stepId: 'old-key-expiry', adminId, note: 'rolled' });
  expect(seals.verify(workflowId, 'confirmManualStep', confirmation)).toBe(true);
  // The seal covers the step, the admin and the note: none of them can be changed under it.
  for (const changed of [{ stepId: 'other' }, { adminId: randomUUID() }, { note: 'changed' }])
    expect(seals.verify(workflowId, 'confirmManualStep', { ...confirmation, ...changed })).toBe(false);
  expect(written).toEqual([]);
});

test("a workflow that did not audit the confirmation (before the patch) has it audited by the API, under the workflow's id for it", async () => {
  const adminId = randomUUID();
  const { workflowId, written, deps: d } = deps({ confirmedBy: adminId });
  await confirmRotationStep(d, workflowId, 'old-key-expiry', 'rolled', adminId);
  expect(written).toEqual([
    expect.objectContaining({
      id: rotationStepAuditId(workflowId, 'KEY_MANUAL_STEP_CONFIRMED', 'old-key-expiry'),
      actorId: adminId,
      action: 'KEY_MANUAL_STEP_CONFIRMED',
      targetId: workflowId,
      reason: 'rolled',
    }),
  ]);
});
