/**
 * The payment activities: thin adapters over src/payments (opening and cancelling payment
 * attempts, asking the provider where one stands, checking signalled news, refunding money the
 * order should not keep). Every call that creates something carries an idempotency key derived
 * from the business key, so a retried activity never creates a second PaymentIntent or refund.
 */
import { Context } from '@temporalio/activity';
import type Stripe from 'stripe';
import type { PrismaClient } from '../platform/db';
import type { RazorpayGateway } from '../payments/razorpay';
import { cancelPaymentIntent, openRazorpayAttempt, openStripeAttempt, type AttemptToOpen } from '../payments/attempts';
import { providerPaymentStatus, type ProviderPaymentStatus } from '../payments/payment-status';
import { checkPaymentNews, newsCheckId, type NewsCheck, type PaymentNews } from '../payments/news';
import { callRazorpay, callStripe } from '../payments/provider-calls';
import { refundUnexpectedPayment, type UnexpectedPayment } from '../payments/unexpected-refunds';

export type { ProviderPaymentStatus } from '../payments/payment-status';

export function paymentActivities(prisma: PrismaClient, stripe: Stripe, razorpay: RazorpayGateway) {
  return {
    /** Opens payment attempt `attempt` of an order: a PaymentIntent with the order id in its metadata. */
    async createPaymentIntent(input: AttemptToOpen): Promise<{ paymentIntentId: string; clientSecret: string }> {
      return openStripeAttempt(prisma, stripe, input);
    },

    /** Opens payment attempt `attempt` of an order as a Razorpay order (receipt and notes carry our ids). */
    async createRazorpayOrder(input: AttemptToOpen): Promise<{ razorpayOrderId: string; keyId: string }> {
      return openRazorpayAttempt(prisma, razorpay, input);
    },

    /** Asks the provider where a payment attempt stands (the runbook's manual dashboard check). */
    async fetchPaymentStatus(input: {
      orderId: string;
      provider: 'STRIPE' | 'RAZORPAY';
      providerPaymentId: string;
    }): Promise<ProviderPaymentStatus> {
      const status = () => providerPaymentStatus(stripe, razorpay, input.provider, input.providerPaymentId);
      return input.provider === 'STRIPE' ? callStripe(status) : callRazorpay(status);
    },

    /**
     * Whether payment or refund news a workflow was signalled comes from a verified source (the
     * stored webhook event it names, or the provider); unverified news is audited, with what it
     * claimed and why it was not believed, and the workflow ignores it.
     */
    async verifyPaymentNews(news: PaymentNews): Promise<NewsCheck> {
      const { workflowExecution, activityId } = Context.current().info;
      // Audited once per check, however often the activity is retried.
      return checkPaymentNews({ prisma, stripe, razorpay }, news, newsCheckId(workflowExecution?.runId, activityId));
    },

    /**
     * Cancels a PaymentIntent so it can no longer be paid. Answers the intent's final status:
     * `succeeded` means the customer paid after all and the caller must refund.
     */
    async cancelPaymentIntent(input: { orderId: string; paymentIntentId: string }): Promise<{ status: string }> {
      return cancelPaymentIntent(stripe, input.paymentIntentId);
    },

    /** Refunds a payment the order should not keep (late, duplicate or wrong amount), in full, once. */
    async refundUnexpectedPayment(input: UnexpectedPayment): Promise<{ refundId: string }> {
      return refundUnexpectedPayment({ prisma, stripe, razorpay }, input);
    },
  };
}
