/**
 * How a provider's answer reads to Temporal: a refusal (a 4xx from Stripe or Razorpay) will not
 * change on retry, so it becomes a non-retryable failure that names it; an outage is thrown as it
 * is and retried. Every call to a provider that may be refused goes through one of these, from
 * whichever capability makes it (payments, refunds, disputes).
 */
import { ApplicationFailure } from '@temporalio/common';
import Stripe from 'stripe';

/**
 * Whether a provider refused the request (a 4xx answer, which will not change on retry). Stripe's
 * errors and Razorpay's (`{statusCode, error: {code, description}}`) both carry the status.
 */
export function isProviderRefusal(
  error: unknown,
): error is { statusCode: number; error?: { code?: string; description?: string } } {
  const status = (error as { statusCode?: number })?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}

/** Razorpay's refusals (4xx) become non-retryable failures; outages are retried. */
export async function callRazorpay<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!isProviderRefusal(error)) throw error;
    throw ApplicationFailure.create({
      type: `RAZORPAY_${error.error?.code ?? error.statusCode}`,
      message: error.error?.description ?? `Razorpay answered ${error.statusCode}`,
      nonRetryable: true,
    });
  }
}

/**
 * Whether Stripe answered with the first answer to a request it saw before under the same
 * idempotency key (its `Idempotent-Replayed` header): the object was not created by this call.
 */
export function replayedByStripe(answer: { lastResponse?: { headers?: Record<string, string> } }): boolean {
  return answer.lastResponse?.headers?.['idempotent-replayed'] === 'true';
}

/** Stripe's refusals (4xx) become non-retryable failures; outages are retried. */
export async function callStripe<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw stripeFailure(error);
  }
}

/** Stripe's 4xx answers will not change on retry; network and 5xx errors will. */
export function stripeFailure(error: unknown): unknown {
  const permanent =
    error instanceof Stripe.errors.StripeInvalidRequestError ||
    error instanceof Stripe.errors.StripeCardError ||
    error instanceof Stripe.errors.StripeAuthenticationError ||
    error instanceof Stripe.errors.StripePermissionError;
  if (!permanent) return error;
  const stripeError = error as Stripe.errors.StripeError;
  return ApplicationFailure.create({
    type: `STRIPE_${(stripeError.code ?? stripeError.type).toUpperCase()}`,
    message: stripeError.message,
    nonRetryable: true,
  });
}
