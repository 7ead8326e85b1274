/**
 * The order's steps between checkout and CONFIRMED where a customer or a storefront waits, as
 * local activities: the short database steps (reserving the stock; confirming the order) since
 * CRITICAL_PATH_LOCAL_ACTIVITIES, a card checkout's first payment attempt since
 * CHECKOUT_PAYMENT_LOCAL, and a signalled payment's one step (recordSignalledPayment: the news
 * verified, the payment recorded and the order confirmed) since PAYMENT_NEWS_LOCAL. The same
 * activities go through the task queue in the histories of orders started before them (so they
 * replay unchanged).
 *
 * A card order's workflow tasks: (1) checkout, answered after the reservation and the payment
 * attempt, both local; (2) the payment's news, recorded and the order CONFIRMED by the local one
 * step, the confirmation email scheduled; (3) the email done. Before PAYMENT_NEWS_LOCAL the one
 * step was an activity task and its completion a workflow task of its own (4 in all).
 *
 * A patched() asked right after a local step that outlasted its workflow task replays one task
 * early (policies.ts, localPolicies): every patch the rest of such a task may ask is asked
 * before the step instead (the reservation's refusal patch, in reserveStock; those after the
 * payment attempt and after the payment's one step, here, before the reservation).
 */
import { patched } from '@temporalio/workflow';
import { activitiesFor, localActivitiesFor } from '../policies';
import {
  CANCEL_REFUSED_ONCE_PAID,
  CHECKOUT_PAYMENT_LOCAL,
  CRITICAL_PATH_LOCAL_ACTIVITIES,
  PAYMENT_NEWS_LOCAL,
  PAYMENT_NEWS_ONE_STEP,
  PAYMENT_NEWS_VERIFIED,
  PAYMENT_RECONCILIATION,
} from './patches';

// Only steps no patched() follows in the same workflow task (policies.ts says why).
const steps = ['createOrderAndReserveStock', 'confirmOrder'] as const;
const queued = activitiesFor(...steps);
const local = localActivitiesFor(...steps);

// Opening a payment attempt; only the checkout's first one is local, a retry's stays queued.
const openers = ['createPaymentIntent', 'createRazorpayOrder'] as const;
const queuedOpeners = activitiesFor(...openers);
const localOpeners = localActivitiesFor(...openers);

// A signalled payment's one step; local for orders started since PAYMENT_NEWS_LOCAL.
const queuedOneStep = activitiesFor('recordSignalledPayment');
const localOneStep = localActivitiesFor('recordSignalledPayment');

/**
 * What the rest of a card checkout's first workflow task may ask once its payment attempt opened:
 * awaiting the payment asks PAYMENT_RECONCILIATION; payment news signalled while the attempt
 * opened is applied at once, asking PAYMENT_NEWS_ONE_STEP and PAYMENT_NEWS_VERIFIED before its
 * check (an activity; payment.ts, applyPayment). No
 * other message can change that task: a cancellation is refused until checkout is answered, a
 * payment retry, a shipment or a delivery until the order gets that far (handlers.ts validators).
 */
const ASKED_AFTER_CHECKOUT_PAYMENT = [PAYMENT_RECONCILIATION, PAYMENT_NEWS_ONE_STEP, PAYMENT_NEWS_VERIFIED];

/**
 * What the rest of a workflow task may ask once a signalled payment's one step resolved (besides
 * ASKED_AFTER_CHECKOUT_PAYMENT, asked with it): RECORDED, the sale is committed, asking
 * CANCEL_REFUSED_ONCE_PAID when a cancellation waits (one accepted while the step ran, the order
 * still unpaid); then the order waits for its shipment, where news already queued is verified
 * first (PAYMENT_NEWS_VERIFIED, then an activity). UNVERIFIED, the order waits for its payment
 * again: a cancellation, a retry or more news waiting each starts with an activity (news: the one
 * step, under PAYMENT_NEWS_ONE_STEP, or its verification, under PAYMENT_NEWS_VERIFIED).
 * NOT_STORED, the news is verified by the provider (PAYMENT_NEWS_VERIFIED, then an activity).
 * Not asked there: PAID_BY_REMEMBERED (markPaid asks it only when the payment is not the open
 * attempt, and the one step takes only the open attempt's news), the shipment's and delivery's
 * patches (a shipment is refused until the order is CONFIRMED, so none waits), a refund's (its
 * news only moves the status).
 */
const ASKED_AFTER_PAYMENT_NEWS = [CANCEL_REFUSED_ONCE_PAID];

/** Whether this order runs its critical path's steps as local activities. */
export function criticalPathIsLocal(): boolean {
  return patched(CRITICAL_PATH_LOCAL_ACTIVITIES);
}

/** The critical path's steps, as this order runs them. */
export function criticalPath(): typeof queued {
  return criticalPathIsLocal() ? local : queued;
}

/**
 * Whether this card order opens its first payment attempt as a local activity; asked before the
 * reservation (itself local), with the patches that follow the attempt in its task.
 */
export function checkoutPaymentIsLocal(): boolean {
  if (!criticalPathIsLocal() || !patched(CHECKOUT_PAYMENT_LOCAL)) return false;
  for (const patch of ASKED_AFTER_CHECKOUT_PAYMENT) patched(patch);
  return true;
}

/** How a checkout opens its first payment attempt: local when checkoutPaymentIsLocal() said so. */
export function checkoutPayment(isLocal: boolean): typeof queuedOpeners {
  return isLocal ? localOpeners : queuedOpeners;
}

/**
 * Whether this card order records its signalled payments' one step as a local activity; asked at
 * checkout, after checkoutPaymentIsLocal() and before the reservation, with the patches that may
 * follow the step in its task. Never asked later: the news may arrive in a task that started right
 * after a local step (the payment attempt's, or an earlier one step's).
 */
export function paymentNewsIsLocal(checkoutPaymentLocal: boolean): boolean {
  if (!checkoutPaymentLocal || !patched(PAYMENT_NEWS_LOCAL)) return false;
  for (const patch of ASKED_AFTER_PAYMENT_NEWS) patched(patch);
  return true;
}

/** How a signalled payment's one step runs: local when paymentNewsIsLocal() said so. */
export function signalledPaymentStep(isLocal: boolean): typeof queuedOneStep {
  return isLocal ? localOneStep : queuedOneStep;
}
