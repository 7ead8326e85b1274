/**
 * An order's payment at its provider: opening attempts (a Stripe PaymentIntent or a Razorpay
 * order), asking the provider when no webhook comes, applying the payment events that arrive, and
 * giving back every payment the order cannot keep. Each is a step of the order's main flow; the
 * handlers only put events in the inbox.
 */
import { condition, patched, setCurrentDetails } from '@temporalio/workflow';
import { orderWorkflowId } from '../ids';
import { activitiesFor } from '../policies';
import { signalledPaymentStep } from './critical-path';
import { refundOrAlert } from '../unexpected-payments';
import { SYSTEM, type Actor } from '../vocabulary';
import type { OrderView, PaymentEvent } from './messages';
import {
  ONLY_OWN_ATTEMPTS_PAY,
  PAYMENT_NEWS_VERIFIED,
  PAID_BY_REMEMBERED,
  SECOND_CHARGE_REFUNDED,
  PAYMENT_CONFIRMED_IN_ONE_TRANSACTION,
  PAYMENT_NEWS_ONE_STEP,
  REFUND_EMAIL_KEYED_BY_CHARGE,
  REFUND_REFUSAL_ALERTS_ADMINS,
} from './patches';
import { describe, moveTo, record, sendEmail, type OrderState } from './state';

const act = activitiesFor(
  'verifyPaymentNews',
  'recordPaymentSucceeded',
  'createPaymentIntent',
  'createRazorpayOrder',
  'cancelPaymentIntent',
  'fetchPaymentStatus',
  'recordPaymentFailed',
);

/** The current payment attempt at the provider: a Stripe PaymentIntent or a Razorpay order. */
export function currentPayment(s: OrderState): string | undefined {
  return s.provider === 'RAZORPAY' ? s.order.razorpayOrderId : s.order.paymentIntentId;
}

/** How a payment attempt is opened: through the task queue, or (checkout's first) locally. */
export type PaymentOpeners = Pick<typeof act, 'createPaymentIntent' | 'createRazorpayOrder'>;

/**
 * Opens the next payment attempt, through `open` (the queued activities unless told otherwise);
 * a previous PaymentIntent is cancelled so it cannot also be paid.
 */
export async function openPaymentAttempt(s: OrderState, open: PaymentOpeners = act): Promise<void> {
  const { order, provider } = s;
  const previous = currentPayment(s);
  const attempt = order.paymentAttempt + 1;
  const request = { orderId: order.orderId, attempt, amount: order.totalAmount, currency: order.currency };
  if (provider === 'RAZORPAY') {
    const opened = await open.createRazorpayOrder(request);
    order.razorpayOrderId = opened.razorpayOrderId;
    s.razorpayKeyId = opened.keyId;
  } else {
    const intent = await open.createPaymentIntent(request);
    order.paymentIntentId = intent.paymentIntentId;
    s.clientSecret = intent.clientSecret;
  }
  s.attempts.push(currentPayment(s)!);
  order.paymentAttempt = attempt;
  order.paymentStatus = 'PENDING';
  record(
    s,
    'PAYMENT_STARTED',
    SYSTEM,
    `attempt ${attempt}, ${provider === 'RAZORPAY' ? 'Razorpay order' : 'PaymentIntent'} ${currentPayment(s)}`,
  );
  setCurrentDetails(describe(order));
  // A Razorpay order cannot be cancelled (it lapses unpaid); a PaymentIntent can, and must be.
  if (previous && provider === 'STRIPE')
    await act.cancelPaymentIntent({ orderId: order.orderId, paymentIntentId: previous });
}

/** Asks the provider about the current attempt; answers what it found as a payment event. */
export async function askProvider(s: OrderState, why: string): Promise<PaymentEvent | undefined> {
  const { order, provider } = s;
  const reference = currentPayment(s)!;
  const found = await act.fetchPaymentStatus({ orderId: order.orderId, provider, providerPaymentId: reference });
  record(s, 'PAYMENT_STATUS_CHECKED', SYSTEM, `${why}: ${provider} reports ${found.outcome} for ${reference}`);
  if (found.outcome === 'PENDING') return undefined;
  return {
    provider,
    eventId: `reconciliation-${reference}-${found.outcome}`,
    outcome: found.outcome,
    providerPaymentId: reference,
    chargeId: found.chargeId,
    amount: found.amount,
    currency: found.currency,
    failureReason: found.failureReason,
  };
}

