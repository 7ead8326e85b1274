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
import { proxyActivities, type ActivityInterfaceFor, type ActivityOptions } from '@temporalio/workflow';
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
