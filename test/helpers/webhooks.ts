/**
 * Provider webhooks built and signed exactly as the providers do (stripe-mock sends none):
 * the event envelope Stripe posts, and a `Stripe-Signature` header from the SDK's own signer.
 */
import { randomBytes } from 'node:crypto';
import type Stripe from 'stripe';
import { signRazorpayWebhook } from '../../scripts/lib/razorpay-sandbox';
import type { Stack } from './stack';

export interface IntentFields {
  id: string;
  orderId: string;
  amount: number;
  currency: string;
}

export function paymentIntentEvent(
  type: 'payment_intent.succeeded' | 'payment_intent.payment_failed',
  intent: IntentFields,
  eventId = `evt_${randomBytes(12).toString('hex')}`,
): Record<string, unknown> {
  const succeeded = type === 'payment_intent.succeeded';
  return {
    id: eventId,
    object: 'event',
    api_version: '2025-09-30.clover',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: {
      object: {
        id: intent.id,
        object: 'payment_intent',
        amount: intent.amount,
        amount_received: succeeded ? intent.amount : 0,
        currency: intent.currency.toLowerCase(),
        metadata: { orderId: intent.orderId },
        status: succeeded ? 'succeeded' : 'requires_payment_method',
        last_payment_error: succeeded ? null : { code: 'card_declined', message: 'Your card was declined.' },
      },
    },
  };
}

/** Posts `event` to the Stripe webhook endpoint, signed with `secret` at `timestamp` (seconds). */
export async function deliverStripeEvent(
  stack: Stack,
  event: Record<string, unknown>,
  options: { secret?: string; timestamp?: number; signature?: string } = {},
) {
  const payload = JSON.stringify(event);
  const signature =
    options.signature ??
    (stack.stripe as Stripe).webhooks.generateTestHeaderString({
      payload,
      secret: options.secret ?? stack.config.STRIPE_WEBHOOK_SECRET,
      timestamp: options.timestamp,
    });
  return stack.http.request('POST', '/api/payments/stripe/webhook', {
    raw: payload,
    headers: { 'stripe-signature': signature },
  });
}

/** Posts a Razorpay webhook (body as Razorpay sends it) with its event id and HMAC signature. */
export async function deliverRazorpayWebhook(
  stack: Stack,
  hook: { eventId: string; body: string },
  options: { secret?: string; signature?: string } = {},
) {
  const signature =
    options.signature ?? signRazorpayWebhook(hook.body, options.secret ?? stack.config.RAZORPAY_WEBHOOK_SECRET);
  return stack.http.request('POST', '/api/payments/razorpay/webhook', {
    raw: hook.body,
    headers: { 'x-razorpay-event-id': hook.eventId, 'x-razorpay-signature': signature },
  });
}
