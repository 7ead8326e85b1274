/**
 * The webhook workflow's activities: which order an event is about, whether a payment already
 * paid it, and the event's bookkeeping row (status, error, attempts).
 */
import { Context } from '@temporalio/activity';
import { refusalFailure } from '../platform/errors';
import { ErrorCode } from '../workflows/vocabulary';
import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../platform/db';
import { orderOfPaymentAttempt } from '../payments/attempts';
import { webhookEvents } from '../monitoring/metrics';
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

    /**
     * Whether this payment is the one that paid the order: a late or replayed success event for
     * it (say Razorpay's `order.paid` after delivery) is news of money we kept on purpose.
     */
    async isOrderPaidBy(input: {
      orderId: string;
      provider: 'STRIPE' | 'RAZORPAY';
      providerPaymentId: string;
    }): Promise<boolean> {
      const paid = await prisma.payment.count({
        where: {
          orderId: input.orderId,
          provider: input.provider,
          providerPaymentId: input.providerPaymentId,
          confirmedBy: { not: null },
        },
      });
      return paid > 0;
    },

    /**
     * Records how processing a stored webhook event ended (PROCESSED or FAILED with the error).
     * Each workflow run (the first delivery, each replay) counts one attempt; a retry of this
     * activity in the same run (its worker died after the write) counts nothing more.
     */
    async recordWebhookOutcome(
      input: Pick<WebhookWorkflowInput, 'provider' | 'eventId'> & WebhookOutcome,
    ): Promise<void> {
      // Outside a workflow (no run to tell retries apart) every call counts.
      const runId = Context.current().info.workflowExecution?.runId ?? randomUUID();
      const where = { provider: input.provider, eventId: input.eventId };
      const [counted] = await prisma.$transaction([
        prisma.webhookEvent.updateMany({
          where: { ...where, OR: [{ countedRunId: null }, { countedRunId: { not: runId } }] },
          data: { attemptCount: { increment: 1 }, countedRunId: runId },
        }),
        prisma.webhookEvent.update({
          where: { provider_eventId: where },
          data: {
            status: input.status,
            error: input.status === 'FAILED' ? input.detail : null,
            processedAt: new Date(),
          },
        }),
      ]);
      // Counted once per attempt, as the row counts it.
      if (counted.count > 0) webhookEvents.inc({ provider: input.provider, outcome: input.status.toLowerCase() });
    },
  };
}
