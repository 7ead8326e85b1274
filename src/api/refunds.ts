/**
 * HTTP for refunds and the wallet: a customer's refund request, an admin's manual refund, the
 * admin's decisions and list, a goodwill credit, the customer's wallet, each by its one
 * implementation in src/refunds.
 */
import { Router } from 'express';
import { z } from 'zod';
import { RequestSeals } from '../access/request-seals';
import { grantGoodwillCredit, walletOf } from '../refunds/wallet';
import {
  askForRefund,
  decideHeldRefund,
  decideRefund,
  issueRefund,
  listRefunds,
  manualRefundId,
} from '../refunds/requests';
import { authenticate, currentUser, requireRole } from './auth';
import type { ApiDeps } from './deps';
import { parse } from './errors';
import { idempotencyKeyOf } from './idempotency';

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
export const listQuery = z.object({
  status: z.enum(['PENDING_APPROVAL', 'APPROVED', 'REJECTED', 'COMPLETED', 'FAILED']).optional(),
  orderId: z.string().uuid().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export function refundsRouter(deps: ApiDeps): Router {
  const { prisma } = deps;
  const router = Router();
  const auth = authenticate(deps);
  const admin = [auth, requireRole('ADMIN')];
  // Decisions (approve, reject, release, cancel) carry the API's seal: the workflow tells them from those typed into Temporal.
  const sealing = { ...deps, seals: RequestSeals.fromConfig(deps.config) };

  router.post('/api/orders/:id/refunds', auth, requireRole('CUSTOMER'), async (req, res) => {
    const body = parse(customerRequest, req.body);
    // A retried request (same Idempotency-Key, after a timeout or a 503) answers the request it made.
    const refund = await askForRefund(deps, {
      orderId: parse(idParams, req.params).id,
      customerId: currentUser(req).id,
      ...body,
      key: idempotencyKeyOf(req),
    });
    res.status(202).location(`/admin/refunds/${refund.refundId}`).json(refund);
  });

  router.post('/admin/orders/:id/refunds', ...admin, async (req, res) => {
    const body = parse(adminRequest, req.body);
    const { id: orderId } = parse(idParams, req.params);
    const adminId = currentUser(req).id;
    // A client retrying the same refund (after a timeout, a 503) sends the same Idempotency-Key:
    // it names the refund, so the retry finds it instead of paying out again.
    const key = idempotencyKeyOf(req);
    const refundId = key ? manualRefundId(adminId, orderId, key) : undefined;
    res.status(201).json(await issueRefund(deps, { orderId, ...body, adminId, refundId }));
  });

  router.get('/admin/refunds', ...admin, async (req, res) => {
    res.json({ refunds: await listRefunds(prisma, parse(listQuery, req.query)) });
  });

  for (const [action, approve] of [
    ['approve', true],
    ['reject', false],
  ] as const) {
    router.post(`/admin/refunds/:id/${action}`, ...admin, async (req, res) => {
      const { reason } = parse(decisionBody, req.body);
      const { id } = parse(idParams, req.params);
      res.json(await decideRefund(sealing, { refundId: id, approve, adminId: currentUser(req).id, reason }));
    });
  }

  // A refund held because its order's payment is disputed: pay it out, or cancel it.
  for (const [action, release] of [
    ['release', true],
    ['cancel', false],
  ] as const) {
    router.post(`/admin/refunds/:id/${action}`, ...admin, async (req, res) => {
      const { reason } = parse(decisionBody, req.body);
      const { id } = parse(idParams, req.params);
      res.json(await decideHeldRefund(sealing, { refundId: id, release, adminId: currentUser(req).id, reason }));
    });
  }

  router.post('/admin/wallets/:userId/credit', ...admin, async (req, res) => {
    const { userId } = parse(userParams, req.params);
    const body = parse(creditBody, req.body);
    // A client retrying the same credit sends the same Idempotency-Key and is credited once.
    const credited = await grantGoodwillCredit(prisma, {
      userId,
      ...body,
      adminId: currentUser(req).id,
      requestKey: idempotencyKeyOf(req),
    });
    res.status(201).json(credited);
  });

  router.get('/api/wallet', auth, async (req, res) => {
    res.json(await walletOf(prisma, currentUser(req).id));
  });

  return router;
}
