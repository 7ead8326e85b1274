import { WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { audit } from '../access/audit';
import { creditWallet } from '../refunds/wallet';
import {
  approveRefundUpdate,
  decideHeldRefundUpdate,
  rejectRefundUpdate,
  requestRefundUpdate,
  type RefundView,
  type RefundWorkflowInput,
} from '../workflows/refund/messages';
import { ErrorCode, refusalCode, type Actor } from '../workflows/vocabulary';
import type { refundWorkflow } from '../workflows/refund/workflow';
import { authenticate, currentUser, requireRole } from './auth';
import type { ApiDeps } from './deps';
import { DomainError } from '../platform/errors';
import { parse } from './errors';
import { idempotencyKeyOf, idFromKey, keyReused } from './idempotency';
import { refundWorkflowId } from '../workflows/ids';

const amount = z.number().int().positive().max(100_000_000);
const reason = z.string().trim().min(1).max(500);
const destination = z.enum(['WALLET', 'ORIGINAL_PAYMENT']);
export const customerRequest = z.object({ amount: amount.optional(), reason, destination: destination.optional() });
export const adminRequest = z.object({ amount, reason, destination: destination.optional() });
export const decisionBody = z.object({ reason });
export const idParams = z.object({ id: z.string().uuid() });
export const userParams = z.object({ userId: z.string().uuid() });
export const creditBody = z.object({
  amount,
  reason,
  currency: z
    .string()
    .regex(/^[A-Za-z]{3}$/)
    .transform((c) => c.toUpperCase())
    .optional(),
});
const MANUAL_REFUND_NAMESPACE = '5b0f6a9e-3f52-4f43-9d1c-1d0c1a6b7e21';
/** Names a manual refund after the admin, the order and the client's Idempotency-Key. */
export const manualRefundId = (adminId: string, orderId: string, key: string) =>
  idFromKey(MANUAL_REFUND_NAMESPACE, adminId, orderId, key);
const CUSTOMER_REFUND_NAMESPACE = '0d3c9f4e-7a61-4b8e-9e2f-6c5b1a7d3e90';
/** Names a customer's refund request after the customer, the order and the client's Idempotency-Key. */
export const customerRefundId = (customerId: string, orderId: string, key: string) =>
  idFromKey(CUSTOMER_REFUND_NAMESPACE, customerId, orderId, key);
export const listQuery = z.object({
  status: z.enum(['PENDING_APPROVAL', 'APPROVED', 'REJECTED', 'COMPLETED', 'FAILED']).optional(),
  orderId: z.string().uuid().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export function refundsRouter(deps: ApiDeps): Router {
  const { prisma, temporal, config } = deps;
  const router = Router();
  const auth = authenticate(deps);
  const admin = [auth, requireRole('ADMIN')];

  /**
   * Starts `refund-<refundId>` and answers once the request is recorded (or refused). A retried
   * request (same refund id) joins the refund it started, running or finished: never a second one.
   */
  async function startRefund(
    orderId: string,
    request: Omit<
      RefundWorkflowInput,
      'refundId' | 'orderId' | 'autoApproveTrusted' | 'reminderAfterMs' | 'settleCheckAfterMs'
    >,
    refundId: string = randomUUID(),
  ): Promise<RefundView> {
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

  async function orderFor(req: Request) {
    const { id } = parse(idParams, req.params);
    const order = await prisma.order.findUnique({ where: { id } });
    if (!order) throw new DomainError(ErrorCode.ORDER_NOT_FOUND, `No order ${id}`);
    return order;
  }

  const summary = (refund: RefundView) => ({
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
  });

  router.post('/api/orders/:id/refunds', auth, requireRole('CUSTOMER'), async (req, res) => {
    const body = parse(customerRequest, req.body);
    const order = await orderFor(req);
    const user = currentUser(req);
    if (order.customerId !== user.id)
      throw new DomainError(ErrorCode.FORBIDDEN, 'This order belongs to another customer');
    // A retried request (same Idempotency-Key, after a timeout or a 503) answers the request it
    // made; without a key a retry is refused with REFUND_PENDING while the first one waits.
    const key = idempotencyKeyOf(req);
    const refundId = key ? customerRefundId(user.id, order.id, key) : randomUUID();
    const refund = await startRefund(order.id, { ...body, requestedBy: { id: user.id, role: 'CUSTOMER' } }, refundId);
    if (
      key &&
      ((body.amount !== undefined && refund.amount !== body.amount) ||
        refund.reason !== body.reason ||
        (body.destination && refund.destination && refund.destination !== body.destination))
    ) {
      throw keyReused('refund request', { refundId: refund.refundId });
    }
    if (refund.status === 'REFUSED')
      throw new DomainError(
        refusalCode(refund.failureCode, ErrorCode.REFUND_REFUSED),
        refund.failureReason ?? 'The refund was refused',
        refund.failureDetails,
      );
    res.status(202).location(`/admin/refunds/${refund.refundId}`).json(summary(refund));
  });

  router.post('/admin/orders/:id/refunds', ...admin, async (req, res) => {
    const body = parse(adminRequest, req.body);
    const order = await orderFor(req);
    const actor: Actor = { id: currentUser(req).id, role: 'ADMIN' };
    // A client retrying the same refund (after a timeout, a 503) sends the same Idempotency-Key:
    // it names the refund, so the retry finds it instead of paying out again.
    const key = idempotencyKeyOf(req);
    const refundId = key ? manualRefundId(actor.id, order.id, key) : randomUUID();
    const refund = await startRefund(order.id, { ...body, requestedBy: actor, approvedBy: actor }, refundId);
    if (
      refund.amount !== body.amount ||
      refund.reason !== body.reason ||
      (body.destination && refund.destination && refund.destination !== body.destination)
    ) {
      throw keyReused('refund', { refundId: refund.refundId });
    }
    // A retry of a refused refund is refused again, as it was the first time.
    if (refund.status === 'REFUSED')
      throw new DomainError(
        refusalCode(refund.failureCode, ErrorCode.REFUND_REFUSED),
        refund.failureReason ?? 'The refund was refused',
        refund.failureDetails,
      );
    await audit(prisma, {
      id: refundId,
      actorId: actor.id,
      action: 'REFUND_ISSUED',
      targetType: 'order',
      targetId: order.id,
      reason: body.reason,
      after: summary(refund),
    });
    res.status(201).json(summary(refund));
  });

  router.get('/admin/refunds', ...admin, async (req, res) => {
    const query = parse(listQuery, req.query);
    const refunds = await prisma.refund.findMany({
      where: { status: query.status, orderId: query.orderId },
      orderBy: { createdAt: 'asc' },
      take: query.limit,
    });
    res.json({ refunds });
  });

  // The decision's audit entry is written by the workflow's recordRefundDecision, however it was sent.
  for (const [action, update] of [
    ['approve', approveRefundUpdate],
    ['reject', rejectRefundUpdate],
  ] as const) {
    router.post(`/admin/refunds/:id/${action}`, ...admin, async (req, res) => {
      const { reason: why } = parse(decisionBody, req.body);
      const { id } = parse(idParams, req.params);
      const stored = await prisma.refund.findUnique({ where: { id } });
      if (!stored) throw new DomainError(ErrorCode.REFUND_NOT_FOUND, `No refund ${id}`);
      if (stored.status !== 'PENDING_APPROVAL') {
        throw new DomainError(ErrorCode.REFUND_ALREADY_DECIDED, `The refund is already ${stored.status}`, {
          status: stored.status,
        });
      }
      const adminId = currentUser(req).id;
      const refund = await temporal.workflow
        .getHandle(refundWorkflowId(id))
        .executeUpdate(update, { args: [{ adminId, reason: why }] });
      res.json(summary(refund));
    });
  }

  // A refund held because its order's payment is disputed: pay it out, or cancel it.
  for (const [action, release] of [
    ['release', true],
    ['cancel', false],
  ] as const) {
    router.post(`/admin/refunds/:id/${action}`, ...admin, async (req, res) => {
      const { reason: why } = parse(decisionBody, req.body);
      const { id } = parse(idParams, req.params);
      const stored = await prisma.refund.findUnique({ where: { id } });
      if (!stored) throw new DomainError(ErrorCode.REFUND_NOT_FOUND, `No refund ${id}`);
      if (stored.status !== 'APPROVED')
        throw new DomainError(ErrorCode.REFUND_NOT_HELD, `The refund is ${stored.status}`, { status: stored.status });
      const adminId = currentUser(req).id;
      const refund = await temporal.workflow
        .getHandle(refundWorkflowId(id))
        .executeUpdate(decideHeldRefundUpdate, { args: [{ adminId, reason: why, release }] });
      await audit(prisma, {
        actorId: adminId,
        action: release ? 'REFUND_RELEASED' : 'REFUND_CANCELLED',
        targetType: 'refund',
        targetId: id,
        reason: why,
        before: { status: 'APPROVED', heldFor: 'dispute' },
        after: { status: refund.status },
      });
      res.json(summary(refund));
    });
  }

  router.post('/admin/wallets/:userId/credit', ...admin, async (req, res) => {
    const { userId } = parse(userParams, req.params);
    const body = parse(creditBody, req.body);
    const user = await prisma.user.findUnique({ where: { id: userId }, include: { wallet: true } });
    if (!user) throw new DomainError(ErrorCode.USER_NOT_FOUND, `No user ${userId}`);
    const adminId = currentUser(req).id;
    // A client retrying the same credit sends the same Idempotency-Key and is credited once.
    const key = idempotencyKeyOf(req);
    // A retried request (same Idempotency-Key) answers the same entry: one credit, one audit entry.
    const credited = await creditWallet(
      prisma,
      {
        userId,
        amount: body.amount,
        currency: body.currency ?? user.wallet?.currency ?? 'USD',
        reason: body.reason,
        actor: adminId,
        reference: 'goodwill',
        idempotencyKey: `goodwill-${key ? `${adminId}-${key}` : randomUUID()}`,
      },
      (after) => ({
        actorId: adminId,
        action: 'WALLET_CREDITED',
        targetType: 'user',
        targetId: userId,
        reason: body.reason,
        before: { balance: after.balance - body.amount },
        after,
      }),
    );
    res.status(201).json(credited);
  });

  router.get('/api/wallet', auth, async (req, res) => {
    const wallet = await prisma.wallet.findUnique({
      where: { userId: currentUser(req).id },
      include: { entries: { orderBy: { createdAt: 'desc' }, take: 50 } },
    });
    res.json({ balance: wallet?.balance ?? 0, currency: wallet?.currency ?? null, entries: wallet?.entries ?? [] });
  });

  return router;
}
