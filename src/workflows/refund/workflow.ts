/**
 * One workflow per refund request (`refund-<refundId>`). It replaces the runbook's "admin
 * reviews the request in the dashboard, approves or rejects, then credits and refunds":
 *
 *   record the request -> a decision (the admin making a manual refund, the trusted-customer
 *   policy, or an admin in the API or the Temporal Web UI, with reminders while none comes)
 *   -> pay it back to ONE destination (wallet, or the original payment) -> the order follows.
 *
 * Decisions may arrive twice, at once, from two admins, or as signals typed into the Web UI:
 * the first valid one wins, every other is refused and recorded, and each effect happens once
 * (./handlers.ts queues them, ./decision.ts decides, ./payout.ts moves the money).
 */
import {
  allHandlersFinished,
  condition,
  getExternalWorkflowHandle,
  patched,
  setCurrentDetails,
} from '@temporalio/workflow';
import { businessFailure, markRefused, refundReversedAlert, reversalReason } from '../failures';
import { orderWorkflowId } from '../ids';
import { activitiesFor } from '../policies';
import { SYSTEM, type Actor } from '../vocabulary';
import { awaitDecision, awaitHoldDecision, refuseRemainingDecisions } from './decision';
import { adminActor, notHeld } from './guards';
import { registerHandlers } from './handlers';
import { orderRefundedSignal, type RefundView, type RefundWorkflowInput } from './messages';
import { DISPUTE_HOLDS_REFUND, LATE_FAILURE_REVERSES, REFUSAL_FAILS_THE_REFUND } from './patches';
import { believedSettlement, payBack } from './payout';
import { describe, newRefundState, record, type PendingDecision, type RefundState } from './state';

const act = activitiesFor(
  'openRefund',
  'isTrustedCustomer',
  'recordRefundDecision',
  'refundHold',
  'recordHeldRefundDecision',
  'failRefund',
  'completeRefund',
  'reverseCompletedRefund',
  'sendRefundEmail',
  'alertAdmins',
);

const TRUSTED_CUSTOMER_POLICY = 'policy:trusted-customer';

export async function refundWorkflow(input: RefundWorkflowInput): Promise<RefundView> {
  const s = newRefundState(input);
  registerHandlers(s);

  // 1. Record the request: refused with the reason when the order cannot be refunded.
  if (!(await recordRequest(s))) return finish(s);

  // 2. The decision: the admin making a manual refund, the trusted-customer policy, or an admin.
  const { approved, decidedBy } = await decide(s);
  if (!approved) {
    await act.sendRefundEmail({ refundId: input.refundId, kind: 'REFUND_REJECTED' });
    return finish(s);
  }

  // 3a. The order's payment is disputed (the bank may be taking the money back): an admin decides.
  if (patched(DISPUTE_HOLDS_REFUND) && !(await holdWhileDisputed(s))) return finish(s);

  // 3. Pay it back to its one destination; a refusal fails the refund, it never hangs APPROVED.
  if (!(await payOut(s, decidedBy))) return finish(s);

  // 4. Done: the order's payment follows, the order's workflow hears it, the customer is told.
  await complete(s, decidedBy);

  // 5. The provider may still fail a refund it first accepted: news of that while we finish reverses it.
  await reverseLateFailure(s);
  return finish(s);
}

// ---- The phases ----------------------------------------------------------------------------------

/** Opens the refund's record; false (the refund REFUSED, with the reason) when the order cannot be refunded. */
async function recordRequest(s: RefundState): Promise<boolean> {
  const { input, refund } = s;
  try {
    const request = await act.openRefund({
      refundId: input.refundId,
      orderId: input.orderId,
      amount: input.amount,
      destination: input.destination,
      reason: input.reason,
      requestedBy: input.requestedBy,
      returnId: input.returnId,
    });
    Object.assign(refund, request);
    record(
      s,
      'REFUND_REQUESTED',
      input.requestedBy,
      `${request.amount} ${request.currency} to ${request.destination}: ${input.reason}`,
    );
    s.opened = {};
    return true;
  } catch (error) {
    const failure = businessFailure(error);
    s.opened = { failure };
    markRefused(refund, failure);
    refund.amount ??= input.amount; // what was asked for, so a retry can be told apart from another request
    record(s, 'REFUND_REFUSED', SYSTEM, failure.message);
    return false;
  }
}

