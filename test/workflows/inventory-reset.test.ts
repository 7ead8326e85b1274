/**
 * The inventory reset workflow's logic against the real Temporal dev server, with stubbed
 * activities: snapshot, apply, verify, then a rollback by update within the window; a refused
 * reset failing with the per-line errors; a window that passes with no rollback; refused
 * rollback requests. With RECORD_HISTORIES=1 scenarios write their histories for replay.test.ts.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import type { inventoryResetWorkflow } from '../../src/workflows/inventory-reset/workflow';
import {
  getResetProgressQuery,
  rollbackResetUpdate,
  type ResetRollbackLine,
} from '../../src/workflows/inventory-reset/messages';
import type { Actor } from '../../src/workflows/vocabulary';
import { eventually } from '../helpers/stack';
import { keepHistory, recording, useStubWorker, updateRefusal } from '../helpers/workflow-worker';
import { inventoryResetWorkflowId } from '../../src/workflows/ids';

const admin: Actor = { id: randomUUID(), role: 'ADMIN' };
const refusedResets = new Set<string>();
const reversal: ResetRollbackLine[] = [{ productId: randomUUID(), delta: -40, status: 'REVERSED', newStock: 7 }];

const stubs = {
  async snapshotInventoryReset() {},
  async applyInventoryReset(input: { resetId: string }) {
    if (refusedResets.has(input.resetId))
      throw ApplicationFailure.create({
        type: 'RESET_REFUSED',
        message: 'The reset was refused: 1 of 2 lines are invalid; nothing changed',
        details: [{ errors: [{ line: 2, code: 'PRODUCT_NOT_FOUND', message: 'No product' }] }],
        nonRetryable: true,
      });
  },
  async verifyInventoryReset() {
    return { verified: true, problems: [] };
  },
  async rollbackInventoryReset() {
    return reversal;
  },
};

const { wrapped, callsOf } = recording(stubs, (input) => String(input.resetId));

const worker = useStubWorker(wrapped);

function start(resetId: string, rollbackWindowMs = 600_000) {
  return worker.client.workflow.start<typeof inventoryResetWorkflow>('inventoryResetWorkflow', {
    workflowId: inventoryResetWorkflowId(resetId),
    taskQueue: worker.taskQueue,
    args: [{ resetId, actor: admin, rollbackWindowMs }],
  });
}

test('snapshot, apply, verify, then a rollback by update reverses the lines and closes the reset', async () => {
  const resetId = randomUUID();
  const handle = await start(resetId);
  await eventually(async () => (await handle.query(getResetProgressQuery)).rollbackOpen, 'rollback window open');
  expect(await handle.query(getResetProgressQuery)).toEqual({ status: 'VERIFIED', rollbackOpen: true });
  const refusal = await updateRefusal(
    handle.executeUpdate(rollbackResetUpdate, { args: [{ actor: admin, reason: ' ' }] }),
  );
  expect(refusal.type).toBe('VALIDATION_ERROR');
  const lines = await handle.executeUpdate(rollbackResetUpdate, { args: [{ actor: admin, reason: 'wrong sheet' }] });
  expect(lines).toEqual(reversal);
  expect(await handle.result()).toBe('ROLLED_BACK');
  expect(callsOf(resetId).map((c) => c.name)).toEqual([
    'snapshotInventoryReset',
    'applyInventoryReset',
    'verifyInventoryReset',
    'rollbackInventoryReset',
  ]);
  expect(callsOf(resetId, 'rollbackInventoryReset')[0].input).toEqual({
    resetId,
    actorId: admin.id,
    reason: 'wrong sheet',
  });
  await keepHistory('inventory-reset-rolled-back', handle);
});

test('a refused reset fails with the per-line errors and takes no rollback', async () => {
  const resetId = randomUUID();
  refusedResets.add(resetId);
  const handle = await start(resetId);
  const error = await handle.result().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
  expect(cause.type).toBe('RESET_REFUSED');
  expect(cause.details?.[0]).toMatchObject({ errors: [{ line: 2, code: 'PRODUCT_NOT_FOUND' }] });
  expect(callsOf(resetId, 'verifyInventoryReset')).toHaveLength(0);
  await keepHistory('inventory-reset-refused', handle);
});

test('with no rollback in its window the reset closes VERIFIED', async () => {
  const resetId = randomUUID();
  const handle = await start(resetId, 1_000);
  expect(await handle.result()).toBe('VERIFIED');
  expect(callsOf(resetId, 'rollbackInventoryReset')).toHaveLength(0);
  await keepHistory('inventory-reset-window-passed', handle);
});
