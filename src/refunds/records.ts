/**
 * A refund's record through its life, one implementation each, as the refund workflow moves it:
 * opened (after the runbook's checks, with the order locked), decided (with its audit entry, once,
 * however the decision came), COMPLETED with the order's statuses (and stock) following, FAILED,
 * or, when a provider fails a refund days after it completed, reversed. Each is safe to repeat:
 * refund rows are keyed by the refund id and every status change is conditional on the one before.
 */
import { findActiveAdmin } from '../access/admins';
import { audit } from '../access/audit';
import { disputeStanding, refuseWhileDisputed } from '../disputes/standing';
import { moveStock } from '../inventory/stock';
import { lockOrder } from '../orders/lock';
import { txOptions, type PrismaClient, type Transaction } from '../platform/db';
import { DomainError } from '../platform/errors';
import { ErrorCode, type Actor, type OrderStatus, type PaymentStatus } from '../workflows/vocabulary';
import type { RefundDestination, RefundWorkflowInput } from '../workflows/refund/messages';
import { paymentStatusAfterRefunds, refundableAmount } from './refundable';

/** What the refund workflow opens its refund with: its own input, less the workflow's settings. */
export type RefundToOpen = Pick<
  RefundWorkflowInput,
  'refundId' | 'orderId' | 'amount' | 'destination' | 'reason' | 'requestedBy' | 'returnId'
>;

export interface OpenedRefund {
  customerId: string;
  amount: number;
  currency: string;
  destination: RefundDestination;
}

/**
 * Records a refund request after checking, with the order locked, everything the runbook
 * checks by hand: paid, not shipped (for customers), one pending request at a time, never
 * more than what is still refundable, cash on delivery only to the wallet. A refund already
 * recorded under its id is answered as it was recorded.
 */
export async function openRefund(prisma: PrismaClient, input: RefundToOpen): Promise<OpenedRefund> {
  return prisma.$transaction(async (tx) => {
    const existing = await tx.refund.findUnique({ where: { id: input.refundId } });
    if (!(await lockOrder(tx, input.orderId)))
      throw new DomainError(ErrorCode.ORDER_NOT_FOUND, `No order ${input.orderId}`);
    const details = await tx.order.findUniqueOrThrow({ where: { id: input.orderId } });
    if (existing)
      return {
        customerId: details.customerId,
        amount: existing.amount,
        currency: existing.currency,
        destination: existing.destination,
      };

    const state = { status: details.status, paymentStatus: details.paymentStatus };
    if (details.paymentStatus === 'REFUNDED')
      throw new DomainError(ErrorCode.REFUND_ALREADY_PROCESSED, 'Refund already processed for this order', state);
    if (details.paymentStatus !== 'PAID' && details.paymentStatus !== 'PARTIALLY_REFUNDED') {
      throw new DomainError(ErrorCode.ORDER_NOT_PAID, `Order is not paid (payment ${details.paymentStatus})`, state);
    }
    const standing = await disputeStanding(tx, input.orderId);
    refuseWhileDisputed(standing);
    if (
      input.requestedBy.role === 'CUSTOMER' &&
      !input.returnId &&
      (details.shippedAt || details.status === 'SHIPPED' || details.status === 'DELIVERED')
    ) {
      throw new DomainError(
        ErrorCode.ORDER_ALREADY_SHIPPED,
        'The order has shipped; contact support for a refund',
        state,
      );
    }
    const destination = await refundDestination(tx, details, input.destination);
    const earlier = await tx.refund.findMany({
      where: { orderId: input.orderId, status: { in: ['PENDING_APPROVAL', 'APPROVED', 'COMPLETED'] } },
    });
    if (earlier.some((r) => r.status === 'PENDING_APPROVAL'))
      throw new DomainError(ErrorCode.REFUND_PENDING, 'A refund for this order is already waiting for a decision');
    // A lost dispute is money the customer's bank already gave back.
    const refundable = await refundableAmount(tx, details, standing);
    if (refundable <= 0)
      throw new DomainError(ErrorCode.REFUND_ALREADY_PROCESSED, 'Refund already processed for this order', state);
    // A return refunds its received lines, but never more than is left after other refunds.
    const amount = input.returnId ? Math.min(input.amount ?? refundable, refundable) : (input.amount ?? refundable);
    if (amount > refundable)
      throw new DomainError(ErrorCode.REFUND_AMOUNT_TOO_HIGH, `At most ${refundable} can still be refunded`, {
        refundable,
        currency: details.currency,
      });

    await tx.refund.create({
      data: {
        id: input.refundId,
        orderId: input.orderId,
        amount,
        currency: details.currency,
        destination,
        reason: input.reason,
        requestedBy: input.requestedBy.id,
      },
    });
    return { customerId: details.customerId, amount, currency: details.currency, destination };
  }, txOptions);
}

