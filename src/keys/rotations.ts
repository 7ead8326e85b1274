/**
 * Key rotation operations (the runbook's "Rotate API Keys"), shared by the admin API and the ops
 * CLI: start a rotation, hand it the new secret from a provider's dashboard, confirm a manual
 * step, and see where it stands. Each is audited with the admin's id (a manual step's
 * confirmation by the workflow, which checks who it names).
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { DomainError } from '../platform/errors';
import { audit } from '../access/audit';
import type { RequestSeals } from '../access/request-seals';
import { idFromKey } from '../platform/idempotency';
import { jwtRotationGrace, type Config } from '../platform/config';
import { Keyring, type Rewrapped, type RazorpayKey, type SecretPurpose } from './keyring';
import {
  confirmManualStepUpdate,
  getKeyRotationQuery,
  supplyNewSecretUpdate,
  type KeyRotationInput,
  type KeyRotationView,
} from '../workflows/key-rotation/messages';
import { ErrorCode, suppliedKeyPurposes } from '../workflows/vocabulary';
import { keyRotationIdPrefix, keyRotationPurpose, keyRotationWorkflowId } from '../workflows/ids';
import type { keyRotationWorkflow } from '../workflows/key-rotation/workflow';
import { txOptions, type PrismaClient } from '../platform/db';
import type { OperationsDeps } from '../platform/temporal';

export type KeyOperationsDeps = Omit<OperationsDeps, 'config'> & {
  config: Pick<
    Config,
    | 'TEMPORAL_TASK_QUEUE'
    | 'JWT_ROTATION_GRACE'
    | 'JWT_TTL'
    | 'KEY_ROTATION_GRACE'
    | 'KEY_ROTATION_STEP_TIMEOUT'
    | 'DATABASE_PASSWORD_GRACE'
    | 'DATABASE_LOGIN_REFRESH'
  > &
    ConstructorParameters<typeof Keyring>[1];
};

/** How long each purpose's old key is still accepted once the new one is active. */
function graceFor(purpose: SecretPurpose, config: KeyOperationsDeps['config']): number {
  if (purpose === 'JWT_SIGNING') return jwtRotationGrace(config);
  // Every process must have moved to the new login before the old one's password goes.
  if (purpose === 'DATABASE_PASSWORD')
    return Math.max(config.DATABASE_PASSWORD_GRACE, 2 * config.DATABASE_LOGIN_REFRESH);
  return config.KEY_ROTATION_GRACE;
}

export async function startKeyRotation(
  deps: KeyOperationsDeps,
  request: { purpose: SecretPurpose; revokeSessions: boolean; reason: string },
  actorId: string,
): Promise<{ rotationId: string; workflowId: string; purpose: SecretPurpose; graceMs: number }> {
  if (request.revokeSessions && request.purpose !== 'JWT_SIGNING') {
    throw new DomainError(ErrorCode.VALIDATION_ERROR, 'revokeSessions applies to JWT_SIGNING only', {
      fields: [{ path: 'revokeSessions', message: 'JWT_SIGNING only' }],
    });
  }
  const rotationId = randomUUID();
  const workflowId = keyRotationWorkflowId(request.purpose, rotationId);
  const input: KeyRotationInput = {
    purpose: request.purpose,
    requestedBy: { id: actorId, role: 'ADMIN' },
    reason: request.reason,
    revokeSessions: request.revokeSessions,
    graceMs: graceFor(request.purpose, deps.config),
    stepTimeoutMs: deps.config.KEY_ROTATION_STEP_TIMEOUT,
  };
  // One start per purpose at a time (a lock held until the start is audited), so a second admin
  // pressing the button a moment later sees the first rotation and is refused.
  await deps.prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`key-rotation:${request.purpose}`}))`;
    await refuseWhileRotating(deps, tx, request.purpose);
    await deps.temporal.workflow.start<typeof keyRotationWorkflow>('keyRotationWorkflow', {
      workflowId,
      taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
      args: [input],
    });
    await audit(tx, {
      actorId,
      action: 'KEY_ROTATION_STARTED',
      targetType: 'key_rotation',
      targetId: workflowId,
      reason: request.reason,
      after: { purpose: request.purpose, revokeSessions: request.revokeSessions, graceMs: input.graceMs },
    });
  }, txOptions);
  return { rotationId, workflowId, purpose: request.purpose, graceMs: input.graceMs };
}

/**
 * One rotation per purpose at a time: two would promote over each other and retire a key the
 * provider still signs with. JWT keys are exempt: each rotation retires only the key it replaced,
 * and the Schedule starts them regardless.
 */
async function refuseWhileRotating(
  deps: KeyOperationsDeps,
  tx: Pick<PrismaClient, 'auditLog'>,
  purpose: SecretPurpose,
): Promise<void> {
  if (purpose === 'JWT_SIGNING') return;
  const refuse = (workflowId: string) =>
    new DomainError(
      ErrorCode.ROTATION_IN_PROGRESS,
      `${purpose} is being rotated by ${workflowId}; finish or cancel it first`,
      { workflowId },
    );
  // The latest starts, from the audit log (written under the lock) and described directly:
  // visibility can lag a rotation started a moment ago.
  const recent = await tx.auditLog.findMany({
    where: { action: 'KEY_ROTATION_STARTED', targetId: { startsWith: keyRotationIdPrefix(purpose) } },
    orderBy: { createdAt: 'desc' },
    take: 5,
  });
  for (const { targetId } of recent) {
    const running = await deps.temporal.workflow
      .getHandle(targetId!)
      .describe()
      .then((d) => d.status.name === 'RUNNING' && d.taskQueue === deps.config.TEMPORAL_TASK_QUEUE)
      .catch((error: unknown) => (error instanceof WorkflowNotFoundError ? false : Promise.reject(error)));
    if (running) throw refuse(targetId!);
  }
  // This deployment's rotations: its task queue (another shop may share the namespace).
  const query = `WorkflowType = 'keyRotationWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = '${deps.config.TEMPORAL_TASK_QUEUE}' AND WorkflowId STARTS_WITH '${keyRotationIdPrefix(purpose)}'`;
  for await (const running of deps.temporal.workflow.list({ query, pageSize: 1 })) throw refuse(running.workflowId);
}

