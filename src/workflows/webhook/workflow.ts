/**
 * One workflow per provider event (`webhook-<provider>-<eventId>`): the id makes a second
 * processing of a redelivered event impossible by construction. It finds the order the payment
 * belongs to, hands the outcome to the order's workflow, and records in the webhook inbox whether
 * that worked. A payment for an order whose workflow has closed (cancelled, expired) is refunded
 * here: money is never silently kept.
 *
 * An event that could not be processed ends the workflow as failed, so that a replay (or the
 * provider's redelivery) may run it again under the same id; a processed one never runs twice.
 */
import {
  getExternalWorkflowHandle,
  ParentClosePolicy,
  patched,
  startChild,
  WorkflowIdReusePolicy,
  workflowInfo,
} from '@temporalio/workflow';
import { businessFailure, refundReversedAlert, refusal, reversalReason } from '../failures';
import { activitiesFor } from '../policies';
import { refundOrAlert } from '../unexpected-payments';
import { ErrorCode } from '../vocabulary';
import { paymentEventSignal, type PaymentEvent } from '../order/messages';
import { refundSettledSignal, type RefundSettlement } from '../refund/messages';
import { type WebhookOutcome, type WebhookWorkflowInput } from './messages';
import { disputeEventSignal, type DisputeEvent } from '../dispute/messages';
import type { disputeWorkflow } from '../dispute/workflow';
import { disputeWorkflowId, orderWorkflowId, refundWorkflowId } from '../ids';

// No request waits on this workflow (the endpoint answers once Temporal has it), but a payment's
// news should reach its order in seconds: its bookkeeping runs under the database policy, finding
// the order under the lookup policy (src/workflows/policies.ts).
const act = activitiesFor(
  'recordWebhookOutcome',
  'resolvePaymentOrder',
  'isOrderPaidBy',
  'routeDisputeEvent',
  'applyDisputeEvent',
  'reverseCompletedRefund',
  'alertAdmins',
  'sendOrderEmail',
);

// Patch: a success event for the payment that paid a finished order is not refunded.
const PAID_ORDER_KEEPS_ITS_PAYMENT = 'paid-order-keeps-its-payment';
// Patch: a late payment the provider will not refund is reported to every admin by email.
const REFUND_REFUSAL_ALERTS_ADMINS = 'late-refund-refusal-alerts-admins';
// Patch: a refund the provider fails after we recorded it COMPLETED is reversed and reported.
const COMPLETED_REFUND_FAILURE_REPORTED = 'completed-refund-failure-reported';
// Patch: dispute events signal (or start) the dispute's own workflow instead of doing nothing.
const DISPUTES_HAVE_WORKFLOWS = 'disputes-have-workflows';

export async function webhookWorkflow(input: WebhookWorkflowInput): Promise<WebhookOutcome> {
  let outcome: WebhookOutcome;
  try {
    outcome = await deliverToOrder(input);
  } catch (error) {
    outcome = { status: 'FAILED', detail: businessFailure(error).message };
  }
  await act.recordWebhookOutcome({ provider: input.provider, eventId: input.eventId, ...outcome });
  if (outcome.status === 'FAILED') throw refusal(ErrorCode.WEBHOOK_FAILED, outcome.detail);
  return outcome;
}

async function deliverToOrder(input: WebhookWorkflowInput): Promise<WebhookOutcome> {
  if (input.refunds) return deliverToRefunds(input);
  // Only events parsed as disputes take this branch, and none did before it existed.
  if (input.dispute && patched(DISPUTES_HAVE_WORKFLOWS)) return deliverToDispute(input.dispute);
  const payment = input.payment;
  if (!payment) return { status: 'PROCESSED', detail: `${input.eventType}: nothing to do` };
  const { orderId } = await act.resolvePaymentOrder({
    provider: payment.provider,
    orderId: input.orderId,
    providerPaymentId: payment.providerPaymentId,
  });
  const orderWorkflow = orderWorkflowId(orderId);
  try {
    await getExternalWorkflowHandle(orderWorkflow).signal(paymentEventSignal, payment);
    return { status: 'PROCESSED', detail: `${payment.outcome} delivered to ${orderWorkflow}` };
  } catch {
    // The order exists but its workflow has finished: nothing is waiting for this payment.
    if (payment.outcome !== 'SUCCEEDED')
      return { status: 'PROCESSED', detail: `${orderWorkflow} has finished; a failed payment needs nothing` };
    // Unless this very payment paid the order (a late `order.paid`, a replay): that money is the order's.
    if (
      patched(PAID_ORDER_KEEPS_ITS_PAYMENT) &&
      (await act.isOrderPaidBy({
        orderId,
        provider: payment.provider,
        providerPaymentId: payment.providerPaymentId,
        // Which payment of it: a second payment of the Razorpay order that paid is not the order's.
        chargeId: payment.chargeId,
      }))
    ) {
      return {
        status: 'PROCESSED',
        detail: `${payment.providerPaymentId} already paid order ${orderId}: nothing to do`,
      };
    }
    return refundLatePayment(orderId, payment);
  }
}

