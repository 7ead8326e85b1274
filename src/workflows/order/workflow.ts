/**
 * One workflow per order (`order-<orderId>`). It replaces the runbook's "wait for the webhook",
 * "a cron job releases stock after 30 minutes" and the "safe" status-update SQL:
 *
 *   reserve stock -> open a PaymentIntent -> wait for payment until the reservation expires
 *   -> commit the sale and confirm -> wait for shipment -> wait for delivery.
 *
 * Handlers (./handlers.ts) only record what was asked; the main flow below acts on it, one thing
 * at a time, so concurrent requests can never interleave half-done transitions. The payment's
 * steps are in ./payment.ts, the guards in ./guards.ts, the state in ./state.ts.
 */
import {
  allHandlersFinished,
  condition,
  patched,
  setCurrentDetails,
  type ApplicationFailure,
} from '@temporalio/workflow';
import type { SentThroughTemporal } from '../../activities/order';
import { businessFailure, notAnAdmin, refusal } from '../failures';
import { orderWorkflowId } from '../ids';
import { activitiesFor } from '../policies';
import { ErrorCode, SYSTEM, type Actor } from '../vocabulary';
import { cancelReasonOf, checkoutRefusalOf, invalidState, providerUnavailable } from './guards';
import {
  checkoutPayment,
  checkoutPaymentIsLocal,
  criticalPath,
  criticalPathIsLocal,
  paymentNewsIsLocal,
} from './critical-path';
import { registerHandlers } from './handlers';
import {
  deliverOrderUpdate,
  shipOrderUpdate,
  type CancelReason,
  type DeliverOrderRequest,
  type OrderView,
  type OrderWorkflowInput,
  type ShipOrderRequest,
} from './messages';
import {
  ADMIN_REQUESTS_NAME_ACTIVE_ADMIN,
  CANCEL_REFUSED_ONCE_PAID,
  CHECKOUT_REFUSAL_KEPT,
  ORDER_ONE_ADMIN_CHECK,
  PAYMENT_RECONCILIATION,
  REFUND_ANSWERS_PENDING_SHIPMENT,
  SHIPMENT_REFUSAL_ANSWERED,
} from './patches';
import {
  applyPayment,
  askProvider,
  currentPayment,
  lastMinutePayment,
  openPaymentAttempt,
  refund,
  waitFor,
} from './payment';
import { describe, moveTo, newOrderState, record, sendEmail, type OrderState } from './state';

const act = activitiesFor(
  'cancelOrder',
  'markShipped',
  'markDelivered',
  'activeAdminNamed',
  // Orders started before ORDER_ONE_ADMIN_CHECK (./patches.ts) only.
  'checkAdminRequest',
);

/** What paid an order paid from the wallet (no provider payment can be it). */
const WALLET_PAYMENT = 'wallet';
const DEFAULT_RECONCILE_AFTER_MS = 10 * 60_000;

export async function orderWorkflow(input: OrderWorkflowInput): Promise<OrderView> {
  const s = newOrderState(input);
  registerHandlers(s);

  // 1. Reserve the stock. Nothing is charged if any item is short.
  if (!(await reserveStock(s))) return finish(s);

  if (input.paymentMethod === 'COD' || input.paymentMethod === 'WALLET') {
    // 2a. Cash on delivery, or store credit already taken with the reservation: confirmed at once.
    await confirmWithoutCard(s);
  } else {
    // 2b. Open the PaymentIntent; checkout answers with its client secret.
    if (!(await openCheckoutPayment(s))) return finish(s);
    // 3. Wait for the payment until the reservation expires (the runbook's 30-minute cron job).
    if (!(await awaitPayment(s))) return finish(s);
    // 4. Paid: the reserved units become a sale and the customer hears from us.
    await commitSale(s);
  }

  // 5. Wait for the warehouse to ship; an order cancelled or refunded in full before then ends here.
  if (!(await awaitShipment(s))) return finish(s);

  // 6. Wait for delivery; cash on delivery is collected and recorded now.
  await awaitDelivery(s);
  return finish(s);
}

// ---- The phases ----------------------------------------------------------------------------------

