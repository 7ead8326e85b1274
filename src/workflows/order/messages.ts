/**
 * The order workflow's contract (`order-<orderId>`): its input, what it answers, and every
 * signal, query and update it handles. The API and the workflow both import this file, so the
 * two sides cannot drift apart.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Actor, ErrorCode, OrderStatus, PaymentMethod, PaymentProvider, PaymentStatus } from '../vocabulary';

export interface OrderItemRequest {
  productId: string;
  /** The variant (size, colour) of the product; its own SKU, price and stock. */
  variantId?: string;
  quantity: number;
}

export interface OrderWorkflowInput {
  orderId: string;
  customerId: string;
  items: OrderItemRequest[];
  paymentMethod: PaymentMethod;
  /** ISO currency the customer expects; every product must be priced in it. */
  currency?: string;
  /** How long stock stays reserved while waiting for payment (RESERVATION_TTL). */
  reservationTtlMs: number;
  /** Who takes a card payment; STRIPE when absent. */
  provider?: PaymentProvider;
  /** With no webhook this long into a payment attempt, ask the provider (PAYMENT_RECONCILE_AFTER). */
  reconcileAfterMs?: number;
}

export interface OrderLine {
  productId: string;
  variantId?: string;
  sku: string;
  name: string;
  quantity: number;
  unitPrice: number;
}

export type CancelReason =
  | 'RESERVATION_EXPIRED'
  | 'CANCELLED_BY_CUSTOMER'
  | 'CANCELLED_BY_ADMIN'
  | 'INSUFFICIENT_STOCK'
  | 'INSUFFICIENT_WALLET_BALANCE'
  | 'WALLET_CURRENCY_MISMATCH'
  | 'PAYMENT_PROVIDER_UNAVAILABLE';

/**
 * Why checkout refused an order, as its answer said: the refusal's code (PRODUCT_NOT_FOUND,
 * CURRENCY_MISMATCH, INSUFFICIENT_STOCK, PAYMENT_PROVIDER_UNAVAILABLE, ...), message and details.
 */
export interface CheckoutRefusal {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

/** One line of the order's own story, kept in workflow state for the query and the Web UI. */
export interface OrderTimelineEntry {
  at: string;
  event: string;
  actor: Actor;
  detail?: string;
}

/** What `getOrder` answers: the live state of the order. */
export interface OrderView {
  orderId: string;
  customerId: string;
  status: OrderStatus;
  paymentStatus: PaymentStatus;
  paymentMethod: PaymentMethod;
  currency: string;
  totalAmount: number;
  items: OrderLine[];
  paymentAttempt: number;
  paymentProvider?: PaymentProvider;
  /** The current attempt's Stripe PaymentIntent or Razorpay order. */
  paymentIntentId?: string;
  razorpayOrderId?: string;
  reservationExpiresAt?: string;
  /** A refused checkout's is its refusal's code (PRODUCT_NOT_FOUND, say). */
  cancelReason?: CancelReason | ErrorCode;
  cancelNote?: string;
  /** Set when checkout was refused: what the checkout answered, and answers again to a retry with its key. */
  checkoutRefusal?: CheckoutRefusal;
  trackingNumber?: string;
  carrier?: string;
  timeline: OrderTimelineEntry[];
}

/** Answer of `placeOrder`: returned once stock is reserved and the PaymentIntent exists. */
export interface PlacedOrder {
  orderId: string;
  status: OrderStatus;
  paymentStatus: PaymentStatus;
  paymentMethod: PaymentMethod;
  totalAmount: number;
  currency: string;
  items: OrderLine[];
  reservationExpiresAt?: string;
  paymentProvider?: PaymentProvider;
  /** Stripe: what Stripe.js confirms the payment with. */
  clientSecret?: string;
  /** Stripe: the PaymentIntent itself, as its webhooks and the order's view name it. */
  paymentIntentId?: string;
  /** Razorpay: what Razorpay Checkout opens. */
  razorpayOrderId?: string;
  razorpayKeyId?: string;
}

/** A payment outcome reported by a provider webhook (or found by asking the provider). */
export interface PaymentEvent {
  provider: PaymentProvider;
  eventId: string;
  outcome: 'SUCCEEDED' | 'FAILED';
  /** The payment attempt: a Stripe PaymentIntent id or a Razorpay order id. */
  providerPaymentId: string;
  /** Razorpay's payment id (pay_...), which refunds are made against. */
  chargeId?: string;
  amount: number;
  currency: string;
  failureReason?: string;
}

export interface PaymentRetryRequest {
  actor: Actor;
}
export interface PaymentRetryResult {
  orderId: string;
  paymentAttempt: number;
  clientSecret?: string;
  razorpayOrderId?: string;
  razorpayKeyId?: string;
  reservationExpiresAt?: string;
}

export interface CancelOrderRequest {
  actor: Actor;
  reason?: string;
}
/**
 * An admin ships or delivers: `actor.id` names an active admin by user id or email. `apiSeal` is
 * set by the API (src/access/request-seals.ts); a request without a valid one was sent through
 * Temporal itself (Web UI, CLI) and is audited as such.
 */
export interface ShipOrderRequest {
  actor: Actor;
  trackingNumber: string;
  carrier?: string;
  apiSeal?: string;
}
export interface DeliverOrderRequest {
  actor: Actor;
  apiSeal?: string;
}

export const placeOrderUpdate = defineUpdate<PlacedOrder>('placeOrder');
export const getOrderQuery = defineQuery<OrderView>('getOrder');
export const paymentEventSignal = defineSignal<[PaymentEvent]>('paymentEvent');
export const retryPaymentUpdate = defineUpdate<PaymentRetryResult, [PaymentRetryRequest]>('retryPayment');
export const cancelOrderUpdate = defineUpdate<OrderView, [CancelOrderRequest]>('cancelOrder');
export const shipOrderUpdate = defineUpdate<OrderView, [ShipOrderRequest]>('shipOrder');
export const deliverOrderUpdate = defineUpdate<OrderView, [DeliverOrderRequest]>('deliverOrder');
