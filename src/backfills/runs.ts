/**
 * Starting, watching, pausing and resuming backfills: the one implementation the ops CLI (and
 * any admin route) calls. A backfill is the workflow `backfill-<name>-<backfillId>`; what it did
 * to each row is in `backfill_rows` (src/backfills/backfills.ts).
 */
import { randomUUID } from 'node:crypto';
import type { OperationsDeps } from '../platform/temporal';
import type { backfillWorkflow } from '../workflows/backfill/workflow';
import { backfillWorkflowId } from '../workflows/ids';
import { getBackfillQuery, pauseBackfillSignal, resumeBackfillSignal } from '../workflows/backfill/messages';
import { audit } from '../access/audit';
import { DomainError } from '../platform/errors';
import { ErrorCode } from '../workflows/vocabulary';
import { auditBackfillStarted, backfillFailures, backfillNames, isBackfillName } from './backfills';

export interface StartBackfill {
  name: string;
  dryRun: boolean;
  reason: string;
  batchSize?: number;
  batchesPerRun?: number;
  throttleMs?: number;
}

export async function startBackfill(deps: OperationsDeps, request: StartBackfill, actorId: string) {
  if (!isBackfillName(request.name))
    throw new DomainError(ErrorCode.VALIDATION_ERROR, `No backfill is named ${request.name}`, { known: backfillNames });
  const backfillId = randomUUID();
  const workflowId = backfillWorkflowId(request.name, backfillId);
  await deps.temporal.workflow.start<typeof backfillWorkflow>('backfillWorkflow', {
    workflowId,
    taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
    args: [
      {
        backfillId,
        name: request.name,
        dryRun: request.dryRun,
        batchSize: request.batchSize ?? 100,
        batchesPerRun: request.batchesPerRun ?? 50,
        throttleMs: request.throttleMs,
      },
    ],
  });
  await auditBackfillStarted(deps.prisma, { ...request, backfillId, workflowId, actorId });
  return { backfillId, workflowId };
}

/**
 * Where a backfill stands (following its continue-as-new runs), with the rows that failed and
 * why: a page of them in key order (`failuresAfter` the last key seen), `moreFailures` when more follow.
 */
export async function backfillStatus(
  deps: OperationsDeps,
  workflowId: string,
  page: { failuresAfter?: string; failuresLimit?: number } = {},
) {
  const handle = deps.temporal.workflow.getHandle(workflowId);
  const [view, described] = await Promise.all([handle.query(getBackfillQuery), handle.describe()]);
  const failed = await backfillFailures(deps.prisma, view.backfillId, {
    after: page.failuresAfter,
    limit: page.failuresLimit,
  });
  // The workflow's own status: a backfill terminated or failed by hand is no longer RUNNING, whatever its view says.
  return { ...view, workflowStatus: described.status.name, ...failed };
}

export async function controlBackfill(
  deps: OperationsDeps,
  workflowId: string,
  action: 'pause' | 'resume',
  reason: string,
  actorId: string,
) {
  const handle = deps.temporal.workflow.getHandle(workflowId);
  await handle.signal(action === 'pause' ? pauseBackfillSignal : resumeBackfillSignal, { adminId: actorId, reason });
  await audit(deps.prisma, {
    actorId,
    action: action === 'pause' ? 'BACKFILL_PAUSED' : 'BACKFILL_RESUMED',
    targetType: 'backfill',
    targetId: workflowId,
    reason,
  });
  return { workflowId, action };
}