/** A payment made in the last moment before cancellation, which cancelling reveals. */
export async function lastMinutePayment(s: OrderState): Promise<PaymentEvent | undefined> {
  const { order, provider } = s;
  if (provider === 'RAZORPAY') {
    const found = await askProvider(s, 'order cancelled');
    return found?.outcome === 'SUCCEEDED' ? found : undefined;
  }
  const { status } = await act.cancelPaymentIntent({
    orderId: order.orderId,
    paymentIntentId: order.paymentIntentId!,
  });
  if (status !== 'succeeded') return undefined;
  return {
    provider,
    eventId: `cancel-${order.paymentIntentId}`,
    outcome: 'SUCCEEDED',
    providerPaymentId: order.paymentIntentId!,
    amount: order.totalAmount,
    currency: order.currency,
  };
}

/** Gives back a payment the order cannot keep; a refusal is recorded and alerted to admins. */
export async function refund(s: OrderState, event: PaymentEvent, why: string): Promise<void> {
  const { orderId } = s.order;
  const given = await refundOrAlert({
    orderId,
    payment: event,
    why,
    workflowId: orderWorkflowId(orderId),
    alertPatch: REFUND_REFUSAL_ALERTS_ADMINS,
    onRefused: (refusal) =>
      record(s, 'UNEXPECTED_PAYMENT_REFUND_REFUSED', SYSTEM, `${event.providerPaymentId}: ${refusal}`),
  });
  if (given.refusal !== undefined) return;
  const payment =
    event.provider === 'RAZORPAY' && event.chargeId
      ? `${event.chargeId} of ${event.providerPaymentId}`
      : event.providerPaymentId;
  // The refund is keyed by the payment (its pay_ id, or the PaymentIntent), so news of it again
  // (Razorpay sends payment.captured and order.paid) gets the same refund back: the timeline says
  // so instead of showing a second refund.
  const refunded = event.chargeId ?? event.providerPaymentId;
  if (s.refundsRecorded.has(refunded))
    record(
      s,
      'PAYMENT_EVENT_IGNORED',
      providerActor(event),
      `${event.outcome} ${payment}: refunded already (refund ${given.refundId})`,
    );
  else record(s, 'UNEXPECTED_PAYMENT_REFUNDED', SYSTEM, `${payment}: ${why} (refund ${given.refundId})`);
  s.refundsRecorded.add(refunded);
  // One email per refunded payment, keyed as the webhook workflow keys it (Razorpay: the pay_ id);
  // scheduled again on news of it again, as before (the key sends it once; the commands stay as recorded).
  sendEmail(s, 'PAYMENT_REFUNDED', patched(REFUND_EMAIL_KEYED_BY_CHARGE) ? refunded : event.providerPaymentId);
}

/**
 * An earlier attempt was paid after all (it succeeded as the next one opened): that payment is
 * the order's, and the attempt left open is closed so it cannot also be paid. A Razorpay order
 * cannot be closed: a payment for it is refunded when it is reported.
 */
async function closeAttempt(s: OrderState, attempt: string): Promise<void> {
  const { order, provider } = s;
  if (provider === 'RAZORPAY') order.razorpayOrderId = s.paidBy;
  else order.paymentIntentId = s.paidBy;
  record(s, 'PAYMENT_ATTEMPT_CLOSED', SYSTEM, `${attempt}: an earlier attempt, ${s.paidBy}, paid the order`);
  if (provider !== 'STRIPE') return;
  const { status } = await act.cancelPaymentIntent({ orderId: order.orderId, paymentIntentId: attempt });
  if (status === 'succeeded') {
    // Paid as well, in the same moment: refunded with whatever else arrives meanwhile.
    s.paymentInbox.push({
      provider,
      eventId: `cancel-${attempt}`,
      outcome: 'SUCCEEDED',
      providerPaymentId: attempt,
      amount: order.totalAmount,
      currency: order.currency,
    });
  }
}

/**
 * Whether to act on `event`. Our own findings (status checks, cancellations) are; news that came
 * by signal only once the stored verified webhook event it names, or the provider, says the same.
 * Unverified news is recorded (and audited by the activity) and forgotten, so the real event with
 * its id can still come.
 */
