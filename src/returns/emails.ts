/**
 * What the customer is told at each step of a return: asked for (with where to send it and by
 * when), received, refunded (or not), rejected, expired. Pure text, from the return's record.
 */
import { formatMoney } from '../platform/money';

export type ReturnEmailKind =
  | 'RETURN_REQUESTED'
  | 'RETURN_RECEIVED'
  | 'RETURN_REFUNDED'
  | 'RETURN_REFUND_FAILED'
  | 'RETURN_REJECTED'
  | 'RETURN_EXPIRED';

export interface ReturnForEmail {
  id: string;
  orderId: string;
  currency: string;
  expiresAt: Date;
  refundAmount: number | null;
  decisionReason: string | null;
  lines: { productId: string; quantity: number; restocked: number; damaged: number }[];
}

export function returnEmail(kind: ReturnEmailKind, r: ReturnForEmail, name: string): { subject: string; text: string } {
  const hello = `Hello ${name},\n\n`;
  const units = r.lines.reduce((sum, l) => sum + l.quantity, 0);
  const received = r.lines.reduce((sum, l) => sum + l.restocked + l.damaged, 0);
  switch (kind) {
    case 'RETURN_REQUESTED':
      return {
        subject: `Return ${r.id} for order ${r.orderId} requested`,
        text: `${hello}We have your request to return ${units} unit(s) from order ${r.orderId}. Please send them by ${r.expiresAt.toISOString().slice(0, 10)}, quoting return ${r.id}.\n`,
      };
    case 'RETURN_RECEIVED':
      return {
        subject: `Return ${r.id} received`,
        text: `${hello}We received ${received} of the ${units} unit(s) of return ${r.id}. Your refund is on its way.\n`,
      };
    case 'RETURN_REFUNDED':
      return {
        subject: `Return ${r.id} refunded`,
        text: `${hello}Return ${r.id} is complete: ${formatMoney(r.refundAmount ?? 0, r.currency)} refunded for order ${r.orderId}.\n`,
      };
    case 'RETURN_REFUND_FAILED':
      return {
        subject: `Return ${r.id}: the refund did not go through`,
        text: `${hello}We received return ${r.id}, but its refund could not be made (${r.decisionReason}). We will be in touch.\n`,
      };
    case 'RETURN_REJECTED':
      return {
        subject: `Return ${r.id} declined`,
        text: `${hello}Your return ${r.id} for order ${r.orderId} was declined: ${r.decisionReason}.\n`,
      };
    case 'RETURN_EXPIRED':
      return {
        subject: `Return ${r.id} expired`,
        text: `${hello}We did not receive the goods of return ${r.id} by ${r.expiresAt.toISOString().slice(0, 10)}, so the return has expired. You may ask for a new one while the order is within its return window.\n`,
      };
  }
}
