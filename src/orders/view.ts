/**
 * What an order looks like to the people it concerns (`GET /api/orders/:id`, `GET /api/orders`):
 * the order as stored; every payment made for it, each with its status and any automatic refund
 * (money that came and went is never invisible, DESIGN.md orders rule 6); its refund requests
 * and returns, and whether its payment is disputed; and, while its workflow runs, the live state
 * from the workflow's query. A customer sees the same facts as an admin, without the user ids of
 * the admins who acted on them. Storefronts poll the view, so what the database knows of the
 * order is read in one statement (storedOrder).
 */
import type { Client } from '@temporalio/client';
import type { Order } from '../generated/prisma/client';
import type { PrismaClient } from '../platform/db';
import type { Logger } from '../platform/logger';
import { getOrderQuery, type OrderTimelineEntry } from '../workflows/order/messages';
import { DomainError } from '../platform/errors';
import { ErrorCode, type Role } from '../workflows/vocabulary';
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

/** The columns one line of an order list shows (orderSummary). */
type SummarisedOrder = Pick<
  Order,
  | 'id'
  | 'customerId'
  | 'status'
  | 'paymentStatus'
  | 'paymentMethod'
  | 'paymentProvider'
  | 'totalAmount'
  | 'currency'
  | 'createdAt'
>;

/** An order as its view reads it: the columns it shows, and those that tell whether its workflow still runs. */
export type ViewedOrder = SummarisedOrder &
  Pick<Order, 'cancelReason' | 'trackingNumber' | 'carrier' | 'reservationExpiresAt' | 'deliveredAt' | 'disputeStatus'>;

/**
 * Rows of the order's own facts as the one statement of storedOrder reads them: built by
 * PostgreSQL's json_build_object, so a timestamp is an ISO string without its zone (UTC, as
 * Prisma stores every DateTime), read back with `utc`.
 */
interface ItemRow {
  productId: string;
  variantId: string | null;
  sku: string;
  name: string;
  quantity: number;
  unitPrice: number;
}
interface PaymentRow {
  attempt: number;
  provider: string;
  providerPaymentId: string | null;
  amount: number;
  currency: string;
  status: string;
  failureReason: string | null;
  confirmedBy: string | null;
  createdAt: string;
  refundId: string | null;
  refundedAmount: number | null;
  refundedAt: string | null;
}
interface RefundRow {
  id: string;
  amount: number;
  currency: string;
  destination: string;
  status: string;
  reason: string;
  requestedBy: string;
  decidedBy: string | null;
  decisionReason: string | null;
  decidedAt: string | null;
  providerRefundId: string | null;
  failureReason: string | null;
  createdAt: string;
  completedAt: string | null;
}
interface ReturnRow {
  id: string;
  status: string;
  reason: string;
  lines: { productId: string; quantity: number; restocked: number; damaged: number }[];
  expiresAt: string;
  refundId: string | null;
  refundAmount: number | null;
  decisionReason: string | null;
  createdAt: string;
  closedAt: string | null;
  receivedBy: string | null;
  decidedBy: string | null;
}

/** A timestamp as json_build_object writes it (UTC, no zone): the same ISO string Prisma's Date gives. */
function utc(at: string): string;
function utc(at: string | null): string | undefined;
function utc(at: string | null): string | undefined {
  return at === null ? undefined : new Date(`${at}Z`).toISOString();
}

export type StoredOrder = ViewedOrder & {
  items: ItemRow[];
  payments: PaymentRow[];
  refunds: RefundRow[];
  returns: ReturnRow[];
};

/**
 * The order and everything its view shows of it, in one statement: the order's row, its items,
 * payments (by attempt), refund requests and returns (oldest first, each with its lines). The
 * storefront polls `GET /api/orders/:id`; read as a Prisma query with its relations this was six
 * statements (refunds and returns are no relations of the order in the schema, and a Prisma
 * include is a statement per relation). Undefined when there is no such order.
 */
