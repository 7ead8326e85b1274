/**
 * Money-moving news is believed only from a verified source. The webhook workflow signals an
 * order's payment outcome (`paymentEvent`) and a refund's settlement (`refundSettled`) after the
 * API verified the provider's signature and stored the event; but anyone who reaches Temporal can
 * send the same signals by hand (the Web UI's signal form, the CLI, through the codec). So before a
 * workflow acts on such news it is checked here: against the stored verified event it names
 * (provider and event id, with the same payment or refund, outcome and amount), or, when no stored
 * event names it, against the provider itself. Anything else is unverified and must be ignored,
 * and is audited with what it claimed and why it was not believed (checkPaymentNews).
 */
import type Stripe from 'stripe';
import { v5 as uuidv5 } from 'uuid';
import type { PrismaClient } from '../platform/db';
import type { PaymentEvent } from '../workflows/order/messages';
import type { RefundSettlement } from '../workflows/refund/messages';
import type { RazorpayGateway } from './razorpay';
import { providerPaymentStatus } from './payment-status';
import { storedWebhookInput } from './webhook-events';
import { stripeRefundOutcome } from './stripe';
import { audit } from '../access/audit';
import { isProviderRefusal } from './provider-calls';

/** The namespace of the audit entries of unverified payment news (one per check). */
const UNVERIFIED_NEWS_AUDIT = 'c1c3f0a4-3f0e-4b8e-9f55-2b6f3f1d7a11';

/** News a workflow was signalled: a payment outcome for an order, or a refund's settlement. */
export type PaymentNews =
  | { kind: 'payment'; orderId: string; event: PaymentEvent }
  | { kind: 'refund'; refundId: string; settlement: RefundSettlement };

export type NewsCheck = { verified: true; by: 'stored-event' | 'provider' } | { verified: false; reason: string };

export interface NewsSources {
  prisma: Pick<PrismaClient, 'webhookEvent'>;
  stripe: Stripe;
  razorpay: RazorpayGateway;
}

/** Whether `news` is what a verified source says. Provider outages throw (the caller retries). */
export async function verifyPaymentNews(sources: NewsSources, news: PaymentNews): Promise<NewsCheck> {
  return news.kind === 'payment' ? verifyPayment(sources, news.event) : verifySettlement(sources, news.settlement);
}

/**
 * Verifies `news` and audits it when it is unverified, once per `checkId` (the caller's key for
 * this one check, the same however often it is retried).
 */
export async function checkPaymentNews(
  sources: NewsSources & { prisma: Pick<PrismaClient, 'webhookEvent' | 'auditLog'> },
  news: PaymentNews,
  checkId: string,
): Promise<NewsCheck> {
  const check = await verifyPaymentNews(sources, news);
  if (!check.verified) await auditUnverifiedNews(sources.prisma, news, check.reason, checkId);
  return check;
}

/** The key of one check of signalled news (its audit entry's id): the same however often it is retried. */
export function newsCheckId(runId: string | undefined, activityId: string): string {
  return uuidv5(`${runId}:${activityId}`, UNVERIFIED_NEWS_AUDIT);
}

/** Audits news that was not believed, with what it claimed and why, once per `checkId`. */
export async function auditUnverifiedNews(
  prisma: Pick<PrismaClient, 'auditLog'>,
  news: PaymentNews,
  reason: string,
  checkId: string,
): Promise<void> {
  await audit(prisma, {
    id: checkId,
    actorId: 'temporal-signal',
    action: 'UNVERIFIED_PAYMENT_NEWS_IGNORED',
    targetType: news.kind === 'payment' ? 'order' : 'refund',
    targetId: news.kind === 'payment' ? news.orderId : news.refundId,
    reason,
    after: {
      signal: news.kind === 'payment' ? 'paymentEvent' : 'refundSettled',
      claimed: news.kind === 'payment' ? news.event : news.settlement,
    },
  });
}

/**
 * `event` against the stored verified webhook event it names (provider and event id): the same
 * payment, charge, outcome and amount, or not; undefined when no event is stored under that id
 * (then only the provider can vouch for it). Reads one row, in the caller's transaction if given one.
 */
