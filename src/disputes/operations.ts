/**
 * An admin's actions on disputes, one implementation shared by the admin API (src/api/disputes.ts)
 * and the ops CLI (scripts/ops-returns.ts): list, show, and record that evidence was submitted
 * (through Stripe's API where the provider has one). The evidence goes through the dispute's
 * workflow, whose activity writes the audit entry under the admin's id with the note.
 */
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import type { PrismaClient } from '../platform/db';
import { DomainError } from '../platform/errors';
import { disputeWorkflowId } from '../workflows/ids';
import { submitEvidenceUpdate } from '../workflows/dispute/messages';
import { ErrorCode, type PaymentProvider } from '../workflows/vocabulary';
import { presentDispute } from './disputes';

export const disputeStates = ['OPEN', 'WON', 'LOST'] as const;
export const listQuery = z.object({
  status: z.enum(disputeStates).optional(),
  provider: z.enum(['STRIPE', 'RAZORPAY']).optional(),
  orderId: z.string().uuid().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export const evidenceBody = z.object({ note: z.string().trim().min(1).max(5000) });

async function stored(prisma: PrismaClient, disputeId: string) {
  const dispute = await prisma.dispute.findUnique({ where: { id: disputeId } });
  if (!dispute) throw new DomainError(ErrorCode.DISPUTE_NOT_FOUND, `No dispute ${disputeId}`);
  return dispute;
}

export async function showDispute(prisma: PrismaClient, disputeId: string) {
  return presentDispute(await stored(prisma, disputeId));
}

/** Records the admin's evidence on an open dispute, once (409 DISPUTE_CLOSED otherwise), and answers the dispute. */
export async function recordDisputeEvidence(
  deps: { prisma: PrismaClient; temporal: Client },
  disputeId: string,
  note: string,
  adminId: string,
) {
  const dispute = await stored(deps.prisma, disputeId);
  if (dispute.status !== 'OPEN')
    throw new DomainError(ErrorCode.DISPUTE_CLOSED, `The dispute is ${dispute.status}`, { status: dispute.status });
  if (dispute.evidenceSubmittedAt)
    throw new DomainError(ErrorCode.DISPUTE_CLOSED, 'Evidence was already submitted', {
      evidenceSubmittedAt: dispute.evidenceSubmittedAt.toISOString(),
    });
  const view = await deps.temporal.workflow
    .getHandle(disputeWorkflowId(dispute.provider as PaymentProvider, dispute.providerDisputeId))
    .executeUpdate(submitEvidenceUpdate, { args: [{ adminId, note }] });
  return { ...(await showDispute(deps.prisma, dispute.id)), evidence: view.evidence };
}
