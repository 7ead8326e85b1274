/**
 * Razorpay's signature covers the body only, not the X-Razorpay-Event-Id header: a signed body
 * replayed under a new event id would otherwise be a new event. So a Razorpay event is known by
 * what the signature covers, its event name, its entity's id and its `created_at`, and one older
 * than RAZORPAY_WEBHOOK_MAX_AGE (Razorpay retries for 24 hours) or from the future is refused.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { MalformedEventError } from './webhook-events';

const signedFields = z.object({
  event: z.string().min(1),
  created_at: z.number().int().positive(),
  payload: z
    .record(z.string(), z.unknown())
    .transform((p) => p as Record<string, { entity: { id: string } } | undefined>),
});
// The entity an event is about, by its name's first word (payment.captured -> payment).
const ENTITY_ORDER = ['payment', 'refund', 'order'];
/** How far ahead of our clock a `created_at` may be (clock skew). */
const FUTURE_SKEW_MS = 5 * 60_000;

/** The event is older than Razorpay would still deliver, or dated in the future. */
export class StaleEventError extends Error {}

export function razorpayDedupeKey(body: unknown, rawBody: Buffer, maxAgeMs: number, now = Date.now()): string {
  const parsed = signedFields.safeParse(body);
  if (!parsed.success) throw new MalformedEventError('The event has no event name, created_at or entity id');
  const { event, created_at: createdAt, payload } = parsed.data;
  const at = createdAt * 1000;
  if (at < now - maxAgeMs || at > now + FUTURE_SKEW_MS)
    throw new StaleEventError(`${event} was created at ${new Date(at).toISOString()}, outside the accepted window`);
  const first = event.split('.')[0];
  const name = [first, ...ENTITY_ORDER].find(
    (n) => typeof payload[n]?.entity?.id === 'string' && payload[n]!.entity.id,
  );
  // An event about no entity we know (account.updated): the whole signed body stands for it.
  const subject = name
    ? `${name}:${payload[name]!.entity.id}`
    : `body:${createHash('sha256').update(rawBody).digest('hex')}`;
  return createHash('sha256').update(`${event}\n${subject}\n${createdAt}`).digest('hex');
}
