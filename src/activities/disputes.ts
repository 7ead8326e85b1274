/**
 * The dispute workflow's side effects (and the refund workflow's dispute check): thin wrappers
 * over src/disputes, plus the provider calls (finding a charge's PaymentIntent, submitting
 * evidence to Stripe). Each is safe to retry.
 */
import type Stripe from 'stripe';
import type { PrismaClient } from '../platform/db';
import { disputeStanding } from '../disputes/standing';
import { applyDisputeEvent, disputeRecordId, findDisputedPayment, recordEvidence } from '../disputes/disputes';
import type { PaymentProvider } from '../workflows/vocabulary';
import { callStripe } from '../payments/provider-calls';

export function disputeActivities(prisma: PrismaClient, stripe: Stripe, reminderLeadMs: number) {
  return {
    /** Which of our payments (and orders) a dispute is about, and the workflow's settings. */
    async routeDisputeEvent(input: {
      provider: PaymentProvider;
      disputeId: string;
      providerPaymentId?: string;
      chargeId?: string;
    }): Promise<{ orderId: string; paymentId: string; recordId: string; reminderLeadMs: number }> {
      let providerPaymentId = input.providerPaymentId;
      if (!providerPaymentId && input.provider === 'STRIPE' && input.chargeId) {
        // An older API version's dispute names only the charge: its PaymentIntent is ours, or nothing is.
        const charge = await callStripe(() => stripe.charges.retrieve(input.chargeId!));
        providerPaymentId =
          typeof charge.payment_intent === 'string' ? charge.payment_intent : charge.payment_intent?.id;
      }
      const found = await findDisputedPayment(prisma, input.provider, providerPaymentId);
      return { ...found, recordId: disputeRecordId(input.provider, input.disputeId), reminderLeadMs };
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
      const submittedToProvider = input.provider === 'STRIPE';
      if (submittedToProvider)
        await callStripe(() =>
          stripe.disputes.update(
            input.disputeId,
            { evidence: { uncategorized_text: input.note }, submit: true },
            { idempotencyKey: `dispute-evidence-${input.recordId}` },
          ),
        );
      const { at } = await recordEvidence(prisma, { ...input, submittedToProvider });
      return { at, submittedToProvider };
    },

    /** Whether a refund about to pay out must wait: its order's payment is disputed. */
    async refundHold(input: { refundId: string; orderId: string }): Promise<{ held: boolean; disputeId?: string }> {
      const standing = await disputeStanding(prisma, input.orderId);
      return standing.openDisputeId ? { held: true, disputeId: standing.openDisputeId } : { held: false };
    },
  };
}