/** Takes the decision and records it; every other decision queued is refused. */
async function decide(s: RefundState): Promise<{ approved: boolean; decidedBy: string }> {
  const { input, refund } = s;
  let approved: boolean;
  let decidedBy: string;
  let decisionReason: string;
  let decidedVia: PendingDecision['via'] | undefined;
  if (input.approvedBy) {
    [approved, decidedBy, decisionReason] = [true, input.approvedBy.id, input.reason];
  } else if (
    input.autoApproveTrusted &&
    (await act.isTrustedCustomer({ customerId: refund.customerId!, refundId: input.refundId }))
  ) {
    [approved, decidedBy, decisionReason] = [
      true,
      TRUSTED_CUSTOMER_POLICY,
      'more than 10 delivered orders and no refund before',
    ];
  } else {
    setCurrentDetails(describe(refund));
    const chosen = await awaitDecision(s);
    [approved, decidedBy, decisionReason] = [chosen.approve, chosen.decision.adminId, chosen.decision.reason];
    decidedVia = chosen.via;
  }
  s.decided = true;
  const recorded = await act.recordRefundDecision({
    refundId: input.refundId,
    approved,
    decidedBy,
    reason: decisionReason,
    via: decidedVia,
  });
  // A decision from the Web UI may name its admin by email; from here on the admin is their account id.
  // (Histories recorded before the activity answered it have no answer: the name stays as sent.)
  decidedBy = recorded?.decidedBy ?? decidedBy;
  refund.decidedBy = decidedBy;
  refund.decisionReason = decisionReason;
  refund.status = approved ? 'APPROVED' : 'REJECTED';
  record(
    s,
    approved ? 'REFUND_APPROVED' : 'REFUND_REJECTED',
    decidedBy === TRUSTED_CUSTOMER_POLICY ? SYSTEM : { id: decidedBy, role: 'ADMIN' },
    decisionReason,
  );
  refuseRemainingDecisions(s);
  return { approved, decidedBy };
}

/** Holds an approved refund while the order's payment is disputed; false when an admin cancelled it. */
async function holdWhileDisputed(s: RefundState): Promise<boolean> {
  const { input, refund } = s;
  const hold = await act.refundHold({ refundId: input.refundId, orderId: input.orderId });
  if (!hold.held) return true;
  refund.heldFor = hold.disputeId;
  record(s, 'REFUND_HELD', SYSTEM, `dispute ${hold.disputeId} of the order's payment is open`);
  await act.alertAdmins({
    key: `refund-held-${input.refundId}`,
    subject: `Refund ${input.refundId} held: order ${input.orderId} is disputed`,
    text:
      `Refund ${input.refundId} of ${refund.amount} ${refund.currency} (minor units) for order ${input.orderId} was approved, ` +
      `but dispute ${hold.disputeId} of the order's payment is open. Pay it out with POST /admin/refunds/${input.refundId}/release ` +
      `or cancel it with POST /admin/refunds/${input.refundId}/cancel (each {"reason": "..."}).\n`,
  });
  const { decision, adminId, via, audited } = await awaitHoldDecision(s);
  // Audited here, under the account the check resolved, before the decision's update is answered.
  if (audited) {
    await act.recordHeldRefundDecision({
      refundId: input.refundId,
      release: decision.release,
      adminId,
      named: decision.adminId,
      reason: decision.reason,
      heldFor: hold.disputeId!, // held: it names the dispute
      via,
    });
    refund.holdDecisionAudited = true;
  }
  refund.heldFor = undefined;
  const actor = adminActor({ ...decision, adminId });
  if (!decision.release) {
    await failTheRefund(s, `cancelled while disputed: ${decision.reason}`, {
      event: 'REFUND_CANCELLED',
      actor,
      detail: decision.reason,
    });
    return false;
  }
  record(s, 'REFUND_RELEASED', actor, decision.reason);
  return true;
}

