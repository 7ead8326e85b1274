/**
 * The refund's pure guards and refusals: who may decide a refund and the failures a decision is
 * answered with. No workflow state and no commands, so validators can call them.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { refusal } from '../failures';
import { ErrorCode, type Actor } from '../vocabulary';
import type { HeldRefundDecision, RefundDecision, RefundView } from './messages';

export function adminActor(decision: RefundDecision): Actor {
  return { id: decision?.adminId ?? 'unknown', role: 'ADMIN' };
}

export function alreadyDecided(refund: RefundView): ApplicationFailure {
  return refusal(ErrorCode.REFUND_ALREADY_DECIDED, `The refund is already ${refund.status}`, { status: refund.status });
}

export function selfApproval(): ApplicationFailure {
  return refusal(ErrorCode.SELF_APPROVAL, 'The admin who requested a refund cannot decide it');
}

export function notHeld(refund: RefundView, why = `The refund is ${refund.status}`): ApplicationFailure {
  return refusal(ErrorCode.REFUND_NOT_HELD, why);
}

/** An approval or rejection names its admin and says why. */
export function assertDecisionComplete(decision: RefundDecision): void {
  if (!decision?.adminId || !decision.reason?.trim()) {
    throw refusal(ErrorCode.VALIDATION_ERROR, 'adminId and reason are required');
  }
}

/** A decision on a held refund names its admin, says why, and says whether the money goes out. */
export function assertHoldDecisionComplete(decision: HeldRefundDecision): void {
  if (!decision?.adminId || !decision.reason?.trim() || typeof decision.release !== 'boolean')
    throw refusal(ErrorCode.VALIDATION_ERROR, 'adminId, reason and release are required');
}
