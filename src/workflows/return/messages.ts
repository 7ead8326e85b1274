/**
 * The return workflow's contract (`return-<returnId>`): what a customer asks to send back, what
 * an admin records on receiving the parcel (or rejecting the return), and the view the API and
 * the Temporal Web UI show while it waits.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Actor } from '../vocabulary';
import type { OrderTimelineEntry } from '../order/messages';

export type ReturnStatus = 'REQUESTED' | 'RECEIVED' | 'REFUNDED' | 'REFUND_FAILED' | 'REJECTED' | 'EXPIRED';
export type ReturnCondition = 'RESTOCK' | 'DAMAGED';

export interface ReturnLineRequest {
  productId: string;
  quantity: number;
}

export interface ReturnWorkflowInput {
  returnId: string;
  orderId: string;
  customerId: string;
  lines: ReturnLineRequest[];
  reason: string;
  /** A return may be asked for at most this long after delivery. */
  returnWindowMs: number;
  /** Goods not received this long after the request expire the return. */
  receiveWithinMs: number;
  /** Passed on to the return's refund (its reminders and provider status checks). */
  refundReminderAfterMs: number;
  refundSettleCheckAfterMs: number;
}

/** What an admin records on receiving the goods: each line's units and their condition. */
export interface ReturnReceipt {
  adminId: string;
  lines: { productId: string; quantity: number; condition: ReturnCondition }[];
  /** Shipping is refunded only when the admin says so. */
  refundShipping?: boolean;
  note?: string;
}

export interface ReturnRejection {
  adminId: string;
  reason: string;
}

export interface ReturnView {
  returnId: string;
  orderId: string;
  status: ReturnStatus | 'REFUSED';
  reason: string;
  lines: (ReturnLineRequest & { restocked?: number; damaged?: number })[];
  currency?: string;
  /** When the goods must have arrived (ISO). */
  expiresAt?: string;
  receivedBy?: string;
  refundId?: string;
  refundAmount?: number;
  refundStatus?: string;
  failureReason?: string;
  /** Why the request was REFUSED, machine-readable (RETURN_QUANTITY_TOO_HIGH, ORDER_DISPUTED, ...). */
  failureCode?: string;
  failureDetails?: unknown;
  timeline: OrderTimelineEntry[];
  requestedBy: Actor;
}

export const requestReturnUpdate = defineUpdate<ReturnView>('requestReturn');
export const getReturnQuery = defineQuery<ReturnView>('getReturn');
export const receiveReturnUpdate = defineUpdate<ReturnView, [ReturnReceipt]>('receiveReturn');
export const rejectReturnUpdate = defineUpdate<ReturnView, [ReturnRejection]>('rejectReturn');
