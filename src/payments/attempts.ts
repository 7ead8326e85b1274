/**
 * Which of our orders a provider's payment belongs to: the one that opened the payment attempt it
 * names (a Stripe PaymentIntent, a Razorpay order), objects this system created and recorded in
 * `payments`. Never the order a PaymentIntent's metadata or a Razorpay payment's notes name:
 * Razorpay Checkout takes its notes from the customer's browser, so they can name any order.
 * The webhook endpoint (to file the event under its order) and the webhook workflow (to route
 * it) both ask here.
 */
import type { PaymentProvider } from '../workflows/vocabulary';
import type { PrismaClient } from '../platform/db';

export async function orderOfPaymentAttempt(
  prisma: PrismaClient,
  provider: PaymentProvider,
  providerPaymentId: string,
): Promise<string | undefined> {
  const attempt = await prisma.payment.findFirst({
    where: { provider, providerPaymentId },
    select: { orderId: true },
  });
  return attempt?.orderId;
}
