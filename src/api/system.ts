/**
 * The incident controls under /admin/system (maintenance mode, database diagnosis and emergency
 * actions, payment diagnosis), and the maintenance gate in front of the storefront's writes.
 * HTTP only: each action is one function in src/system, which the ops CLI calls too.
 */
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { duration } from '../platform/config';
import { diagnoseDatabase, terminateLongQueries, terminationNotice } from '../system/database';
import { maintenanceNotice, maintenanceState, setMaintenance, type MaintenanceFlag } from '../system/maintenance';
import { notifyAdmins } from '../system/notices';
import { diagnosePayments } from '../system/payments-diagnosis';
import { authenticate, currentUser, requireRole } from './auth';
import type { ApiDeps } from './deps';
import { DomainError } from '../platform/errors';
import { ErrorCode } from '../workflows/vocabulary';
import { parse } from './errors';

const reason = z.string().trim().min(1).max(500);
export const maintenanceBody = z.object({ enabled: z.boolean(), reason });
/** A duration such as `10m` or `90s`, in whole seconds, at least one. */
const seconds = duration.pipe(z.number().min(1000, 'at least 1s')).transform((ms) => Math.round(ms / 1000));
export const diagnosisQuery = z.object({ longerThan: seconds.default(300) });
export const terminateBody = z.object({ olderThan: seconds, reason });

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);
// Signing in and out change no business data, and admins must be able to sign in to end maintenance;
// a password must be changeable in an incident too. Anything else under /api/auth (a sign-up) is a
// storefront write like the rest. Webhooks: money that arrives must never bounce.
const ALWAYS_OPEN = [/^\/api\/auth\/(login|logout|password)$/, /^\/api\/payments\/[^/]+\/webhook$/];

/**
 * While maintenance mode is on, every write under /api/ (the storefront: checkout, payment
 * retries, cancellations, refund and return requests, and any sign-up) answers 503 MAINTENANCE
 * with Retry-After. Reads, sign-in and out, password changes, webhooks and /admin go on.
 */
export function maintenanceGate(deps: ApiDeps, flag: MaintenanceFlag): RequestHandler {
  const retryAfterSeconds = Math.ceil(deps.config.MAINTENANCE_RETRY_AFTER / 1000);
  return async (req, _res, next) => {
    if (READS.has(req.method) || !req.path.startsWith('/api/') || ALWAYS_OPEN.some((open) => open.test(req.path)))
      return next();
    const state = await flag.current();
    if (!state.enabled) return next();
    next(
      new DomainError(
        ErrorCode.MAINTENANCE,
        `The shop is under maintenance (${state.reason}); please try again later`,
        {
          retryAfterSeconds,
        },
      ),
    );
  };
}

export function systemRouter(deps: ApiDeps, flag: MaintenanceFlag): Router {
  const router = Router();
  const admin = [authenticate(deps), requireRole('ADMIN')];

  router.get('/admin/system/maintenance', ...admin, async (_req, res) => {
    res.json(await maintenanceState(deps.prisma));
  });

  router.post('/admin/system/maintenance', ...admin, async (req, res) => {
    const body = parse(maintenanceBody, req.body);
    const state = await setMaintenance(deps.prisma, body.enabled, body.reason, currentUser(req).id);
    flag.remember(state);
    const adminsNotified = await notifyAdmins(deps, maintenanceNotice(state));
    const { auditId: _auditId, ...view } = state;
    res.json({ ...view, adminsNotified });
  });

  router.get('/admin/system/database', ...admin, async (req, res) => {
    const { longerThan } = parse(diagnosisQuery, req.query);
    res.json(
      await diagnoseDatabase(deps.prisma, { poolSize: deps.config.DATABASE_POOL_SIZE, longerThanSeconds: longerThan }),
    );
  });

  router.post('/admin/system/database/terminate-long-queries', ...admin, async (req, res) => {
    const body = parse(terminateBody, req.body);
    const result = await terminateLongQueries(
      deps.prisma,
      { olderThanSeconds: body.olderThan, reason: body.reason },
      currentUser(req).id,
    );
    const adminsNotified =
      result.terminated.length > 0 ? await notifyAdmins(deps, terminationNotice(result, body.reason)) : false;
    const { auditId: _auditId, ...view } = result;
    res.json({ ...view, adminsNotified });
  });

  router.get('/admin/system/payments/diagnosis', ...admin, async (req, res) => {
    res.json(await diagnosePayments(deps, currentUser(req).id));
  });

  return router;
}
