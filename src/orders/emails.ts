/**
 * What the customer is told about their order: confirmed (with its lines and total), shipped
 * (carrier and tracking number), cancelled (and why), and a payment refunded because the order no
 * longer awaited it. Read from the order's record; sent at most once each by the email activity.
 */
import type { PrismaClient } from '../platform/db';
import type { MailMessage } from '../platform/mail';
import { formatMoney } from '../platform/money';

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

/**
 * The order's email of `kind`, addressed to its customer. The order, its lines and its customer
 * are read in one statement (issue 18: as a Prisma query with its relations they were three).
 */
export async function orderEmail(prisma: PrismaClient, orderId: string, kind: OrderEmailKind): Promise<MailMessage> {
  const [order] = await prisma.$queryRaw<(OrderForEmail & { email: string })[]>`
    SELECT o.id, o.total_amount AS "totalAmount", o.currency, o.tracking_number AS "trackingNumber", o.carrier,
      o.cancel_reason AS "cancelReason", json_build_object('name', u.name) AS customer, u.email,
      (SELECT coalesce(json_agg(json_build_object('name', i.name, 'quantity', i.quantity, 'unitPrice', i.unit_price)), '[]')
        FROM order_items i WHERE i.order_id = o.id) AS items
    FROM orders o JOIN users u ON u.id = o.customer_id WHERE o.id = ${orderId}::uuid`;
  if (!order) throw new Error(`No order ${orderId}`);
  return { to: order.email, ...templates[kind](order) };
}
