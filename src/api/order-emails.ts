/** HTTP for re-sending an order's customer emails (admin only); the operation is src/orders/confirmation. */
import { Router } from 'express';
import { z } from 'zod';
import { authenticate, currentUser, requireRole } from './auth';
import type { ApiDeps } from './deps';
import { parse } from './errors';
import { resendConfirmation } from '../orders/confirmation';

export const params = z.object({ id: z.string().uuid() });
export const body = z
  .object({ reason: z.string().trim().min(1).max(500).default('Customer asked for the confirmation again') })
  .default({ reason: 'Customer asked for the confirmation again' });

export function orderEmailsRouter(deps: ApiDeps): Router {
  const router = Router();
  router.post('/admin/orders/:id/send-confirmation', authenticate(deps), requireRole('ADMIN'), async (req, res) => {
    const { id } = parse(params, req.params);
    const { reason } = parse(body, req.body ?? {});
    res.status(202).json(await resendConfirmation(deps, { orderId: id, actorId: currentUser(req).id, reason }));
  });
  return router;
}
