import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import express, { Router } from 'express';
import type Stripe from 'stripe';
import { z } from 'zod';
import type { PaymentEvent, WebhookWorkflowInput } from '../workflows/messages';
import type { webhookWorkflow } from '../workflows/webhook';
import type { ApiDeps } from './deps';
import { HttpError } from './errors';

// The part of a PaymentIntent a payment event needs; anything else in the payload is kept as stored.
const paymentIntentObject = z.object({
  id: z.string().min(1),
  amount: z.number().int().nonnegative(),
  amount_received: z.number().int().nonnegative().optional(),
  currency: z.string().min(3),
  metadata: z.record(z.string(), z.string()).default({}),
  last_payment_error: z.object({ message: z.string().optional(), code: z.string().optional() }).nullish(),
});

const paymentOutcomes: Record<string, PaymentEvent['outcome']> = {
  'payment_intent.succeeded': 'SUCCEEDED',
  'payment_intent.payment_failed': 'FAILED',
};

/** What the webhook workflow needs from a Stripe event. */
function stripeWebhookInput(event: Stripe.Event): WebhookWorkflowInput {
  const outcome = paymentOutcomes[event.type];
  if (!outcome) return { provider: 'STRIPE', eventId: event.id, eventType: event.type };
  const parsed = paymentIntentObject.safeParse(event.data?.object);
  if (!parsed.success) throw new HttpError(400, 'MALFORMED_EVENT', `${event.type} does not carry a valid PaymentIntent`);
  const intent = parsed.data;
  return {
    provider: 'STRIPE',
    eventId: event.id,
    eventType: event.type,
    orderId: intent.metadata.orderId,
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

export function paymentsRouter(deps: ApiDeps): Router {
  const { prisma, temporal, stripe, config, logger } = deps;
  const router = Router();

  /**
   * Verifies the signature on the raw body, stores the event once, and hands it to Temporal
   * (workflow `webhook-stripe-<eventId>`) before answering 2xx. If Temporal cannot take it, the
   * answer is 503 and Stripe delivers it again later.
   */
  router.post('/api/payments/stripe/webhook', express.raw({ type: () => true, limit: '512kb' }), async (req, res) => {
    const signature = req.header('stripe-signature');
    if (!signature) {
      logger.warn({ provider: 'STRIPE' }, 'webhook without signature rejected');
      throw new HttpError(400, 'MISSING_SIGNATURE', 'The Stripe-Signature header is missing');
    }
    let event: Stripe.Event;
    try {
      event = stripe.webhooks.constructEvent(req.body as Buffer, signature, config.STRIPE_WEBHOOK_SECRET, config.STRIPE_WEBHOOK_TOLERANCE / 1000);
    } catch (error) {
      logger.warn({ provider: 'STRIPE', reason: (error as Error).message }, 'webhook signature rejected');
      throw new HttpError(400, 'INVALID_SIGNATURE', 'The webhook signature is invalid or too old');
    }
    const input = stripeWebhookInput(event);

    await prisma.webhookEvent.createMany({
      data: [{ provider: 'STRIPE', eventId: event.id, type: event.type, payload: event as object, orderId: input.orderId }],
      skipDuplicates: true,
    });
    try {
      await temporal.workflow.start<typeof webhookWorkflow>('webhookWorkflow', {
        workflowId: `webhook-stripe-${event.id}`,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        args: [input],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
    } catch (error) {
      // A redelivery: Temporal already has this event, so the answer is the same 2xx.
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      res.json({ received: true, duplicate: true });
      return;
    }
    res.json({ received: true });
  });

  return router;
}