export async function storedOrder(prisma: PrismaClient, orderId: string): Promise<StoredOrder | undefined> {
  const [row] = await prisma.$queryRaw<StoredOrder[]>`
    SELECT o.id, o.customer_id AS "customerId", o.status::text AS status, o.payment_status::text AS "paymentStatus",
      o.payment_method::text AS "paymentMethod", o.payment_provider::text AS "paymentProvider",
      o.total_amount AS "totalAmount", o.currency, o.created_at AS "createdAt", o.cancel_reason AS "cancelReason",
      o.tracking_number AS "trackingNumber", o.carrier, o.reservation_expires_at AS "reservationExpiresAt",
      o.delivered_at AS "deliveredAt", o.dispute_status::text AS "disputeStatus",
      (SELECT coalesce(json_agg(json_build_object(
          'productId', i.product_id, 'variantId', i.variant_id, 'sku', i.sku, 'name', i.name,
          'quantity', i.quantity, 'unitPrice', i.unit_price)), '[]')
        FROM order_items i WHERE i.order_id = o.id) AS items,
      (SELECT coalesce(json_agg(json_build_object(
          'attempt', p.attempt, 'provider', p.provider, 'providerPaymentId', p.provider_payment_id,
          'amount', p.amount, 'currency', p.currency, 'status', p.status, 'failureReason', p.failure_reason,
          'confirmedBy', p.confirmed_by, 'createdAt', p.created_at, 'refundId', p.refund_id,
          'refundedAmount', p.refunded_amount, 'refundedAt', p.refunded_at) ORDER BY p.attempt), '[]')
        FROM payments p WHERE p.order_id = o.id) AS payments,
      (SELECT coalesce(json_agg(json_build_object(
          'id', r.id, 'amount', r.amount, 'currency', r.currency, 'destination', r.destination,
          'status', r.status, 'reason', r.reason, 'requestedBy', r.requested_by, 'decidedBy', r.decided_by,
          'decisionReason', r.decision_reason, 'decidedAt', r.decided_at,
          'providerRefundId', r.provider_refund_id, 'failureReason', r.failure_reason,
          'createdAt', r.created_at, 'completedAt', r.completed_at) ORDER BY r.created_at), '[]')
        FROM refunds r WHERE r.order_id = o.id) AS refunds,
      (SELECT coalesce(json_agg(json_build_object(
          'id', t.id, 'status', t.status, 'reason', t.reason,
          'lines', (SELECT coalesce(json_agg(json_build_object(
              'productId', l.product_id, 'quantity', l.quantity, 'restocked', l.restocked, 'damaged', l.damaged)), '[]')
            FROM return_lines l WHERE l.return_id = t.id),
          'expiresAt', t.expires_at, 'refundId', t.refund_id, 'refundAmount', t.refund_amount,
          'decisionReason', t.decision_reason, 'createdAt', t.created_at, 'closedAt', t.closed_at,
          'receivedBy', t.received_by, 'decidedBy', t.decided_by) ORDER BY t.created_at), '[]')
        FROM returns t WHERE t.order_id = o.id) AS returns
    FROM orders o WHERE o.id = ${orderId}::uuid`;
  return row;
}

/**
 * The order `viewer` may see: ORDER_NOT_FOUND when there is none, FORBIDDEN when it is another
 * customer's (an admin sees every order). The one rule, for the view and for every transition.
 */
export function visibleTo<T extends Pick<Order, 'customerId'>>(
  order: T | null | undefined,
  orderId: string,
  viewer: { id: string; role: Role | 'SYSTEM' },
): T {
  if (!order) throw new DomainError(ErrorCode.ORDER_NOT_FOUND, `No order ${orderId}`);
  if (viewer.role !== 'ADMIN' && order.customerId !== viewer.id)
    throw new DomainError(ErrorCode.FORBIDDEN, 'This order belongs to another customer');
  return order;
}

/** Every payment made for the order, by attempt; which check confirmed it only for admins. */
export function orderPayments(payments: PaymentRow[], viewer: Viewer): PaymentView[] {
  return payments.map((p) => ({
    attempt: p.attempt,
    provider: p.provider,
    providerPaymentId: p.providerPaymentId,
    amount: p.amount,
    currency: p.currency,
    status: p.status,
    ...(p.failureReason && p.status === 'FAILED' ? { failureReason: p.failureReason } : {}),
    ...(viewer.role === 'ADMIN' && p.confirmedBy ? { confirmedBy: p.confirmedBy } : {}),
    createdAt: utc(p.createdAt),
    ...(p.refundId
      ? {
          refund: {
            providerRefundId: p.refundId,
            amount: p.refundedAmount ?? p.amount,
            reason: p.failureReason ?? undefined,
            refundedAt: utc(p.refundedAt),
          },
        }
      : {}),
  }));
}

