/**
 * Customer emails over SMTP. Activities take ids, not addresses, so no personal data enters
 * Temporal history; each message is keyed by (kind, order) and sent at most once per key.
 */
import { Context } from '@temporalio/activity';
import type { Transporter } from 'nodemailer';
import type { PrismaClient } from '../platform/db';
import { activeAdminEmails } from '../access/admins';
import { formatMoney } from '../platform/money';
import { lowStockDigest, markLowStockAlertSent, pendingLowStockAlerts } from '../inventory/low-stock';
import { returnEmail, type ReturnEmailKind } from '../returns/emails';
import { disputeEmail, type DisputeEmailKind } from '../disputes/emails';

export type OrderEmailKind = 'ORDER_CONFIRMED' | 'ORDER_SHIPPED' | 'ORDER_CANCELLED' | 'PAYMENT_REFUNDED';

interface OrderForEmail {
  id: string;
  totalAmount: number;
  currency: string;
  trackingNumber: string | null;
  carrier: string | null;
  cancelReason: string | null;
  items: { name: string; quantity: number; unitPrice: number }[];
  customer: { name: string };
}

const templates: Record<OrderEmailKind, (o: OrderForEmail) => { subject: string; text: string }> = {
  ORDER_CONFIRMED: (o) => ({
    subject: `Order ${o.id} confirmed`,
    text: `Hello ${o.customer.name},\n\nThank you: your order ${o.id} is confirmed.\n\n${lines(o)}\nTotal: ${formatMoney(o.totalAmount, o.currency)}\n`,
  }),
  ORDER_SHIPPED: (o) => ({
    subject: `Order ${o.id} shipped`,
    text: `Hello ${o.customer.name},\n\nYour order ${o.id} is on its way${o.carrier ? ` with ${o.carrier}` : ''}. Tracking number: ${o.trackingNumber}.\n`,
  }),
  ORDER_CANCELLED: (o) => ({
    subject: `Order ${o.id} cancelled`,
    text: `Hello ${o.customer.name},\n\nYour order ${o.id} was cancelled (${o.cancelReason}). You have not been charged.\n`,
  }),
  PAYMENT_REFUNDED: (o) => ({
    subject: `Payment for order ${o.id} refunded`,
    text: `Hello ${o.customer.name},\n\nA payment we received for order ${o.id}, which was no longer awaiting payment, has been refunded in full.\n`,
  }),
};

function lines(o: OrderForEmail): string {
  return o.items.map((i) => `  ${i.quantity} x ${i.name} @ ${formatMoney(i.unitPrice, o.currency)}\n`).join('');
}

export type RefundEmailKind = 'REFUND_COMPLETED' | 'REFUND_REJECTED' | 'REFUND_FAILED';

