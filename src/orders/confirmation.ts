/**
 * The runbook's "admin re-sends the order confirmation": for a confirmed order (confirmed, and
 * neither cancelled nor refunded since), audited with who and why, sent by a short workflow
 * (order-email-<orderId>-<sendId>) so an SMTP hiccup is retried and the mail goes once.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Config } from '../platform/config';
import type { PrismaClient } from '../platform/db';
import { audit } from '../access/audit';
import { ErrorCode } from '../workflows/vocabulary';
import type { orderEmailWorkflow } from '../workflows/order-email/workflow';
import { orderEmailWorkflowId } from '../workflows/order-email/messages';
import { DomainError } from '../platform/errors';

const confirmedStatuses = new Set(['CONFIRMED', 'SHIPPED', 'DELIVERED', 'PARTIALLY_REFUNDED']);

export async function resendConfirmation(
  deps: { prisma: PrismaClient; temporal: Client; config: Pick<Config, 'TEMPORAL_TASK_QUEUE'> },
  input: { orderId: string; actorId: string; reason: string },
) {
  const order = await deps.prisma.order.findUnique({ where: { id: input.orderId } });
  if (!order) throw new DomainError(ErrorCode.ORDER_NOT_FOUND, `No order ${input.orderId}`);
  if (!order.confirmedAt || !confirmedStatuses.has(order.status))
    throw new DomainError(
      ErrorCode.INVALID_ORDER_STATE,
      `Order is ${order.status}: only a confirmed order's confirmation is re-sent`,
      {
        status: order.status,
      },
    );
  const sendId = randomUUID();
  const workflowId = orderEmailWorkflowId(order.id, sendId);
  await audit(deps.prisma, {
    id: sendId,
    actorId: input.actorId,
    action: 'ORDER_CONFIRMATION_RESENT',
    targetType: 'order',
    targetId: order.id,
    reason: input.reason,
    after: { workflowId },
  });
  await deps.temporal.workflow.start<typeof orderEmailWorkflow>('orderEmailWorkflow', {
    workflowId,
    taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
    args: [{ orderId: order.id, kind: 'ORDER_CONFIRMED', sendId }],
  });
  return { orderId: order.id, sendId, workflowId };
}