async function believed(s: OrderState, event: PaymentEvent): Promise<boolean> {
  if (!s.signalledEvents.delete(event.eventId) || !patched(PAYMENT_NEWS_VERIFIED)) return true;
  const check = await act.verifyPaymentNews({ kind: 'payment', orderId: s.order.orderId, event });
  if (check.verified) return true;
  ignoreUnverified(s, event, check.reason);
  return false;
}

/** Unverified news is recorded and forgotten, so the real event with its id can still come. */
function ignoreUnverified(s: OrderState, event: PaymentEvent, reason: string): void {
  s.seenPaymentEvents.delete(event.eventId);
  record(s, 'UNVERIFIED_PAYMENT_NEWS_IGNORED', SYSTEM, `${event.outcome} ${event.providerPaymentId}: ${reason}`);
}

/**
 * Whether `event`, as signalled, reports the order's open attempt (its provider's) paid in full:
 * the case checked and recorded in one step. Read before the news is verified, so nothing here
 * trusts its shape (a hand-typed signal may carry anything).
 */
function paysOpenAttemptInFull(s: OrderState, event: PaymentEvent): boolean {
  const { order } = s;
  const open = currentPayment(s);
  return (
    typeof event.eventId === 'string' &&
    event.provider === s.provider &&
    event.outcome === 'SUCCEEDED' &&
    open !== undefined &&
    event.providerPaymentId === open &&
    event.amount === order.totalAmount &&
    typeof event.currency === 'string' &&
    event.currency.toUpperCase() === order.currency.toUpperCase()
  );
}

/**
 * Signalled news of the open attempt paid in full, since PAYMENT_NEWS_ONE_STEP: verified against
 * the stored webhook event it names and recorded, the order confirmed, by one activity in one
 * transaction. 'recorded' once paid; 'ignored' when the stored event says otherwise (nothing
 * moved); undefined for any other news, or when no event is stored under its id, which is then
 * verified (by the provider) and applied as before. A local activity for orders started since
 * PAYMENT_NEWS_LOCAL (./critical-path.ts), so CONFIRMED within the task that took the news.
 */
async function recordedInOneStep(s: OrderState, event: PaymentEvent): Promise<'recorded' | 'ignored' | undefined> {
  const { order } = s;
  if (!s.signalledEvents.has(event.eventId) || !paysOpenAttemptInFull(s, event) || !patched(PAYMENT_NEWS_ONE_STEP))
    return undefined;
  // Local since PAYMENT_NEWS_LOCAL: what may follow it in this task was asked at checkout.
  const answer = await signalledPaymentStep(s.paymentNewsLocal === true).recordSignalledPayment({
    orderId: order.orderId,
    attempt: order.paymentAttempt,
    event,
    confirmedBy: confirmationPath(event),
    confirm: { actor: SYSTEM },
  });
  if (answer.outcome === 'NOT_STORED') return undefined;
  s.signalledEvents.delete(event.eventId);
  if (answer.outcome === 'UNVERIFIED') {
    ignoreUnverified(s, event, answer.reason);
    return 'ignored';
  }
  s.confirmedWithPayment = true;
  return 'recorded';
}

/** Handles a payment event while the order waits for payment; true once the order is PAID. */
export async function applyPayment(s: OrderState, event: PaymentEvent): Promise<boolean> {
  const { order } = s;
  const oneStep = await recordedInOneStep(s, event);
  if (oneStep === 'recorded') return markPaid(s, event, event.providerPaymentId);
  if (oneStep === 'ignored') return false;
  if (!(await believed(s, event))) return false;
  if (event.outcome === 'FAILED') {
    if (event.providerPaymentId !== currentPayment(s)) {
      record(s, 'STALE_PAYMENT_FAILURE_IGNORED', SYSTEM, event.providerPaymentId);
      return false;
    }
    await act.recordPaymentFailed({
      orderId: order.orderId,
      attempt: order.paymentAttempt,
      reason: event.failureReason ?? 'payment failed',
    });
    order.paymentStatus = 'FAILED';
    record(s, 'PAYMENT_FAILED', providerActor(event), event.failureReason);
    setCurrentDetails(describe(order));
    return false;
  }
  if (!s.attempts.includes(event.providerPaymentId) && patched(ONLY_OWN_ATTEMPTS_PAY)) {
    await refund(s, event, 'not a payment attempt of this order');
    return false;
  }
  if (event.amount !== order.totalAmount || event.currency.toUpperCase() !== order.currency.toUpperCase()) {
    await refund(
      s,
      event,
      `amount ${event.amount} ${event.currency} does not match the order total ${order.totalAmount} ${order.currency}`,
    );
    return false;
  }
  const openAttempt = currentPayment(s);
  // Paid now means confirmed next (commitSale): both in the payment's one transaction.
  s.confirmedWithPayment = patched(PAYMENT_CONFIRMED_IN_ONE_TRANSACTION);
  await act.recordPaymentSucceeded({
    orderId: order.orderId,
    attempt: order.paymentAttempt,
    providerPaymentId: event.providerPaymentId,
    chargeId: event.chargeId,
    confirmedBy: confirmationPath(event),
    ...(s.confirmedWithPayment ? { confirm: { actor: SYSTEM } } : {}),
  });
  return markPaid(s, event, openAttempt);
}

