/**
 * The webhook workflow's contract (`webhook-<provider>-<eventId>`): the verified event it is
 * started with and the outcome it records.
 */
import type { PaymentProvider } from '../vocabulary';
import type { PaymentEvent } from '../order/messages';
import type { RefundSettlement } from '../refund/messages';
import type { DisputeEvent } from '../dispute/messages';

export interface WebhookWorkflowInput {
  provider: PaymentProvider;
  eventId: string;
  eventType: string;
  /** Unused: histories before the routing fix carry the order id a provider's metadata named. */
  orderId?: string;
  /** The payment outcome the event reports, when it reports one. */
  payment?: PaymentEvent;
  /** Refunds whose outcome the event reports (Stripe `refund.updated`, `charge.refunded`). */
  refunds?: RefundSettlement[];
  /** A dispute (chargeback) event: handed to `dispute-<provider>-<disputeId>`. */
  dispute?: DisputeEvent;
}

export interface WebhookOutcome {
  status: 'PROCESSED' | 'FAILED';
  detail: string;
}
