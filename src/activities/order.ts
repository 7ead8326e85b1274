/**
 * The order's records in PostgreSQL. Every activity here is one transaction and is safe to
 * retry: writes are keyed by order id (and ledger keys), and status updates are guarded.
 */
import { randomUUID } from 'node:crypto';
import { txOptions, type PrismaClient, type Transaction } from '../platform/db';
import { ErrorCode, type Actor } from '../workflows/vocabulary';
import { type CancelReason, type OrderLine, type OrderWorkflowInput } from '../workflows/order/messages';
import { debitWalletForOrder } from '../refunds/wallet';
import { DomainError, refusalFailure, refusing } from '../platform/errors';
import { moveStock } from '../inventory/stock';
import { paymentAttempts, reservationExpiries } from '../monitoring/metrics';
import { audit } from '../access/audit';

/** An admin request sent through Temporal itself: audited as such, with the name it gave as typed. */
export interface SentThroughTemporal {
  via: 'temporal-update';
  named: string;
}
import { priceCheckout } from '../orders/checkout';
import { lockOrder } from '../orders/lock';

export interface PlacedOrderRecord {
  totalAmount: number;
  currency: string;
  items: OrderLine[];
}

export function orderActivities(prisma: PrismaClient) {
  return {
    /**
     * Records the order and reserves its stock atomically. Refuses with INSUFFICIENT_STOCK
     * (naming every short product) and leaves nothing behind when any item is short.
     */
    async createOrderAndReserveStock(
      input: OrderWorkflowInput & { reservationExpiresAt?: string; actor: Actor },
    ): Promise<PlacedOrderRecord> {
      return prisma.$transaction(async (tx) => {
        const existing = await tx.order.findUnique({ where: { id: input.orderId }, include: { items: true } });
        if (existing) return toRecord(existing);

        // The checkout's prices as they are now, in the transaction that records them.
        const { lines, currency, totalAmount } = await refusing(() => priceCheckout(tx, input.items, input.currency));
        await tx.order.create({
          data: {
            id: input.orderId,
            customerId: input.customerId,
            paymentMethod: input.paymentMethod,
            paymentProvider: input.paymentMethod === 'CARD' ? (input.provider ?? 'STRIPE') : null,
            currency,
            totalAmount,
            reservationExpiresAt: input.reservationExpiresAt ? new Date(input.reservationExpiresAt) : null,
            items: { create: lines.map((line) => ({ id: randomUUID(), ...line })) },
          },
        });
        const shortages = await moveStock(
          tx,
          'RESERVE',
          input.orderId,
          input.items,
          input.actor,
          'Reserved at checkout',
        );
        if (shortages.length > 0) {
          // Throwing rolls the whole transaction back: no order row, no reservation, no ledger entry.
          throw refusalFailure(
            ErrorCode.INSUFFICIENT_STOCK,
            `Insufficient stock for ${shortages.map((s) => `${s.sku} (requested ${s.requested}, available ${s.available})`).join(', ')}`,
            { products: shortages },
          );
        }
        if (input.paymentMethod === 'WALLET')
          await payFromWallet(tx, {
            orderId: input.orderId,
            customerId: input.customerId,
            amount: totalAmount,
            currency,
          });
        return { totalAmount, currency, items: lines };
      }, txOptions);
    },

    /** Payment confirmed by the provider: the attempt SUCCEEDED and the order PAID. */
    async recordPaymentSucceeded(input: {
      orderId: string;
      attempt: number;
      providerPaymentId: string;
      confirmedBy: string;
    }): Promise<void> {
      const paid = await prisma.$transaction(async (tx) => {
        // Usually the current attempt; sometimes an earlier one paid after all, and the current one is closed.
        const current = await tx.payment.findUnique({
          where: { orderId_attempt: { orderId: input.orderId, attempt: input.attempt } },
        });
        const earlier =
          current?.providerPaymentId === input.providerPaymentId
            ? undefined
            : await tx.payment.findFirst({
                where: { orderId: input.orderId, providerPaymentId: input.providerPaymentId },
                orderBy: { attempt: 'desc' },
              });
        if (earlier)
          await tx.payment.updateMany({
            where: { orderId: input.orderId, attempt: input.attempt, status: { in: ['PENDING', 'FAILED'] } },
            data: { status: 'CANCELLED' },
          });
        const payment = await tx.payment.update({
          where: { orderId_attempt: { orderId: input.orderId, attempt: earlier?.attempt ?? input.attempt } },
          data: {
            status: 'SUCCEEDED',
            providerPaymentId: input.providerPaymentId,
            confirmedBy: input.confirmedBy,
            processedAt: new Date(),
          },
        });
        await tx.order.updateMany({
          where: { id: input.orderId, status: 'PENDING' },
          data: { status: 'PAID', paymentStatus: 'PAID', paidAt: new Date() },
        });
        return payment;
      }, txOptions);
      paymentAttempts.inc({ provider: paid.provider, outcome: 'succeeded' });
    },

    async recordPaymentFailed(input: { orderId: string; attempt: number; reason: string }): Promise<void> {
      const failed = await prisma.$transaction(async (tx) => {
        const payment = await tx.payment.update({
          where: { orderId_attempt: { orderId: input.orderId, attempt: input.attempt } },
          data: { status: 'FAILED', failureReason: input.reason, processedAt: new Date() },
        });
        await tx.order.updateMany({
          where: { id: input.orderId, status: 'PENDING', paymentStatus: { not: 'PAID' } },
          data: { paymentStatus: 'FAILED' },
        });
        return payment;
      }, txOptions);
      paymentAttempts.inc({ provider: failed.provider, outcome: 'failed' });
    },

    /** CONFIRMED: for a paid order the reserved units become a SALE in the same transaction. */
    async confirmOrder(input: { orderId: string; commitStock: boolean; actor: Actor }): Promise<void> {
      await prisma.$transaction(async (tx) => {
        if (input.commitStock)
          await moveStock(
            tx,
            'SALE',
            input.orderId,
            await itemsOf(tx, input.orderId),
            input.actor,
            'Sold: payment confirmed',
          );
        await tx.order.updateMany({
          where: { id: input.orderId, status: { in: ['PENDING', 'PAID'] } },
          data: { status: 'CONFIRMED', confirmedAt: new Date() },
        });
      }, txOptions);
    },

    /** CANCELLED: the reservation is released in the same transaction. */
    async cancelOrder(input: { orderId: string; reason: CancelReason; note?: string; actor: Actor }): Promise<void> {
      const cancelled = await prisma.$transaction(async (tx) => {
        const detail = input.note ? `${input.reason}: ${input.note}` : input.reason;
        await moveStock(
          tx,
          'RELEASE',
          input.orderId,
          await itemsOf(tx, input.orderId),
          input.actor,
          `Released: ${detail}`,
        );
        const { count } = await tx.order.updateMany({
          where: { id: input.orderId, status: { in: ['PENDING', 'CONFIRMED'] } },
          data: { status: 'CANCELLED', cancelReason: input.reason, cancelledAt: new Date() },
        });
        await tx.payment.updateMany({
          where: { orderId: input.orderId, status: 'PENDING' },
          data: { status: 'CANCELLED' },
        });
        return count > 0;
      }, txOptions);
      if (cancelled && input.reason === 'RESERVATION_EXPIRED') reservationExpiries.inc();
    },

    /**
     * SHIPPED. Cash-on-delivery stock stays reserved until now, when it leaves as a SALE. The order
     * row is locked first, as completeRefund locks it: a refund completed in the same moment is
     * seen, and the shipment refused, rather than goods leaving for an order paid back in full.
     */
    async markShipped(input: {
      orderId: string;
      trackingNumber: string;
      carrier?: string;
      commitStock: boolean;
      actor: Actor;
      /** Sent through Temporal itself (Web UI, CLI), naming its admin so: audited here, with the shipment. */
      sentThrough?: SentThroughTemporal;
    }) {
      await prisma.$transaction(async (tx) => {
        await lockOrder(tx, input.orderId);
        const order = await tx.order.findUniqueOrThrow({ where: { id: input.orderId } });
        if (order.status === 'SHIPPED' && order.trackingNumber === input.trackingNumber) return; // a retry of this very shipment
        if (order.status !== 'CONFIRMED' && order.status !== 'PARTIALLY_REFUNDED') {
          throw refusalFailure(
            ErrorCode.INVALID_ORDER_STATE,
            `Order is ${order.status} (payment ${order.paymentStatus}): it cannot be shipped`,
            { status: order.status, paymentStatus: order.paymentStatus },
          );
        }
        if (input.commitStock)
          await moveStock(
            tx,
            'SALE',
            input.orderId,
            await itemsOf(tx, input.orderId),
            input.actor,
            'Sold: shipped cash on delivery',
          );
        await tx.order.update({
          where: { id: input.orderId },
          data: {
            status: 'SHIPPED',
            trackingNumber: input.trackingNumber,
            carrier: input.carrier,
            shippedAt: new Date(),
          },
        });
        if (input.sentThrough)
          await audit(tx, {
            actorId: input.actor.id,
            action: 'ORDER_SHIPPED',
            targetType: 'order',
            targetId: input.orderId,
            reason: `tracking ${input.trackingNumber}`,
            before: { status: order.status, paymentStatus: order.paymentStatus },
            after: { status: 'SHIPPED', paymentStatus: order.paymentStatus, ...input.sentThrough },
          });
      }, txOptions);
    },

    /** DELIVERED. For cash on delivery this is when the payment is collected and recorded. */
    async markDelivered(input: {
      orderId: string;
      cashCollected?: { amount: number; currency: string };
      actor: Actor;
      /** Sent through Temporal itself (Web UI, CLI), naming its admin so: audited here, with the delivery. */
      sentThrough?: SentThroughTemporal;
    }) {
      await prisma.$transaction(async (tx) => {
        if (input.cashCollected) {
          await tx.payment.upsert({
            where: { orderId_attempt: { orderId: input.orderId, attempt: 1 } },
            update: {},
            create: {
              id: randomUUID(),
              orderId: input.orderId,
              attempt: 1,
              provider: 'COD',
              amount: input.cashCollected.amount,
              currency: input.cashCollected.currency,
              status: 'SUCCEEDED',
              confirmedBy: input.actor.id,
              processedAt: new Date(),
            },
          });
        }
        const delivered = await tx.order.updateMany({
          where: { id: input.orderId, status: 'SHIPPED' },
          data: {
            status: 'DELIVERED',
            deliveredAt: new Date(),
            ...(input.cashCollected ? { paymentStatus: 'PAID' as const, paidAt: new Date() } : {}),
          },
        });
        if (delivered.count && input.sentThrough)
          await audit(tx, {
            actorId: input.actor.id,
            action: 'ORDER_DELIVERED',
            targetType: 'order',
            targetId: input.orderId,
            before: { status: 'SHIPPED' },
            after: { status: 'DELIVERED', ...input.sentThrough },
          });
      }, txOptions);
    },
  };
}

