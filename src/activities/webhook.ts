/**
 * The webhook workflow's activities, thin adapters over src/payments: which order an event is
 * about, whether a payment already paid it, and the event's bookkeeping row (status, error,
 * attempts).
 */
import { Context } from '@temporalio/activity';
import { refusalFailure } from '../platform/errors';
import { ErrorCode } from '../workflows/vocabulary';
import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../platform/db';
import { isOrderPaidBy, orderOfPaymentAttempt } from '../payments/attempts';
import { recordWebhookOutcome } from '../payments/webhook-inbox';
import type { WebhookOutcome, WebhookWorkflowInput } from '../workflows/webhook/messages';

export function webhookActivities(prisma: PrismaClient) {
  return {
    /**
     * Which of our orders a provider's payment event is about (src/payments/attempts.ts): never
     * one its metadata or notes name (`input.orderId` is ignored; old webhook histories pass it).
     */
    async resolvePaymentOrder(input: {
      provider: 'STRIPE' | 'RAZORPAY';
      orderId?: string;
      providerPaymentId: string;
    }): Promise<{ orderId: string }> {
      const orderId = await orderOfPaymentAttempt(prisma, input.provider, input.providerPaymentId);
      if (!orderId) {
        throw refusalFailure(
          ErrorCode.ORDER_NOT_FOUND,
          `No order matches ${input.provider} payment ${input.providerPaymentId}`,
        );
      }
      return { orderId };
    },

    /** Whether this payment is the one that paid the order (a late or replayed success of it is no news). */
    async isOrderPaidBy(input: {
      orderId: string;
      provider: 'STRIPE' | 'RAZORPAY';
      providerPaymentId: string;
      chargeId?: string;
    }): Promise<boolean> {
      return isOrderPaidBy(prisma, input);
    },

    /** Records how processing a stored webhook event ended; each workflow run counts one attempt. */
    async recordWebhookOutcome(
      input: Pick<WebhookWorkflowInput, 'provider' | 'eventId'> & WebhookOutcome,
    ): Promise<void> {
      // Outside a workflow (no run to tell retries apart) every call counts.
      const runId = Context.current().info.workflowExecution?.runId ?? randomUUID();
      await recordWebhookOutcome(prisma, input, runId);
    },
  };
}