/** Reserves the stock (and takes a wallet payment) in one transaction; false when checkout is refused. */
async function reserveStock(s: OrderState): Promise<boolean> {
  const { input, order } = s;
  const reservationExpiresAt = new Date(Date.now() + input.reservationTtlMs).toISOString();
  // A patch the refusal needs is asked before a local step, never right after one (policies.ts).
  const refusalKept = criticalPathIsLocal() ? patched(CHECKOUT_REFUSAL_KEPT) : undefined;
  // So are those that follow the payment attempt, when it is local too (./critical-path.ts).
  if (input.paymentMethod === 'CARD') {
    s.checkoutPaymentLocal = checkoutPaymentIsLocal();
    // And those that follow a payment's one step, when it is local too (same place, same reason).
    s.paymentNewsLocal = paymentNewsIsLocal(s.checkoutPaymentLocal);
  }
  try {
    const placed = await criticalPath().createOrderAndReserveStock({
      ...input,
      reservationExpiresAt: input.paymentMethod === 'CARD' ? reservationExpiresAt : undefined,
      actor: { id: input.customerId, role: 'CUSTOMER' },
    });
    Object.assign(order, placed);
    if (input.paymentMethod === 'CARD') order.reservationExpiresAt = reservationExpiresAt;
    record(
      s,
      'STOCK_RESERVED',
      { id: input.customerId, role: 'CUSTOMER' },
      order.items.map((i) => `${i.quantity} x ${i.sku}`).join(', '),
    );
    return true;
  } catch (error) {
    // Refused (an unknown product or variant, a currency mismatch, too large a total, a line
    // short of stock, too little credit): the transaction left nothing; checkout answers the refusal.
    const failure = businessFailure(error);
    s.placement = { failure };
    if (refusalKept ?? patched(CHECKOUT_REFUSAL_KEPT)) {
      order.checkoutRefusal = checkoutRefusalOf(failure);
      order.cancelReason = order.checkoutRefusal.code;
    } else
      order.cancelReason =
        failure.type === ErrorCode.INSUFFICIENT_WALLET_BALANCE || failure.type === ErrorCode.WALLET_CURRENCY_MISMATCH
          ? failure.type
          : 'INSUFFICIENT_STOCK';
    moveTo(s, 'CANCELLED', 'CHECKOUT_REFUSED', SYSTEM, failure.message);
    return false;
  }
}

/** Cash on delivery (paid when delivered) or the wallet (paid with the reservation): confirmed now. */
async function confirmWithoutCard(s: OrderState): Promise<void> {
  const { input, order } = s;
  if (input.paymentMethod === 'COD') {
    await criticalPath().confirmOrder({ orderId: order.orderId, commitStock: false, actor: SYSTEM });
    moveTo(s, 'CONFIRMED', 'ORDER_CONFIRMED', SYSTEM, 'cash on delivery');
  } else {
    s.paidBy = WALLET_PAYMENT;
    order.paymentStatus = 'PAID';
    moveTo(s, 'PAID', 'PAYMENT_SUCCEEDED', { id: input.customerId, role: 'CUSTOMER' }, 'paid from the wallet');
    await criticalPath().confirmOrder({ orderId: order.orderId, commitStock: true, actor: SYSTEM });
    moveTo(s, 'CONFIRMED', 'ORDER_CONFIRMED', SYSTEM, 'paid from the wallet');
  }
  s.placement = {};
  sendEmail(s, 'ORDER_CONFIRMED');
}

/**
 * Opens the first payment attempt (a local activity since CHECKOUT_PAYMENT_LOCAL, so checkout is
 * answered in the task that reserved the stock); false (the order cancelled) when the provider
 * cannot be reached.
 */
async function openCheckoutPayment(s: OrderState): Promise<boolean> {
  const { order } = s;
  try {
    await openPaymentAttempt(s, checkoutPayment(s.checkoutPaymentLocal === true));
  } catch (error) {
    const failure = providerUnavailable(error);
    s.placement = { failure };
    await act.cancelOrder({ orderId: order.orderId, reason: 'PAYMENT_PROVIDER_UNAVAILABLE', actor: SYSTEM });
    order.cancelReason = 'PAYMENT_PROVIDER_UNAVAILABLE';
    if (patched(CHECKOUT_REFUSAL_KEPT)) order.checkoutRefusal = checkoutRefusalOf(failure);
    moveTo(s, 'CANCELLED', 'CHECKOUT_FAILED', SYSTEM, failure.message);
    return false;
  }
  s.placement = {};
  setCurrentDetails(describe(order));
  return true;
}

/**
 * Waits for the payment until the reservation expires, taking cancellations and payment retries
 * meanwhile. A webhook that is late gets chased: after a while we ask the provider ourselves.
 * True once PAID; false when the order was cancelled (anything paid with the cancellation refunded).
 */
