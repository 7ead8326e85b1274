/**
 * The refund workflow's patch ids, each with its reason: changes made while refunds were running,
 * guarded with patched() so the histories of refunds started before them replay unchanged.
 */

/** A refused payout (provider refusal, wallet currency) fails the refund instead of the workflow. */
export const REFUSAL_FAILS_THE_REFUND = 'refusal-fails-the-refund';
/** The provider failing the refund while this workflow finishes reverses it and tells admins. */
export const LATE_FAILURE_REVERSES = 'late-failure-reverses';
/** An approved refund whose order's payment is now disputed waits for an admin before paying out. */
export const DISPUTE_HOLDS_REFUND = 'dispute-holds-refund';
/**
 * A settlement from the refundSettled signal is checked against the stored verified webhook event
 * it names, or Stripe, before it completes, fails or reverses the refund; unverified news (typed
 * into Temporal by hand) is recorded and ignored. Before, any well-formed signal was believed.
 */
export const SETTLEMENT_NEWS_VERIFIED = 'settlement-news-verified';
/**
 * Who a decision names is asked of the one active-admin check shared with orders and key
 * rotations (activeAdminNamed, instead of isAdmin), and an approval or rejection sent as an
 * update without the API's seal (the Temporal CLI, the Web UI's update form) is audited as sent
 * through Temporal, with the name as typed. Before, every update was audited as the API's.
 */
export const REFUND_ONE_ADMIN_CHECK = 'refund-one-admin-check';
/**
 * A decision on a refund held for a dispute (release or cancel) is recorded and audited by the
 * workflow (recordHeldRefundDecision: REFUND_RELEASED or REFUND_CANCELLED, once per refund) under
 * the account the one active-admin check resolves, however it came: through the API (sealed),
 * as an update typed into Temporal (`via: temporal-update`) or as a signal from the Web UI
 * (`via: temporal-signal`). Before, only the API audited, after its own update, so a decision
 * sent through Temporal left no audit entry. The view says so (holdDecisionAudited): the API
 * audits only a decision whose workflow did not (one without this patch, or a worker of the
 * release before), under the same id, so each decision has exactly one entry. Deploy the API
 * before the workers: an API of the release before neither seals a held decision nor reads
 * holdDecisionAudited, so with new workers its decisions would be audited twice, once as if
 * sent through Temporal.
 */
export const HOLD_DECISION_AUDITED = 'refund-hold-decision-audited';
