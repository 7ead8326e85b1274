/**
 * Deciding a refund: the first acceptable decision among those queued wins (an active admin, not
 * the one who asked), every other is answered with its refusal and recorded; admins are reminded
 * while none comes. The same for the decision on a refund held for a dispute.
 */
import { condition, patched } from '@temporalio/workflow';
import { refundWorkflowId } from '../ids';
import { activitiesFor } from '../policies';
import { SYSTEM } from '../vocabulary';
import { notAnAdmin } from '../failures';
import { adminActor, alreadyDecided, selfApproval } from './guards';
import { approveRefundUpdate, decideHeldRefundUpdate, rejectRefundUpdate, type HeldRefundDecision } from './messages';
import { HOLD_DECISION_AUDITED, REFUND_ONE_ADMIN_CHECK } from './patches';
import { record, type PendingDecision, type RefundState } from './state';

// isAdmin: refunds started before REFUND_ONE_ADMIN_CHECK (./patches.ts) only.
const act = activitiesFor('activeAdminNamed', 'isAdmin', 'sendRefundReminder');

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

/**
 * Refuses a decision by the admin who asked for the refund, or one naming no active admin. An
 * update accepted without the API's seal was typed into Temporal: it is marked `temporal-update`.
 */
async function checkDecision(s: RefundState, candidate: PendingDecision) {
  const { adminId } = candidate.decision;
  if (adminId === s.input.requestedBy.id) return selfApproval();
  if (!patched(REFUND_ONE_ADMIN_CHECK))
    return (await act.isAdmin({ refundId: s.input.refundId, userId: adminId })) ? undefined : notAnAdmin(adminId);
  const update = (candidate.approve ? approveRefundUpdate : rejectRefundUpdate).name;
  const answer = await act.activeAdminNamed(
    candidate.via === 'update'
      ? { workflowId: refundWorkflowId(s.input.refundId), update, request: candidate.decision }
      : { named: adminId },
  );
  if (!answer.admin) return notAnAdmin(adminId);
  if (candidate.via === 'update' && answer.via === 'temporal') candidate.via = 'temporal-update';
  return undefined;
}

/** Answers every decision still queued: the refund is decided. */
export function refuseRemainingDecisions(s: RefundState): void {
  for (let late = s.decisions.shift(); late; late = s.decisions.shift()) {
    s.verdicts.set(late.id, alreadyDecided(s.refund));
    record(s, 'DECISION_REFUSED', adminActor(late.decision), 'the refund was already decided');
  }
}

/**
 * An accepted decision on a held refund: who it is recorded under (since patch
 * refund-hold-decision-audited the account the check resolved, else the name as sent) and how it
 * came; `audited` when the workflow audits it (that patch), else the API that sent it does.
 */
export interface AcceptedHoldDecision {
  decision: HeldRefundDecision;
  adminId: string;
  via: 'api' | 'temporal-update' | 'temporal-signal';
  audited: boolean;
}

/** Waits for an admin's decision on a held refund; refuses anyone who is not an active admin. */
export async function awaitHoldDecision(s: RefundState): Promise<AcceptedHoldDecision> {
  for (;;) {
    await condition(() => s.holdDecisions.length > 0);
    const candidate = s.holdDecisions.shift()!;
    const { adminId } = candidate.decision;
    let accepted: AcceptedHoldDecision | undefined;
    if (patched(HOLD_DECISION_AUDITED)) {
      const answer = await act.activeAdminNamed(
        candidate.via === 'update'
          ? {
              workflowId: refundWorkflowId(s.input.refundId),
              update: decideHeldRefundUpdate.name,
              request: candidate.decision,
            }
          : { named: adminId },
      );
      const via = candidate.via === 'signal' ? 'temporal-signal' : answer.via === 'api' ? 'api' : 'temporal-update';
      if (answer.admin) accepted = { decision: candidate.decision, adminId: answer.admin.id, via, audited: true };
    } else {
      const isAdmin = patched(REFUND_ONE_ADMIN_CHECK)
        ? (await act.activeAdminNamed({ named: adminId })).admin !== null
        : await act.isAdmin({ refundId: s.input.refundId, userId: adminId });
      if (isAdmin) accepted = { decision: candidate.decision, adminId, via: 'api', audited: false };
    }
    const refusal = accepted ? undefined : notAnAdmin(adminId);
    s.holdVerdicts.set(candidate.id, refusal ?? 'ACCEPTED');
    if (accepted) return accepted;
    record(s, 'HOLD_DECISION_REFUSED', adminActor(candidate.decision), refusal!.message);
  }
}
