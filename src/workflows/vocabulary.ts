/**
 * Every signal, query and update of the workflows, with the types they carry. The API and the
 * workflows both import this file, so the two sides cannot drift apart.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

// ---------------------------------------------------------------------------------------------
// Shared vocabulary
// ---------------------------------------------------------------------------------------------

export type OrderStatus =
  'PENDING' | 'PAID' | 'CONFIRMED' | 'SHIPPED' | 'DELIVERED' | 'CANCELLED' | 'REFUNDED' | 'PARTIALLY_REFUNDED';
export type PaymentStatus = 'PENDING' | 'PAID' | 'FAILED' | 'REFUNDED' | 'PARTIALLY_REFUNDED';
export type PaymentMethod = 'CARD' | 'COD' | 'WALLET';
export type Role = 'CUSTOMER' | 'ADMIN';
export type PaymentProvider = 'STRIPE' | 'RAZORPAY';

/** Who asked for something: recorded with every transition so the history says who did what. */
export interface Actor {
  id: string;
  role: Role | 'SYSTEM';
}

/** Machine-readable codes of the business errors workflows raise (ApplicationFailure types). */
export const ErrorCode = {
  INSUFFICIENT_STOCK: 'INSUFFICIENT_STOCK',
  PRODUCT_NOT_FOUND: 'PRODUCT_NOT_FOUND',
  CURRENCY_MISMATCH: 'CURRENCY_MISMATCH',
  INVALID_ORDER_STATE: 'INVALID_ORDER_STATE',
  PAYMENT_PROVIDER_UNAVAILABLE: 'PAYMENT_PROVIDER_UNAVAILABLE',
  ORDER_NOT_FOUND: 'ORDER_NOT_FOUND',
  ORDER_NOT_PAID: 'ORDER_NOT_PAID',
  ORDER_ALREADY_SHIPPED: 'ORDER_ALREADY_SHIPPED',
  REFUND_PENDING: 'REFUND_PENDING',
  REFUND_ALREADY_PROCESSED: 'REFUND_ALREADY_PROCESSED',
  REFUND_AMOUNT_TOO_HIGH: 'REFUND_AMOUNT_TOO_HIGH',
  REFUND_DESTINATION_NOT_ALLOWED: 'REFUND_DESTINATION_NOT_ALLOWED',
  REFUND_ALREADY_DECIDED: 'REFUND_ALREADY_DECIDED',
  SELF_APPROVAL: 'SELF_APPROVAL',
  NOT_AN_ADMIN: 'NOT_AN_ADMIN',
  INVALID_ROTATION_STATE: 'INVALID_ROTATION_STATE',
  UNKNOWN_MANUAL_STEP: 'UNKNOWN_MANUAL_STEP',
  WALLET_CURRENCY_MISMATCH: 'WALLET_CURRENCY_MISMATCH',
  ORDER_TOTAL_TOO_LARGE: 'ORDER_TOTAL_TOO_LARGE',
  INSUFFICIENT_WALLET_BALANCE: 'INSUFFICIENT_WALLET_BALANCE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

// ---------------------------------------------------------------------------------------------
// Order workflow (`order-<orderId>`)
// ---------------------------------------------------------------------------------------------

export interface OrderItemRequest {
  productId: string;
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
  cancelReason?: CancelReason;
  cancelNote?: string;
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
export interface ShipOrderRequest {
  actor: Actor;
  trackingNumber: string;
  carrier?: string;
}
export interface DeliverOrderRequest {
  actor: Actor;
}

export const placeOrderUpdate = defineUpdate<PlacedOrder>('placeOrder');
export const getOrderQuery = defineQuery<OrderView>('getOrder');
export const paymentEventSignal = defineSignal<[PaymentEvent]>('paymentEvent');
export const retryPaymentUpdate = defineUpdate<PaymentRetryResult, [PaymentRetryRequest]>('retryPayment');
export const cancelOrderUpdate = defineUpdate<OrderView, [CancelOrderRequest]>('cancelOrder');
export const shipOrderUpdate = defineUpdate<OrderView, [ShipOrderRequest]>('shipOrder');
export const deliverOrderUpdate = defineUpdate<OrderView, [DeliverOrderRequest]>('deliverOrder');

// ---------------------------------------------------------------------------------------------
// Webhook workflow (`webhook-<provider>-<eventId>`)
// ---------------------------------------------------------------------------------------------

export interface WebhookWorkflowInput {
  provider: PaymentProvider;
  eventId: string;
  eventType: string;
  orderId?: string;
  /** The payment outcome the event reports, when it reports one. */
  payment?: PaymentEvent;
  /** Refunds whose outcome the event reports (Stripe `refund.updated`, `charge.refunded`). */
  refunds?: RefundSettlement[];
}

export interface WebhookOutcome {
  status: 'PROCESSED' | 'FAILED';
  detail: string;
}

// ---------------------------------------------------------------------------------------------
// Refund workflow (`refund-<refundId>`)
// ---------------------------------------------------------------------------------------------

export type RefundDestination = 'WALLET' | 'ORIGINAL_PAYMENT';
export type RefundStatus = 'PENDING_APPROVAL' | 'APPROVED' | 'REJECTED' | 'COMPLETED' | 'FAILED';

export interface RefundWorkflowInput {
  refundId: string;
  orderId: string;
  /** Minor units; absent means everything still refundable. */
  amount?: number;
  destination?: RefundDestination;
  reason: string;
  requestedBy: Actor;
  /** A manual refund by an admin is approved by that admin as it is made. */
  approvedBy?: Actor;
  /** Approve by policy for trusted customers (more than 10 delivered orders, no refund before). */
  autoApproveTrusted: boolean;
  /** Remind admins by email after this long without a decision, and again after each interval. */
  reminderAfterMs: number;
  /** Ask the provider about a refund whose webhook has not come after this long. */
  settleCheckAfterMs: number;
}

/** What an admin sends to decide, from the API or the Temporal Web UI: `{"adminId": "...", "reason": "..."}`. */
export interface RefundDecision {
  adminId: string;
  reason: string;
}

export interface RefundView {
  refundId: string;
  orderId: string;
  customerId?: string;
  amount?: number;
  currency?: string;
  destination?: RefundDestination;
  status: RefundStatus | 'REFUSED';
  reason: string;
  requestedBy: Actor;
  decidedBy?: string;
  decisionReason?: string;
  walletCredited?: number;
  providerRefundId?: string;
  failureReason?: string;
  /** Why the request was REFUSED, as a machine-readable code (REFUND_AMOUNT_TOO_HIGH, ...). */
  failureCode?: string;
  /** The refusal's details (for REFUND_AMOUNT_TOO_HIGH: what is still refundable). */
  failureDetails?: unknown;
  timeline: OrderTimelineEntry[];
}

/** A provider reporting how a refund ended (Stripe `refund.updated` / `charge.refunded`, or a status check). */
export interface RefundSettlement {
  refundId: string;
  providerRefundId: string;
  outcome: 'SUCCEEDED' | 'FAILED' | 'PENDING';
  eventId: string;
  failureReason?: string;
}

export const requestRefundUpdate = defineUpdate<RefundView>('requestRefund');
export const getRefundQuery = defineQuery<RefundView>('getRefund');
export const approveRefundSignal = defineSignal<[RefundDecision]>('approveRefund');
export const rejectRefundSignal = defineSignal<[RefundDecision]>('rejectRefund');
export const approveRefundUpdate = defineUpdate<RefundView, [RefundDecision]>('approveRefund');
export const rejectRefundUpdate = defineUpdate<RefundView, [RefundDecision]>('rejectRefund');
export const refundSettledSignal = defineSignal<[RefundSettlement]>('refundSettled');

/** Sent by a refund to its order: the money moved back, so the order's payment status follows. */
export interface OrderRefunded {
  refundId: string;
  amount: number;
  orderStatus: OrderStatus;
  paymentStatus: PaymentStatus;
}
export const orderRefundedSignal = defineSignal<[OrderRefunded]>('orderRefunded');

// ---------------------------------------------------------------------------------------------
// Key rotation workflow (`key-rotation-<purpose>-<rotationId>`)
// ---------------------------------------------------------------------------------------------

/** What the keyring holds, one versioned secret per purpose. */
export const keyPurposes = [
  'JWT_SIGNING',
  'STRIPE_API_KEY',
  'STRIPE_WEBHOOK_SECRET',
  'RAZORPAY_KEY',
  'RAZORPAY_WEBHOOK_SECRET',
  'DATABASE_PASSWORD',
] as const;
export type KeyPurpose = (typeof keyPurposes)[number];
/** Secrets a provider issues: an admin copies them from its dashboard; the others are generated. */
export const suppliedKeyPurposes: readonly KeyPurpose[] = [
  'STRIPE_API_KEY',
  'STRIPE_WEBHOOK_SECRET',
  'RAZORPAY_KEY',
  'RAZORPAY_WEBHOOK_SECRET',
];

export interface KeyRotationInput {
  purpose: KeyPurpose;
  requestedBy: Actor;
  reason: string;
  /** JWT only: end every session at once. */
  revokeSessions: boolean;
  /** How long the old key is still accepted; the caller makes it at least what the purpose needs. */
  graceMs: number;
  /** How long to wait for an admin (the new secret, a manual step) before rolling back. */
  stepTimeoutMs?: number;
}

export type KeyRotationStep =
  | 'AWAITING_SECRET'
  | 'AWAITING_MANUAL_STEPS'
  | 'STAGING'
  | 'VERIFYING'
  | 'PROMOTED'
  | 'AWAITING_PROVIDER_SWITCH'
  | 'GRACE'
  | 'DONE'
  | 'ROLLED_BACK';

/** Something only a person can do (in a provider's dashboard); the rotation waits for its confirmation. */
export interface ManualStep {
  id: string;
  /** BEFORE_VERIFY: done before the new key is checked; AFTER_PROMOTE: once both keys are accepted. */
  phase: 'BEFORE_VERIFY' | 'AFTER_PROMOTE';
  instruction: string;
  confirmedBy?: string;
  confirmedAt?: string;
  note?: string;
}

export interface KeyRotationView {
  rotationId: string;
  purpose: KeyPurpose;
  step: KeyRotationStep;
  manualSteps: ManualStep[];
  newKid?: string;
  oldKid?: string;
  oldKeyAcceptedUntil?: string;
  sessionsRevoked?: number;
  /** DATABASE_PASSWORD: the login the new password belongs to. */
  databaseUser?: string;
  failure?: string;
}

/** The new secret was put in the keyring (STAGED) by the API; only its kid travels through Temporal. */
export interface SuppliedSecret {
  kid: string;
  actor: Actor;
}

/** Confirms a manual step, from the API or the Temporal Web UI: `{"stepId": "...", "adminId": "...", "note": "..."}`. */
export interface ManualStepConfirmation {
  stepId: string;
  adminId: string;
  note?: string;
}

export const getKeyRotationQuery = defineQuery<KeyRotationView>('getKeyRotation');
export const supplyNewSecretUpdate = defineUpdate<KeyRotationView, [SuppliedSecret]>('supplyNewSecret');
export const confirmManualStepUpdate = defineUpdate<KeyRotationView, [ManualStepConfirmation]>('confirmManualStep');
export const confirmManualStepSignal = defineSignal<[ManualStepConfirmation]>('confirmManualStep');
