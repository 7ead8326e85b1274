/**
 * The refund workflow's contract (`refund-<refundId>`): its input, the admin's decision as the
 * API and the Temporal Web UI send it, the provider's settlement, and the signal a refund sends
 * to its order.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Actor, OrderStatus, PaymentStatus } from '../vocabulary';
import type { OrderTimelineEntry } from '../order/messages';

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
  /** A return's refund (`return-<returnId>` starts it as a child): allowed after delivery, capped at what is refundable. */
  returnId?: string;
  /** A manual refund by an admin is approved by that admin as it is made. */
  approvedBy?: Actor;
  /** Approve by policy for trusted customers (more than 10 delivered orders, no refund before). */
  autoApproveTrusted: boolean;
  /** Remind admins by email after this long without a decision, and again after each interval. */
  reminderAfterMs: number;
  /** Ask the provider about a refund whose webhook has not come after this long. */
  settleCheckAfterMs: number;
}

/**
 * What an admin sends to decide, from the API or the Temporal Web UI: `{"adminId": "...", "reason": "..."}`.
 * `apiSeal` is set by the API (src/access/request-seals.ts); an update without a valid one was
 * sent through Temporal itself (CLI, the Web UI's update form) and is audited as such.
 */
export interface RefundDecision {
  adminId: string;
  reason: string;
  apiSeal?: string;
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
  /** The open dispute this approved refund is held for, until an admin releases or cancels it. */
  heldFor?: string;
  /**
   * The workflow audited the decision on the held refund itself (patch refund-hold-decision-audited);
   * unset, the API that sent the decision audits it.
   */
  holdDecisionAudited?: boolean;
  timeline: OrderTimelineEntry[];
}

/**
 * An admin's decision on a refund held because its order's payment is disputed. `apiSeal` as on
 * RefundDecision: an update without the API's seal was sent through Temporal and is audited so.
 */
export interface HeldRefundDecision {
  adminId: string;
  reason: string;
  /** true: pay it out now; false: cancel it (FAILED with the reason). */
  release: boolean;
  apiSeal?: string;
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
export const decideHeldRefundSignal = defineSignal<[HeldRefundDecision]>('decideHeldRefund');
export const decideHeldRefundUpdate = defineUpdate<RefundView, [HeldRefundDecision]>('decideHeldRefund');

/** Sent by a refund to its order: the money moved back, so the order's payment status follows. */
export interface OrderRefunded {
  refundId: string;
  amount: number;
  orderStatus: OrderStatus;
  paymentStatus: PaymentStatus;
}
export const orderRefundedSignal = defineSignal<[OrderRefunded]>('orderRefunded');
