import { Router } from 'express';
import { z } from 'zod';
import { orderHistory } from '../orders/history';
import { paymentsSwitch, setPaymentsEnabled } from '../payments/switch';
import { listWebhookEvents, replayWebhookEvents, webhookHealth } from '../payments/webhook-operations';
import { authenticate, currentUser, requireRole } from './auth';
import type { ApiDeps } from './deps';
import { DomainError } from '../platform/errors';
import { ErrorCode } from '../workflows/vocabulary';
import { parse } from './errors';

const provider = z.enum(['STRIPE', 'RAZORPAY']);
export const listQuery = z.object({
  provider: provider.optional(),
  status: z.enum(['PENDING', 'PROCESSED', 'FAILED']).optional(),
  from: z.coerce.date().optional(),
  to: z.coerce.date().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export const replayBody = z
  .object({
    provider,
    from: z.coerce.date(),
    to: z.coerce.date(),
    dryRun: z.boolean().default(true),
    reason: z.string().trim().min(1).max(500).optional(),
  })
  .refine((r) => r.from <= r.to, { message: 'from must not be after to', path: ['from'] });
export const healthQuery = z.object({
  hours: z.coerce
    .number()
    .positive()
    .max(24 * 90)
    .default(24),
});
export const historyParams = z.object({ id: z.string().uuid() });
export const pageQuery = z.object({
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(500).default(100),
});
const REPLAY_DEADLINE_MS = 10 * 60_000;
export const paymentsBody = z.object({ enabled: z.boolean(), reason: z.string().trim().min(1).max(500) });

/** Admin operations on the webhook inbox and the payments switch; every one is audited. */
export function operationsRouter(deps: ApiDeps): Router {
  const router = Router();
  const admin = [authenticate(deps), requireRole('ADMIN')];

  router.get('/admin/webhooks', ...admin, async (req, res) => {
    res.json(await listWebhookEvents(deps, parse(listQuery, req.query), currentUser(req).id));
  });

  router.post('/admin/webhooks/replay', ...admin, async (req, res) => {
    const request = parse(replayBody, req.body);
    // Replay waits for each event's workflow in turn: longer than an ordinary request may.
    res.json(
      await deps.temporal.withDeadline(Date.now() + REPLAY_DEADLINE_MS, () =>
        replayWebhookEvents(deps, request, currentUser(req).id),
      ),
    );
  });

  router.get('/admin/webhooks/health', ...admin, async (req, res) => {
    res.json(await webhookHealth(deps, parse(healthQuery, req.query).hours, currentUser(req).id));
  });

  router.get('/admin/orders/:id/history', ...admin, async (req, res) => {
    const { id } = parse(historyParams, req.params);
    if (!(await deps.prisma.order.findUnique({ where: { id }, select: { id: true } })))
      throw new DomainError(ErrorCode.ORDER_NOT_FOUND, `No order ${id}`);
    res.json(await orderHistory(deps, id, parse(pageQuery, req.query), currentUser(req).id));
  });

  router.get('/admin/system/payments', ...admin, async (_req, res) => {
    res.json(await paymentsSwitch(deps.prisma));
  });

  router.post('/admin/system/payments', ...admin, async (req, res) => {
    const { enabled, reason } = parse(paymentsBody, req.body);
    res.json(await setPaymentsEnabled(deps.prisma, enabled, reason, currentUser(req).id));
  });

  return router;
}
