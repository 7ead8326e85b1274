import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import express, { Router, type Response } from 'express';
import type Stripe from 'stripe';
import { countRejection, handOffWebhookEvent, storeWebhookEvent } from '../payments/webhook-inbox';
import { verifyRazorpaySignature } from '../payments/razorpay';
import { MalformedEventError, razorpayWebhookInput, stripeWebhookInput } from '../payments/webhook-events';
import { razorpayDedupeKey, StaleEventError } from '../payments/razorpay-replay';
import type { PaymentProvider } from '../workflows/vocabulary';
import type { WebhookWorkflowInput } from '../workflows/webhook/messages';
import type { ApiDeps } from './deps';
import { DomainError } from '../platform/errors';
import { webhookEvents, webhookRejections } from '../monitoring/metrics';

const rawBody = express.raw({ type: () => true, limit: '512kb' });
const HANDOFF_DEADLINE_MS = 5_000;

export function paymentsRouter(deps: ApiDeps): Router {
  const { prisma, stripe, config, logger, keyring } = deps;
  const router = Router();

  /** A delivery refused with 400: logged, counted for the health report, nothing stored. */
  async function refuse(
    provider: PaymentProvider,
    code: 'INVALID_SIGNATURE' | 'MISSING_SIGNATURE' | 'MALFORMED_EVENT' | 'STALE_EVENT',
    message: string,
    detail?: string,
  ): Promise<never> {
    logger.warn({ provider, code, detail }, 'webhook delivery refused');
    webhookRejections.inc({ provider, reason: code });
    await countRejection(prisma, provider, code).catch((error: unknown) =>
      logger.error({ err: error }, 'could not count a refused webhook'),
    );
    throw new DomainError(code, message);
  }
  const rejectSignature = (
    provider: PaymentProvider,
    detail: string,
    code: 'INVALID_SIGNATURE' | 'MISSING_SIGNATURE' = 'INVALID_SIGNATURE',
  ) =>
    refuse(
      provider,
      code,
      code === 'MISSING_SIGNATURE' ? 'The signature header is missing' : 'The webhook signature is invalid or too old',
      detail,
    );

  async function read<T>(provider: PaymentProvider, parse: () => T): Promise<T> {
    try {
      return parse();
    } catch (error) {
      if (error instanceof MalformedEventError) return refuse(provider, 'MALFORMED_EVENT', error.message);
      if (error instanceof StaleEventError) return refuse(provider, 'STALE_EVENT', error.message);
      throw error;
    }
  }

  /**
   * The shared inbox: store the event once (provider + event id), hand it to Temporal, and only
   * then answer 2xx. If Temporal cannot take it the answer is 503 and the provider redelivers.
   * The answer never waits for the order: only for the event to be durable (stored, and taken by
   * Temporal as a signal to its order or as its webhook workflow, src/payments/webhook-inbox.ts).
   * A first delivery costs two statements and the signal: the store, and the PROCESSED mark,
   * which stays before the answer (why: the header of src/payments/webhook-inbox.ts).
   */
  async function accept(
    res: Response,
    input: WebhookWorkflowInput,
    payload: object,
    dedupeKey?: string,
  ): Promise<void> {
    const { provider, eventId } = input;
    // Stored once, filed under the order that opened the payment attempt it names, in one statement.
    const stored = await storeWebhookEvent(prisma, input, payload, dedupeKey);

    // The same signed body stored under another event id is a replay: the same answer, no effect.
    if (stored.next === 'replayed') {
      logger.warn({ provider, eventId, storedAs: stored.storedAs }, 'webhook body replayed under another event id');
      res.json({ received: true, duplicate: true });
      return;
    }
    // Processed once already (a redelivery), or taken by Temporal already: the same answer, no second effect.
    let handed: 'handed' | 'duplicate' = 'duplicate';
    if (stored.next === 'hand-off') {
      try {
        // Bounded: if Temporal is down the provider hears 503 promptly and redelivers later.
        handed = await deps.temporal.withDeadline(Date.now() + HANDOFF_DEADLINE_MS, () =>
          handOffWebhookEvent(deps, input, stored.orderId),
        );
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      }
    }
    if (handed === 'duplicate') {
      webhookEvents.inc({ provider: input.provider, outcome: 'duplicate' });
      res.json({ received: true, duplicate: true });
      return;
    }
    webhookEvents.inc({ provider: input.provider, outcome: 'received' });
    res.json({ received: true });
  }

  router.post('/api/payments/stripe/webhook', rawBody, async (req, res) => {
    const signature = req.header('stripe-signature');
    if (!signature) return rejectSignature('STRIPE', 'no Stripe-Signature header', 'MISSING_SIGNATURE');
    // Every secret still accepted (the active one, and one rotated out within its grace) may have signed it.
    let event: Stripe.Event | undefined;
    let failure = 'no webhook secret is active';
    for (const { secret } of await keyring.acceptedAll('STRIPE_WEBHOOK_SECRET')) {
      try {
        event = stripe.webhooks.constructEvent(
          req.body as Buffer,
          signature,
          secret,
          config.STRIPE_WEBHOOK_TOLERANCE / 1000,
        );
        break;
      } catch (error) {
        failure = (error as Error).message;
      }
    }
    if (!event) return rejectSignature('STRIPE', failure);
    await accept(res, await read('STRIPE', () => stripeWebhookInput(event)), event);
  });

  router.post('/api/payments/razorpay/webhook', rawBody, async (req, res) => {
    const signature = req.header('x-razorpay-signature');
    if (!signature) return rejectSignature('RAZORPAY', 'no X-Razorpay-Signature header', 'MISSING_SIGNATURE');
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const secrets = await keyring.acceptedAll('RAZORPAY_WEBHOOK_SECRET');
    if (!secrets.some(({ secret }) => verifyRazorpaySignature(body, signature, secret)))
      return rejectSignature('RAZORPAY', 'HMAC mismatch');
    const eventId = req.header('x-razorpay-event-id');
    if (!eventId) return refuse('RAZORPAY', 'MALFORMED_EVENT', 'The X-Razorpay-Event-Id header is missing');
    const payload = await read('RAZORPAY', () => {
      try {
        return JSON.parse(body.toString('utf8')) as object;
      } catch {
        throw new MalformedEventError('The body is not JSON');
      }
    });
    const dedupeKey = await read('RAZORPAY', () => razorpayDedupeKey(payload, body, config.RAZORPAY_WEBHOOK_MAX_AGE));
    await accept(res, await read('RAZORPAY', () => razorpayWebhookInput(eventId, payload)), payload, dedupeKey);
  });

  return router;
}
