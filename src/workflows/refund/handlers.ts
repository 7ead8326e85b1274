/**
 * The refund workflow's query, signals and updates. Decisions may arrive twice, at once, from two
 * admins, or as signals typed into the Web UI: handlers only queue them (and refuse in validators
 * what cannot be decided now); the main flow takes the first valid one and answers every other.
 */
import { condition, setHandler } from '@temporalio/workflow';
import { awaitVerdict } from '../verdicts';
import {
  adminActor,
  alreadyDecided,
  assertDecisionComplete,
  assertHoldDecisionComplete,
  notHeld,
  selfApproval,
} from './guards';
import {
  approveRefundSignal,
  approveRefundUpdate,
  decideHeldRefundSignal,
  decideHeldRefundUpdate,
  getRefundQuery,
  refundSettledSignal,
  rejectRefundSignal,
  rejectRefundUpdate,
  requestRefundUpdate,
  type RefundDecision,
  type RefundView,
} from './messages';
import { effectsStarted, record, type PendingDecision, type RefundState } from './state';

export function registerHandlers(s: RefundState): void {
  const { input, refund } = s;

  setHandler(getRefundQuery, () => refund, {
    description: 'The refund: amount, destination, status, who decided, and its timeline.',
  });

  setHandler(
    requestRefundUpdate,
    async () => {
      await condition(
        () =>
          s.opened !== undefined &&
          (s.opened.failure !== undefined ||
            !input.approvedBy ||
            effectsStarted(refund) ||
            refund.heldFor !== undefined),
      );
      if (s.opened?.failure) throw s.opened.failure;
      return refund;
    },
    {
      description:
        'Records the request (sent with update-with-start); a manual refund answers once the money has moved.',
    },
  );

  function decide(approve: boolean, via: PendingDecision['via'], decision: RefundDecision): number {
    const id = s.nextDecisionId++;
    s.decisions.push({ id, approve, decision, via });
    return id;
  }
  function decideBySignal(approve: boolean) {
    return (decision: RefundDecision) => {
      if (s.decided)
        record(
          s,
          approve ? 'APPROVAL_IGNORED' : 'REJECTION_IGNORED',
          adminActor(decision),
          'the refund was already decided',
        );
      else decide(approve, 'signal', decision);
    };
  }
  function decideByUpdate(approve: boolean) {
    return async (decision: RefundDecision): Promise<RefundView> => {
      const id = decide(approve, 'update', decision);
      await awaitVerdict(
        s.verdicts,
        id,
        () => effectsStarted(refund) || refund.status === 'REJECTED' || refund.heldFor !== undefined,
      );
      return refund;
    };
  }
  function validateDecision(decision: RefundDecision): void {
    assertDecisionComplete(decision);
    if (s.decided || !s.opened || s.opened.failure) throw alreadyDecided(refund);
    if (decision.adminId === input.requestedBy.id) throw selfApproval();
  }
  const decisionHelp =
    'Send {"adminId": "<your admin user id or email>", "reason": "<why>"}. The admin who asked for the refund cannot decide it.';
  setHandler(approveRefundSignal, decideBySignal(true), { description: `Approve the refund. ${decisionHelp}` });
  setHandler(rejectRefundSignal, decideBySignal(false), { description: `Reject the refund. ${decisionHelp}` });
  setHandler(approveRefundUpdate, decideByUpdate(true), {
    validator: validateDecision,
    description: `Approve the refund and answer the outcome. ${decisionHelp}`,
  });
  setHandler(rejectRefundUpdate, decideByUpdate(false), {
    validator: validateDecision,
    description: `Reject the refund and answer the outcome. ${decisionHelp}`,
  });

  setHandler(
    refundSettledSignal,
    (settlement) => {
      if (settlement.providerRefundId === refund.providerRefundId || !refund.providerRefundId)
        s.settlements.push(settlement);
    },
    {
      description:
        'The provider reports how the refund ended, sent by the webhook workflow: {refundId, providerRefundId, outcome: "SUCCEEDED"|"FAILED", eventId}. ' +
        'It is believed only if the stored verified webhook event it names, or Stripe, says the same; anything else is recorded and ignored.',
    },
  );

  const holdHelp =
    'Send {"adminId": "<your admin user id or email>", "reason": "<why>", "release": true|false}. Audited under your account.';
  setHandler(
    decideHeldRefundSignal,
    (decision) => void s.holdDecisions.push({ id: s.nextDecisionId++, decision, via: 'signal' }),
    {
      description: `Pay out (release: true) or cancel a refund held for a dispute. ${holdHelp}`,
    },
  );
  setHandler(
    decideHeldRefundUpdate,
    async (decision) => {
      const id = s.nextDecisionId++;
      s.holdDecisions.push({ id, decision, via: 'update' });
      await awaitVerdict(s.holdVerdicts, id, () => effectsStarted(refund));
      return refund;
    },
    {
      validator: (decision) => {
        assertHoldDecisionComplete(decision);
        if (refund.heldFor === undefined) throw notHeld(refund, `The refund is ${refund.status} and not held`);
      },
      description: `Pay out or cancel a refund held for a dispute, answering the outcome. ${holdHelp}`,
    },
  );
}
