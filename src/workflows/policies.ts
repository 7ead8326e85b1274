/**
 * How long each kind of activity may take and how it is retried, defined once, and which kind each
 * activity is. A workflow asks for the activities it uses with `activitiesFor(...)` and gets each
 * under the one policy meant for it, whichever workflow calls it: the same activity never runs
 * under a database policy in one workflow and a provider policy in another. Changing a policy
 * changes no workflow's commands, so running workflows replay under the new options.
 *
 * Timeouts are chosen against API_TEMPORAL_DEADLINE (30 s by default): a request waiting on an
 * update (checkout, payment retry, cancel, ship, deliver, a refund's approval) must see an activity
 * lost with its worker retried, and finished, before the API gives up on it. Business refusals are
 * non-retryable failures under every policy.
 */
import {
  proxyActivities,
  proxyLocalActivities,
  type ActivityInterfaceFor,
  type ActivityOptions,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import type { Activities } from '../activities';

const policies = {
  // One short transaction, milliseconds even under load. 5 s start-to-close: a write lost with its
  // worker (kill -9) is retried at +5.5 s, so a checkout survives even two lost attempts within its
  // deadline. Retried until it succeeds, every 0.5 s at first, then backing off to 30 s for an outage.
  database: { startToCloseTimeout: '5s', retry: { initialInterval: '500ms', maximumInterval: '30s' } },
  // A lookup that routes an event (one indexed read): if it keeps failing, that is a bug to fix and
  // replay, not to wait out.
  lookup: { startToCloseTimeout: '5s', retry: { initialInterval: '1s', maximumAttempts: 3 } },
  // Opening a PaymentIntent or Razorpay order while the customer waits at checkout. The provider
  // answers in about a second; three attempts of 6 s take at most 6 + 0.5 + 6 + 1 + 6 = 19.5 s, inside
  // the deadline, then the order is cancelled as PAYMENT_PROVIDER_UNAVAILABLE and the customer told so.
  checkout: { startToCloseTimeout: '6s', retry: { initialInterval: '500ms', maximumAttempts: 3 } },
  // A provider call that must eventually happen however long the provider is unreachable (cancel a
  // PaymentIntent, ask a payment's or refund's status, refund, submit evidence). One call takes
  // about a second (the SDK gives up at 10 s): 12 s lets a slow call finish and still retries a lost
  // one once within a waiting request's deadline.
  provider: { startToCloseTimeout: '12s', retry: { initialInterval: '2s', maximumInterval: '5m' } },
  // One email (or one alert to every admin). Never on a request's path; SMTP can be slow, so 30 s,
  // and retried for as long as the mail server is down.
  email: { startToCloseTimeout: '30s', retry: { initialInterval: '5s', maximumInterval: '10m' } },
  // A round of emails in one activity (low-stock alerts and digests to every admin).
  emailRound: { startToCloseTimeout: '1 minute', retry: { initialInterval: '5s', maximumInterval: '5m' } },
  // Keyring and database-login changes: a few statements, some of them DDL that waits for locks.
  keyring: { startToCloseTimeout: '30s', retry: { initialInterval: '1s', maximumInterval: '30s' } },
  // Verifying a new key against what will use it: a key that fails is rolled back after a few
  // tries, not retried for ever.
  verification: { startToCloseTimeout: '30s', retry: { initialInterval: '1s', maximumAttempts: 3 } },
  // One tick of a schedule: a tick that keeps failing gives way to the next one.
  tick: { startToCloseTimeout: '30s', retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 5 } },
  // Bulk work over many rows (an inventory reset's lines, a backfill's batch): a worker lost midway
  // is noticed after this long and the work runs again elsewhere, skipping what it did.
  bulk: { startToCloseTimeout: '2 minutes', retry: { maximumInterval: '30 seconds' } },
  // A batch of a product import's rows: heartbeats, so a worker that dies mid-batch is noticed
  // within 30 s and the batch runs again elsewhere, replacing what its first attempt wrote.
  importBatch: {
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: '30 seconds',
    retry: { maximumInterval: '30 seconds' },
  },
  // A product import's landing: one transaction as long as the file is large, heartbeating every
  // page of rows; a worker lost midway rolls it back and it runs again (done once: it then answers).
  importLanding: {
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: '1 minute',
    retry: { maximumInterval: '30 seconds' },
  },
  // A full database backup: hours at most, a few tries, then the next scheduled one.
  backup: { startToCloseTimeout: '2h', retry: { initialInterval: '1m', maximumAttempts: 3 } },
} satisfies Record<string, ActivityOptions>;

export type Policy = keyof typeof policies;

