/**
 * One workflow per refund request (`refund-<refundId>`). It replaces the runbook's "admin
 * reviews the request in the dashboard, approves or rejects, then credits and refunds":
 *
 *   record the request -> a decision (the admin making a manual refund, the trusted-customer
 *   policy, or an admin in the API or the Temporal Web UI, with reminders while none comes)
 *   -> pay it back to ONE destination (wallet, or the original payment) -> the order follows.
 *
 * Decisions may arrive twice, at once, from two admins, or as signals typed into the Web UI:
 * the first valid one wins, every other is refused and recorded, and each effect happens once.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import {
  approveRefundSignal,
  approveRefundUpdate,
  decideHeldRefundSignal,
  decideHeldRefundUpdate,
  type HeldRefundDecision,
  getRefundQuery,
  orderRefundedSignal,
  refundSettledSignal,
  rejectRefundSignal,
  rejectRefundUpdate,
  requestRefundUpdate,
  type RefundDecision,
  type RefundSettlement,
  type RefundView,
  type RefundWorkflowInput,
} from './messages';
import { ErrorCode, type Actor } from '../vocabulary';
import { businessFailure, refundReversedAlert, refusal, reversalReason } from '../failures';
import { orderWorkflowId } from '../ids';

// Timeouts are chosen against API_TEMPORAL_DEADLINE (30 s): a refund request and an admin's
// approval or rejection wait on this workflow's writes and payout.
//
// Database writes (openRefund, recordRefundDecision, completeRefund, ...): one short transaction;
// 5 s start-to-close, so one lost with its worker is retried at +5.5 s, well inside the deadline.
const store = proxyActivities<Activities>({
  startToCloseTimeout: '5s',
  retry: { initialInterval: '500ms', maximumInterval: '30s' },
});
// The payout an approval waits on: a wallet credit (a database write) or a provider refund (about a
// second; the SDK gives up at 10 s). 12 s start-to-close lets a slow provider call finish and still
// retries a lost one within the approval's deadline. Money goes back eventually, however long the
// provider is unreachable; refusals are not retried.
const money = proxyActivities<Activities>({
  startToCloseTimeout: '12s',
  retry: { initialInterval: '2s', maximumInterval: '5m' },
});
// Email is sent after the decision has been answered, never on a request's path: 30 s for a slow SMTP server.
const mail = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '5s', maximumInterval: '10m' },
});

const SYSTEM: Actor = { id: 'system', role: 'SYSTEM' };
const TRUSTED_CUSTOMER_POLICY = 'policy:trusted-customer';
// Patch: a refused payout (provider refusal, wallet currency) fails the refund instead of the workflow.
const REFUSAL_FAILS_THE_REFUND = 'refusal-fails-the-refund';
// Patch: the provider failing the refund while this workflow finishes reverses it and tells admins.
const LATE_FAILURE_REVERSES = 'late-failure-reverses';
// Patch: an approved refund whose order's payment is now disputed waits for an admin before paying out.
const DISPUTE_HOLDS_REFUND = 'dispute-holds-refund';

interface PendingDecision {
  id: number;
  approve: boolean;
  decision: RefundDecision;
  via: 'signal' | 'update';
}

export async function refundWorkflow(input: RefundWorkflowInput): Promise<RefundView> {
  const refund: RefundView = {
    refundId: input.refundId,
    orderId: input.orderId,
    status: 'PENDING_APPROVAL',
    reason: input.reason,
    requestedBy: input.requestedBy,
    destination: input.destination,
    timeline: [],
  };
  let opened: { failure?: ApplicationFailure } | undefined;
  let decided = false;
  const decisions: PendingDecision[] = [];
  const verdicts = new Map<number, ApplicationFailure | 'ACCEPTED'>();
  let nextDecisionId = 0;
  const settlements: RefundSettlement[] = [];
  const holdDecisions: { id: number; decision: HeldRefundDecision }[] = [];
  const holdVerdicts = new Map<number, ApplicationFailure | 'ACCEPTED'>();

  // ---- Handlers ------------------------------------------------------------------------------

  setHandler(getRefundQuery, () => refund, {
    description: 'The refund: amount, destination, status, who decided, and its timeline.',
  });

  setHandler(
    requestRefundUpdate,
    async () => {
      await condition(
        () =>
          opened !== undefined &&
          (opened.failure !== undefined || !input.approvedBy || effectsStarted() || refund.heldFor !== undefined),
      );
      if (opened?.failure) throw opened.failure;
      return refund;
    },
    {
      description:
        'Records the request (sent with update-with-start); a manual refund answers once the money has moved.',
    },
  );

  function decide(approve: boolean, via: PendingDecision['via'], decision: RefundDecision): number {
    const id = nextDecisionId++;
    decisions.push({ id, approve, decision, via });
    return id;
  }
  function decideBySignal(approve: boolean) {
    return (decision: RefundDecision) => {
      if (decided)
        record(
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
      await condition(
        () =>
          verdicts.has(id) &&
          (verdicts.get(id) !== 'ACCEPTED' ||
            effectsStarted() ||
            refund.status === 'REJECTED' ||
            refund.heldFor !== undefined),
      );
      const verdict = verdicts.get(id);
      if (verdict !== 'ACCEPTED') throw verdict;
      return refund;
    };
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
        settlements.push(settlement);
    },
    {
      description:
        'The provider reports how the refund ended: {refundId, providerRefundId, outcome: "SUCCEEDED"|"FAILED", eventId}.',
    },
  );

  const holdHelp = 'Send {"adminId": "<admin user id>", "reason": "<why>", "release": true|false}.';
  setHandler(decideHeldRefundSignal, (decision) => void holdDecisions.push({ id: nextDecisionId++, decision }), {
    description: `Pay out (release: true) or cancel a refund held for a dispute. ${holdHelp}`,
  });
  setHandler(
    decideHeldRefundUpdate,
    async (decision) => {
      const id = nextDecisionId++;
      holdDecisions.push({ id, decision });
      await condition(() => holdVerdicts.has(id) && (holdVerdicts.get(id) !== 'ACCEPTED' || effectsStarted()));
      const verdict = holdVerdicts.get(id);
      if (verdict !== 'ACCEPTED') throw verdict;
      return refund;
    },
    {
      validator: (decision) => {
        if (!decision?.adminId || !decision.reason?.trim() || typeof decision.release !== 'boolean')
          throw ApplicationFailure.create({
            type: ErrorCode.VALIDATION_ERROR,
            message: 'adminId, reason and release are required',
            nonRetryable: true,
          });
        if (refund.heldFor === undefined)
          throw ApplicationFailure.create({
            type: ErrorCode.REFUND_NOT_HELD,
            message: `The refund is ${refund.status} and not held`,
            nonRetryable: true,
          });
      },
      description: `Pay out or cancel a refund held for a dispute, answering the outcome. ${holdHelp}`,
    },
  );

  /** Waits for an admin's decision on a held refund; refuses anyone who is not an active admin. */
  async function awaitHoldDecision(): Promise<HeldRefundDecision> {
    for (;;) {
      await condition(() => holdDecisions.length > 0);
      const candidate = holdDecisions.shift()!;
      const isAdmin = await store.isAdmin({ refundId: input.refundId, userId: candidate.decision.adminId });
      const refusal = isAdmin
        ? undefined
        : ApplicationFailure.create({
            type: ErrorCode.NOT_AN_ADMIN,
            message: `${candidate.decision.adminId} is not an active admin`,
            nonRetryable: true,
          });
      holdVerdicts.set(candidate.id, refusal ?? 'ACCEPTED');
      if (!refusal) return candidate.decision;
      record('HOLD_DECISION_REFUSED', adminActor(candidate.decision), refusal.message);
    }
  }

  function validateDecision(decision: RefundDecision): void {
    if (!decision?.adminId || !decision.reason?.trim()) {
      throw refusal(ErrorCode.VALIDATION_ERROR, 'adminId and reason are required');
    }
    if (decided || !opened || opened.failure) throw alreadyDecided(refund);
    if (decision.adminId === input.requestedBy.id) throw selfApproval();
  }

  // ---- Helpers -------------------------------------------------------------------------------

  function record(event: string, actor: Actor, detail?: string): void {
    refund.timeline.push({ at: new Date().toISOString(), event, actor, detail });
    setCurrentDetails(describe(refund));
  }

  function effectsStarted(): boolean {
    return (
      refund.status === 'COMPLETED' ||
      refund.status === 'FAILED' ||
      (refund.status === 'APPROVED' && refund.providerRefundId !== undefined)
    );
  }

  /** Waits for the first acceptable decision; answers every queued one, refusing the rest. */
  async function awaitDecision(): Promise<PendingDecision> {
    let reminders = 0;
    for (;;) {
      const arrived = await condition(() => decisions.length > 0, input.reminderAfterMs);
      if (!arrived) {
        reminders += 1;
        await mail.sendRefundReminder({ refundId: input.refundId, reminder: reminders });
        record('ADMINS_REMINDED', SYSTEM, `reminder ${reminders}: no decision yet`);
        continue;
      }
      const candidate = decisions.shift()!;
      const refusal = await checkDecision(candidate);
      verdicts.set(candidate.id, refusal ?? 'ACCEPTED');
      if (!refusal) return candidate;
      record(
        'DECISION_REFUSED',
        adminActor(candidate.decision),
        `${candidate.approve ? 'approval' : 'rejection'} via ${candidate.via}: ${refusal.message}`,
      );
    }
  }

  async function checkDecision(candidate: PendingDecision): Promise<ApplicationFailure | undefined> {
    if (candidate.decision.adminId === input.requestedBy.id) return selfApproval();
    if (!(await store.isAdmin({ refundId: input.refundId, userId: candidate.decision.adminId }))) {
      return ApplicationFailure.create({
        type: ErrorCode.NOT_AN_ADMIN,
        message: `${candidate.decision.adminId} is not an active admin`,
        nonRetryable: true,
      });
    }
    return undefined;
  }

  function refuseRemainingDecisions(): void {
    for (let late = decisions.shift(); late; late = decisions.shift()) {
      verdicts.set(late.id, alreadyDecided(refund));
      record('DECISION_REFUSED', adminActor(late.decision), 'the refund was already decided');
    }
  }

  /** Waits for the provider to settle the refund; asks it when no webhook comes. */
  async function awaitSettlement(providerRefundId: string): Promise<RefundSettlement> {
    for (;;) {
      const arrived = await condition(() => settlements.some((s) => s.outcome !== 'PENDING'), input.settleCheckAfterMs);
      if (arrived) return settlements.find((s) => s.outcome !== 'PENDING')!;
      const checked = await money.fetchProviderRefundStatus({ refundId: input.refundId, providerRefundId });
      record('REFUND_STATUS_CHECKED', SYSTEM, `provider reports ${checked.outcome} (no webhook yet)`);
      if (checked.outcome !== 'PENDING') return checked;
    }
  }

  /** Moves the money to the refund's destination; answers why the provider failed it, if it did. */
  async function payBack(actorId: string): Promise<string | undefined> {
    if (refund.destination === 'WALLET') {
      await money.creditRefundToWallet({
        refundId: input.refundId,
        orderId: input.orderId,
        customerId: refund.customerId!,
        amount: refund.amount!,
        currency: refund.currency!,
        actor: actorId,
      });
      refund.walletCredited = refund.amount;
      record('WALLET_CREDITED', SYSTEM, `${refund.amount} ${refund.currency}`);
      return undefined;
    }
    const created = await money.createProviderRefund({
      refundId: input.refundId,
      orderId: input.orderId,
      amount: refund.amount!,
    });
    refund.providerRefundId = created.providerRefundId;
    record('PROVIDER_REFUND_CREATED', SYSTEM, created.providerRefundId);
    const settled =
      created.outcome === 'PENDING'
        ? await awaitSettlement(created.providerRefundId)
        : { ...created, refundId: input.refundId, eventId: 'immediate' };
    if (settled.outcome === 'FAILED') return settled.failureReason ?? 'the provider failed the refund';
    record('PROVIDER_REFUND_SUCCEEDED', SYSTEM, `${settled.providerRefundId} (${settled.eventId})`);
    return undefined;
  }

  async function finish(): Promise<RefundView> {
    refuseRemainingDecisions();
    for (let late = holdDecisions.shift(); late; late = holdDecisions.shift())
      holdVerdicts.set(
        late.id,
        ApplicationFailure.create({
          type: ErrorCode.REFUND_NOT_HELD,
          message: `The refund is ${refund.status}`,
          nonRetryable: true,
        }),
      );
    await condition(allHandlersFinished);
    return refund;
  }

  // ---- The refund, as the runbook reads --------------------------------------------------------

  // 1. Record the request: refused with the reason when the order cannot be refunded.
  try {
    const request = await store.openRefund({
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
      'REFUND_REQUESTED',
      input.requestedBy,
      `${request.amount} ${request.currency} to ${request.destination}: ${input.reason}`,
    );
    opened = {};
  } catch (error) {
    const failure = businessFailure(error);
    opened = { failure };
    refund.status = 'REFUSED';
    refund.failureReason = failure.message;
    refund.failureCode = failure.type ?? undefined;
    refund.failureDetails = failure.details?.[0];
    refund.amount ??= input.amount; // what was asked for, so a retry can be told apart from another request
    record('REFUND_REFUSED', SYSTEM, failure.message);
    return finish();
  }

  // 2. The decision: the admin making a manual refund, the trusted-customer policy, or an admin.
  let approved: boolean;
  let decidedBy: string;
  let decisionReason: string;
  let decidedVia: PendingDecision['via'] | undefined;
  if (input.approvedBy) {
    [approved, decidedBy, decisionReason] = [true, input.approvedBy.id, input.reason];
  } else if (
    input.autoApproveTrusted &&
    (await store.isTrustedCustomer({ customerId: refund.customerId!, refundId: input.refundId }))
  ) {
    [approved, decidedBy, decisionReason] = [
      true,
      TRUSTED_CUSTOMER_POLICY,
      'more than 10 delivered orders and no refund before',
    ];
  } else {
    setCurrentDetails(describe(refund));
    const chosen = await awaitDecision();
    [approved, decidedBy, decisionReason] = [chosen.approve, chosen.decision.adminId, chosen.decision.reason];
    decidedVia = chosen.via;
  }
  decided = true;
  const recorded = await store.recordRefundDecision({
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
    approved ? 'REFUND_APPROVED' : 'REFUND_REJECTED',
    decidedBy === TRUSTED_CUSTOMER_POLICY ? SYSTEM : { id: decidedBy, role: 'ADMIN' },
    decisionReason,
  );
  refuseRemainingDecisions();

  if (!approved) {
    await mail.sendRefundEmail({ refundId: input.refundId, kind: 'REFUND_REJECTED' });
    return finish();
  }

  // 3a. The order's payment is disputed (the bank may be taking the money back): an admin decides.
  if (patched(DISPUTE_HOLDS_REFUND)) {
    const hold = await store.refundHold({ refundId: input.refundId, orderId: input.orderId });
    if (hold.held) {
      refund.heldFor = hold.disputeId;
      record('REFUND_HELD', SYSTEM, `dispute ${hold.disputeId} of the order's payment is open`);
      await mail.alertAdmins({
        key: `refund-held-${input.refundId}`,
        subject: `Refund ${input.refundId} held: order ${input.orderId} is disputed`,
        text:
          `Refund ${input.refundId} of ${refund.amount} ${refund.currency} (minor units) for order ${input.orderId} was approved, ` +
          `but dispute ${hold.disputeId} of the order's payment is open. Pay it out with POST /admin/refunds/${input.refundId}/release ` +
          `or cancel it with POST /admin/refunds/${input.refundId}/cancel (each {"reason": "..."}).\n`,
      });
      const decision = await awaitHoldDecision();
      refund.heldFor = undefined;
      if (!decision.release) {
        const why = `cancelled while disputed: ${decision.reason}`;
        await money.failRefund({ refundId: input.refundId, reason: why });
        refund.status = 'FAILED';
        refund.failureReason = why;
        record('REFUND_CANCELLED', adminActor(decision), decision.reason);
        await mail.sendRefundEmail({ refundId: input.refundId, kind: 'REFUND_FAILED' });
        return finish();
      }
      record('REFUND_RELEASED', adminActor(decision), decision.reason);
    }
  }

  // 3. Pay it back to its one destination. A refusal (the provider declines the refund, the
  //    wallet holds another currency) fails the refund with its reason; it never hangs APPROVED.
  let failureReason: string | undefined;
  try {
    failureReason = await payBack(decidedBy);
  } catch (error) {
    if (!patched(REFUSAL_FAILS_THE_REFUND)) throw error;
    failureReason = businessFailure(error).message;
  }
  if (failureReason !== undefined) {
    await money.failRefund({ refundId: input.refundId, reason: failureReason });
    refund.status = 'FAILED';
    refund.failureReason = failureReason;
    record('REFUND_FAILED', SYSTEM, failureReason);
    await mail.sendRefundEmail({ refundId: input.refundId, kind: 'REFUND_FAILED' });
    return finish();
  }

  // 4. Done: the order's payment follows, the order's workflow hears it, the customer is told.
  const order = await store.completeRefund({
    refundId: input.refundId,
    orderId: input.orderId,
    actor: { id: decidedBy, role: 'ADMIN' },
  });
  refund.status = 'COMPLETED';
  record('REFUND_COMPLETED', SYSTEM, `order ${order.orderStatus}, payment ${order.paymentStatus}`);
  try {
    await getExternalWorkflowHandle(orderWorkflowId(input.orderId)).signal(orderRefundedSignal, {
      refundId: input.refundId,
      amount: refund.amount!,
      ...order,
    });
  } catch {
    // The order's workflow has finished (delivered): the database already says what happened.
  }
  await mail.sendRefundEmail({ refundId: input.refundId, kind: 'REFUND_COMPLETED' });

  // 5. The provider may still fail a refund it first accepted (Razorpay answers at once; a card
  //    refund can fail later): news of that while we finish reverses it, and admins must know.
  const lateFailure = settlements.find((s) => s.outcome === 'FAILED' && s.providerRefundId === refund.providerRefundId);
  if (lateFailure && patched(LATE_FAILURE_REVERSES)) {
    const why = reversalReason('The provider', lateFailure);
    const reversal = await money.reverseCompletedRefund({ refundId: input.refundId, reason: why });
    if (reversal) {
      refund.status = 'FAILED';
      refund.failureReason = why;
      record('REFUND_REVERSED', SYSTEM, why);
      await mail.alertAdmins(refundReversedAlert({ refundId: input.refundId, why, reversal }));
    }
  }
  return finish();
}

function adminActor(decision: RefundDecision): Actor {
  return { id: decision?.adminId ?? 'unknown', role: 'ADMIN' };
}

function alreadyDecided(refund: RefundView): ApplicationFailure {
  return ApplicationFailure.create({
    type: ErrorCode.REFUND_ALREADY_DECIDED,
    message: `The refund is already ${refund.status}`,
    details: [{ status: refund.status }],
    nonRetryable: true,
  });
}

function selfApproval(): ApplicationFailure {
  return ApplicationFailure.create({
    type: ErrorCode.SELF_APPROVAL,
    message: 'The admin who requested a refund cannot decide it',
    nonRetryable: true,
  });
}

function describe(refund: RefundView): string {
  if (refund.status === 'PENDING_APPROVAL') {
    return (
      `Waiting for an admin: refund ${refund.amount} ${refund.currency} to ${refund.destination} (${refund.reason}). ` +
      'Send signal approveRefund or rejectRefund with {"adminId": "<your admin user id or email>", "reason": "<why>"}.'
    );
  }
  return `${refund.status}${refund.decidedBy ? ` (decided by ${refund.decidedBy})` : ''}.`;
}
