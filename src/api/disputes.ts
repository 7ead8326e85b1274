/**
 * Disputes over HTTP: admins list them and record evidence. The dispute's workflow
 * (`dispute-<provider>-<disputeId>`) does the work, through src/disputes/operations.ts (as the
 * ops CLI does); this is HTTP only.
 */
import { Router } from 'express';
import { z } from 'zod';
import { listDisputes } from '../disputes/disputes';
import { evidenceBody, listQuery, recordDisputeEvidence, showDispute } from '../disputes/operations';
import { authenticate, currentUser, requireRole } from './auth';
import type { ApiDeps } from './deps';
import { parse } from './errors';

export { evidenceBody, listQuery } from '../disputes/operations';
export const idParams = z.object({ id: z.string().uuid() });

export function disputesRouter(deps: ApiDeps): Router {
  const { prisma } = deps;
  const router = Router();
  const admin = [authenticate(deps), requireRole('ADMIN')];

  router.get('/admin/disputes', ...admin, async (req, res) => {
    res.json({ disputes: await listDisputes(prisma, parse(listQuery, req.query)) });
  });

  router.get('/admin/disputes/:id', ...admin, async (req, res) => {
    res.json(await showDispute(prisma, parse(idParams, req.params).id));
  });

  // The audit entry is written by the workflow's activity, with the admin's id and note.
  router.post('/admin/disputes/:id/evidence', ...admin, async (req, res) => {
    const { note } = parse(evidenceBody, req.body);
    res.json(await recordDisputeEvidence(deps, parse(idParams, req.params).id, note, currentUser(req).id));
  });

  return router;
}
