/**
 * Refund requests and admin decisions, one implementation each for the admin API and the ops CLI
 * (the runbook's "Refund Request Submitted"): a refund is the workflow `refund-<refundId>`; asking
 * for one starts it and answers once the request is recorded or refused; an admin's manual refund
 * is approved as it is asked and audited here; approve, reject, release and cancel are the
 * workflow's updates, refused here first when the stored refund is not in a state to take them;
 * and the admins' list of refunds.
 */
import { WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { audit } from '../access/audit';
import type { RequestSeals } from '../access/request-seals';
import type { Config } from '../platform/config';
import { DomainError } from '../platform/errors';
import { idFromKey, keyReused } from '../platform/idempotency';
import { holdDecisionAuditId } from './hold-decisions';
import type { OperationsDeps } from '../platform/temporal';
import { refundWorkflowId } from '../workflows/ids';
import {
  approveRefundUpdate,
  decideHeldRefundUpdate,
  rejectRefundUpdate,
  requestRefundUpdate,
  type RefundDestination,
  type RefundStatus,
  type RefundView,
  type RefundWorkflowInput,
} from '../workflows/refund/messages';
import type { refundWorkflow } from '../workflows/refund/workflow';
import { ErrorCode, refusalCode, type Actor } from '../workflows/vocabulary';

export type RefundDeps = Omit<OperationsDeps, 'config'> & {
  config: Pick<
    Config,
    'TEMPORAL_TASK_QUEUE' | 'REFUND_AUTO_APPROVE_TRUSTED' | 'REFUND_REMINDER_AFTER' | 'REFUND_SETTLE_CHECK_AFTER'
  >;
};

export type RefundRequest = Omit<
  RefundWorkflowInput,
  'refundId' | 'orderId' | 'autoApproveTrusted' | 'reminderAfterMs' | 'settleCheckAfterMs'
>;

const MANUAL_REFUND_NAMESPACE = '5b0f6a9e-3f52-4f43-9d1c-1d0c1a6b7e21';
/** Names a manual refund after the admin, the order and the client's Idempotency-Key. */
export const manualRefundId = (adminId: string, orderId: string, key: string) =>
  idFromKey(MANUAL_REFUND_NAMESPACE, adminId, orderId, key);
const CUSTOMER_REFUND_NAMESPACE = '0d3c9f4e-7a61-4b8e-9e2f-6c5b1a7d3e90';
/** Names a customer's refund request after the customer, the order and the client's Idempotency-Key. */
export const customerRefundId = (customerId: string, orderId: string, key: string) =>
  idFromKey(CUSTOMER_REFUND_NAMESPACE, customerId, orderId, key);

/** A refused refund answered again (a retry of it) is refused again, as it was the first time. */
function refuseIfRefused(refund: RefundView): void {
  if (refund.status === 'REFUSED')
    throw new DomainError(
      refusalCode(refund.failureCode, ErrorCode.REFUND_REFUSED),
      refund.failureReason ?? 'The refund was refused',
      refund.failureDetails,
    );
}

/** Whether the refund a key names was asked for otherwise (amount, reason, destination): a key reused. */
function askedOtherwise(
  refund: RefundView,
  asked: { amount?: number; reason: string; destination?: RefundDestination },
): boolean {
  return (
    (asked.amount !== undefined && refund.amount !== asked.amount) ||
    refund.reason !== asked.reason ||
    (!!asked.destination && !!refund.destination && refund.destination !== asked.destination)
  );
}

/** A refund as the API and the CLI show it. */
export function presentRefund(refund: RefundView) {
  return {
    refundId: refund.refundId,
    orderId: refund.orderId,
    status: refund.status,
    amount: refund.amount,
    currency: refund.currency,
    destination: refund.destination,
    decidedBy: refund.decidedBy,
    walletCredited: refund.walletCredited ?? 0,
    stripeRefundId: refund.providerRefundId ?? null,
    ...(refund.failureReason ? { failureReason: refund.failureReason } : {}),
    ...(refund.heldFor ? { heldFor: refund.heldFor } : {}),
  };
}

/** Refunds for the admin list, oldest first (the one waiting longest at the top). */
export async function listRefunds(
  prisma: OperationsDeps['prisma'],
  filter: { status?: RefundStatus; orderId?: string; limit?: number },
) {
  return prisma.refund.findMany({
    where: { status: filter.status, orderId: filter.orderId },
    orderBy: { createdAt: 'asc' },
    take: filter.limit,
  });
}

/** The order a refund is asked for: ORDER_NOT_FOUND when there is none. */
export async function refundableOrder(prisma: OperationsDeps['prisma'], orderId: string) {
  const order = await prisma.order.findUnique({ where: { id: orderId } });
  if (!order) throw new DomainError(ErrorCode.ORDER_NOT_FOUND, `No order ${orderId}`);
  return order;
}

/**
 * Starts `refund-<refundId>` and answers once the request is recorded (or refused). A retried
 * request (same refund id) joins the refund it started, running or finished: never a second one.
 */
export async function requestRefund(
  deps: RefundDeps,
  orderId: string,
  request: RefundRequest,
  refundId: string = randomUUID(),
): Promise<RefundView> {
  const { temporal, config } = deps;
  const input: RefundWorkflowInput = {
    refundId,
    orderId,
    ...request,
    autoApproveTrusted: config.REFUND_AUTO_APPROVE_TRUSTED,
    reminderAfterMs: config.REFUND_REMINDER_AFTER,
    settleCheckAfterMs: config.REFUND_SETTLE_CHECK_AFTER,
  };
  const start = new WithStartWorkflowOperation<typeof refundWorkflow>('refundWorkflow', {
    workflowId: refundWorkflowId(refundId),
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
  });
  try {
    return await temporal.workflow.executeUpdateWithStart(requestRefundUpdate, { startWorkflowOperation: start });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    return temporal.workflow.getHandle<typeof refundWorkflow>(refundWorkflowId(refundId)).result(); // it has finished
  }
}

/**
 * A customer asks for a refund of their order. With `key` (the client's Idempotency-Key) a retry
 * after a timeout or a 503 answers the request it made (the same body; another body under the key
 * is IDEMPOTENCY_KEY_REUSED); without one a retry is refused with REFUND_PENDING while the first
 * one waits.
 */
export async function askForRefund(
  deps: RefundDeps,
  input: {
    orderId: string;
    customerId: string;
    amount?: number;
    reason: string;
    destination?: RefundDestination;
    key?: string;
  },
) {
  const order = await refundableOrder(deps.prisma, input.orderId);
  if (order.customerId !== input.customerId)
    throw new DomainError(ErrorCode.FORBIDDEN, 'This order belongs to another customer');
  const { amount, reason, destination, key } = input;
  const refundId = key ? customerRefundId(input.customerId, order.id, key) : randomUUID();
  const refund = await requestRefund(
    deps,
    order.id,
    { amount, reason, destination, requestedBy: { id: input.customerId, role: 'CUSTOMER' } },
    refundId,
  );
  if (key && askedOtherwise(refund, { amount, reason, destination }))
    throw keyReused('refund request', { refundId: refund.refundId });
  refuseIfRefused(refund);
  return presentRefund(refund);
}

/**
 * An admin refunds an order: approved as it is asked, audited (once per refund id). `refundId`
 * named after a client's key makes a retry find the refund instead of paying out again; the same
 * key for another amount, reason or destination is IDEMPOTENCY_KEY_REUSED, and a retry of a
 * refused refund is refused again, as it was the first time.
 */
export async function issueRefund(
  deps: RefundDeps,
  input: {
    orderId: string;
    amount: number;
    reason: string;
    destination?: RefundDestination;
    adminId: string;
    refundId?: string;
  },
) {
  const order = await refundableOrder(deps.prisma, input.orderId);
  const actor: Actor = { id: input.adminId, role: 'ADMIN' };
  const refundId = input.refundId ?? randomUUID();
  const { amount, reason, destination } = input;
  const refund = await requestRefund(
    deps,
    order.id,
    { amount, reason, destination, requestedBy: actor, approvedBy: actor },
    refundId,
  );
  if (askedOtherwise(refund, { amount, reason, destination })) throw keyReused('refund', { refundId: refund.refundId });
  refuseIfRefused(refund);
  const shown = presentRefund(refund);
  await audit(deps.prisma, {
    id: refundId,
    actorId: actor.id,
    action: 'REFUND_ISSUED',
    targetType: 'order',
    targetId: order.id,
    reason,
    after: shown,
  });
  return shown;
}

async function storedRefund(prisma: OperationsDeps['prisma'], refundId: string) {
  const stored = await prisma.refund.findUnique({ where: { id: refundId } });
  if (!stored) throw new DomainError(ErrorCode.REFUND_NOT_FOUND, `No refund ${refundId}`);
  return stored;
}

/**
 * An admin approves or rejects a refund waiting for a decision. The decision's audit entry is
 * written by the workflow's recordRefundDecision, however the decision was sent; it carries the
 * sender's seal (src/access/request-seals.ts), so the workflow tells it from a decision typed into
 * Temporal (a signal from the Web UI, an update from the CLI).
 */
export async function decideRefund(
  deps: Omit<OperationsDeps, 'config'> & { seals: RequestSeals },
  input: { refundId: string; approve: boolean; adminId: string; reason: string },
) {
  const stored = await storedRefund(deps.prisma, input.refundId);
  if (stored.status !== 'PENDING_APPROVAL') {
    throw new DomainError(ErrorCode.REFUND_ALREADY_DECIDED, `The refund is already ${stored.status}`, {
      status: stored.status,
    });
  }
  const update = input.approve ? approveRefundUpdate : rejectRefundUpdate;
  const decision = { adminId: input.adminId, reason: input.reason };
  const apiSeal = deps.seals.seal(refundWorkflowId(stored.id), update.name, decision);
  const refund = await deps.temporal.workflow
    .getHandle(refundWorkflowId(stored.id))
    .executeUpdate(update, { args: [{ ...decision, apiSeal }] });
  return presentRefund(refund);
}

/**
 * A refund held because its order's payment is disputed: paid out (`release`) or cancelled. The
 * update carries the API's seal; the workflow audits the decision (src/refunds/hold-decisions.ts)
 * and says so in its answer. One that did not (started before patch refund-hold-decision-audited,
 * run by a worker of the release before) is audited here, under the same id.
 */
export async function decideHeldRefund(
  deps: Omit<OperationsDeps, 'config'> & { seals: RequestSeals },
  input: { refundId: string; release: boolean; adminId: string; reason: string },
) {
  const stored = await storedRefund(deps.prisma, input.refundId);
  if (stored.status !== 'APPROVED')
    throw new DomainError(ErrorCode.REFUND_NOT_HELD, `The refund is ${stored.status}`, { status: stored.status });
  const workflowId = refundWorkflowId(stored.id);
  const decision = { adminId: input.adminId, reason: input.reason, release: input.release };
  const apiSeal = deps.seals.seal(workflowId, decideHeldRefundUpdate.name, decision);
  const refund = await deps.temporal.workflow
    .getHandle(workflowId)
    .executeUpdate(decideHeldRefundUpdate, { args: [{ ...decision, apiSeal }] });
  if (!refund.holdDecisionAudited)
    await audit(deps.prisma, {
      id: holdDecisionAuditId(stored.id),
      actorId: input.adminId,
      action: input.release ? 'REFUND_RELEASED' : 'REFUND_CANCELLED',
      targetType: 'refund',
      targetId: stored.id,
      reason: input.reason,
      before: { status: 'APPROVED', heldFor: 'dispute' },
      after: { status: refund.status },
    });
  return presentRefund(refund);
}