/** The order's refund requests, oldest first; who asked and who decided only for admins. */
export function orderRefunds(refunds: RefundRow[], viewer: Viewer) {
  return refunds.map((r) => ({
    refundId: r.id,
    amount: r.amount,
    currency: r.currency,
    destination: r.destination,
    status: r.status,
    reason: r.reason,
    providerRefundId: r.providerRefundId ?? undefined,
    failureReason: r.failureReason ?? undefined,
    createdAt: utc(r.createdAt),
    completedAt: utc(r.completedAt),
    ...(viewer.role === 'ADMIN'
      ? {
          requestedBy: r.requestedBy,
          decidedBy: r.decidedBy ?? undefined,
          decisionReason: r.decisionReason ?? undefined,
          decidedAt: utc(r.decidedAt),
        }
      : {}),
  }));
}

/**
 * The order's returns, oldest first: what was asked for and what came back, the refund, and a
 * rejection's reason (told to the customer by email too); which admins acted only for admins.
 */
export function orderReturns(returns: ReturnRow[], viewer: Viewer) {
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
    expiresAt: utc(r.expiresAt),
    refundId: r.refundId ?? undefined,
    refundAmount: r.refundAmount ?? undefined,
    decisionReason: r.decisionReason ?? undefined,
    createdAt: utc(r.createdAt),
    closedAt: utc(r.closedAt),
    ...(viewer.role === 'ADMIN' ? { receivedBy: r.receivedBy ?? undefined, decidedBy: r.decidedBy ?? undefined } : {}),
  }));
}

/** One line of an order list. */
export function orderSummary(order: SummarisedOrder) {
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

/**
 * The whole view of order `orderId` for `viewer`: ORDER_NOT_FOUND when there is none, FORBIDDEN
 * when it is another customer's. One statement reads what the database knows (storedOrder); the
 * workflow's query adds the live state while the order is open.
 */
export async function orderView(
  deps: { prisma: PrismaClient; temporal: Client; logger: Logger },
  orderId: string,
  viewer: Viewer,
): Promise<Record<string, unknown>> {
  const order = visibleTo(await storedOrder(deps.prisma, orderId), orderId, viewer);
  const stored = {
    ...orderSummary(order),
    items: order.items,
    cancelReason: order.cancelReason ?? undefined,
    trackingNumber: order.trackingNumber ?? undefined,
    carrier: order.carrier ?? undefined,
    reservationExpiresAt: order.reservationExpiresAt?.toISOString(),
    // A provider dispute of its payment (OPEN: no refund or return meanwhile; WON or LOST).
    disputeStatus: order.disputeStatus ?? undefined,
    source: 'database' as const,
  };
  // A delivered order refunded in part has a finished workflow too.
  if (closedStatuses.has(order.status) || order.deliveredAt) return { ...stored, ...factsOf(order, viewer) };
  try {
    const live = await deps.temporal.workflow.getHandle(orderWorkflowId(order.id)).query(getOrderQuery);
    // The workflow moves only after its activity's transaction has committed, but the row was read
    // before the query: a status the row does not show yet means the facts (a payment SUCCEEDED
    // with the CONFIRMED it led to) were committed meanwhile, so they are read again, never shown
    // older than the status beside them.
    const caughtUp =
      live.status === order.status && live.paymentStatus === order.paymentStatus
        ? order
        : ((await storedOrder(deps.prisma, orderId)) ?? order);
    return {
      ...stored,
      ...live,
      timeline: viewer.role === 'ADMIN' ? live.timeline : live.timeline.map(withoutAdminIds),
      createdAt: stored.createdAt,
      source: 'workflow' as const,
      ...factsOf(caughtUp, viewer),
    };
  } catch (error) {
    deps.logger.warn({ err: error, orderId: order.id }, 'order query failed; answering from the database');
    return { ...stored, ...factsOf(order, viewer) };
  }
}

/** What the database knows of an order's money and goods: its payments, refunds and returns. */
function factsOf(order: StoredOrder, viewer: Viewer) {
  return {
    payments: orderPayments(order.payments, viewer),
    refunds: orderRefunds(order.refunds, viewer),
    returns: orderReturns(order.returns, viewer),
  };
}

/** The workflow's own view of an order as a customer may see it: no admin's user id in its timeline. */
export function forCustomer<T extends { timeline: OrderTimelineEntry[] }>(view: T): T {
  return { ...view, timeline: view.timeline.map(withoutAdminIds) };
}

/** A customer sees that an admin acted, not which one. */
function withoutAdminIds(entry: OrderTimelineEntry): OrderTimelineEntry {
  return entry.actor?.role === 'ADMIN' ? { ...entry, actor: { role: 'ADMIN' } as OrderTimelineEntry['actor'] } : entry;
}
