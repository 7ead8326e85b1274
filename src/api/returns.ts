/**
 * Returns over HTTP (DESIGN.md "Returns and disputes"): a customer asks, an admin receives or
 * rejects, admins list them. The workflow `return-<returnId>` decides; this is HTTP only.
 */
import { WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { listReturns } from '../returns/returns';
import {
  listQuery,
  receiveBody,
  receiveReturnGoods,
  rejectBody,
  rejectReturn,
  requestBody,
  showReturn,
} from '../returns/operations';
import { returnWorkflowId } from '../workflows/ids';
import { requestReturnUpdate, type ReturnView, type ReturnWorkflowInput } from '../workflows/return/messages';
import type { returnWorkflow } from '../workflows/return/workflow';
import { authenticate, currentUser, requireRole } from './auth';
import type { ApiDeps } from './deps';
import { DomainError } from '../platform/errors';
import { ErrorCode, refusalCode } from '../workflows/vocabulary';
import { parse } from './errors';

export { listQuery, receiveBody, rejectBody, requestBody } from '../returns/operations';
export const idParams = z.object({ id: z.string().uuid() });

export function returnsRouter(deps: ApiDeps): Router {
  const { prisma, temporal, config } = deps;
  const router = Router();
  const auth = authenticate(deps);
  const admin = [auth, requireRole('ADMIN')];

  router.post('/api/orders/:id/returns', auth, requireRole('CUSTOMER'), async (req, res) => {
    const body = parse(requestBody, req.body);
    const { id: orderId } = parse(idParams, req.params);
    const user = currentUser(req);
    const order = await prisma.order.findUnique({ where: { id: orderId }, select: { customerId: true } });
    if (!order) throw new DomainError(ErrorCode.ORDER_NOT_FOUND, `No order ${orderId}`);
    if (order.customerId !== user.id)
      throw new DomainError(ErrorCode.FORBIDDEN, 'This order belongs to another customer');
    // The same product twice is one line with the summed quantity.
    const quantities = new Map<string, number>();
    for (const line of body.lines)
      quantities.set(line.productId, (quantities.get(line.productId) ?? 0) + line.quantity);
    const returnId = randomUUID();
    const input: ReturnWorkflowInput = {
      returnId,
      orderId,
      customerId: user.id,
      lines: [...quantities].map(([p, q]) => ({ productId: p, quantity: q })),
      reason: body.reason,
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
    res
      .status(202)
      .location(`/api/orders/${orderId}`) // the customer's view of the order lists its returns
      .json({ returnId, status: view.status, expiresAt: view.expiresAt, lines: view.lines });
  });

  router.get('/admin/returns', ...admin, async (req, res) => {
    res.json({ returns: await listReturns(prisma, parse(listQuery, req.query)) });
  });

  router.get('/admin/returns/:id', ...admin, async (req, res) => {
    res.json(await showReturn(prisma, parse(idParams, req.params).id));
  });

  // The audit entries are written by the workflow's activities, with the admin's id and reason.
  router.post('/admin/returns/:id/receive', ...admin, async (req, res) => {
    const body = parse(receiveBody, req.body);
    res.json(await receiveReturnGoods(deps, parse(idParams, req.params).id, body, currentUser(req).id));
  });

  router.post('/admin/returns/:id/reject', ...admin, async (req, res) => {
    const { reason: why } = parse(rejectBody, req.body);
    res.json(await rejectReturn(deps, parse(idParams, req.params).id, why, currentUser(req).id));
  });

  return router;
}
