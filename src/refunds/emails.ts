/**
 * What people are told about a refund: the customer how their request ended (refunded, and where
 * the money went; declined, and why; or not gone through), and every admin, while it waits, that
 * it is still waiting for a decision and how to give one. Read from the refund's record.
 */
import type { PrismaClient } from '../platform/db';
import type { MailMessage } from '../platform/mail';
import { formatMoney } from '../platform/money';

export type RefundEmailKind = 'REFUND_COMPLETED' | 'REFUND_REJECTED' | 'REFUND_FAILED';

/** The customer's email of `kind` about refund `refundId`. */
export async function refundEmail(prisma: PrismaClient, refundId: string, kind: RefundEmailKind): Promise<MailMessage> {
  const refund = await prisma.refund.findUniqueOrThrow({ where: { id: refundId } });
  const order = await prisma.order.findUniqueOrThrow({
    where: { id: refund.orderId },
    include: { customer: { select: { name: true, email: true } } },
  });
  const amount = formatMoney(refund.amount, refund.currency);
  const where =
    refund.destination === 'WALLET'
      ? 'your store wallet, available now'
      : 'your original payment method (5-10 business days)';
  const message = {
    REFUND_COMPLETED: {
      subject: `Refund for order ${order.id}`,
      text: `Hello ${order.customer.name},\n\nWe refunded ${amount} for order ${order.id} to ${where}.\n`,
    },
    REFUND_REJECTED: {
      subject: `Refund request for order ${order.id} declined`,
      text: `Hello ${order.customer.name},\n\nYour refund request of ${amount} for order ${order.id} was declined: ${refund.decisionReason}.\n`,
    },
    REFUND_FAILED: {
      subject: `Refund for order ${order.id} did not go through`,
      text: `Hello ${order.customer.name},\n\nThe refund of ${amount} for order ${order.id} could not be completed. We are looking into it and will be in touch.\n`,
    },
  }[kind];
  return { to: order.customer.email, ...message };
}

/** The admins' reminder of a refund still waiting for a decision; nothing once it is decided. */
export async function refundReminder(
  prisma: PrismaClient,
  refundId: string,
): Promise<{ subject: string; text: string } | undefined> {
  const refund = await prisma.refund.findUniqueOrThrow({ where: { id: refundId } });
  if (refund.status !== 'PENDING_APPROVAL') return undefined;
  return {
    subject: `Refund ${refundId} is waiting for a decision`,
    text:
      `Refund ${refundId} of ${formatMoney(refund.amount, refund.currency)} for order ${refund.orderId} (${refund.destination}) ` +
      `has waited since ${refund.createdAt.toISOString()}. Reason given: ${refund.reason}.\n` +
      `Approve or reject it with POST /admin/refunds/${refundId}/approve or /reject, or from the Temporal Web UI ` +
      `(workflow refund-${refundId}, signal approveRefund or rejectRefund with {"adminId": "<your user id>", "reason": "..."}).\n`,
  };
}
