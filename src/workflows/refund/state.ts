/**
 * What one refund's workflow holds between its steps, in one object: the refund's view, the
 * decisions and settlements its handlers queued, and the verdict each update waits for. Handlers
 * only queue; the main flow decides, one decision at a time.
 */
import { ApplicationFailure, setCurrentDetails } from '@temporalio/workflow';
import type { Verdict } from '../verdicts';
import type { Actor } from '../vocabulary';
import type { HeldRefundDecision, RefundDecision, RefundSettlement, RefundView, RefundWorkflowInput } from './messages';

/**
 * An approval or rejection waiting for the main flow, and how it came: a signal (the Web UI), an
 * update, or an update the check found without the API's seal (`temporal-update`: the CLI).
 */
export interface PendingDecision {
  id: number;
  approve: boolean;
  decision: RefundDecision;
  via: 'signal' | 'update' | 'temporal-update';
}

/** A decision on a held refund waiting for the main flow: a signal (the Web UI) or an update. */
export interface PendingHoldDecision {
  id: number;
  decision: HeldRefundDecision;
  via: 'signal' | 'update';
}

export interface RefundState {
  readonly input: RefundWorkflowInput;
  /** The refund the query answers. */
  readonly refund: RefundView;
  /** The request's answer: unset until recorded; a failure when it was refused. */
  opened?: { failure?: ApplicationFailure };
  /** A decision was taken: any other is refused. */
  decided: boolean;
  readonly decisions: PendingDecision[];
  readonly verdicts: Map<number, Verdict>;
  /** Decisions on a refund held for a dispute (and how each came), and their verdicts. */
  readonly holdDecisions: PendingHoldDecision[];
  readonly holdVerdicts: Map<number, Verdict>;
  /** Shared by both kinds of decision. */
  nextDecisionId: number;
  /** What the provider reported of the refund (webhooks), in the order it came. */
  readonly settlements: RefundSettlement[];
}

export function newRefundState(input: RefundWorkflowInput): RefundState {
  return {
    input,
    refund: {
      refundId: input.refundId,
      orderId: input.orderId,
      status: 'PENDING_APPROVAL',
      reason: input.reason,
      requestedBy: input.requestedBy,
      destination: input.destination,
      timeline: [],
    },
    decided: false,
    decisions: [],
    verdicts: new Map(),
    holdDecisions: [],
    holdVerdicts: new Map(),
    nextDecisionId: 0,
    settlements: [],
  };
}

export function record(s: RefundState, event: string, actor: Actor, detail?: string): void {
  s.refund.timeline.push({ at: new Date().toISOString(), event, actor, detail });
  setCurrentDetails(describe(s.refund));
}

/** Money has moved, or is moving: an approval's update can answer. */
export function effectsStarted(refund: RefundView): boolean {
  return (
    refund.status === 'COMPLETED' ||
    refund.status === 'FAILED' ||
    (refund.status === 'APPROVED' && refund.providerRefundId !== undefined)
  );
}

/** The Web UI's summary: where the refund stands and what it waits for. */
export function describe(refund: RefundView): string {
  if (refund.status === 'PENDING_APPROVAL') {
    return (
      `Waiting for an admin: refund ${refund.amount} ${refund.currency} to ${refund.destination} (${refund.reason}). ` +
      'Send signal approveRefund or rejectRefund with {"adminId": "<your admin user id or email>", "reason": "<why>"}.'
    );
  }
  return `${refund.status}${refund.decidedBy ? ` (decided by ${refund.decidedBy})` : ''}.`;
}
