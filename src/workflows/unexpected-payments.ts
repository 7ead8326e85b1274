/**
 * Giving back a payment that is not ours to keep (paid after its order closed or was cancelled, a
 * second payment, the wrong amount, another order's payment): refunded in full at the provider,
 * and when the provider refuses, every admin is alerted, because the money is still with us and a
 * person must act. One way for every workflow that finds such a payment (order, webhook).
 */
import { patched } from '@temporalio/workflow';
import { businessFailure, refundRefusedAlert } from './failures';
import { activitiesFor } from './policies';
import type { PaymentProvider } from './vocabulary';

const { refundUnexpectedPayment, alertAdmins } = activitiesFor('refundUnexpectedPayment', 'alertAdmins');

export interface UnexpectedPayment {
  provider: PaymentProvider;
  providerPaymentId: string;
  chargeId?: string;
  amount: number;
  currency: string;
}

export type GivenBack = { refundId: string; refusal?: undefined } | { refundId?: undefined; refusal: string };

/**
 * Refunds `payment` of `orderId` (`why` is recorded with the refund). A refusal is alerted when the
 * caller's patch `alertPatch` is on (before it, the refusal failed the caller: it is thrown); the
 * answer says which happened. `onRefused` hears of a refusal before admins are alerted.
 */
export async function refundOrAlert(input: {
  orderId: string;
  payment: UnexpectedPayment;
  why: string;
  workflowId: string;
  alertPatch: string;
  onRefused?: (refusal: string) => void;
}): Promise<GivenBack> {
  const { orderId, payment, why } = input;
  try {
    const { refundId } = await refundUnexpectedPayment({
      orderId,
      provider: payment.provider,
      providerPaymentId: payment.providerPaymentId,
      chargeId: payment.chargeId,
      amount: payment.amount,
      reason: why,
    });
    return { refundId };
  } catch (error) {
    if (!patched(input.alertPatch)) throw error;
    const refusal = businessFailure(error).message;
    input.onRefused?.(refusal);
    await alertAdmins(refundRefusedAlert({ orderId, payment, why, refusal, workflowId: input.workflowId }));
    return { refusal };
  }
}
