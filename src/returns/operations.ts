/**
 * The actions on returns, one implementation each: a customer's request (the API), and an admin's
 * actions shared by the admin API (src/api/returns.ts) and the ops CLI (scripts/ops-returns.ts):
 * list, show, receive the goods, reject. Each goes through the return's workflow
 * (`return-<returnId>`): asking starts it and answers once the request is recorded or refused;
 * receiving and rejecting are its updates, whose activities write the audit entry under the
 * admin's id with the note or reason, so both callers are audited alike.
 */
import { WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Config } from '../platform/config';
import type { PrismaClient } from '../platform/db';
import { DomainError } from '../platform/errors';
import { returnWorkflowId } from '../workflows/ids';
import {
  receiveReturnUpdate,
  rejectReturnUpdate,
  requestReturnUpdate,
  type ReturnView,
  type ReturnWorkflowInput,
} from '../workflows/return/messages';
import type { returnWorkflow } from '../workflows/return/workflow';
import { ErrorCode, refusalCode } from '../workflows/vocabulary';
import { presentReturn } from './returns';

const productId = z.string().uuid();
const quantity = z.number().int().min(1).max(1000);
const reason = z.string().trim().min(1).max(500);
export const returnStatuses = ['REQUESTED', 'RECEIVED', 'REFUNDED', 'REFUND_FAILED', 'REJECTED', 'EXPIRED'] as const;

/** A customer's request (POST /api/orders/:id/returns). */
export const requestBody = z.object({ lines: z.array(z.object({ productId, quantity })).min(1).max(100), reason });
/** What arrived: each line's units by condition (fewer than asked for is fine). */
export const receiveBody = z.object({
  lines: z
    .array(z.object({ productId, quantity, condition: z.enum(['RESTOCK', 'DAMAGED']) }))
    .min(1)
    .max(200),
  refundShipping: z.boolean().optional(),
  note: z.string().trim().min(1).max(500).optional(),
});
export const rejectBody = z.object({ reason });
export const listQuery = z.object({
  status: z.enum(returnStatuses).optional(),
  orderId: z.string().uuid().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

interface Deps {
  prisma: PrismaClient;
  temporal: Client;
}

async function stored(prisma: PrismaClient, returnId: string) {
  const ret = await prisma.return.findUnique({ where: { id: returnId }, include: { lines: true } });
  if (!ret) throw new DomainError(ErrorCode.RETURN_NOT_FOUND, `No return ${returnId}`);
  return ret;
}

/** A return still waiting for its goods, or 409 INVALID_RETURN_STATE. */
async function waiting(prisma: PrismaClient, returnId: string) {
  const ret = await stored(prisma, returnId);
  if (ret.status !== 'REQUESTED')
    throw new DomainError(ErrorCode.INVALID_RETURN_STATE, `The return is ${ret.status}`, { status: ret.status });
  return ret;
}

/**
 * A customer asks to return lines of their delivered order: starts `return-<returnId>` and answers
 * once the request is recorded, or refuses it as the workflow did. The same product twice is one
 * line with the summed quantity.
 */
export async function askForReturn(
  deps: Deps & {
    config: Pick<
      Config,
      | 'TEMPORAL_TASK_QUEUE'
      | 'RETURN_WINDOW'
      | 'RETURN_RECEIVE_WITHIN'
      | 'REFUND_REMINDER_AFTER'
      | 'REFUND_SETTLE_CHECK_AFTER'
    >;
  },
  request: { orderId: string; customerId: string } & z.infer<typeof requestBody>,
): Promise<{ returnId: string; view: ReturnView }> {
  const { prisma, temporal, config } = deps;
  const { orderId } = request;
  const order = await prisma.order.findUnique({ where: { id: orderId }, select: { customerId: true } });
  if (!order) throw new DomainError(ErrorCode.ORDER_NOT_FOUND, `No order ${orderId}`);
  if (order.customerId !== request.customerId)
    throw new DomainError(ErrorCode.FORBIDDEN, 'This order belongs to another customer');
  const quantities = new Map<string, number>();
  for (const line of request.lines)
    quantities.set(line.productId, (quantities.get(line.productId) ?? 0) + line.quantity);
  const returnId = randomUUID();
  const input: ReturnWorkflowInput = {
    returnId,
    orderId,
    customerId: request.customerId,
    lines: [...quantities].map(([p, q]) => ({ productId: p, quantity: q })),
    reason: request.reason,
    returnWindowMs: config.RETURN_WINDOW,
    receiveWithinMs: config.RETURN_RECEIVE_WITHIN,
    refundReminderAfterMs: config.REFUND_REMINDER_AFTER,
    refundSettleCheckAfterMs: config.REFUND_SETTLE_CHECK_AFTER,
  };
  const start = new WithStartWorkflowOperation<typeof returnWorkflow>('returnWorkflow', {
    workflowId: returnWorkflowId(returnId),
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    args: [input],
    workflowIdConflictPolicy: 'FAIL',
  });
  let view: ReturnView;
  try {
    view = await temporal.workflow.executeUpdateWithStart(requestReturnUpdate, { startWorkflowOperation: start });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    view = await temporal.workflow.getHandle(returnWorkflowId(returnId)).result();
  }
  if (view.status === 'REFUSED')
    throw new DomainError(
      refusalCode(view.failureCode, ErrorCode.RETURN_REFUSED),
      view.failureReason ?? 'refused',
      view.failureDetails,
    );
  return { returnId, view };
}

export async function showReturn(prisma: PrismaClient, returnId: string) {
  return presentReturn(await stored(prisma, returnId));
}

/** The goods arrived: restocked, and the received lines refunded, by the return's workflow. */
export async function receiveReturnGoods(
  deps: Deps,
  returnId: string,
  receipt: z.infer<typeof receiveBody>,
  adminId: string,
): Promise<ReturnView> {
  const ret = await waiting(deps.prisma, returnId);
  return deps.temporal.workflow
    .getHandle(returnWorkflowId(ret.id))
    .executeUpdate(receiveReturnUpdate, { args: [{ adminId, ...receipt }] });
}

export async function rejectReturn(deps: Deps, returnId: string, reason: string, adminId: string): Promise<ReturnView> {
  const ret = await waiting(deps.prisma, returnId);
  return deps.temporal.workflow
    .getHandle(returnWorkflowId(ret.id))
    .executeUpdate(rejectReturnUpdate, { args: [{ adminId, reason }] });
}
