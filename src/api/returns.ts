/**
 * Returns over HTTP (DESIGN.md "Returns and disputes"): a customer asks, an admin receives or
 * rejects, admins list them, each by its one implementation in src/returns. The workflow
 * `return-<returnId>` decides; this is HTTP only.
 */
import { Router } from 'express';
import { z } from 'zod';
import { listReturns } from '../returns/returns';
import {
  askForReturn,
  listQuery,
  receiveBody,
  receiveReturnGoods,
  rejectBody,
  rejectReturn,
  requestBody,
  showReturn,
} from '../returns/operations';
import { authenticate, currentUser, requireRole } from './auth';
import type { ApiDeps } from './deps';
import { parse } from './errors';

export { listQuery, receiveBody, rejectBody, requestBody } from '../returns/operations';
export const idParams = z.object({ id: z.string().uuid() });

export function returnsRouter(deps: ApiDeps): Router {
  const { prisma } = deps;
  const router = Router();
  const auth = authenticate(deps);
  const admin = [auth, requireRole('ADMIN')];

  router.post('/api/orders/:id/returns', auth, requireRole('CUSTOMER'), async (req, res) => {
    const body = parse(requestBody, req.body);
    const { id: orderId } = parse(idParams, req.params);
    const { returnId, view } = await askForReturn(deps, { orderId, customerId: currentUser(req).id, ...body });
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
