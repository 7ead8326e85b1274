/** HTTP for scheduled price changes (admin only); the operations live in src/inventory/price-schedule-runs. */
import { Router } from 'express';
import { z } from 'zod';
import { authenticate, currentUser, requireRole } from './auth';
import type { ApiDeps } from './deps';
import { parse } from './errors';
import { priceScheduleBody, priceSchedulesQuery } from '../inventory/price-schedules';
import {
  cancelPriceSchedule,
  listPriceSchedules,
  schedulePriceChange,
  showPriceSchedule,
} from '../inventory/price-schedule-runs';

export const scheduleParams = z.object({ id: z.string().uuid() });
export const cancelBody = z.object({ reason: z.string().trim().min(1).max(500) });

export function pricesRouter(deps: ApiDeps): Router {
  const router = Router();
  const admin = [authenticate(deps), requireRole('ADMIN')];
  const actorOf = (req: Parameters<typeof currentUser>[0]) => {
    const user = currentUser(req);
    return { id: user.id, role: user.role };
  };

  router.post('/admin/price-schedules', ...admin, async (req, res) => {
    const body = parse(priceScheduleBody, req.body);
    res.status(202).json(await schedulePriceChange(deps, body, actorOf(req)));
  });

  router.get('/admin/price-schedules', ...admin, async (req, res) => {
    res.json(await listPriceSchedules(deps, parse(priceSchedulesQuery, req.query)));
  });

  router.get('/admin/price-schedules/:id', ...admin, async (req, res) => {
    res.json(await showPriceSchedule(deps, parse(scheduleParams, req.params).id));
  });

  router.post('/admin/price-schedules/:id/cancel', ...admin, async (req, res) => {
    const { id } = parse(scheduleParams, req.params);
    const { reason } = parse(cancelBody, req.body);
    res.json(await cancelPriceSchedule(deps, id, { actor: actorOf(req), reason }));
  });

  return router;
}
