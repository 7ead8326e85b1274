/**
 * What an order looks like to the people it concerns (`GET /api/orders/:id`, `GET /api/orders`):
 * the order as stored; every payment made for it, each with its status and any automatic refund
 * (money that came and went is never invisible, DESIGN.md orders rule 6); its refund requests
 * and returns, and whether its payment is disputed; and, while its workflow runs, the live state
 * from the workflow's query. A customer sees the same facts as an admin, without the user ids of
 * the admins who acted on them.
 */
import type { Client } from '@temporalio/client';
import type { Order } from '../generated/prisma/client';
import type { PrismaClient } from '../platform/db';
import type { Logger } from '../platform/logger';
import { getOrderQuery, type OrderTimelineEntry } from '../workflows/order/messages';
import type { Role } from '../workflows/vocabulary';
import { orderWorkflowId } from '../workflows/ids';

export interface Viewer {
  id: string;
  role: Role;
}

export interface PaymentView {
  attempt: number;
  provider: string;
  /** The provider object paid: a Stripe PaymentIntent, a Razorpay order, a wallet entry (none for cash). */
  providerPaymentId: string | null;
  amount: number;
  currency: string;
  status: string;
  failureReason?: string;
  /** Admins only: which webhook or status check confirmed it (cash on delivery: who collected it). */
  confirmedBy?: string;
  createdAt: string;
  refund?: { providerRefundId: string; amount: number; reason?: string; refundedAt?: string };
}

// The workflow of an order in one of these statuses has finished: the database is the truth.
export const closedStatuses = new Set(['CANCELLED', 'DELIVERED', 'REFUNDED']);

export async function orderPayments(prisma: PrismaClient, orderId: string, viewer: Viewer): Promise<PaymentView[]> {
  const payments = await prisma.payment.findMany({ where: { orderId }, orderBy: { attempt: 'asc' } });
  return payments.map((p) => ({
    attempt: p.attempt,
    provider: p.provider,
    providerPaymentId: p.providerPaymentId,
    amount: p.amount,
    currency: p.currency,
    status: p.status,
    ...(p.failureReason && p.status === 'FAILED' ? { failureReason: p.failureReason } : {}),
    ...(viewer.role === 'ADMIN' && p.confirmedBy ? { confirmedBy: p.confirmedBy } : {}),
    createdAt: p.createdAt.toISOString(),
    ...(p.refundId
      ? {
          refund: {
            providerRefundId: p.refundId,
            amount: p.refundedAmount ?? p.amount,
            reason: p.failureReason ?? undefined,
            refundedAt: p.refundedAt?.toISOString(),
          },
        }
      : {}),
  }));
}

/** The order's refund requests, oldest first; who asked and who decided only for admins. */
export async function orderRefunds(prisma: PrismaClient, orderId: string, viewer: Viewer) {
  const refunds = await prisma.refund.findMany({ where: { orderId }, orderBy: { createdAt: 'asc' } });
  return refunds.map((r) => ({
    refundId: r.id,
    amount: r.amount,
    currency: r.currency,
    destination: r.destination,
    status: r.status,
    reason: r.reason,
    providerRefundId: r.providerRefundId ?? undefined,
    failureReason: r.failureReason ?? undefined,
    createdAt: r.createdAt.toISOString(),
    completedAt: r.completedAt?.toISOString(),
    ...(viewer.role === 'ADMIN'
      ? {
          requestedBy: r.requestedBy,
          decidedBy: r.decidedBy ?? undefined,
          decisionReason: r.decisionReason ?? undefined,
          decidedAt: r.decidedAt?.toISOString(),
        }
      : {}),
  }));
}

/**
 * The order's returns, oldest first: what was asked for and what came back, the refund, and a
 * rejection's reason (told to the customer by email too); which admins acted only for admins.
 */
export async function orderReturns(prisma: PrismaClient, orderId: string, viewer: Viewer) {
  const returns = await prisma.return.findMany({
    where: { orderId },
    include: { lines: true },
    orderBy: { createdAt: 'asc' },
  });
  return returns.map((r) => ({
    returnId: r.id,
    status: r.status,
    reason: r.reason,
    lines: r.lines.map((l) => ({
      productId: l.productId,
      quantity: l.quantity,
      restocked: l.restocked,
      damaged: l.damaged,
    })),
    expiresAt: r.expiresAt.toISOString(),
    refundId: r.refundId ?? undefined,
    refundAmount: r.refundAmount ?? undefined,
    decisionReason: r.decisionReason ?? undefined,
    createdAt: r.createdAt.toISOString(),
    closedAt: r.closedAt?.toISOString(),
    ...(viewer.role === 'ADMIN' ? { receivedBy: r.receivedBy ?? undefined, decidedBy: r.decidedBy ?? undefined } : {}),
  }));
}

/** One line of an order list. */
export function orderSummary(order: Order) {
  return {
    orderId: order.id,
    customerId: order.customerId,
    status: order.status,
    paymentStatus: order.paymentStatus,
    paymentMethod: order.paymentMethod,
    paymentProvider: order.paymentProvider ?? undefined,
    totalAmount: order.totalAmount,
    currency: order.currency,
    createdAt: order.createdAt.toISOString(),
  };
}

/** The whole view of one order for `viewer` (who may see it: the caller has checked). */
export async function orderView(
  deps: { prisma: PrismaClient; temporal: Client; logger: Logger },
  order: Order,
  viewer: Viewer,
): Promise<Record<string, unknown>> {
  const { prisma } = deps;
  const [items, payments, refunds, returns] = await Promise.all([
    prisma.orderItem.findMany({
      where: { orderId: order.id },
      select: { productId: true, variantId: true, sku: true, name: true, quantity: true, unitPrice: true },
    }),
    orderPayments(prisma, order.id, viewer),
    orderRefunds(prisma, order.id, viewer),
    orderReturns(prisma, order.id, viewer),
  ]);
  const stored = {
    ...orderSummary(order),
    items,
    cancelReason: order.cancelReason ?? undefined,
    trackingNumber: order.trackingNumber ?? undefined,
    carrier: order.carrier ?? undefined,
    reservationExpiresAt: order.reservationExpiresAt?.toISOString(),
    // A provider dispute of its payment (OPEN: no refund or return meanwhile; WON or LOST).
    disputeStatus: order.disputeStatus ?? undefined,
    source: 'database' as const,
  };
  const facts = { payments, refunds, returns };
  // A delivered order refunded in part has a finished workflow too.
  if (closedStatuses.has(order.status) || order.deliveredAt) return { ...stored, ...facts };
  try {
    const live = await deps.temporal.workflow.getHandle(orderWorkflowId(order.id)).query(getOrderQuery);
    return {
      ...stored,
      ...live,
      timeline: viewer.role === 'ADMIN' ? live.timeline : live.timeline.map(withoutAdminIds),
      createdAt: stored.createdAt,
      source: 'workflow' as const,
      ...facts,
    };
  } catch (error) {
    deps.logger.warn({ err: error, orderId: order.id }, 'order query failed; answering from the database');
    return { ...stored, ...facts };
  }
}

/** The workflow's own view of an order as a customer may see it: no admin's user id in its timeline. */
export function forCustomer<T extends { timeline: OrderTimelineEntry[] }>(view: T): T {
  return { ...view, timeline: view.timeline.map(withoutAdminIds) };
}

/** A customer sees that an admin acted, not which one. */
function withoutAdminIds(entry: OrderTimelineEntry): OrderTimelineEntry {
  return entry.actor?.role === 'ADMIN' ? { ...entry, actor: { role: 'ADMIN' } as OrderTimelineEntry['actor'] } : entry;
}
