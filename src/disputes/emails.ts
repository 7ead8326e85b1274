/**
 * What admins are told about a dispute: that it opened (amount, reason, evidence deadline, how
 * to answer), a reminder before the deadline, that evidence went in, and the outcome.
 */
import { formatMoney } from '../platform/money';

export type DisputeEmailKind =
  'DISPUTE_OPENED' | 'DISPUTE_REMINDER' | 'DISPUTE_EVIDENCE' | 'DISPUTE_WON' | 'DISPUTE_LOST';

export interface DisputeForEmail {
  id: string;
  provider: string;
  providerDisputeId: string;
  orderId: string;
  amount: number;
  currency: string;
  reason: string;
  evidenceDueBy: Date | null;
  evidenceNote: string | null;
  evidenceSubmittedAt: Date | null;
}

export function disputeEmail(kind: DisputeEmailKind, d: DisputeForEmail): { subject: string; text: string } {
  const what = `${d.provider} dispute ${d.providerDisputeId} of ${formatMoney(d.amount, d.currency)} on order ${d.orderId}`;
  const deadline = d.evidenceDueBy ? d.evidenceDueBy.toISOString() : 'none given';
  const answer =
    `Submit evidence with POST /admin/disputes/${d.id}/evidence {"note": "..."} or ` +
    `npm run ops -- disputes evidence ${d.id} --note "...". Refunds and returns of the order are refused, ` +
    `and refunds already under way are held, until it is decided.\n`;
  switch (kind) {
    case 'DISPUTE_OPENED':
      return {
        subject: `Dispute opened: order ${d.orderId}, evidence due ${deadline}`,
        text: `${what} was opened. Reason: ${d.reason}. Evidence deadline: ${deadline}.\n${answer}`,
      };
    case 'DISPUTE_REMINDER':
      return {
        subject: `Dispute evidence due ${deadline}: order ${d.orderId}`,
        text: `${what} still has no evidence recorded. Reason: ${d.reason}. Deadline: ${deadline}.\n${answer}`,
      };
    case 'DISPUTE_EVIDENCE':
      return {
        subject: `Dispute evidence submitted: order ${d.orderId}`,
        text: `Evidence for ${what} was recorded at ${d.evidenceSubmittedAt?.toISOString()}: ${d.evidenceNote}\n`,
      };
    case 'DISPUTE_WON':
      return { subject: `Dispute won: order ${d.orderId}`, text: `${what} was decided in our favour.\n` };
    case 'DISPUTE_LOST':
      return {
        subject: `Dispute lost: order ${d.orderId}`,
        text: `${what} was lost: the customer's bank returned ${formatMoney(d.amount, d.currency)} to them, which now counts as refunded.\n`,
      };
  }
}
