/**
 * From a provider's webhook payload to what the webhook workflow needs. Used when an event
 * arrives and again when a stored event is replayed, so both read it the same way.
 */
import { z } from 'zod';
import type { PaymentEvent } from '../workflows/order/messages';
import type { PaymentProvider } from '../workflows/vocabulary';
import type { RefundSettlement } from '../workflows/refund/messages';
import type { WebhookWorkflowInput } from '../workflows/webhook/messages';
import { MalformedDisputeError, razorpayDisputeEvent, stripeDisputeEvent } from './dispute-events';
import { stripeRefundOutcome } from './stripe';

/** The payload does not carry what its type promises. */
export class MalformedEventError extends Error {}

// Event ids name a workflow (`webhook-<provider>-<eventId>`) and a database row: keep them sane.
const eventIdFormat = z.string().regex(/^[A-Za-z0-9_.:-]{1,200}$/);
const stripeEnvelope = z.object({ id: eventIdFormat, type: z.string().min(1).max(200) });

const stripePaymentIntent = z.object({
  id: z.string().min(1),
  amount: z.number().int().nonnegative(),
  amount_received: z.number().int().nonnegative().optional(),
  currency: z.string().min(3),
  last_payment_error: z.object({ message: z.string().optional(), code: z.string().optional() }).nullish(),
});

// Razorpay sends `notes: []` when there are none.
const notes = z
  .union([z.record(z.string(), z.string()), z.array(z.unknown())])
  .optional()
  .transform((n) => (Array.isArray(n) ? {} : (n ?? {})));
const razorpayPayment = z.object({
  id: z.string().min(1),
  order_id: z.string().min(1),
  amount: z.number().int().nonnegative(),
  currency: z.string().min(3),
  error_description: z.string().nullish(),
  notes,
});
const razorpayRefund = z.object({ id: z.string().min(1), notes });
const razorpayEvent = z.object({
  event: z.string(),
  payload: z.object({
    payment: z.object({ entity: razorpayPayment }).optional(),
    refund: z.object({ entity: razorpayRefund }).optional(),
  }),
});
const razorpayRefundOutcomes: Record<string, RefundSettlement['outcome']> = {
  'refund.processed': 'SUCCEEDED',
  'refund.failed': 'FAILED',
};
/**
 * The key a refund's payout carries (the wallet credit's, the provider refund's idempotency key):
 * Razorpay keeps it in the refund's notes (refundOnce), so its refund events name our refund by it.
 */
export const refundPayoutKey = (refundId: string) => `refund-${refundId}`;
const ourRefundKey = /^refund-([0-9a-f-]{36})$/;

const stripeRefund = z.object({
  id: z.string().min(1),
  status: z.string().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  failure_reason: z.string().nullish(),
});
const stripeRefundEvents = new Set(['refund.created', 'refund.updated', 'charge.refund.updated']);

/** Our refunds (metadata.refundId) whose state a Stripe refund or charge event reports. */
function stripeRefundSettlements(event: {
  id: string;
  type: string;
  data?: { object?: unknown };
}): RefundSettlement[] | undefined {
  let objects: unknown[];
  if (stripeRefundEvents.has(event.type)) objects = [event.data?.object];
  else if (event.type === 'charge.refunded')
    objects = (event.data?.object as { refunds?: { data?: unknown[] } })?.refunds?.data ?? [];
  else return undefined;
  return objects.flatMap((object) => {
    const parsed = stripeRefund.safeParse(object);
    if (!parsed.success) throw new MalformedEventError(`${event.type} does not carry a valid refund`);
    const refund = parsed.data;
    if (!refund.metadata?.refundId) return [];
    const outcome = stripeRefundOutcome(refund.status);
    return [
      {
        refundId: refund.metadata.refundId,
        providerRefundId: refund.id,
        outcome,
        eventId: event.id,
        failureReason: refund.failure_reason ?? undefined,
      } as RefundSettlement,
    ];
  });
}

