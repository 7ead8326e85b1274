import { ApplicationFailure } from '@temporalio/activity';
import type { PrismaClient } from '../db';
import type { WebhookOutcome, WebhookWorkflowInput } from '../workflows/messages';

export function webhookActivities(prisma: PrismaClient) {
  return {
    /**
     * Which of our orders a provider's payment event is about: Stripe events carry our order id in
     * the PaymentIntent's metadata; Razorpay events name the Razorpay order we opened for it.
     */
    async resolvePaymentOrder(input: { provider: 'STRIPE' | 'RAZORPAY'; orderId?: string; providerPaymentId: string }): Promise<{ orderId: string }> {
      const attempt = await prisma.payment.findFirst({
        where: { provider: input.provider, providerPaymentId: input.providerPaymentId, ...(input.orderId ? { orderId: input.orderId } : {}) },
        select: { orderId: true },
      });
      const orderId = attempt?.orderId ?? (input.orderId && (await prisma.order.findUnique({ where: { id: input.orderId }, select: { id: true } }))?.id);
      if (!orderId) {
        throw ApplicationFailure.create({
          type: 'ORDER_NOT_FOUND',
          message: `No order matches ${input.provider} payment ${input.providerPaymentId}${input.orderId ? ` (order ${input.orderId})` : ''}`,
          nonRetryable: true,
        });
      }
      return { orderId };
    },

    /** Records how processing a stored webhook event ended (PROCESSED or FAILED with the error). */
    async recordWebhookOutcome(input: Pick<WebhookWorkflowInput, 'provider' | 'eventId'> & WebhookOutcome): Promise<void> {
      await prisma.webhookEvent.update({
        where: { provider_eventId: { provider: input.provider, eventId: input.eventId } },
        data: {
          status: input.status,
          error: input.status === 'FAILED' ? input.detail : null,
          attemptCount: { increment: 1 },
          processedAt: new Date(),
        },
      });
    },
  };
}
