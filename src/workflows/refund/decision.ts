/**
 * Deciding a refund: the first acceptable decision among those queued wins (an active admin, not
 * the one who asked), every other is answered with its refusal and recorded; admins are reminded
 * while none comes. The same for the decision on a refund held for a dispute.
 */
import { condition } from '@temporalio/workflow';
import { activitiesFor } from '../policies';
import { SYSTEM } from '../vocabulary';
import { adminActor, alreadyDecided, notAnAdmin, selfApproval } from './guards';
import type { HeldRefundDecision } from './messages';
import { record, type PendingDecision, type RefundState } from './state';

const act = activitiesFor('isAdmin', 'sendRefundReminder');

/** Waits for the first acceptable decision; answers every queued one, refusing the rest. */
export async function awaitDecision(s: RefundState): Promise<PendingDecision> {
  const { input, decisions } = s;
  let reminders = 0;
  for (;;) {
    const arrived = await condition(() => decisions.length > 0, input.reminderAfterMs);
    if (!arrived) {
      reminders += 1;
      await act.sendRefundReminder({ refundId: input.refundId, reminder: reminders });
      record(s, 'ADMINS_REMINDED', SYSTEM, `reminder ${reminders}: no decision yet`);
      continue;
    }
    const candidate = decisions.shift()!;
    const refusal = await checkDecision(s, candidate);
    s.verdicts.set(candidate.id, refusal ?? 'ACCEPTED');
    if (!refusal) return candidate;
    record(
      s,
      'DECISION_REFUSED',
      adminActor(candidate.decision),
      `${candidate.approve ? 'approval' : 'rejection'} via ${candidate.via}: ${refusal.message}`,
    );
  }
}

async function checkDecision(s: RefundState, candidate: PendingDecision) {
  if (candidate.decision.adminId === s.input.requestedBy.id) return selfApproval();
  if (!(await act.isAdmin({ refundId: s.input.refundId, userId: candidate.decision.adminId }))) {
    return notAnAdmin(candidate.decision.adminId);
  }
  return undefined;
}

/** Answers every decision still queued: the refund is decided. */
export function refuseRemainingDecisions(s: RefundState): void {
  for (let late = s.decisions.shift(); late; late = s.decisions.shift()) {
    s.verdicts.set(late.id, alreadyDecided(s.refund));
    record(s, 'DECISION_REFUSED', adminActor(late.decision), 'the refund was already decided');
  }
}

/** Waits for an admin's decision on a held refund; refuses anyone who is not an active admin. */
export async function awaitHoldDecision(s: RefundState): Promise<HeldRefundDecision> {
  for (;;) {
    await condition(() => s.holdDecisions.length > 0);
    const candidate = s.holdDecisions.shift()!;
    const isAdmin = await act.isAdmin({ refundId: s.input.refundId, userId: candidate.decision.adminId });
    const refusal = isAdmin ? undefined : notAnAdmin(candidate.decision.adminId);
    s.holdVerdicts.set(candidate.id, refusal ?? 'ACCEPTED');
    if (!refusal) return candidate.decision;
    record(s, 'HOLD_DECISION_REFUSED', adminActor(candidate.decision), refusal.message);
  }
}