const stripeOutcomes: Record<string, PaymentEvent['outcome']> = {
  'payment_intent.succeeded': 'SUCCEEDED',
  'payment_intent.payment_failed': 'FAILED',
};
const razorpayOutcomes: Record<string, PaymentEvent['outcome']> = {
  'payment.captured': 'SUCCEEDED',
  'order.paid': 'SUCCEEDED',
  'payment.failed': 'FAILED',
};

export function stripeWebhookInput(event: {
  id: string;
  type: string;
  data?: { object?: unknown };
}): WebhookWorkflowInput {
  if (!stripeEnvelope.safeParse(event).success) throw new MalformedEventError('The event has no valid id or type');
  const outcome = stripeOutcomes[event.type];
  const base = { provider: 'STRIPE' as const, eventId: event.id, eventType: event.type };
  const refunds = stripeRefundSettlements(event);
  if (refunds) return { ...base, refunds };
  const dispute = readDispute(() => stripeDisputeEvent(event));
  if (dispute) return { ...base, dispute };
  if (!outcome) return base;
  const parsed = stripePaymentIntent.safeParse(event.data?.object);
  if (!parsed.success) throw new MalformedEventError(`${event.type} does not carry a valid PaymentIntent`);
  const intent = parsed.data;
  // Routed by the PaymentIntent's id, which we created and recorded; never by its metadata.
  return {
    ...base,
    payment: {
      provider: 'STRIPE',
      eventId: event.id,
      outcome,
      providerPaymentId: intent.id,
      amount: outcome === 'SUCCEEDED' ? (intent.amount_received ?? intent.amount) : intent.amount,
      currency: intent.currency.toUpperCase(),
      failureReason: intent.last_payment_error?.message ?? intent.last_payment_error?.code,
    },
  };
}

export function razorpayWebhookInput(eventId: string, body: unknown): WebhookWorkflowInput {
  if (!eventIdFormat.safeParse(eventId).success)
    throw new MalformedEventError('The X-Razorpay-Event-Id header is not a valid event id');
  const parsed = razorpayEvent.safeParse(body);
  if (!parsed.success) throw new MalformedEventError('not a Razorpay event');
  const { event, payload } = parsed.data;
  const base = { provider: 'RAZORPAY' as const, eventId, eventType: event };
  const dispute = readDispute(() => razorpayDisputeEvent(eventId, event, body));
  if (dispute) return { ...base, dispute };
  const refundOutcome = razorpayRefundOutcomes[event];
  if (refundOutcome) {
    const refund = payload.refund?.entity;
    if (!refund) throw new MalformedEventError(`${event} does not carry a refund`);
    const refundId = ourRefundKey.exec(String(refund.notes.idempotencyKey ?? ''))?.[1];
    return {
      ...base,
      refunds: refundId ? [{ refundId, providerRefundId: refund.id, outcome: refundOutcome, eventId }] : [],
    };
  }
  const outcome = razorpayOutcomes[event];
  if (!outcome) return base;
  const payment = payload.payment?.entity;
  if (!payment) throw new MalformedEventError(`${event} does not carry a payment`);
  // Routed by the Razorpay order's id, which we opened and recorded. Never by the payment's notes:
  // Razorpay Checkout takes them from the customer's browser, so they can name any order at all.
  return {
    ...base,
    payment: {
      provider: 'RAZORPAY',
      eventId,
      outcome,
      providerPaymentId: payment.order_id,
      chargeId: payment.id,
      amount: payment.amount,
      currency: payment.currency.toUpperCase(),
      failureReason: payment.error_description ?? undefined,
    },
  };
}

function readDispute<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof MalformedDisputeError) throw new MalformedEventError(error.message);
    throw error;
  }
}

/** Reads a stored event again (replay). */
export function storedWebhookInput(provider: PaymentProvider, eventId: string, payload: unknown): WebhookWorkflowInput {
  return provider === 'STRIPE'
    ? stripeWebhookInput(payload as Parameters<typeof stripeWebhookInput>[0])
    : razorpayWebhookInput(eventId, payload);
}
