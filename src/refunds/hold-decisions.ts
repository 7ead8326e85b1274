/**
 * A decision on a refund held for a dispute (release or cancel), in the audit log once. The refund
 * workflow writes it as it takes the decision, however it came (the API, an update or a signal
 * typed into Temporal), under the account the one active-admin check resolved; the API writes it
 * only for a workflow that did not (one started before patch refund-hold-decision-audited, run by
 * a worker of the release before). Both write under the same id, named after the refund: a refund
 * is held once, so it has one such decision and one entry, whoever writes first.
 */
import { audit } from '../access/audit';
import type { PrismaClient } from '../platform/db';
import { idFromKey } from '../platform/idempotency';

const HOLD_DECISION_NAMESPACE = '6f1c2b7e-9d4a-4e15-8c3b-2a7e5d9f0b46';
/** The audit entry's id of the decision on held refund `refundId`. */
export const holdDecisionAuditId = (refundId: string) => idFromKey(HOLD_DECISION_NAMESPACE, refundId);

export interface HeldRefundDecisionRecord {
  refundId: string;
  release: boolean;
  /** The admin's account id. */
  adminId: string;
  reason: string;
  /** The dispute the refund was held for. */
  heldFor: string;
  /**
   * How it came: `api` (sealed by the API), or sent through Temporal itself, then with the name
   * it gave (`named`, as typed: an id or an email).
   */
  via: 'api' | 'temporal-update' | 'temporal-signal';
  named?: string;
}

/** REFUND_RELEASED or REFUND_CANCELLED, once per refund (a retried attempt writes nothing more). */
export async function recordHeldRefundDecision(
  prisma: Pick<PrismaClient, 'auditLog'>,
  input: HeldRefundDecisionRecord,
): Promise<void> {
  const sentThrough = input.via === 'api' ? {} : { via: input.via, named: input.named ?? input.adminId };
  await audit(prisma, {
    id: holdDecisionAuditId(input.refundId),
    actorId: input.adminId,
    action: input.release ? 'REFUND_RELEASED' : 'REFUND_CANCELLED',
    targetType: 'refund',
    targetId: input.refundId,
    reason: input.reason,
    before: { status: 'APPROVED', heldFor: input.heldFor },
    after: { status: input.release ? 'APPROVED' : 'FAILED', ...sentThrough },
  });
}
