/** HTTP for inventory operations (admin only): adjustments, resets, low stock; the operations live in src/inventory. */
import { Router } from 'express';
import { z } from 'zod';
import { authenticate, currentUser, requireRole } from './auth';
import type { ApiDeps } from './deps';
import { parse } from './errors';
import { adjustmentBody, adjustmentsQuery, adjustStock, listAdjustments } from '../inventory/adjustments';
import { resetBody } from '../inventory/resets';
import { lowStockList } from '../inventory/low-stock';
import { rollbackResetRun, showReset, startReset } from '../inventory/reset-runs';

export const resetParams = z.object({ id: z.string().uuid() });
export const rollbackBody = z.object({ reason: z.string().trim().min(1).max(500) });

const idempotencyKey = z.string().trim().min(1).max(200).optional();

export function inventoryRouter(deps: ApiDeps): Router {
  const { prisma } = deps;
  const router = Router();
  const admin = [authenticate(deps), requireRole('ADMIN')];

  router.post('/admin/inventory/adjustments', ...admin, async (req, res) => {
    const body = parse(adjustmentBody, req.body);
    const key = parse(idempotencyKey, req.get('idempotency-key'));
    res.status(201).json(await adjustStock(prisma, body, currentUser(req).id, key));
  });

  router.get('/admin/inventory/adjustments', ...admin, async (req, res) => {
    res.json(await listAdjustments(prisma, parse(adjustmentsQuery, emptyMeansAbsent(req.query))));
  });

  router.get('/admin/inventory/low-stock', ...admin, async (_req, res) => {
    res.json({ items: await lowStockList(prisma) });
  });

  router.post('/admin/inventory/resets', ...admin, async (req, res) => {
    const body = parse(resetBody, req.body);
    const user = currentUser(req);
    res.status(202).json(await startReset(deps, body, { id: user.id, role: user.role }));
  });

  router.get('/admin/inventory/resets/:id', ...admin, async (req, res) => {
    res.json(await showReset(deps, parse(resetParams, req.params).id));
  });

  router.post('/admin/inventory/resets/:id/rollback', ...admin, async (req, res) => {
    const { id } = parse(resetParams, req.params);
    const { reason } = parse(rollbackBody, req.body);
    const user = currentUser(req);
    res.json(await rollbackResetRun(deps, id, { actor: { id: user.id, role: user.role }, reason }));
  });

  return router;
}

/** `?productId=` means no filter, as everywhere in the admin API. */
export function emptyMeansAbsent(query: unknown): Record<string, unknown> {
  return Object.fromEntries(Object.entries(query as Record<string, unknown>).filter(([, v]) => v !== ''));
}
