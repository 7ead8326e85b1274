/**
 * The order's steps between checkout and CONFIRMED where a customer or a storefront waits, as
 * local activities: the short database steps (reserving the stock; confirming the order) since
 * CRITICAL_PATH_LOCAL_ACTIVITIES, and a card checkout's first payment attempt since
 * CHECKOUT_PAYMENT_LOCAL. The same activities go through the task queue in the histories of
 * orders started before them (so they replay unchanged).
 *
 * A patched() asked right after a local step that outlasted its workflow task replays one task
 * early (policies.ts, localPolicies): every patch the rest of such a task may ask is asked
 * before the step instead (the reservation's refusal patch, in reserveStock; those after the
 * payment attempt, here).
 */
import { patched } from '@temporalio/workflow';
import { activitiesFor, localActivitiesFor } from '../policies';
import {
  CHECKOUT_PAYMENT_LOCAL,
  CRITICAL_PATH_LOCAL_ACTIVITIES,
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

/**
 * What the rest of a card checkout's first workflow task may ask once its payment attempt opened:
 * awaiting the payment asks PAYMENT_RECONCILIATION; payment news signalled while the attempt
 * opened is applied at once, asking PAYMENT_NEWS_ONE_STEP and PAYMENT_NEWS_VERIFIED before its
 * check (an activity; payment.ts, applyPayment). No
 * other message can change that task: a cancellation is refused until checkout is answered, a
 * payment retry, a shipment or a delivery until the order gets that far (handlers.ts validators).
 */
const ASKED_AFTER_CHECKOUT_PAYMENT = [PAYMENT_RECONCILIATION, PAYMENT_NEWS_ONE_STEP, PAYMENT_NEWS_VERIFIED];

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