const ROTATION_STEP_NAMESPACE = '3d8e1f52-6b7a-4c09-9e4d-71a5c2f8b610';
/** The audit entry's id of a step a rotation takes once, named by `onceFor` (a manual step's confirmation: its id). */
export const rotationStepAuditId = (rotationId: string, action: string, onceFor: string) =>
  idFromKey(ROTATION_STEP_NAMESPACE, rotationId, action, onceFor);

/**
 * A step of a running rotation, in the audit log as the workflow reports it (who, what, why);
 * with `onceFor`, once (the workflow and the API write a manual step's confirmation under one id).
 */
export async function auditRotationStep(
  prisma: Pick<PrismaClient, 'auditLog'>,
  step: {
    actorId: string;
    action: string;
    rotationId: string;
    reason?: string;
    after?: Record<string, unknown>;
    onceFor?: string;
  },
): Promise<void> {
  await audit(prisma, {
    id: step.onceFor ? rotationStepAuditId(step.rotationId, step.action, step.onceFor) : undefined,
    actorId: step.actorId,
    action: step.action,
    targetType: 'key_rotation',
    targetId: step.rotationId,
    reason: step.reason,
    after: step.after,
  });
}

/** The purpose a rotation's workflow id names, or 404. */
export function rotationPurpose(workflowId: string): SecretPurpose {
  const purpose = keyRotationPurpose(workflowId);
  if (!purpose) throw new DomainError(ErrorCode.ROTATION_NOT_FOUND, `No key rotation ${workflowId}`);
  return purpose;
}

export async function keyRotationView(
  deps: Pick<OperationsDeps, 'temporal'>,
  workflowId: string,
): Promise<KeyRotationView> {
  rotationPurpose(workflowId);
  try {
    return await deps.temporal.workflow.getHandle(workflowId).query(getKeyRotationQuery);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError)
      throw new DomainError(ErrorCode.ROTATION_NOT_FOUND, `No key rotation ${workflowId}`);
    throw error;
  }
}

/**
 * The new secret from the provider's dashboard: staged (encrypted) in the keyring here, so only
 * its kid travels through Temporal. A rotation that does not take it leaves it RETIRED, unused.
 */
export async function supplyRotationSecret(
  deps: KeyOperationsDeps,
  workflowId: string,
  value: { secret: string } | RazorpayKey,
  actorId: string,
): Promise<KeyRotationView> {
  const purpose = rotationPurpose(workflowId);
  if (!suppliedKeyPurposes.includes(purpose)) {
    throw new DomainError(
      ErrorCode.SECRET_NOT_SUPPLIED,
      `${purpose} keys are generated by the rotation itself; there is nothing to supply`,
    );
  }
  const isPair = purpose === 'RAZORPAY_KEY';
  if (isPair !== !('secret' in value)) {
    const fields = isPair ? ['keyId', 'keySecret'] : ['secret'];
    throw new DomainError(ErrorCode.VALIDATION_ERROR, `${purpose} takes ${fields.join(' and ')}`, {
      fields: fields.map((path) => ({ path, message: 'Required' })),
    });
  }
  const view = await keyRotationView(deps, workflowId);
  if (view.step !== 'AWAITING_SECRET' || view.newKid)
    throw new DomainError(
      ErrorCode.INVALID_ROTATION_STATE,
      `The rotation is ${view.step}${view.newKid ? ` with its new secret ${view.newKid}` : ''}; it does not take a new secret now`,
    );

  const keyring = new Keyring(deps.prisma, deps.config);
  const { kid } = await keyring.stage(
    purpose,
    randomUUID(),
    'secret' in value ? value.secret : JSON.stringify({ keyId: value.keyId, keySecret: value.keySecret }),
  );
  try {
    return await deps.temporal.workflow
      .getHandle(workflowId)
      .executeUpdate(supplyNewSecretUpdate, { args: [{ kid, actor: { id: actorId, role: 'ADMIN' } }] });
  } catch (error) {
    await keyring.retire(kid); // refused (another admin was faster): never used
    throw error;
  }
}

