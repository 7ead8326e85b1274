/**
 * inventory-reset-<resetId>: the runbook's physical-count reconciliation as a workflow. It
 * snapshots the stock of every line, applies all lines in one transaction (or none, with the
 * reasons per line), verifies the result against the ledger, then stays open for the rollback
 * window: an admin's rollbackReset update reverses each line as a delta, keeping sales since.
 */
import { condition, setHandler } from '@temporalio/workflow';
import { activitiesFor } from '../policies';
import { businessFailure, refusal } from '../failures';
import { ErrorCode } from '../vocabulary';
import {
  getResetProgressQuery,
  rollbackResetUpdate,
  type InventoryResetInput,
  type ResetRollbackLine,
  type ResetStatus,
} from './messages';

const act = activitiesFor(
  'snapshotInventoryReset',
  'applyInventoryReset',
  'verifyInventoryReset',
  'rollbackInventoryReset',
);

export async function inventoryResetWorkflow(input: InventoryResetInput): Promise<ResetStatus> {
  let status: ResetStatus = 'PENDING';
  let rollbackOpen = false;
  let windowClosed = false;
  let rollback: { actorId: string; reason: string } | undefined;
  let rolledBack: ResetRollbackLine[] | undefined;

  setHandler(getResetProgressQuery, () => ({ status, rollbackOpen }));
  setHandler(
    rollbackResetUpdate,
    async (request) => {
      rollback ??= { actorId: request.actor.id, reason: request.reason };
      await condition(() => rolledBack !== undefined);
      return rolledBack!;
    },
    {
      validator: (request) => {
        if (!request.reason?.trim()) throw refusal(ErrorCode.VALIDATION_ERROR, 'A rollback needs a reason');
        // Taken while the reset is still being applied too: it then runs right after verification.
        if (status === 'REFUSED' || windowClosed || rollback)
          throw refusal(
            ErrorCode.INVALID_RESET_STATE,
            rollback ? 'The reset is already rolled back' : `A reset that is ${status} cannot be rolled back`,
            { status },
          );
      },
    },
  );

  await act.snapshotInventoryReset({ resetId: input.resetId });
  status = 'SNAPSHOTTED';
  try {
    await act.applyInventoryReset({ resetId: input.resetId });
  } catch (error) {
    status = 'REFUSED';
    throw businessFailure(error);
  }
  status = 'APPLIED';
  const { verified } = await act.verifyInventoryReset({ resetId: input.resetId });
  status = verified ? 'VERIFIED' : 'VERIFY_FAILED';

  rollbackOpen = true;
  await condition(() => rollback !== undefined, input.rollbackWindowMs);
  if (rollback) {
    rolledBack = await act.rollbackInventoryReset({ resetId: input.resetId, ...rollback });
    status = rolledBack.some((l) => l.status === 'REFUSED') ? 'PARTIALLY_ROLLED_BACK' : 'ROLLED_BACK';
  }
  rollbackOpen = false;
  windowClosed = true;
  return status;
}
