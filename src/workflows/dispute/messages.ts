/**
 * The dispute workflow's contract (`dispute-<provider>-<disputeId>`): a provider's dispute event
 * as the webhook workflow hands it over, the admin's evidence submission, and the view.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { PaymentProvider } from '../vocabulary';
import type { OrderTimelineEntry } from '../order/messages';

export type DisputeState = 'OPEN' | 'WON' | 'LOST';

/** One provider event about a dispute, read from its verified webhook (src/payments/webhook-events.ts). */
export interface DisputeEvent {
  provider: PaymentProvider;
  /** The provider's dispute id (Stripe `dp_...`, Razorpay `disp_...`). */
  disputeId: string;
  eventId: string;
  eventType: string;
  /** What the dispute's own status says: still OPEN, or decided. */
  state: DisputeState;
  providerStatus: string;
  funds?: 'WITHDRAWN' | 'REINSTATED';
  amount: number;
  currency: string;
  reason: string;
  /** The evidence deadline (ISO), when the provider gives one. */
  evidenceDueBy?: string;
  /** When the provider created the event (ISO): an older event arriving late changes nothing. */
  occurredAt: string;
  /** The payment we created that is disputed: a PaymentIntent id, or a Razorpay order id. */
  providerPaymentId?: string;
  /** Stripe's charge id (used to find the PaymentIntent when the dispute does not name it). */
  chargeId?: string;
}

export interface DisputeWorkflowInput {
  provider: PaymentProvider;
  disputeId: string;
  /** Our record of it (a UUID), and the order and payment it disputes. */
  recordId: string;
  orderId: string;
  paymentId: string;
  /** Remind admins this long before the evidence deadline. */
  reminderLeadMs: number;
  /** The event that started the workflow (signal-with-start's first signal). */
  first: DisputeEvent;
}

export interface EvidenceSubmission {
  adminId: string;
  note: string;
}

export interface DisputeView {
  provider: PaymentProvider;
  disputeId: string;
  recordId: string;
  orderId: string;
  status: DisputeState;
  amount?: number;
  currency?: string;
  reason?: string;
  evidenceDueBy?: string;
  evidence?: { by: string; note: string; at: string; submittedToProvider: boolean };
  reminded: boolean;
  eventsApplied: string[];
  timeline: OrderTimelineEntry[];
}

export const disputeEventSignal = defineSignal<[DisputeEvent]>('disputeEvent');
export const getDisputeQuery = defineQuery<DisputeView>('getDispute');
export const submitEvidenceUpdate = defineUpdate<DisputeView, [EvidenceSubmission]>('submitEvidence');