export async function checkAgainstStoredEvent(
  prisma: Pick<PrismaClient, 'webhookEvent'>,
  event: PaymentEvent,
): Promise<NewsCheck | undefined> {
  const stored = await prisma.webhookEvent.findUnique({
    where: { provider_eventId: { provider: event.provider, eventId: String(event.eventId) } },
  });
  if (!stored) return undefined;
  const reported = readStored(stored)?.payment;
  if (!reported) return unverified(`stored ${event.provider} event ${event.eventId} reports no payment`);
  const same =
    reported.outcome === event.outcome &&
    reported.providerPaymentId === event.providerPaymentId &&
    (reported.chargeId ?? null) === (event.chargeId ?? null) &&
    reported.amount === event.amount &&
    reported.currency.toUpperCase() === String(event.currency).toUpperCase();
  return same
    ? { verified: true, by: 'stored-event' }
    : unverified(
        `stored ${event.provider} event ${event.eventId} reports ${reported.outcome} ${reported.providerPaymentId} ` +
          `${reported.amount} ${reported.currency}, not ${event.outcome} ${event.providerPaymentId} ${event.amount} ${event.currency}`,
      );
}

async function verifyPayment(sources: NewsSources, event: PaymentEvent): Promise<NewsCheck> {
  const stored = await checkAgainstStoredEvent(sources.prisma, event);
  if (stored) return stored;
  // No stored event by that id: only the provider can vouch for it.
  const status = await askProvider(() =>
    providerPaymentStatus(sources.stripe, sources.razorpay, event.provider, event.providerPaymentId),
  );
  if (!status) return unverified(`${event.provider} knows no payment ${event.providerPaymentId}`);
  const agrees =
    status.outcome === event.outcome &&
    (event.outcome === 'FAILED' ||
      (status.amount === event.amount &&
        status.currency === String(event.currency).toUpperCase() &&
        (event.chargeId === undefined || status.chargeId === event.chargeId)));
  return agrees
    ? { verified: true, by: 'provider' }
    : unverified(
        `no stored event ${event.eventId}, and ${event.provider} reports ${status.outcome} ${status.amount} ${status.currency} ` +
          `for ${event.providerPaymentId}, not ${event.outcome} ${event.amount} ${event.currency}`,
      );
}

async function verifySettlement(sources: NewsSources, settlement: RefundSettlement): Promise<NewsCheck> {
  const stored = await sources.prisma.webhookEvent.findFirst({ where: { eventId: String(settlement.eventId) } });
  if (stored) {
    const reported = readStored(stored)?.refunds?.find(
      (r) => r.refundId === settlement.refundId && r.providerRefundId === settlement.providerRefundId,
    );
    if (reported?.outcome === settlement.outcome) return { verified: true, by: 'stored-event' };
    return unverified(
      `stored event ${settlement.eventId} reports ${reported ? reported.outcome : 'nothing'} for refund ${settlement.providerRefundId}`,
    );
  }
  // Razorpay's refunds answer at once (their webhooks only confirm); a Stripe refund can be asked for.
  if (!String(settlement.providerRefundId).startsWith('re_'))
    return unverified(`no stored event ${settlement.eventId} names refund ${settlement.providerRefundId}`);
  const refund = await askProvider(() => sources.stripe.refunds.retrieve(settlement.providerRefundId));
  if (!refund || refund.metadata?.refundId !== settlement.refundId)
    return unverified(`Stripe knows no refund ${settlement.providerRefundId} of refund ${settlement.refundId}`);
  const outcome = stripeRefundOutcome(refund.status);
  return outcome === settlement.outcome
    ? { verified: true, by: 'provider' }
    : unverified(
        `no stored event ${settlement.eventId}, and Stripe reports ${outcome} for ${refund.id}, not ${settlement.outcome}`,
      );
}

/** The stored event as the webhook workflow read it; undefined if it no longer parses. */
function readStored(row: { provider: 'STRIPE' | 'RAZORPAY'; eventId: string; payload: unknown }) {
  try {
    return storedWebhookInput(row.provider, row.eventId, row.payload);
  } catch {
    return undefined;
  }
}

/** The provider's answer; undefined when it refuses the question (4xx: no such object). */
async function askProvider<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (isProviderRefusal(error)) return undefined;
    throw error;
  }
}

function unverified(reason: string): NewsCheck {
  return { verified: false, reason };
}