export function emailActivities(prisma: PrismaClient, mailer: Transporter, from: string) {
  /** Sends `message` at most once per `idempotencyKey`. */
  async function sendOnce(
    idempotencyKey: string,
    message: { to: string; subject: string; text: string },
  ): Promise<void> {
    const earlier = await prisma.emailMessage.findUnique({ where: { idempotencyKey } });
    if (earlier?.sentAt) return;
    // A stable Message-ID lets mail systems drop the copy if a crash ever makes us send twice.
    const messageId = `<${idempotencyKey.replace(/[^A-Za-z0-9.-]/g, '.')}@durable-commerce>`;
    // Claim the message: when two activities want to send the same one at once, one sends it.
    const { workflowExecution, activityId } = Context.current().info;
    const claim = `${workflowExecution?.workflowId ?? 'standalone'}/${activityId}`;
    await prisma.emailMessage.createMany({
      data: [{ idempotencyKey, to: message.to, subject: message.subject, messageId, claimedBy: claim }],
      skipDuplicates: true,
    });
    const owner = await prisma.emailMessage.findUniqueOrThrow({ where: { idempotencyKey } });
    if (owner.claimedBy !== claim || owner.sentAt) return;
    await mailer.sendMail({ from, ...message, messageId });
    await prisma.emailMessage.update({ where: { idempotencyKey }, data: { sentAt: new Date() } });
  }

  return {
    async sendOrderEmail(input: { orderId: string; kind: OrderEmailKind; key?: string }): Promise<void> {
      const order = await prisma.order.findUniqueOrThrow({
        where: { id: input.orderId },
        include: { items: true, customer: { select: { name: true, email: true } } },
      });
      await sendOnce(`${input.kind}:${input.orderId}${input.key ? `:${input.key}` : ''}`, {
        to: order.customer.email,
        ...templates[input.kind](order),
      });
    },

    /** Tells the customer how their refund request ended. */
    async sendRefundEmail(input: { refundId: string; kind: RefundEmailKind }): Promise<void> {
      const refund = await prisma.refund.findUniqueOrThrow({ where: { id: input.refundId } });
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
      }[input.kind];
      await sendOnce(`${input.kind}:${input.refundId}`, { to: order.customer.email, ...message });
    },

    /** Tells the customer where their return stands, once per step. */
    async sendReturnEmail(input: { returnId: string; kind: ReturnEmailKind }): Promise<void> {
      const ret = await prisma.return.findUniqueOrThrow({ where: { id: input.returnId }, include: { lines: true } });
      const customer = await prisma.user.findUniqueOrThrow({
        where: { id: ret.customerId },
        select: { name: true, email: true },
      });
      await sendOnce(`${input.kind}:${input.returnId}`, {
        to: customer.email,
        ...returnEmail(input.kind, ret, customer.name),
      });
    },

    /** Tells every active admin where a dispute stands, once per step (`key` tells reminders apart). */
    async sendDisputeEmail(input: { recordId: string; kind: DisputeEmailKind; key?: string }): Promise<void> {
      const dispute = await prisma.dispute.findUniqueOrThrow({ where: { id: input.recordId } });
      const admins = await activeAdminEmails(prisma);
      for (const email of admins)
        await sendOnce(`${input.kind}:${input.recordId}${input.key ? `:${input.key}` : ''}:${email}`, {
          to: email,
          ...disputeEmail(input.kind, dispute),
        });
    },

    /** Tells every active admin about something only a person can settle, once per `key`. */
    async alertAdmins(input: { key: string; subject: string; text: string }): Promise<void> {
      const admins = await activeAdminEmails(prisma);
      for (const email of admins)
        await sendOnce(`ADMIN_ALERT:${input.key}:${email}`, {
          to: email,
          subject: input.subject,
          text: input.text,
        });
    },

    /** Reminds every admin of a refund still waiting for a decision (`reminder` counts them). */
    async sendRefundReminder(input: { refundId: string; reminder: number }): Promise<void> {
      const refund = await prisma.refund.findUniqueOrThrow({ where: { id: input.refundId } });
      if (refund.status !== 'PENDING_APPROVAL') return;
      const admins = await activeAdminEmails(prisma);
      for (const email of admins) {
        await sendOnce(`REFUND_REMINDER:${input.refundId}:${input.reminder}:${email}`, {
          to: email,
          subject: `Refund ${input.refundId} is waiting for a decision`,
          text:
            `Refund ${input.refundId} of ${formatMoney(refund.amount, refund.currency)} for order ${refund.orderId} (${refund.destination}) ` +
            `has waited since ${refund.createdAt.toISOString()}. Reason given: ${refund.reason}.\n` +
            `Approve or reject it with POST /admin/refunds/${input.refundId}/approve or /reject, or from the Temporal Web UI ` +
            `(workflow refund-${input.refundId}, signal approveRefund or rejectRefund with {"adminId": "<your user id>", "reason": "..."}).\n`,
        });
      }
    },

    /** Emails each low-stock crossing the ledger recorded to its vendor (else every admin), once each. */
    async sendLowStockAlerts(): Promise<{ sent: number }> {
      const pending = await pendingLowStockAlerts(prisma);
      for (const alert of pending) {
        for (const to of alert.recipients)
          await sendOnce(`LOW_STOCK:${alert.alertId}:${to}`, { to, subject: alert.subject, text: alert.text });
        await markLowStockAlertSent(prisma, alert.alertId);
      }
      return { sent: pending.length };
    },

    /** The daily low-stock digest to every active admin (key: the day), when anything is low. */
    async sendLowStockDigest(input: { day: string }): Promise<{ items: boolean }> {
      const digest = await lowStockDigest(prisma);
      if (!digest) return { items: false };
      const admins = await activeAdminEmails(prisma);
      for (const email of admins) await sendOnce(`LOW_STOCK_DIGEST:${input.day}:${email}`, { to: email, ...digest });
      return { items: true };
    },
  };
}