async function awaitPayment(s: OrderState): Promise<boolean> {
  const { input, order, paymentInbox } = s;
  const reconcile = patched(PAYMENT_RECONCILIATION);
  const reconcileAfterMs = input.reconcileAfterMs ?? DEFAULT_RECONCILE_AFTER_MS;
  let nextCheckAt = Date.now() + reconcileAfterMs;
  for (;;) {
    const expiresAt = Date.parse(order.reservationExpiresAt!);
    const wakeAt = reconcile ? Math.min(expiresAt, nextCheckAt) : expiresAt;
    const woke = await condition(
      () => s.cancelRequest !== undefined || s.retryRequest !== undefined || paymentInbox.length > 0,
      Math.max(wakeAt - Date.now(), 1),
    );
    if (!woke && Date.now() < expiresAt) {
      nextCheckAt = Date.now() + reconcileAfterMs;
      const found = await askProvider(s, 'no webhook yet');
      if (found && !s.seenPaymentEvents.has(found.eventId)) {
        s.seenPaymentEvents.add(found.eventId);
        paymentInbox.push(found);
      }
      continue;
    }
    if (!woke) {
      await cancel(s, 'RESERVATION_EXPIRED', SYSTEM);
      break;
    }
    if (s.cancelRequest) {
      const actor = s.cancelRequest.actor;
      await cancel(s, cancelReasonOf(actor), actor, s.cancelRequest.reason);
      break;
    }
    const event = paymentInbox.shift();
    if (event) {
      if (await applyPayment(s, event)) break;
      continue;
    }
    if (s.retryRequest) {
      record(s, 'PAYMENT_RETRY_REQUESTED', s.retryRequest.actor);
      try {
        await openPaymentAttempt(s);
        nextCheckAt = Date.now() + reconcileAfterMs;
      } catch (error) {
        s.retryFailure = providerUnavailable(error);
        record(s, 'PAYMENT_RETRY_FAILED', SYSTEM, s.retryFailure.message);
      }
      s.retryRequest = undefined;
    }
  }
  if (order.status !== 'CANCELLED') return true;
  await waitFor(s, () => true); // refund anything that arrived with the cancellation
  return false;
}

/** Paid: a cancellation asked for while the payment was recorded came too late; the sale is committed. */
async function commitSale(s: OrderState): Promise<void> {
  const { order } = s;
  if (s.cancelRequest && patched(CANCEL_REFUSED_ONCE_PAID)) {
    record(s, 'CANCEL_REFUSED', s.cancelRequest.actor, 'the payment arrived first');
    s.cancelRefusal = invalidState(order, 'the payment arrived before the cancellation; ask for a refund instead');
    s.cancelRequest = undefined;
  }
  if (!s.confirmedWithPayment)
    await criticalPath().confirmOrder({ orderId: order.orderId, commitStock: true, actor: SYSTEM });
  moveTo(s, 'CONFIRMED', 'ORDER_CONFIRMED', SYSTEM);
  sendEmail(s, 'ORDER_CONFIRMED');
}

/**
 * Waits for an admin to ship the order. An unpaid (cash on delivery) order may be cancelled until
 * then; an order refunded in full has nothing left to ship. True once SHIPPED.
 */
async function awaitShipment(s: OrderState): Promise<boolean> {
  const { order } = s;
  let shipment: ShipOrderRequest;
  for (;;) {
    await waitFor(s, () => s.shipRequest !== undefined || s.cancelRequest !== undefined || order.status === 'REFUNDED');
    if (order.status === 'REFUNDED') {
      // A shipment asked for just before the full refund's news arrived is answered, not left waiting.
      if (s.shipRequest && patched(REFUND_ANSWERS_PENDING_SHIPMENT)) {
        s.shipRefusal = invalidState(order, 'the order was refunded in full; nothing ships');
        record(s, 'SHIPMENT_REFUSED', s.shipRequest.actor, 'refunded in full');
        s.shipRequest = undefined;
      }
      return false;
    }
    if (s.cancelRequest) {
      await cancel(s, cancelReasonOf(s.cancelRequest.actor), s.cancelRequest.actor, s.cancelRequest.reason);
      return false;
    }
    shipment = s.shipRequest!;
    const checked = await checkAdmin(s, shipOrderUpdate.name, shipment);
    if (checked?.refusal) {
      s.shipRefusal = checked.refusal;
      s.shipRequest = undefined;
      record(s, 'SHIPMENT_REFUSED', shipment.actor, checked.refusal.message);
      continue;
    }
    if (checked) shipment = { ...shipment, actor: checked.actor };
    try {
      await act.markShipped({
        orderId: order.orderId,
        trackingNumber: shipment.trackingNumber,
        carrier: shipment.carrier,
        commitStock: order.paymentMethod === 'COD',
        actor: shipment.actor,
        sentThrough: checked?.sentThrough,
      });
      break;
    } catch (error) {
      if (!patched(SHIPMENT_REFUSAL_ANSWERED)) throw error;
      // Refunded in full in the same moment: the refund's news is on its way; nothing ships.
      s.shipRefusal = businessFailure(error);
      s.shipRequest = undefined;
      record(s, 'SHIPMENT_REFUSED', shipment.actor, s.shipRefusal.message);
    }
  }
  order.trackingNumber = shipment.trackingNumber;
  order.carrier = shipment.carrier;
  moveTo(
    s,
    'SHIPPED',
    'ORDER_SHIPPED',
    shipment.actor,
    `tracking ${shipment.trackingNumber}${shipment.carrier ? ` (${shipment.carrier})` : ''}`,
  );
  sendEmail(s, 'ORDER_SHIPPED');
  return true;
}

