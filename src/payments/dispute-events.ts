/**
 * Dispute (chargeback) events, read from verified Stripe and Razorpay webhooks into the one
 * shape the dispute workflow takes. The disputed payment is named by the provider object we
 * created (PaymentIntent, Razorpay order), never by metadata.
 */
import { z } from 'zod';
import type { DisputeEvent, DisputeState } from '../workflows/dispute/messages';

/** The payload does not carry the dispute its type promises. */
export class MalformedDisputeError extends Error {}

const stripeDisputeTypes = new Set([
  'charge.dispute.created',
  'charge.dispute.updated',
  'charge.dispute.closed',
  'charge.dispute.funds_withdrawn',
  'charge.dispute.funds_reinstated',
]);
const idRef = z.union([z.string(), z.object({ id: z.string() })]).nullish();
const stripeDispute = z.object({
  id: z.string().regex(/^[A-Za-z0-9_]{1,100}$/),
  amount: z.number().int().nonnegative(),
  currency: z.string().min(3),
  reason: z.string().nullish(),
  status: z.string(),
  payment_intent: idRef,
  charge: idRef,
  evidence_details: z.object({ due_by: z.number().int().nullish() }).nullish(),
});
const refId = (ref: z.infer<typeof idRef>) => (typeof ref === 'string' ? ref : (ref?.id ?? undefined));

// Stripe: won, or an inquiry closed without a chargeback, keeps the money; lost does not.
const stripeStates: Record<string, DisputeState> = { won: 'WON', warning_closed: 'WON', lost: 'LOST' };

export function stripeDisputeEvent(event: {
  id: string;
  type: string;
  created?: number;
  data?: { object?: unknown };
}): DisputeEvent | undefined {
  if (!stripeDisputeTypes.has(event.type)) return undefined;
  const parsed = stripeDispute.safeParse(event.data?.object);
  if (!parsed.success) throw new MalformedDisputeError(`${event.type} does not carry a valid dispute`);
  const d = parsed.data;
  return {
    provider: 'STRIPE',
    disputeId: d.id,
    eventId: event.id,
    eventType: event.type,
    state: stripeStates[d.status] ?? 'OPEN',
    providerStatus: d.status,
    funds: event.type.endsWith('funds_withdrawn')
      ? 'WITHDRAWN'
      : event.type.endsWith('funds_reinstated')
        ? 'REINSTATED'
        : undefined,
    amount: d.amount,
    currency: d.currency.toUpperCase(),
    reason: d.reason ?? 'unspecified',
    evidenceDueBy: d.evidence_details?.due_by ? new Date(d.evidence_details.due_by * 1000).toISOString() : undefined,
    occurredAt: new Date((event.created ?? 0) * 1000).toISOString(),
    providerPaymentId: refId(d.payment_intent),
    chargeId: refId(d.charge),
  };
}

const razorpayDisputeTypes = new Set([
  'payment.dispute.created',
  'payment.dispute.under_review',
  'payment.dispute.action_required',
  'payment.dispute.won',
  'payment.dispute.lost',
  'payment.dispute.closed',
]);
const razorpayDispute = z.object({
  created_at: z.number().int().optional(),
  payload: z.object({
    payment: z.object({ entity: z.object({ id: z.string(), order_id: z.string().min(1) }) }),
    dispute: z.object({
      entity: z.object({
        id: z.string().regex(/^[A-Za-z0-9_]{1,100}$/),
        amount: z.number().int().nonnegative(),
        currency: z.string().min(3),
        reason_code: z.string().nullish(),
        reason_description: z.string().nullish(),
        respond_by: z.number().int().nullish(),
        status: z.string(),
      }),
    }),
  }),
});
// Razorpay: `closed` means the merchant accepted the dispute, so the money went back.
const razorpayStates: Record<string, DisputeState> = { won: 'WON', lost: 'LOST', closed: 'LOST' };

export function razorpayDisputeEvent(eventId: string, type: string, body: unknown): DisputeEvent | undefined {
  if (!razorpayDisputeTypes.has(type)) return undefined;
  const parsed = razorpayDispute.safeParse(body);
  if (!parsed.success) throw new MalformedDisputeError(`${type} does not carry a payment and its dispute`);
  const { payload, created_at } = parsed.data;
  const d = payload.dispute.entity;
  const byType: DisputeState | undefined = type.endsWith('.won') ? 'WON' : type.endsWith('.lost') ? 'LOST' : undefined;
  return {
    provider: 'RAZORPAY',
    disputeId: d.id,
    eventId,
    eventType: type,
    state: byType ?? razorpayStates[d.status] ?? 'OPEN',
    providerStatus: d.status,
    amount: d.amount,
    currency: d.currency.toUpperCase(),
    reason: d.reason_description ?? d.reason_code ?? 'unspecified',
    evidenceDueBy: d.respond_by ? new Date(d.respond_by * 1000).toISOString() : undefined,
    occurredAt: new Date((created_at ?? 0) * 1000).toISOString(),
    providerPaymentId: payload.payment.entity.order_id,
    chargeId: payload.payment.entity.id,
  };
}