/**
 * An admin confirms a manual step. The update carries the sender's seal (src/access/request-seals.ts);
 * the workflow checks the admin, audits the confirmation and marks the step `audited`. One that
 * did not (started before patch manual-step-update-audited, run by a worker of the release
 * before) is audited here, under the same id.
 */
export async function confirmRotationStep(
  deps: OperationsDeps & { seals: RequestSeals },
  workflowId: string,
  stepId: string,
  note: string | undefined,
  actorId: string,
): Promise<KeyRotationView> {
  const before = await keyRotationView(deps, workflowId);
  if (before.step === 'DONE' || before.step === 'ROLLED_BACK')
    throw new DomainError(ErrorCode.INVALID_ROTATION_STATE, `The rotation is ${before.step}`);
  // The workflow's validator refuses an unknown step (404) or one that is not open (409).
  const confirmation = { stepId, adminId: actorId, note };
  const apiSeal = deps.seals.seal(workflowId, confirmManualStepUpdate.name, confirmation);
  const view = await deps.temporal.workflow
    .getHandle(workflowId)
    .executeUpdate(confirmManualStepUpdate, { args: [{ ...confirmation, apiSeal }] });
  if (view.manualSteps.find((s) => s.id === stepId)?.audited) return view;
  await audit(deps.prisma, {
    id: rotationStepAuditId(workflowId, 'KEY_MANUAL_STEP_CONFIRMED', stepId),
    actorId,
    action: 'KEY_MANUAL_STEP_CONFIRMED',
    targetType: 'key_rotation',
    targetId: workflowId,
    reason: note,
    after: { stepId },
  });
  return view;
}

/** Cancels a rotation: before its new key is promoted it rolls back; after, it finishes regardless. */
export async function cancelKeyRotation(
  deps: OperationsDeps,
  workflowId: string,
  reason: string,
  actorId: string,
): Promise<KeyRotationView> {
  const before = await keyRotationView(deps, workflowId);
  if (before.step === 'DONE' || before.step === 'ROLLED_BACK')
    throw new DomainError(ErrorCode.INVALID_ROTATION_STATE, `The rotation is ${before.step}`);
  await deps.temporal.workflow.getHandle(workflowId).cancel();
  await audit(deps.prisma, {
    actorId,
    action: 'KEY_ROTATION_CANCEL_REQUESTED',
    targetType: 'key_rotation',
    targetId: workflowId,
    reason,
    before: { step: before.step },
  });
  return before;
}

/**
 * Re-encrypts the keyring under MASTER_KEY_ID's keyring subkey (master key rotation, and secrets
 * still sealed the old way, under the master key without AAD), audited. Running it again moves nothing.
 */
export async function rewrapKeyring(
  deps: KeyOperationsDeps,
  reason: string,
  actorId: string,
): Promise<{ masterKeyId: string; rewrapped: Rewrapped[] }> {
  const { rewrapped } = await new Keyring(deps.prisma, deps.config).rewrap();
  await audit(deps.prisma, {
    actorId,
    action: 'KEYRING_REWRAPPED',
    targetType: 'keyring',
    targetId: deps.config.MASTER_KEY_ID,
    reason,
    after: { rewrapped },
  });
  return { masterKeyId: deps.config.MASTER_KEY_ID, rewrapped };
}

export interface RotationSummary {
  workflowId: string;
  purpose: SecretPurpose;
  status: string;
  startedAt: string;
  closedAt?: string;
}

/** This deployment's rotations, newest first, from Temporal's visibility. */
export async function listKeyRotations(
  deps: KeyOperationsDeps,
  filter: { purpose?: SecretPurpose; limit: number },
): Promise<RotationSummary[]> {
  const clauses = [`WorkflowType = 'keyRotationWorkflow'`, `TaskQueue = '${deps.config.TEMPORAL_TASK_QUEUE}'`];
  if (filter.purpose) clauses.push(`WorkflowId STARTS_WITH 'key-rotation-${filter.purpose}-'`);
  const rotations: RotationSummary[] = [];
  for await (const run of deps.temporal.workflow.list({ query: clauses.join(' AND '), pageSize: filter.limit })) {
    rotations.push({
      workflowId: run.workflowId,
      purpose: rotationPurpose(run.workflowId),
      status: run.status.name,
      startedAt: run.startTime.toISOString(),
      closedAt: run.closeTime?.toISOString(),
    });
    if (rotations.length >= filter.limit) break;
  }
  return rotations;
}