/** The policy of every activity; the compiler keeps it complete. */
const policyOf: Record<keyof Activities, Policy> = {
  // Orders and their payments
  createOrderAndReserveStock: 'database',
  confirmOrder: 'database',
  cancelOrder: 'database',
  markShipped: 'database',
  markDelivered: 'database',
  recordPaymentFailed: 'database',
  recordPaymentSucceeded: 'database',
  recordSignalledPayment: 'database',
  createPaymentIntent: 'checkout',
  createRazorpayOrder: 'checkout',
  cancelPaymentIntent: 'provider',
  fetchPaymentStatus: 'provider',
  verifyPaymentNews: 'provider',
  refundUnexpectedPayment: 'provider',
  // Refunds and the wallet
  openRefund: 'database',
  isTrustedCustomer: 'database',
  recordRefundDecision: 'database',
  refundHold: 'database',
  recordHeldRefundDecision: 'database',
  creditRefundToWallet: 'database',
  failRefund: 'database',
  completeRefund: 'database',
  reverseCompletedRefund: 'database',
  createProviderRefund: 'provider',
  fetchProviderRefundStatus: 'provider',
  // Webhooks and disputes
  recordWebhookOutcome: 'database',
  resolvePaymentOrder: 'lookup',
  isOrderPaidBy: 'lookup',
  routeDisputeEvent: 'lookup',
  applyDisputeEvent: 'database',
  submitDisputeEvidence: 'provider',
  // Returns
  openReturn: 'database',
  receiveReturn: 'database',
  closeWaitingReturn: 'database',
  recordReturnRefund: 'database',
  // Email
  sendOrderEmail: 'email',
  sendRefundEmail: 'email',
  sendRefundReminder: 'email',
  sendReturnEmail: 'email',
  sendDisputeEmail: 'email',
  alertAdmins: 'email',
  sendLowStockAlerts: 'emailRound',
  sendLowStockDigest: 'emailRound',
  // Who a decision sent through Temporal names: one indexed read and an HMAC, retried like any read.
  activeAdminNamed: 'database',
  // Deprecated names of activeAdminNamed, for refund, order and key-rotation workflows started
  // before the one-active-admin-check patch; removed with the patch's old branches.
  isAdmin: 'database',
  isActiveAdmin: 'database',
  resolveActiveAdmin: 'database',
  checkAdminRequest: 'database',
  // Keys
  auditKeyStep: 'database',
  stageKey: 'keyring',
  promoteKey: 'keyring',
  startKeyGrace: 'keyring',
  retireKey: 'keyring',
  revokeAllSessions: 'keyring',
  prepareDatabaseLogins: 'keyring',
  stageDatabasePassword: 'keyring',
  lockDatabaseLogin: 'keyring',
  verifyKey: 'verification',
  // Monitoring and the system
  evaluateAlerts: 'tick',
  markAlertNotified: 'tick',
  backupDatabase: 'backup',
  // Inventory and data
  snapshotInventoryReset: 'bulk',
  applyInventoryReset: 'bulk',
  verifyInventoryReset: 'bulk',
  rollbackInventoryReset: 'bulk',
  // A price schedule's start or end: every line in one transaction (up to 500 lines).
  applyPriceSchedule: 'bulk',
  endPriceSchedule: 'bulk',
  runBackfillBatch: 'bulk',
  readImportHeader: 'importBatch',
  validateImportBatch: 'importBatch',
  commitProductImport: 'importLanding',
  finishProductImportDryRun: 'importBatch',
};

