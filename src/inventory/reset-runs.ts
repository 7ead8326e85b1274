/**
 * Starting, reading and rolling back inventory resets: what the admin API and the ops CLI both
 * call. The reset's steps run in its workflow (inventory-reset-<resetId>); this module only
 * records the request, starts the workflow and hands it the rollback.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Config } from '../platform/config';
import type { PrismaClient } from '../platform/db';
import { ErrorCode, type Actor } from '../workflows/vocabulary';
import type { inventoryResetWorkflow } from '../workflows/inventory-reset/workflow';
import { rollbackResetUpdate, type ResetRollbackLine } from '../workflows/inventory-reset/messages';
import { DomainError } from '../platform/errors';
import { requestReset, resetView, type ResetRequest } from './resets';
import { inventoryResetWorkflowId } from '../workflows/ids';

export interface ResetDeps {
  prisma: PrismaClient;
  temporal: Client;
  config: Pick<Config, 'TEMPORAL_TASK_QUEUE' | 'INVENTORY_RESET_ROLLBACK_WINDOW'>;
}

/** Records the reset and starts its workflow; answers at once (the workflow reports its progress). */
export async function startReset(deps: ResetDeps, input: ResetRequest, actor: Actor) {
  const resetId = randomUUID();
  const workflowId = inventoryResetWorkflowId(resetId);
  await requestReset(deps.prisma, resetId, input, actor.id);
  await deps.temporal.workflow.start<typeof inventoryResetWorkflow>('inventoryResetWorkflow', {
    workflowId,
    taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
    args: [{ resetId, actor, rollbackWindowMs: deps.config.INVENTORY_RESET_ROLLBACK_WINDOW }],
  });
  return { resetId, workflowId };
}

export async function showReset(deps: Pick<ResetDeps, 'prisma'>, resetId: string) {
  return resetView(deps.prisma, resetId, inventoryResetWorkflowId(resetId));
}

/** Hands the rollback to the reset's workflow and answers each line's outcome. */
export async function rollbackResetRun(
  deps: ResetDeps,
  resetId: string,
  request: { actor: Actor; reason: string },
): Promise<{ resetId: string; status: string; lines: ResetRollbackLine[] }> {
  const view = await showReset(deps, resetId);
  if (view.rollback) return { resetId, status: view.status, lines: view.rollback };
  if (view.status !== 'VERIFIED' && view.status !== 'VERIFY_FAILED')
    throw new DomainError(ErrorCode.INVALID_RESET_STATE, `A reset that is ${view.status} cannot be rolled back`, {
      status: view.status,
    });
  const handle = deps.temporal.workflow.getHandle(view.workflowId);
  if ((await handle.describe()).status.name !== 'RUNNING')
    throw new DomainError(ErrorCode.INVALID_RESET_STATE, 'The reset is past its rollback window', {
      status: view.status,
    });
  const lines = await handle.executeUpdate(rollbackResetUpdate, { args: [request] });
  return { resetId, status: (await showReset(deps, resetId)).status, lines };
}