/**
 * Where the refund goes: the one asked for, else the order's own way back. Cash and store credit
 * have no provider payment to refund, so they go back to the wallet only, and only to a wallet in
 * the order's currency.
 */
async function refundDestination(
  tx: Transaction,
  order: { customerId: string; currency: string; paymentMethod: string },
  asked: RefundDestination | undefined,
): Promise<RefundDestination> {
  const walletOnly = order.paymentMethod === 'COD' || order.paymentMethod === 'WALLET';
  const destination = asked ?? (walletOnly ? 'WALLET' : 'ORIGINAL_PAYMENT');
  if (destination === 'ORIGINAL_PAYMENT' && walletOnly) {
    const paidWith = order.paymentMethod === 'COD' ? 'A cash-on-delivery order' : 'An order paid from the wallet';
    throw new DomainError(ErrorCode.REFUND_DESTINATION_NOT_ALLOWED, `${paidWith} can only be refunded to the wallet`, {
      destination,
    });
  }
  const wallet = destination === 'WALLET' ? await tx.wallet.findUnique({ where: { userId: order.customerId } }) : null;
  if (wallet && wallet.currency !== order.currency) {
    throw new DomainError(
      ErrorCode.WALLET_CURRENCY_MISMATCH,
      `The customer's wallet holds ${wallet.currency}; a ${order.currency} order cannot be refunded to it`,
      { walletCurrency: wallet.currency, currency: order.currency },
    );
  }
  return destination;
}

/** The runbook's "future consideration": trusted customers have more than 10 delivered orders and no refund before. */
export async function isTrustedCustomer(
  prisma: PrismaClient,
  input: { customerId: string; refundId: string },
): Promise<boolean> {
  const delivered = await prisma.order.count({
    where: { customerId: input.customerId, deliveredAt: { not: null } },
  });
  const previousRefunds = await prisma.refund.count({
    where: {
      id: { not: input.refundId },
      status: { not: 'REJECTED' },
      orderId: {
        in: (await prisma.order.findMany({ where: { customerId: input.customerId }, select: { id: true } })).map(
          (o) => o.id,
        ),
      },
    },
  });
  return delivered > 10 && previousRefunds === 0;
}

export interface RefundDecision {
  refundId: string;
  approved: boolean;
  decidedBy: string;
  reason: string;
  /**
   * How the decision came: `signal` or `temporal-update` was sent through Temporal itself (Web
   * UI, CLI), `update` by the API (sealed; before the refund-one-admin-check patch, any update).
   */
  via?: 'signal' | 'update' | 'temporal-update';
}

/**
 * The decision, and its audit entry, once: whether it came through the API, from the Web UI as
 * a signal, from the admin making a manual refund, or from the trusted-customer policy.
 */
export async function recordRefundDecision(
  prisma: PrismaClient,
  input: RefundDecision,
): Promise<{ decidedBy: string }> {
  const status = input.approved ? 'APPROVED' : 'REJECTED';
  // A decision sent from the Web UI may name its admin by email: the record names the account.
  const admin = input.decidedBy.includes('@') ? await findActiveAdmin(prisma, input.decidedBy) : undefined;
  const decidedBy = admin?.id ?? input.decidedBy;
  const sentThrough =
    input.via === 'signal'
      ? { via: 'temporal-signal', named: input.decidedBy }
      : input.via === 'temporal-update'
        ? { via: 'temporal-update', named: input.decidedBy }
        : {};
  await prisma.$transaction(async (tx) => {
    const decided = await tx.refund.updateMany({
      where: { id: input.refundId, status: 'PENDING_APPROVAL' },
      data: { status, decidedBy, decisionReason: input.reason, decidedAt: new Date() },
    });
    if (decided.count === 0) return; // recorded by an earlier attempt
    await audit(tx, {
      actorId: decidedBy,
      action: input.approved ? 'REFUND_APPROVED' : 'REFUND_REJECTED',
      targetType: 'refund',
      targetId: input.refundId,
      reason: input.reason,
      before: { status: 'PENDING_APPROVAL' },
      after: { status, decidedBy, ...sentThrough },
    });
  }, txOptions);
  return { decidedBy };
}

