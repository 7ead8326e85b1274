/**
 * The order's pure guards and refusals: who may act on an order, which state allows what, and the
 * failures an update answers with. No workflow state and no commands, so validators can call them.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { businessFailure, refusal } from '../failures';
import { ErrorCode, isErrorCode, type Actor } from '../vocabulary';
import type { CancelReason, CheckoutRefusal, OrderView } from './messages';

export function isCancellable(order: OrderView): boolean {
  if (order.paymentStatus === 'PAID') return false;
  return order.status === 'PENDING' || (order.paymentMethod === 'COD' && order.status === 'CONFIRMED');
}

export function invalidState(order: OrderView, why: string): ApplicationFailure {
  return refusal(ErrorCode.INVALID_ORDER_STATE, `Order is ${order.status} (payment ${order.paymentStatus}): ${why}`, {
    status: order.status,
    paymentStatus: order.paymentStatus,
  });
}

export function assertAdmin(actor: Actor): void {
  if (actor?.role !== 'ADMIN') {
    throw refusal(ErrorCode.FORBIDDEN, 'Only an admin may do this');
  }
}

export function assertActorMayAct(order: OrderView, actor: Actor): void {
  if (actor?.role === 'ADMIN' || actor?.role === 'SYSTEM') return;
  if (actor?.role !== 'CUSTOMER' || actor.id !== order.customerId) {
    throw refusal(ErrorCode.FORBIDDEN, 'Only the customer who placed the order may do this');
  }
}

/** Why an order cancelled at someone's request was cancelled. */
export function cancelReasonOf(actor: Actor): CancelReason {
  return actor.role === 'ADMIN' ? 'CANCELLED_BY_ADMIN' : 'CANCELLED_BY_CUSTOMER';
}

export function providerUnavailable(error: unknown): ApplicationFailure {
  return refusal(
    ErrorCode.PAYMENT_PROVIDER_UNAVAILABLE,
    `Payment could not be started: ${businessFailure(error).message}`,
  );
}

/**
 * A refused checkout as its view keeps it: the refusal's code (one of ours, or INTERNAL for a
 * failure that carries none: a bug, answered 500), message and details.
 */
export function checkoutRefusalOf(failure: ApplicationFailure): CheckoutRefusal {
  return {
    code: isErrorCode(failure.type) ? failure.type : ErrorCode.INTERNAL,
    message: failure.message,
    ...(failure.details?.length ? { details: failure.details[0] } : {}),
  };
}
