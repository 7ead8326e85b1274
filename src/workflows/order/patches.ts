/**
 * The order workflow's patch ids, each with its reason: changes made while orders were running,
 * guarded with patched() so the histories of orders started before them replay unchanged.
 */

/** A late webhook is chased: after a while without one, the workflow asks the provider itself. */
export const PAYMENT_RECONCILIATION = 'payment-reconciliation';
/** The late-payment email is keyed by the refunded charge, as the webhook workflow keys it. */
export const REFUND_EMAIL_KEYED_BY_CHARGE = 'refund-email-keyed-by-charge';
/** A refund the provider refuses is reported to admins instead of failing the order. */
export const REFUND_REFUSAL_ALERTS_ADMINS = 'refund-refusal-alerts-admins';
/**
 * The order remembers which payment paid it, through refunds too, and a payment for an earlier
 * attempt that succeeds after all pays the order (the current attempt is closed).
 */
export const PAID_BY_REMEMBERED = 'paid-by-remembered';
/**
 * A second payment of the Razorpay order that paid (another pay_ id under the same order_ id:
 * the customer paid twice) is refunded; before, its news was ignored as the paying payment's and
 * the money kept. Asked only when such a payment arrives.
 */
export const SECOND_CHARGE_REFUNDED = 'second-charge-refunded';
/** A cancellation overtaken by the payment is refused, never carried out on a paid order. */
export const CANCEL_REFUSED_ONCE_PAID = 'cancel-refused-once-paid';
/** A shipment the database refuses (the order was refunded in full that moment) is refused. */
export const SHIPMENT_REFUSAL_ANSWERED = 'shipment-refusal-answered';
/** A shipment pending when the full refund's news arrives is refused (it waited forever). */
export const REFUND_ANSWERS_PENDING_SHIPMENT = 'refund-answers-pending-shipment';
/**
 * A success for a payment that is not one of this order's own attempts (another order's payment,
 * routed here by a side door) is refunded; before, any matching amount paid the order.
 */
export const ONLY_OWN_ATTEMPTS_PAY = 'only-own-attempts-pay';
/**
 * A shipment or delivery must name an active admin (by id or email, checked by an activity, as
 * refund decisions are) and is recorded under that account; one sent through Temporal itself (no
 * API seal) is audited as such. Before, any actor with role ADMIN, typed into the Web UI, shipped.
 */
export const ADMIN_REQUESTS_NAME_ACTIVE_ADMIN = 'admin-requests-name-active-admin';
/**
 * Payment news from the paymentEvent signal is checked against the stored verified webhook event
 * it names, or the provider, before it moves anything; unverified news (typed into Temporal by
 * hand) is recorded and ignored. Before, any well-formed signal was believed.
 */
export const PAYMENT_NEWS_VERIFIED = 'payment-news-verified';
/**
 * The catalogue is checked once, by the reservation (the API no longer prices a checkout before
 * it starts the workflow), so every checkout refusal reaches the workflow: the order is cancelled
 * with the refusal's own code as its reason (before, anything but a wallet refusal was filed
 * INSUFFICIENT_STOCK, an unknown product included), and the view keeps the refusal's code,
 * message and details, which a retry under the same Idempotency-Key is answered with.
 */
export const CHECKOUT_REFUSAL_KEPT = 'checkout-refusal-kept';
/**
 * A shipment or delivery is checked by the one active-admin check shared with refunds and key
 * rotations (activeAdminNamed, which also verifies the API's seal), instead of checkAdminRequest.
 * Same answer, same refusal; only the activity's name and input change.
 */
export const ORDER_ONE_ADMIN_CHECK = 'order-one-admin-check';
/**
 * The short database steps on the way from checkout to CONFIRMED (reserving the stock, and
 * confirming the order) run as local activities, in the workflow
 * task, instead of through the task queue: a checkout and a payment's confirmation each take a
 * few server round trips less (src/workflows/policies.ts, localPolicies, says how they time out).
 */
export const CRITICAL_PATH_LOCAL_ACTIVITIES = 'critical-path-local-activities';
/**
 * A payment's record and the order's confirmation (the sale of its reserved units) are one
 * transaction, one step: the order is CONFIRMED one transaction and one step sooner after its
 * payment's news (the database no longer shows it PAID while it waits for the second). Before,
 * recordPaymentSucceeded then confirmOrder.
 */
export const PAYMENT_CONFIRMED_IN_ONE_TRANSACTION = 'payment-confirmed-in-one-transaction';
/**
 * A signalled success for the order's open attempt with the order's total is verified and
 * recorded, the order confirmed, by one activity in one transaction (recordSignalledPayment checks
 * it against the stored verified webhook event it names): CONFIRMED one activity and one workflow
 * task sooner after a webhook. Unverified news still moves nothing and is recorded and ignored; news
 * no stored event names, a payment that is not the open attempt, a wrong amount and failures are
 * verified first, as before. Before, verifyPaymentNews then recordPaymentSucceeded.
 */
export const PAYMENT_NEWS_ONE_STEP = 'payment-news-one-step';
/**
 * A card checkout's first payment attempt (the PaymentIntent or Razorpay order) is opened as a
 * local activity, in the workflow task that reserved the stock, under the checkout policy's own
 * timeouts: checkout is answered in one workflow task instead of two, an activity task fewer.
 * The patches the rest of that task may ask are asked before the reservation, never right after
 * a local step (critical-path.ts says why). Before, createPaymentIntent or createRazorpayOrder
 * went through the task queue. Payment retries still do.
 */
export const CHECKOUT_PAYMENT_LOCAL = 'checkout-payment-local';
/**
 * A signalled payment's one step (recordSignalledPayment) runs as a local activity, in the workflow
 * task that took the news, under the local database policy: the order is CONFIRMED, and its
 * confirmation email scheduled, in that task, one workflow task and one activity task fewer per
 * card order. Asked at checkout, before the reservation, with every patch the rest of the news'
 * task may ask (CANCEL_REFUSED_ONCE_PAID; critical-path.ts says why), so an order keeps what its
 * checkout chose. Before, and in orders started before it, the step went through the task queue.
 */
export const PAYMENT_NEWS_LOCAL = 'payment-news-local';
