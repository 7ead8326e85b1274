/**
 * What one order's workflow holds between its steps, in one object, and the few moves that keep
 * the order's view, its search attribute, its timeline and the Web UI's summary in step. Handlers
 * only record requests here; the main flow acts on them one at a time.
 */
import { ApplicationFailure, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { OrderEmailKind } from '../../activities/email';
import { activitiesFor } from '../policies';
import { searchAttributes } from '../search-attributes';
import type { Actor, OrderStatus, PaymentProvider } from '../vocabulary';
import type {
  CancelOrderRequest,
  DeliverOrderRequest,
  OrderView,
  OrderWorkflowInput,
  PaymentEvent,
  PaymentRetryRequest,
  ShipOrderRequest,
} from './messages';

const { sendOrderEmail } = activitiesFor('sendOrderEmail');

export interface OrderState {
  readonly input: OrderWorkflowInput;
  /** The live order the query answers. */
  readonly order: OrderView;
  readonly provider: PaymentProvider;
  /** A card checkout opens its first payment attempt as a local activity (CHECKOUT_PAYMENT_LOCAL). */
  checkoutPaymentLocal?: boolean;
  /** A signalled payment's one step runs as a local activity (PAYMENT_NEWS_LOCAL), as checkout chose. */
  paymentNewsLocal?: boolean;
  /** Checkout's answer: unset until stock is reserved and payment can start; a failure when it cannot. */
  placement?: { failure?: ApplicationFailure };
  /** What the customer's browser needs to pay the current attempt. */
  clientSecret?: string;
  razorpayKeyId?: string;
  /** Payment events not yet handled, and the ids of every one received (a redelivery has no effect). */
  readonly paymentInbox: PaymentEvent[];
  readonly seenPaymentEvents: Set<string>;
  /** The inbox's events that came by signal (anyone can send one): checked before they are believed. */
  readonly signalledEvents: Set<string>;
  /** Every payment attempt opened (PaymentIntents or Razorpay orders), oldest first. */
  readonly attempts: string[];
  /** The provider payment (PaymentIntent or Razorpay order) that paid the order, once one has. */
  paidBy?: string;
  /** The provider's id of the payment itself that paid (Razorpay's pay_...), when its news said. */
  paidByCharge?: string;
  /** The payments refunded as unexpected, on the timeline: news of one again is not a second refund. */
  readonly refundsRecorded: Set<string>;
  /** The payment's transaction confirmed the order too (PAYMENT_CONFIRMED_IN_ONE_TRANSACTION). */
  confirmedWithPayment?: boolean;
  /** What was asked by an update and not yet acted on, and why the main flow refused it. */
  cancelRequest?: CancelOrderRequest;
  cancelRefusal?: ApplicationFailure;
  retryRequest?: PaymentRetryRequest;
  retryFailure?: ApplicationFailure;
  shipRequest?: ShipOrderRequest;
  shipRefusal?: ApplicationFailure;
  deliverRequest?: DeliverOrderRequest;
  deliverRefusal?: ApplicationFailure;
  /** Emails on their way, sent alongside the flow. */
  readonly emails: Promise<void>[];
}

export function newOrderState(input: OrderWorkflowInput): OrderState {
  return {
    input,
    order: {
      orderId: input.orderId,
      customerId: input.customerId,
      status: 'PENDING',
      paymentStatus: 'PENDING',
      paymentMethod: input.paymentMethod,
      currency: input.currency ?? '',
      totalAmount: 0,
      items: [],
      paymentAttempt: 0,
      paymentProvider: input.paymentMethod === 'CARD' ? (input.provider ?? 'STRIPE') : undefined,
      timeline: [],
    },
    provider: input.provider ?? 'STRIPE',
    paymentInbox: [],
    seenPaymentEvents: new Set(),
    signalledEvents: new Set(),
    attempts: [],
    refundsRecorded: new Set(),
    emails: [],
  };
}

export function record(s: OrderState, event: string, actor: Actor, detail?: string): void {
  s.order.timeline.push({ at: new Date().toISOString(), event, actor, detail });
}

export function moveTo(s: OrderState, status: OrderStatus, event: string, actor: Actor, detail?: string): void {
  s.order.status = status;
  upsertSearchAttributes([{ key: searchAttributes.orderStatus, value: status }]);
  record(s, event, actor, detail);
  setCurrentDetails(describe(s.order));
}

/** Emails are sent alongside the flow: a slow mail server never holds up the order. */
export function sendEmail(s: OrderState, kind: OrderEmailKind, key?: string): void {
  s.emails.push(sendOrderEmail({ orderId: s.order.orderId, kind, key }));
}

/** The Web UI's summary: where the order stands and what it waits for. */
export function describe(order: OrderView): string {
  switch (order.status) {
    case 'PENDING':
      return order.paymentMethod === 'CARD'
        ? `Waiting for payment (attempt ${order.paymentAttempt}, ${order.paymentStatus}) until ${order.reservationExpiresAt}. ` +
            'Send signal paymentEvent, or update cancelOrder.'
        : 'Placing order.';
    case 'CONFIRMED':
      return 'Confirmed: waiting for an admin to ship it (update shipOrder with trackingNumber).';
    case 'SHIPPED':
      return `Shipped (tracking ${order.trackingNumber}): waiting for delivery (update deliverOrder).`;
    default:
      return `${order.status}${order.cancelReason ? ` (${order.cancelReason})` : ''}.`;
  }
}