/** Waits for an admin to mark the order delivered; cash on delivery is collected then. */
async function awaitDelivery(s: OrderState): Promise<void> {
  const { order } = s;
  let delivery: DeliverOrderRequest;
  let sentThrough: SentThroughTemporal | undefined;
  for (;;) {
    await waitFor(s, () => s.deliverRequest !== undefined);
    delivery = s.deliverRequest!;
    const checked = await checkAdmin(s, deliverOrderUpdate.name, delivery);
    if (!checked?.refusal) {
      if (checked) [delivery, sentThrough] = [{ ...delivery, actor: checked.actor }, checked.sentThrough];
      break;
    }
    s.deliverRefusal = checked.refusal;
    s.deliverRequest = undefined;
    record(s, 'DELIVERY_REFUSED', delivery.actor, checked.refusal.message);
  }
  const cashCollected =
    order.paymentMethod === 'COD' ? { amount: order.totalAmount, currency: order.currency } : undefined;
  await act.markDelivered({ orderId: order.orderId, cashCollected, actor: delivery.actor, sentThrough });
  if (cashCollected) order.paymentStatus = 'PAID';
  moveTo(s, 'DELIVERED', 'ORDER_DELIVERED', delivery.actor, cashCollected ? 'cash collected' : undefined);
}

/**
 * Whether a shipment or delivery names an active admin (by id or email), and how it came: the
 * account it is recorded under, and `sentThrough` when it was typed into Temporal rather than sent
 * by the API; or why it is refused. Undefined in histories from before the check.
 */
async function checkAdmin(
  s: OrderState,
  name: string,
  request: ShipOrderRequest | DeliverOrderRequest,
): Promise<
  { actor: Actor; sentThrough?: SentThroughTemporal; refusal?: undefined } | { refusal: ApplicationFailure } | undefined
> {
  if (!patched(ADMIN_REQUESTS_NAME_ACTIVE_ADMIN)) return undefined;
  const workflowId = orderWorkflowId(s.order.orderId);
  let adminId: string | undefined;
  let via: 'api' | 'temporal' | undefined;
  if (patched(ORDER_ONE_ADMIN_CHECK)) {
    const answer = await act.activeAdminNamed({ workflowId, update: name, request });
    [adminId, via] = [answer.admin?.id, answer.via];
  } else {
    const checked = await act.checkAdminRequest({ workflowId, name, request });
    if ('refused' in checked) return { refusal: refusal(ErrorCode.NOT_AN_ADMIN, checked.refused) };
    [adminId, via] = [checked.adminId, checked.via];
  }
  if (!adminId) return { refusal: notAnAdmin(String(request.actor?.id ?? '')) };
  return {
    actor: { id: adminId, role: 'ADMIN' },
    sentThrough: via === 'temporal' ? { via: 'temporal-update', named: request.actor.id } : undefined,
  };
}

/** Cancels the order and releases its stock; a payment made at the last moment is refunded, never kept. */
async function cancel(s: OrderState, reason: CancelReason, actor: Actor, note?: string): Promise<void> {
  const { order } = s;
  await act.cancelOrder({ orderId: order.orderId, reason, note, actor });
  order.cancelReason = reason;
  order.cancelNote = note;
  moveTo(s, 'CANCELLED', 'ORDER_CANCELLED', actor, note ? `${reason}: ${note}` : reason);
  sendEmail(s, 'ORDER_CANCELLED');
  if (currentPayment(s)) {
    // If the customer paid at the last moment, cancelling reveals it: refund, never keep it.
    const paidAnyway = await lastMinutePayment(s);
    if (paidAnyway) await refund(s, paidAnyway, 'paid after the order was cancelled');
  }
}

/** Lets the emails and handlers finish; a payment signalled meanwhile is refunded, never dropped. */
async function finish(s: OrderState): Promise<OrderView> {
  await Promise.all(s.emails);
  await condition(allHandlersFinished);
  await waitFor(s, () => true);
  await Promise.all(s.emails);
  return s.order;
}