/**
 * Local activities: run by the worker holding the workflow task, within it, with no trip through
 * the task queue. Each saves an activity task's dispatch and completion and the workflow task that
 * follows it (a few server round trips, tens of ms on a loaded server), so they are kept for the
 * short database steps on an order's way from checkout to CONFIRMED, where a customer or a
 * storefront waits (a card payment's news among them: recordSignalledPayment), and for opening a
 * card checkout's first payment attempt, which the customer waits on too. What a local activity gives up: it is not retried by Temporal's timeout when
 * its worker dies, but the workflow task is (10 s, Temporal's default workflow task timeout), and
 * the next worker replays the workflow and runs the step again from the start (every step here is
 * idempotent by its business key); and while one runs, the workflow takes no other message (an
 * update or signal waits for the task to end: only millisecond steps are local, and the
 * checkout's provider call, made before anyone but the customer knows of the order).
 * The same retries as the activity policy of the same kind; past localRetryThreshold the worker
 * waits out the backoff on a Temporal timer, so a database outage holds no workflow task open.
 *
 * Only a step that no patched() call follows in the same workflow task may be local. A local
 * activity slow enough (a loaded worker) to outlast its workflow task's heartbeat resolves in the
 * next task, but on replay in the task that started it; a patched() right after it then finds
 * its marker one task later than the replay looks for it, and the replay fails as
 * non-deterministic (found by a recorded history: checking a payment's news, then
 * PAID_BY_REMEMBERED). A patch the rest of the task needs may instead be asked before the step.
 * Reserving the stock at checkout is followed by opening the payment or, refused, by the end
 * (the refusal's patch is asked before the step); opening a card checkout's first payment
 * attempt by waiting for the payment (its patches are asked before the reservation:
 * src/workflows/order/critical-path.ts); confirming an order paid by cash or the wallet by waiting
 * for its shipment (a patched() follows only if a payment's news was already queued, which for
 * such an order only a hand-typed signal can be); a signalled card payment's one step
 * (recordSignalledPayment, since PAYMENT_NEWS_LOCAL) by committing the sale, where a cancellation
 * accepted while it ran is refused under CANCEL_REFUSED_ONCE_PAID, then by waiting for the
 * shipment (those patches, and the ones news arriving meanwhile asks before its activity, are
 * asked at checkout, before the reservation: critical-path.ts). Checking and recording a card
 * payment the other ways (verifyPaymentNews, recordPaymentSucceeded: news no stored event names, a
 * status check, another attempt's payment) are followed by patches, and stay queued.
 */
const localPolicies = {
  // One short transaction. A lost attempt is noticed at 5 s start-to-close if its worker lives
  // (retried at +5.5 s), at the 10 s workflow task timeout if it died (run again at about +10 s
  // by the next worker): both well inside API_TEMPORAL_DEADLINE for a checkout. A later task of
  // an order (a payment's one step) waits longer: it goes back to the dead worker's sticky queue
  // first, and to the next worker once that queue's schedule-to-start timeout passes too (35 s in
  // all in test/e2e/local-step-kill.test.ts; the webhook was answered long before). Retried every
  // 0.5 s at first, backing off to 30 s; after 10 s of retries on a timer.
  database: {
    startToCloseTimeout: '5s',
    localRetryThreshold: '10s',
    retry: { initialInterval: '500ms', maximumInterval: '30s' },
  },
  // Opening a card checkout's first payment attempt: the checkout policy itself (6 s
  // start-to-close, three attempts, at most 19.5 s before the order is cancelled as
  // PAYMENT_PROVIDER_UNAVAILABLE), its backoffs (0.5 s, 1 s) waited out in the workflow task, which
  // the worker keeps alive meanwhile. A worker lost mid-call is noticed at the 10 s workflow task
  // timeout and the next one calls again under the same idempotency key (order and attempt).
  checkout: { ...policies.checkout, localRetryThreshold: '10s' },
} satisfies Record<string, LocalActivityOptions>;

type LocalPolicy = keyof typeof localPolicies;

/** The activities that may run as local activities, and the local policy of each. */
const localPolicyOf = {
  createOrderAndReserveStock: 'database',
  confirmOrder: 'database',
  recordSignalledPayment: 'database',
  createPaymentIntent: 'checkout',
  createRazorpayOrder: 'checkout',
} satisfies Partial<Record<keyof Activities, LocalPolicy>>;

export type LocalActivity = keyof typeof localPolicyOf;

const proxies = Object.fromEntries(
  Object.entries(policies).map(([policy, options]) => [policy, proxyActivities<Activities>(options)]),
) as Record<Policy, ActivityInterfaceFor<Activities>>;

/** The activities a workflow uses, each under its policy; the compiler refuses any other. */
export function activitiesFor<K extends keyof Activities>(...names: K[]): Pick<ActivityInterfaceFor<Activities>, K> {
  return Object.fromEntries(names.map((name) => [name, proxies[policyOf[name]][name]])) as Pick<
    ActivityInterfaceFor<Activities>,
    K
  >;
}

const localProxies = Object.fromEntries(
  Object.entries(localPolicies).map(([policy, options]) => [policy, proxyLocalActivities<Activities>(options)]),
) as Record<LocalPolicy, ActivityInterfaceFor<Activities>>;

/** The same activities as local activities, each under its local policy; only those in localPolicyOf. */
export function localActivitiesFor<K extends LocalActivity>(...names: K[]): Pick<ActivityInterfaceFor<Activities>, K> {
  return Object.fromEntries(names.map((name) => [name, localProxies[localPolicyOf[name]][name]])) as Pick<
    ActivityInterfaceFor<Activities>,
    K
  >;
}
