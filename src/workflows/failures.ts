/**
 * How workflows refuse and read refusals: one way to raise a business refusal (an
 * ApplicationFailure coded from the closed vocabulary, never retried), one way to read the refusal
 * inside an activity's failure, one way to mark a refused request's view, and the admin alerts written
 * when money must be given back by hand.
 */
import { ActivityFailure, ApplicationFailure, log } from '@temporalio/workflow';
import { ErrorCode } from './vocabulary';

/** A business refusal: a non-retryable ApplicationFailure whose type is `code`; `details`, if any, its only detail. */
export function refusal(code: ErrorCode, message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type: code,
    message,
    details: details === undefined ? undefined : [details],
    nonRetryable: true,
  });
}

/** A request (decision, shipment, delivery) naming someone who is not an active admin, by the name as typed. */
export function notAnAdmin(named: string): ApplicationFailure {
  return refusal(ErrorCode.NOT_AN_ADMIN, `${named || '(nobody)'} is not an active admin`);
}

/**
 * The business refusal inside an activity failure (INSUFFICIENT_STOCK, REFUND_PENDING, ...), so
 * a workflow can hand it to its caller unchanged; anything unexpected becomes a plain failure
 * and is logged.
 */
export function businessFailure(error: unknown): ApplicationFailure {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) return cause;
  log.error('Unexpected failure', { error: String(error) });
  return ApplicationFailure.create({ message: String((cause as Error)?.message ?? error), nonRetryable: true });
}

/**
 * The admin alert for a payment we must give back but the provider would not refund: the money
 * is still with us, so a person must know. One email per payment (the alert's key).
 */
export function refundRefusedAlert(input: {
  orderId: string;
  payment: { provider: string; providerPaymentId: string; chargeId?: string; amount: number; currency: string };
  why: string;
  refusal: string;
  workflowId: string;
}): { key: string; subject: string; text: string } {
  const { orderId, payment } = input;
  const paymentRef = payment.chargeId ?? payment.providerPaymentId;
  return {
    key: `refund-refused-${paymentRef}`,
    subject: `Order ${orderId}: a payment to give back was not refunded`,
    text:
      `${payment.provider} payment ${paymentRef} of ${payment.amount} ${payment.currency} (minor units) for order ${orderId} ` +
      `should be refunded (${input.why}), but the provider refused: ${input.refusal}.\n` +
      `Refund it from the provider's dashboard; the history of workflow ${input.workflowId} has the details.\n`,
  };
}

/** The admin alert for a refund recorded COMPLETED that the provider then failed. */
export function refundReversedAlert(input: {
  refundId: string;
  why: string;
  reversal: { orderId: string; amount: number; currency: string; paymentStatus: string };
}): { key: string; subject: string; text: string } {
  const { refundId, reversal } = input;
  return {
    key: `refund-reversed-${refundId}`,
    subject: `Refund ${refundId} failed after completion: the customer has not been paid back`,
    text:
      `${input.why}. Refund ${refundId} of ${reversal.amount} ${reversal.currency} (minor units) for order ${reversal.orderId} is now FAILED; ` +
      `the order's payment is ${reversal.paymentStatus}.\nRefund the customer another way (a wallet credit, or the provider's dashboard); ` +
      `if the order was refunded in full before shipment, its units were restocked.\n`,
  };
}

/** Why a completed refund is reversed, in the words the refund's record keeps. */
export function reversalReason(who: string, settlement: { providerRefundId: string; failureReason?: string }): string {
  return `${who} reported refund ${settlement.providerRefundId} failed after it was completed${settlement.failureReason ? ` (${settlement.failureReason})` : ''}`;
}

/** What a refused request's view says of its refusal (a refund's, a return's). */
export interface RefusedView {
  status: string;
  failureReason?: string;
  failureCode?: string;
  failureDetails?: unknown;
}

/** Marks a request's view REFUSED with the refusal's message, code and details, as the API reports them. */
export function markRefused(view: RefusedView, failure: ApplicationFailure): void {
  view.status = 'REFUSED';
  view.failureReason = failure.message;
  view.failureCode = failure.type ?? undefined;
  view.failureDetails = failure.details?.[0];
}