async function itemsOf(tx: Pick<PrismaClient, 'orderItem'>, orderId: string) {
  return tx.orderItem.findMany({ where: { orderId }, select: { productId: true, variantId: true, quantity: true } });
}

/**
 * Store credit pays in the transaction that reserves the stock: both happen, or (too little
 * credit) neither, and checkout is refused with INSUFFICIENT_WALLET_BALANCE.
 */
async function payFromWallet(
  tx: Transaction,
  input: { orderId: string; customerId: string; amount: number; currency: string },
): Promise<void> {
  let debit: { entryId: string } | undefined;
  try {
    // A free order takes nothing from the wallet (a ledger entry moves a positive amount).
    if (input.amount > 0)
      debit = await debitWalletForOrder(tx, {
        userId: input.customerId,
        orderId: input.orderId,
        amount: input.amount,
        currency: input.currency,
      });
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    throw refusalFailure(error.code, error.message, { required: input.amount, currency: input.currency });
  }
  await tx.payment.create({
    data: {
      id: randomUUID(),
      orderId: input.orderId,
      attempt: 1,
      provider: 'WALLET',
      providerPaymentId: debit?.entryId ?? null,
      amount: input.amount,
      currency: input.currency,
      status: 'SUCCEEDED',
      confirmedBy: 'wallet',
      processedAt: new Date(),
    },
  });
  await tx.order.update({
    where: { id: input.orderId },
    data: { status: 'PAID', paymentStatus: 'PAID', paidAt: new Date() },
  });
}

function toRecord(order: {
  totalAmount: number;
  currency: string;
  items: (Omit<OrderLine, 'variantId'> & { variantId: string | null })[];
}): PlacedOrderRecord {
  return {
    totalAmount: order.totalAmount,
    currency: order.currency,
    items: order.items.map(({ productId, variantId, sku, name, quantity, unitPrice }) => ({
      productId,
      ...(variantId ? { variantId } : {}),
      sku,
      name,
      quantity,
      unitPrice,
    })),
  };
}
