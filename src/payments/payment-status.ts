/**
 * What the provider itself says about a payment attempt (the runbook's manual dashboard check):
 * used when no webhook came (reconciliation) and to check payment news that names no stored
 * verified event. Raw provider calls; callers decide what a provider error means for them.
 */
import type Stripe from 'stripe';
import type { PaymentProvider } from '../workflows/vocabulary';
import { capturedPayment, type RazorpayGateway } from './razorpay';

export interface ProviderPaymentStatus {
  outcome: 'SUCCEEDED' | 'FAILED' | 'PENDING';
  amount: number;
  currency: string;
  /** Razorpay's payment id (pay_...), the thing a refund is made against. */
  chargeId?: string;
  failureReason?: string;
}

/** Where payment attempt `providerPaymentId` (a PaymentIntent or a Razorpay order) stands at its provider. */
export async function providerPaymentStatus(
  stripe: Stripe,
  razorpay: RazorpayGateway,
  provider: PaymentProvider,
  providerPaymentId: string,
): Promise<ProviderPaymentStatus> {
  if (provider === 'STRIPE') {
    const intent = await stripe.paymentIntents.retrieve(providerPaymentId);
    const currency = intent.currency.toUpperCase();
    if (intent.status === 'succeeded') return { outcome: 'SUCCEEDED', amount: intent.amount_received, currency };
    if (intent.status === 'canceled' || (intent.status === 'requires_payment_method' && intent.last_payment_error)) {
      return {
        outcome: 'FAILED',
        amount: intent.amount,
        currency,
        failureReason: intent.last_payment_error?.message ?? intent.status,
      };
    }
    return { outcome: 'PENDING', amount: intent.amount, currency };
  }
  const attempts = await razorpay.orderPayments(providerPaymentId);
  // Paid means captured and still with us: a payment refunded (in full: `refunded`; in part:
  // `amount_refunded`) since is not money this order can keep.
  const captured = capturedPayment(attempts);
  if (captured && captured.status === 'captured' && !captured.amount_refunded)
    return {
      outcome: 'SUCCEEDED',
      amount: captured.amount,
      currency: captured.currency.toUpperCase(),
      chargeId: captured.id,
    };
  const last = attempts.at(-1);
  if (last && attempts.every((p) => p.status === 'failed')) {
    return {
      outcome: 'FAILED',
      amount: last.amount,
      currency: last.currency.toUpperCase(),
      failureReason: last.error_description ?? 'failed',
    };
  }
  return { outcome: 'PENDING', amount: last?.amount ?? 0, currency: last?.currency.toUpperCase() ?? '' };
}