/**
 * COMPLETED, and the order's payment (and, before shipment or after delivery, the order
 * itself) becomes REFUNDED or PARTIALLY_REFUNDED. A full refund before shipment puts the
 * units back in stock.
 */
export async function completeRefund(
  prisma: PrismaClient,
  input: { refundId: string; orderId: string; actor: Actor },
): Promise<{ orderStatus: OrderStatus; paymentStatus: PaymentStatus }> {
  return prisma.$transaction(async (tx) => {
    await lockOrder(tx, input.orderId); // a shipment in the same moment is seen (see markShipped)
    await tx.refund.updateMany({
      where: { id: input.refundId, status: { in: ['APPROVED'] } },
      data: { status: 'COMPLETED', completedAt: new Date() },
    });
    const order = await tx.order.findUniqueOrThrow({ where: { id: input.orderId }, include: { items: true } });
    const paymentStatus = await paymentStatusAfterRefunds(tx, order);
    // An order on its way keeps its fulfilment status; the money's status says what was refunded.
    const inTransit = order.status === 'SHIPPED';
    const orderStatus: OrderStatus = inTransit ? 'SHIPPED' : paymentStatus;
    if (
      paymentStatus === 'REFUNDED' &&
      !order.shippedAt &&
      (order.status === 'CONFIRMED' || order.status === 'PAID' || order.status === 'PARTIALLY_REFUNDED')
    ) {
      // Units of a fully refunded, never shipped order go back on the shelf (RESTOCK in the ledger).
      const reason = 'Restocked: order refunded in full before shipment';
      await moveStock(tx, 'RESTOCK', input.orderId, order.items, input.actor, reason);
    }
    await tx.order.update({ where: { id: input.orderId }, data: { paymentStatus, status: orderStatus } });
    return { orderStatus, paymentStatus };
  }, txOptions);
}

/** An approved refund that could not be paid out is FAILED, with why. */
export async function failRefund(prisma: PrismaClient, input: { refundId: string; reason: string }): Promise<void> {
  await prisma.refund.updateMany({
    where: { id: input.refundId, status: 'APPROVED' },
    data: { status: 'FAILED', failureReason: input.reason },
  });
}

/**
 * The provider failed a refund we had recorded COMPLETED (a card refund can fail days later):
 * the refund becomes FAILED and the payment's status counts only what really went back. The
 * order's own status is left for an admin, who is told (the goods may have been restocked).
 * Answers what changed, or nothing when the refund was not COMPLETED.
 */
export async function reverseCompletedRefund(
  prisma: PrismaClient,
  input: { refundId: string; reason: string },
): Promise<{ orderId: string; amount: number; currency: string; paymentStatus: PaymentStatus } | undefined> {
  return prisma.$transaction(async (tx) => {
    const refund = await tx.refund.findUnique({ where: { id: input.refundId } });
    if (!refund) return undefined;
    await lockOrder(tx, refund.orderId);
    const { count } = await tx.refund.updateMany({
      where: { id: input.refundId, status: 'COMPLETED' },
      data: { status: 'FAILED', failureReason: input.reason },
    });
    if (count === 0) return undefined;
    const order = await tx.order.findUniqueOrThrow({ where: { id: refund.orderId } });
    const paymentStatus = await paymentStatusAfterRefunds(tx, order);
    await tx.order.update({ where: { id: refund.orderId }, data: { paymentStatus } });
    return { orderId: refund.orderId, amount: refund.amount, currency: refund.currency, paymentStatus };
  }, txOptions);
}
