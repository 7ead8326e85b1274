/** GET /admin/alerts?status=open|resolved: the business alerts the alert schedule opened (src/monitoring/alerts.ts). */
import { Router } from 'express';
import { z } from 'zod';
import { listAlerts } from '../monitoring/alerts';
import { authenticate, currentUser, requireRole } from './auth';
import type { ApiDeps } from './deps';
import { parse } from './errors';

export const alertsQuery = z.object({
  status: z
    .enum(['open', 'resolved', 'OPEN', 'RESOLVED'])
    .optional()
    .transform((s) => s?.toUpperCase() as 'OPEN' | 'RESOLVED' | undefined),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export function alertsRouter(deps: ApiDeps): Router {
  const router = Router();
  router.get('/admin/alerts', authenticate(deps), requireRole('ADMIN'), async (req, res) => {
    res.json(await listAlerts(deps.prisma, parse(alertsQuery, req.query), currentUser(req).id));
  });
  return router;
}