/**
 * Refund events go to the refund's own workflow. One that has finished needs nothing more,
 * unless the provider now reports as failed a refund we completed: then the customer has not
 * been paid back, and admins must know.
 */
async function deliverToRefunds(input: WebhookWorkflowInput): Promise<WebhookOutcome> {
  const delivered: string[] = [];
  const reversed: string[] = [];
  for (const settlement of input.refunds ?? []) {
    try {
      await getExternalWorkflowHandle(refundWorkflowId(settlement.refundId)).signal(refundSettledSignal, settlement);
      delivered.push(settlement.refundId);
    } catch {
      // refund-<id> has already finished
    }
    // Whether or not its workflow still runs: one that is closing has completed the refund already.
    // The reversal acts only on a COMPLETED refund, once (a pending one fails in its own workflow).
    if (
      settlement.outcome === 'FAILED' &&
      patched(COMPLETED_REFUND_FAILURE_REPORTED) &&
      (await reportReversal(input, settlement))
    )
      reversed.push(settlement.refundId);
  }
  const to = delivered.length ? delivered.map((id) => refundWorkflowId(id)).join(', ') : 'no running refund';
  return {
    status: 'PROCESSED',
    detail: `${input.eventType}: delivered to ${to}${reversed.length ? `; reported failed after completion: ${reversed.join(', ')}` : ''}`,
  };
}

/**
 * Signal-with-start, from a workflow: signal `dispute-<provider>-<disputeId>`, else start it with
 * this event as its first. Two events racing to start it: the loser signals the winner. A dispute
 * whose workflow has finished (decided) takes no more events: its outcome stands.
 */
async function deliverToDispute(event: DisputeEvent): Promise<WebhookOutcome> {
  const route = await act.routeDisputeEvent({
    provider: event.provider,
    disputeId: event.disputeId,
    providerPaymentId: event.providerPaymentId,
    chargeId: event.chargeId,
  });
  const workflowId = disputeWorkflowId(event.provider, event.disputeId);
  const signal = async () => {
    try {
      await getExternalWorkflowHandle(workflowId).signal(disputeEventSignal, event);
      return true;
    } catch {
      return false; // not running
    }
  };
  if (await signal()) return { status: 'PROCESSED', detail: `${event.eventType} delivered to ${workflowId}` };
  try {
    await startChild<typeof disputeWorkflow>('disputeWorkflow', {
      workflowId,
      args: [{ ...route, provider: event.provider, disputeId: event.disputeId, first: event }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    });
    return { status: 'PROCESSED', detail: `${event.eventType} started ${workflowId} for order ${route.orderId}` };
  } catch (error) {
    if ((error as Error)?.name !== 'WorkflowExecutionAlreadyStartedError') throw error;
    if (await signal()) return { status: 'PROCESSED', detail: `${event.eventType} delivered to ${workflowId}` };
    // Decided: the outcome stands, but the record still takes what this event adds (funds moved).
    await act.applyDisputeEvent({
      recordId: route.recordId,
      orderId: route.orderId,
      paymentId: route.paymentId,
      event,
    });
    return { status: 'PROCESSED', detail: `${workflowId} has decided the dispute: ${event.eventType} recorded` };
  }
}

async function reportReversal(input: WebhookWorkflowInput, settlement: RefundSettlement): Promise<boolean> {
  const why = reversalReason(input.provider, settlement);
  const reversal = await act.reverseCompletedRefund({ refundId: settlement.refundId, reason: why });
  if (!reversal) return false;
  await act.alertAdmins(refundReversedAlert({ refundId: settlement.refundId, why, reversal }));
  return true;
}

async function refundLatePayment(orderId: string, payment: PaymentEvent): Promise<WebhookOutcome> {
  // The provider may refuse: the event then stays FAILED, visible in the inbox and its health
  // report, until someone has dealt with it (admins are alerted).
  const given = await refundOrAlert({
    orderId,
    payment,
    why: 'paid after the order had closed',
    workflowId: workflowInfo().workflowId,
    alertPatch: REFUND_REFUSAL_ALERTS_ADMINS,
  });
  if (given.refusal !== undefined)
    return {
      status: 'FAILED',
      detail: `${orderWorkflowId(orderId)} had closed; the refund of ${payment.providerPaymentId} was refused (${given.refusal}); admins alerted`,
    };
  await act.sendOrderEmail({ orderId, kind: 'PAYMENT_REFUNDED', key: payment.chargeId ?? payment.providerPaymentId });
  return {
    status: 'PROCESSED',
    detail: `${orderWorkflowId(orderId)} had closed: payment ${payment.providerPaymentId} refunded in full (${given.refundId})`,
  };
}