/** The payment `event` reports, recorded: the order is PAID; an attempt left open is closed. */
async function markPaid(s: OrderState, event: PaymentEvent, openAttempt: string | undefined): Promise<true> {
  const { order } = s;
  s.paidBy = event.providerPaymentId;
  s.paidByCharge = event.chargeId;
  order.paymentStatus = 'PAID';
  moveTo(
    s,
    'PAID',
    'PAYMENT_SUCCEEDED',
    providerActor(event),
    `${event.providerPaymentId}, confirmed by ${confirmationPath(event)}`,
  );
  if (openAttempt && openAttempt !== s.paidBy && patched(PAID_BY_REMEMBERED)) await closeAttempt(s, openAttempt);
  return true;
}

/** Waits for `ready`; any payment arriving meanwhile is for an order no longer awaiting one. */
export async function waitFor(s: OrderState, ready: () => boolean): Promise<void> {
  const { order, paymentInbox } = s;
  for (;;) {
    await condition(() => ready() || paymentInbox.length > 0);
    for (let event = paymentInbox.shift(); event; event = paymentInbox.shift()) {
      if (!(await believed(s, event))) continue;
      const keptPayment = patched(PAID_BY_REMEMBERED) ? s.paidBy : paidWith(order);
      if (event.outcome === 'SUCCEEDED' && event.providerPaymentId !== keptPayment) {
        await refund(s, event, `payment arrived while the order was ${order.status}`);
      } else if (event.outcome === 'SUCCEEDED' && isSecondCharge(s, event) && patched(SECOND_CHARGE_REFUNDED)) {
        await refund(s, event, `a second payment of ${event.providerPaymentId}, which ${s.paidByCharge} paid`);
      } else {
        record(
          s,
          'PAYMENT_EVENT_IGNORED',
          providerActor(event),
          `${event.outcome} ${event.providerPaymentId} while ${order.status}`,
        );
      }
    }
    if (ready()) return;
  }
}

function isReconciliation(event: PaymentEvent): boolean {
  return event.eventId.startsWith('reconciliation-');
}

function providerActor(event: PaymentEvent): Actor {
  return { id: `${event.provider.toLowerCase()}${isReconciliation(event) ? '-status-check' : ''}`, role: 'SYSTEM' };
}

/** Which path confirmed a payment: the provider's webhook, or our own status check when none came. */
function confirmationPath(event: PaymentEvent): string {
  return isReconciliation(event)
    ? `${event.provider} status check (no webhook had arrived)`
    : `${event.provider} webhook ${event.eventId}`;
}

/**
 * A success of the Razorpay order that paid, by another payment than the one that paid it: one
 * Razorpay order takes any number of payments, told apart only by their pay_ ids. (A
 * PaymentIntent succeeds once; its news always names the charge that paid.)
 */
function isSecondCharge(s: OrderState, event: PaymentEvent): boolean {
  return (
    event.provider === 'RAZORPAY' &&
    event.providerPaymentId === s.paidBy &&
    s.paidByCharge !== undefined &&
    event.chargeId !== undefined &&
    event.chargeId !== s.paidByCharge
  );
}

/** Before PAID_BY_REMEMBERED: the current attempt, and only while the payment status is PAID. */
function paidWith(order: OrderView): string | undefined {
  return order.paymentStatus === 'PAID' ? (order.paymentIntentId ?? order.razorpayOrderId) : undefined;
}