/**
 * Pays the refund back to its one destination; false when it failed. A refusal (the provider
 * declines the refund, the wallet holds another currency) fails the refund with its reason.
 */
async function payOut(s: RefundState, decidedBy: string): Promise<boolean> {
  let failureReason: string | undefined;
  try {
    failureReason = await payBack(s, decidedBy);
  } catch (error) {
    if (!patched(REFUSAL_FAILS_THE_REFUND)) throw error;
    failureReason = businessFailure(error).message;
  }
  if (failureReason === undefined) return true;
  await failTheRefund(s, failureReason, { event: 'REFUND_FAILED', actor: SYSTEM, detail: failureReason });
  return false;
}

/** Records the refund COMPLETED; the order's workflow hears of it and the customer is told. */
async function complete(s: RefundState, decidedBy: string): Promise<void> {
  const { input, refund } = s;
  const order = await act.completeRefund({
    refundId: input.refundId,
    orderId: input.orderId,
    actor: { id: decidedBy, role: 'ADMIN' },
  });
  refund.status = 'COMPLETED';
  record(s, 'REFUND_COMPLETED', SYSTEM, `order ${order.orderStatus}, payment ${order.paymentStatus}`);
  try {
    await getExternalWorkflowHandle(orderWorkflowId(input.orderId)).signal(orderRefundedSignal, {
      refundId: input.refundId,
      amount: refund.amount!,
      ...order,
    });
  } catch {
    // The order's workflow has finished (delivered): the database already says what happened.
  }
  await act.sendRefundEmail({ refundId: input.refundId, kind: 'REFUND_COMPLETED' });
}

/**
 * The provider may fail a refund it first accepted (Razorpay answers at once; a card refund can
 * fail later): news of that while we finish reverses the completed refund, and admins must know.
 */
async function reverseLateFailure(s: RefundState): Promise<void> {
  const { input, refund } = s;
  const lateFailure = s.settlements.find(
    (x) => x.outcome === 'FAILED' && x.providerRefundId === refund.providerRefundId,
  );
  if (!lateFailure || !patched(LATE_FAILURE_REVERSES)) return;
  if (!(await believedSettlement(s, lateFailure))) return;
  const why = reversalReason('The provider', lateFailure);
  const reversal = await act.reverseCompletedRefund({ refundId: input.refundId, reason: why });
  if (!reversal) return;
  refund.status = 'FAILED';
  refund.failureReason = why;
  record(s, 'REFUND_REVERSED', SYSTEM, why);
  await act.alertAdmins(refundReversedAlert({ refundId: input.refundId, why, reversal }));
}

/** Records the refund FAILED with `why` (its timeline entry as given) and tells the customer. */
async function failTheRefund(
  s: RefundState,
  why: string,
  entry: { event: string; actor: Actor; detail: string },
): Promise<void> {
  await act.failRefund({ refundId: s.input.refundId, reason: why });
  s.refund.status = 'FAILED';
  s.refund.failureReason = why;
  record(s, entry.event, entry.actor, entry.detail);
  await act.sendRefundEmail({ refundId: s.input.refundId, kind: 'REFUND_FAILED' });
}

/** Answers every decision still waiting, lets the handlers finish, and returns the refund. */
async function finish(s: RefundState): Promise<RefundView> {
  refuseRemainingDecisions(s);
  for (let late = s.holdDecisions.shift(); late; late = s.holdDecisions.shift())
    s.holdVerdicts.set(late.id, notHeld(s.refund));
  await condition(allHandlersFinished);
  return s.refund;
}
