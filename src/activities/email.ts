/**
 * The email activities: each finds what to say in its capability (src/orders/emails.ts,
 * src/refunds/emails.ts, src/returns/emails.ts, src/disputes/emails.ts, src/inventory/low-stock.ts)
 * and sends it through src/platform/mail.ts. Activities take ids, not addresses, so no personal
 * data enters Temporal history; each message is keyed by (kind, subject of it, recipient) and sent
 * at most once per key.
 */
import { Context } from '@temporalio/activity';
import type { Transporter } from 'nodemailer';
import type { PrismaClient } from '../platform/db';
import { activeAdminEmails } from '../access/admins';
import { sendOnce as sendMailOnce, type MailMessage } from '../platform/mail';
import { lowStockDigest, markLowStockAlertSent, pendingLowStockAlerts } from '../inventory/low-stock';
import { orderEmail, type OrderEmailKind } from '../orders/emails';
import { refundEmail, refundReminder, type RefundEmailKind } from '../refunds/emails';
import { returnEmail, type ReturnEmailKind } from '../returns/emails';
import { disputeEmail, type DisputeEmailKind } from '../disputes/emails';

export type { OrderEmailKind } from '../orders/emails';
export type { RefundEmailKind } from '../refunds/emails';

export function emailActivities(prisma: PrismaClient, mailer: Transporter, from: string) {
  /** Sends `message` at most once per `idempotencyKey`, claimed by this activity attempt. */
  function sendOnce(idempotencyKey: string, message: MailMessage): Promise<void> {
    const { workflowExecution, activityId } = Context.current().info;
    const claim = `${workflowExecution?.workflowId ?? 'standalone'}/${activityId}`;
    return sendMailOnce({ prisma, mailer, from }, idempotencyKey, message, claim);
  }

  /** Sends `message` to every active admin, once each under `key`. */
  async function sendToAdmins(key: string, message: { subject: string; text: string }): Promise<void> {
    for (const email of await activeAdminEmails(prisma)) await sendOnce(`${key}:${email}`, { to: email, ...message });
  }

  return {
    async sendOrderEmail(input: { orderId: string; kind: OrderEmailKind; key?: string }): Promise<void> {
      const message = await orderEmail(prisma, input.orderId, input.kind);
      await sendOnce(`${input.kind}:${input.orderId}${input.key ? `:${input.key}` : ''}`, message);
    },

    /** Tells the customer how their refund request ended. */
    async sendRefundEmail(input: { refundId: string; kind: RefundEmailKind }): Promise<void> {
      await sendOnce(`${input.kind}:${input.refundId}`, await refundEmail(prisma, input.refundId, input.kind));
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
      const key = `${input.kind}:${input.recordId}${input.key ? `:${input.key}` : ''}`;
      await sendToAdmins(key, disputeEmail(input.kind, dispute));
    },

    /** Tells every active admin about something only a person can settle, once per `key`. */
    async alertAdmins(input: { key: string; subject: string; text: string }): Promise<void> {
      await sendToAdmins(`ADMIN_ALERT:${input.key}`, { subject: input.subject, text: input.text });
    },

    /** Reminds every admin of a refund still waiting for a decision (`reminder` counts them). */
    async sendRefundReminder(input: { refundId: string; reminder: number }): Promise<void> {
      const reminder = await refundReminder(prisma, input.refundId);
      if (reminder) await sendToAdmins(`REFUND_REMINDER:${input.refundId}:${input.reminder}`, reminder);
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
      await sendToAdmins(`LOW_STOCK_DIGEST:${input.day}`, digest);
      return { items: true };
    },
  };
}
