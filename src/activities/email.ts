/**
 * Customer emails over SMTP. Activities take ids, not addresses, so no personal data enters
 * Temporal history; each message is keyed by (kind, order) and sent at most once per key.
 */
import { Context } from '@temporalio/activity';
import type { Transporter } from 'nodemailer';
import type { PrismaClient } from '../db';
import { formatMoney } from '../money';

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

export function emailActivities(prisma: PrismaClient, mailer: Transporter, from: string) {
  return {
    async sendOrderEmail(input: { orderId: string; kind: OrderEmailKind; key?: string }): Promise<void> {
      const idempotencyKey = `${input.kind}:${input.orderId}${input.key ? `:${input.key}` : ''}`;
      const earlier = await prisma.emailMessage.findUnique({ where: { idempotencyKey } });
      if (earlier?.sentAt) return;

      const order = await prisma.order.findUniqueOrThrow({
        where: { id: input.orderId },
        include: { items: true, customer: { select: { name: true, email: true } } },
      });
      const { subject, text } = templates[input.kind](order);
      // A stable Message-ID lets mail systems drop the copy if a crash ever makes us send twice.
      const messageId = `<${idempotencyKey.replace(/[^A-Za-z0-9.-]/g, '.')}@durable-commerce>`;
      // Claim the message: when two activities want to send the same one at once, one sends it.
      const { workflowExecution, activityId } = Context.current().info;
      const claim = `${workflowExecution?.workflowId ?? 'standalone'}/${activityId}`;
      await prisma.emailMessage.createMany({
        data: [{ idempotencyKey, to: order.customer.email, subject, messageId, claimedBy: claim }],
        skipDuplicates: true,
      });
      const owner = await prisma.emailMessage.findUniqueOrThrow({ where: { idempotencyKey } });
      if (owner.claimedBy !== claim || owner.sentAt) return;
      await mailer.sendMail({ from, to: order.customer.email, subject, text, messageId });
      await prisma.emailMessage.update({ where: { idempotencyKey }, data: { sentAt: new Date() } });
    },
  };
}
