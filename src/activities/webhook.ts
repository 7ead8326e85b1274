import type { PrismaClient } from '../db';
import type { WebhookOutcome, WebhookWorkflowInput } from '../workflows/messages';

export function webhookActivities(prisma: PrismaClient) {
  return {
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
