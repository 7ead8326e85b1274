/**
 * The order workflow's query, signals and updates. They only record what was asked (and refuse
 * what cannot be asked now, in validators); the main flow acts on it one thing at a time, so
 * concurrent requests can never interleave half-done transitions. Updates answer once the main
 * flow has acted.
 */
import { condition, setHandler } from '@temporalio/workflow';
import { refusal } from '../failures';
import { orderRefundedSignal } from '../refund/messages';
import { ErrorCode, SYSTEM } from '../vocabulary';
import { assertActorMayAct, assertAdmin, invalidState, isCancellable } from './guards';
import {
  cancelOrderUpdate,
  deliverOrderUpdate,
  getOrderQuery,
  paymentEventSignal,
  placeOrderUpdate,
  retryPaymentUpdate,
  shipOrderUpdate,
  type PlacedOrder,
} from './messages';
import { moveTo, record, type OrderState } from './state';

export function registerHandlers(s: OrderState): void {
  const { order } = s;

  setHandler(getOrderQuery, () => order, {
    description: 'The live order: status, payment status, amounts, items and its timeline.',
  });

  setHandler(
    placeOrderUpdate,
    async (): Promise<PlacedOrder> => {
      await condition(() => s.placement !== undefined);
      if (s.placement?.failure) throw s.placement.failure;
      return {
        orderId: order.orderId,
        status: order.status,
        paymentStatus: order.paymentStatus,
        paymentMethod: order.paymentMethod,
        totalAmount: order.totalAmount,
        currency: order.currency,
        items: order.items,
        reservationExpiresAt: order.reservationExpiresAt,
        paymentProvider: order.paymentProvider,
        clientSecret: s.clientSecret,
        paymentIntentId: order.paymentIntentId,
        razorpayOrderId: order.razorpayOrderId,
        razorpayKeyId: s.razorpayKeyId,
      };
    },
    { description: 'Checkout: answers once stock is reserved and payment can start (sent with update-with-start).' },
  );

  setHandler(
    paymentEventSignal,
    (event) => {
      if (s.seenPaymentEvents.has(event.eventId)) return; // a redelivered webhook has no second effect
      s.seenPaymentEvents.add(event.eventId);
      s.signalledEvents.add(event.eventId);
      s.paymentInbox.push(event);
    },
    {
      description:
        'A payment outcome from a provider, sent by the webhook workflow: {provider, eventId, outcome: "SUCCEEDED"|"FAILED", providerPaymentId, amount, currency, failureReason?}. ' +
        'It is believed only if the stored verified webhook event it names, or the provider, says the same; anything else is recorded and ignored.',
    },
  );

  setHandler(
    orderRefundedSignal,
    (refunded) => {
      order.paymentStatus = refunded.paymentStatus;
      const detail = `refund ${refunded.refundId}: ${refunded.amount} ${order.currency}, payment ${refunded.paymentStatus}`;
      // An order on its way keeps its fulfilment status; the payment status says what was refunded.
      if (order.status === 'SHIPPED') record(s, 'ORDER_REFUNDED', SYSTEM, detail);
      else moveTo(s, refunded.orderStatus, 'ORDER_REFUNDED', SYSTEM, detail);
    },
    { description: 'Sent by a completed refund: {refundId, amount, orderStatus, paymentStatus}.' },
  );

  setHandler(
    retryPaymentUpdate,
    async (request) => {
      const attempt = order.paymentAttempt + 1;
      s.retryRequest = request;
      s.retryFailure = undefined;
      await condition(() => s.retryRequest === undefined || order.status !== 'PENDING');
      if (order.paymentAttempt < attempt)
        throw s.retryFailure ?? invalidState(order, 'the order stopped waiting for payment');
      return {
        orderId: order.orderId,
        paymentAttempt: order.paymentAttempt,
        clientSecret: s.clientSecret,
        razorpayOrderId: order.razorpayOrderId,
        razorpayKeyId: s.razorpayKeyId,
        reservationExpiresAt: order.reservationExpiresAt,
      };
    },
    {
      validator: (request) => {
        assertActorMayAct(order, request.actor);
        if (order.paymentMethod !== 'CARD' || order.status !== 'PENDING' || order.paymentStatus !== 'FAILED') {
          throw invalidState(order, 'a new payment can only be started after a failed one, while the order is PENDING');
        }
        if (s.retryRequest || s.cancelRequest)
          throw invalidState(order, 'another request for this order is in progress');
      },
      description: 'Start a new payment attempt (new PaymentIntent) after a failed one: {actor: {id, role}}.',
    },
  );

  setHandler(
    cancelOrderUpdate,
    async (request) => {
      s.cancelRequest = request;
      s.cancelRefusal = undefined;
      await condition(() => order.status === 'CANCELLED' || s.cancelRefusal !== undefined);
      if (order.status !== 'CANCELLED') throw s.cancelRefusal;
      return order;
    },
    {
      validator: (request) => {
        assertActorMayAct(order, request.actor);
        if (!isCancellable(order) || !s.placement || s.placement.failure) {
          throw invalidState(order, 'only an unpaid order that has not shipped can be cancelled');
        }
        if (s.cancelRequest) throw invalidState(order, 'the order is already being cancelled');
        if (s.shipRequest) throw invalidState(order, 'a shipment is in progress');
      },
      description: 'Cancel an unpaid order and release its stock: {actor: {id, role}, reason?}.',
    },
  );

  setHandler(
    shipOrderUpdate,
    async (request) => {
      s.shipRequest = request;
      s.shipRefusal = undefined;
      await condition(() => order.status === 'SHIPPED' || s.shipRefusal !== undefined);
      if (order.status !== 'SHIPPED') throw s.shipRefusal;
      return order;
    },
    {
      validator: (request) => {
        assertAdmin(request.actor);
        if (!(order.status === 'CONFIRMED' || order.status === 'PARTIALLY_REFUNDED')) {
          throw invalidState(order, 'only a CONFIRMED (or partially refunded) order can be shipped');
        }
        if (s.shipRequest) throw invalidState(order, 'a shipment is already in progress');
        if (s.cancelRequest) throw invalidState(order, 'the order is being cancelled');
        if (!request.trackingNumber?.trim()) {
          throw refusal(ErrorCode.VALIDATION_ERROR, 'trackingNumber is required');
        }
      },
      description:
        'Admin: mark a CONFIRMED order shipped: {actor: {id: "<your admin user id or email>", role: "ADMIN"}, trackingNumber, carrier?}.',
    },
  );

  setHandler(
    deliverOrderUpdate,
    async (request) => {
      s.deliverRequest = request;
      s.deliverRefusal = undefined;
      await condition(() => order.status === 'DELIVERED' || s.deliverRefusal !== undefined);
      if (order.status !== 'DELIVERED') throw s.deliverRefusal;
      return order;
    },
    {
      validator: (request) => {
        assertAdmin(request.actor);
        if (order.status !== 'SHIPPED') throw invalidState(order, 'only a SHIPPED order can be delivered');
        if (s.deliverRequest) throw invalidState(order, 'a delivery is already in progress');
      },
      description:
        'Admin: mark a SHIPPED order delivered: {actor: {id: "<your admin user id or email>", role: "ADMIN"}}.',
    },
  );
}
