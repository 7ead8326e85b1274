/** GET /admin/alerts?status=open|resolved: the business alerts the alert schedule opened (src/monitoring/alerts.ts). */
import { Router } from 'express';
import { z } from 'zod';
import { audit } from '../access/audit';
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
    const filter = parse(alertsQuery, req.query);
    const listed = await listAlerts(deps.prisma, filter);
    await audit(deps.prisma, {
      actorId: currentUser(req).id,
      action: 'ALERTS_LISTED',
      targetType: 'alerts',
      after: { filter, count: listed.alerts.length },
    });
    res.json(listed);
  });
  return router;
}
