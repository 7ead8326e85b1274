/**
 * Disputes over HTTP: admins list them and record evidence. The dispute's workflow
 * (`dispute-<provider>-<disputeId>`) does the work; this is HTTP only.
 */
import { Router } from 'express';
import { z } from 'zod';
import { listDisputes, presentDispute } from '../disputes/disputes';
import { disputeWorkflowId } from '../workflows/ids';
import { submitEvidenceUpdate } from '../workflows/dispute/messages';
import { ErrorCode, type PaymentProvider } from '../workflows/vocabulary';
import { DomainError } from '../platform/errors';
import { authenticate, currentUser, requireRole } from './auth';
import type { ApiDeps } from './deps';
import { parse } from './errors';

export const idParams = z.object({ id: z.string().uuid() });
export const listQuery = z.object({
  status: z.enum(['OPEN', 'WON', 'LOST']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export const evidenceBody = z.object({ note: z.string().trim().min(1).max(5000) });

export function disputesRouter(deps: ApiDeps): Router {
  const { prisma, temporal } = deps;
  const router = Router();
  const admin = [authenticate(deps), requireRole('ADMIN')];

  async function stored(id: string) {
    const dispute = await prisma.dispute.findUnique({ where: { id } });
    if (!dispute) throw new DomainError(ErrorCode.DISPUTE_NOT_FOUND, `No dispute ${id}`);
    return dispute;
  }

  router.get('/admin/disputes', ...admin, async (req, res) => {
    res.json({ disputes: await listDisputes(prisma, parse(listQuery, req.query)) });
  });

  router.get('/admin/disputes/:id', ...admin, async (req, res) => {
    res.json(presentDispute(await stored(parse(idParams, req.params).id)));
  });

  // The audit entry is written by the workflow's activity, with the admin's id and note.
  router.post('/admin/disputes/:id/evidence', ...admin, async (req, res) => {
    const { note } = parse(evidenceBody, req.body);
    const dispute = await stored(parse(idParams, req.params).id);
    if (dispute.status !== 'OPEN')
      throw new DomainError(ErrorCode.DISPUTE_CLOSED, `The dispute is ${dispute.status}`, { status: dispute.status });
    if (dispute.evidenceSubmittedAt)
      throw new DomainError(ErrorCode.DISPUTE_CLOSED, 'Evidence was already submitted', {
        evidenceSubmittedAt: dispute.evidenceSubmittedAt.toISOString(),
      });
    const view = await temporal.workflow
      .getHandle(disputeWorkflowId(dispute.provider as PaymentProvider, dispute.providerDisputeId))
      .executeUpdate(submitEvidenceUpdate, { args: [{ adminId: currentUser(req).id, note }] });
    res.json({ ...presentDispute(await stored(dispute.id)), evidence: view.evidence });
  });

  return router;
}
