/**
 * The dispute workflow's side effects (and the refund workflow's dispute check): thin adapters
 * over src/disputes, refusals handed on as non-retryable failures. Each is safe to retry.
 */
import type Stripe from 'stripe';
import type { PrismaClient } from '../platform/db';
import { refusing } from '../platform/errors';
import { refundHold } from '../disputes/standing';
import { applyDisputeEvent, routeDispute, submitEvidence } from '../disputes/disputes';
import type { PaymentProvider } from '../workflows/vocabulary';

export function disputeActivities(prisma: PrismaClient, stripe: Stripe, reminderLeadMs: number) {
  return {
    /** Which of our payments (and orders) a dispute is about, and the workflow's settings. */
    async routeDisputeEvent(input: {
      provider: PaymentProvider;
      disputeId: string;
      providerPaymentId?: string;
      chargeId?: string;
    }): Promise<{ orderId: string; paymentId: string; recordId: string; reminderLeadMs: number }> {
      return { ...(await refusing(() => routeDispute(prisma, stripe, input))), reminderLeadMs };
    },

    applyDisputeEvent: (input: Parameters<typeof applyDisputeEvent>[1]) => applyDisputeEvent(prisma, input),

    /** Evidence through the provider where it has an API (Stripe), then our record of it. */
    async submitDisputeEvidence(input: {
      recordId: string;
      provider: PaymentProvider;
      disputeId: string;
      adminId: string;
      note: string;
    }): Promise<{ at: string; submittedToProvider: boolean }> {
      return submitEvidence(prisma, stripe, input);
    },

    /** Whether a refund about to pay out must wait: its order's payment is disputed. */
    async refundHold(input: { refundId: string; orderId: string }): Promise<{ held: boolean; disputeId?: string }> {
      return refundHold(prisma, input.orderId);
    },
  };
}
