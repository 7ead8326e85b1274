/**
 * Placing an order: the one transaction that prices the checkout (src/orders/checkout.ts), records
 * the order and its lines, reserves every line's stock through the ledger, and, for store credit,
 * takes the payment from the wallet. It all happens or none of it does: a refusal (an unknown
 * product, a currency mismatch, a line short of stock, too little credit) rolls the transaction
 * back, so a refused checkout leaves no order row, no reservation and no ledger entry. Keyed by
 * the order id, so the order workflow's activity may run it again: a second run answers the order
 * the first one recorded.
 *
 * Every checkout pays for this transaction's statements (issue 18), so the order's row is its own
 * idempotency check: the insert that records it stops on the row an earlier run stored, instead
 * of a read before it, and its lines are one more insert with nothing read back. A second run
 * (rare) reads the order it finds; a refusal reads it too, since only a first run may refuse.
 */
import { randomUUID } from 'node:crypto';
import { txOptions, type PrismaClient, type Transaction } from '../platform/db';
import { DomainError } from '../platform/errors';
import { debitWalletForOrder } from '../refunds/wallet';
import { moveStock } from '../inventory/stock';
import type { OrderLine, OrderWorkflowInput } from '../workflows/order/messages';
import { ErrorCode, type Actor } from '../workflows/vocabulary';
import { priceCheckout, type PricedCheckout } from './checkout';

export interface PlacedOrderRecord {
  totalAmount: number;
  currency: string;
  items: OrderLine[];
}

export type PlacementInput = OrderWorkflowInput & { reservationExpiresAt?: string; actor: Actor };

/**
 * Records the order and reserves its stock atomically. Refuses with INSUFFICIENT_STOCK (naming
 * every short product) and leaves nothing behind when any item is short.
 */
export async function placeOrder(prisma: PrismaClient, input: PlacementInput): Promise<PlacedOrderRecord> {
  return prisma.$transaction(async (tx) => {
    // The checkout's prices as they are now, in the transaction that records them. A retried
    // placement whose catalogue has changed since (a product given variants, a new price) answers
    // the order its first run recorded, never a refusal of it.
    let priced: PricedCheckout;
    try {
      priced = await priceCheckout(tx, input.items, input.currency);
    } catch (error) {
      const placed = error instanceof DomainError ? await placedBefore(tx, input.orderId) : undefined;
      if (placed) return placed;
      throw error;
    }
    const { lines, currency, totalAmount } = priced;
    // The order's row is its business key: a second run's insert stops on the row the first one
    // stored (or waits for a run still under way, then stops) and answers that order.
    const { count } = await tx.order.createMany({
      data: {
        id: input.orderId,
        customerId: input.customerId,
        paymentMethod: input.paymentMethod,
        paymentProvider: input.paymentMethod === 'CARD' ? (input.provider ?? 'STRIPE') : null,
        currency,
        totalAmount,
        reservationExpiresAt: input.reservationExpiresAt ? new Date(input.reservationExpiresAt) : null,
      },
      skipDuplicates: true,
    });
    if (count === 0)
      return toRecord(await tx.order.findUniqueOrThrow({ where: { id: input.orderId }, include: { items: true } }));
    await tx.orderItem.createMany({
      data: lines.map((line) => ({ id: randomUUID(), orderId: input.orderId, ...line })),
    });
    const shortages = await moveStock(tx, 'RESERVE', input.orderId, input.items, input.actor, 'Reserved at checkout');
    if (shortages.length > 0) {
      // Throwing rolls the whole transaction back: no order row, no reservation, no ledger entry.
      throw new DomainError(
        ErrorCode.INSUFFICIENT_STOCK,
        `Insufficient stock for ${shortages.map((s) => `${s.sku} (requested ${s.requested}, available ${s.available})`).join(', ')}`,
        { products: shortages },
      );
    }
    if (input.paymentMethod === 'WALLET')
      await payFromWallet(tx, { orderId: input.orderId, customerId: input.customerId, amount: totalAmount, currency });
    return { totalAmount, currency, items: lines };
  }, txOptions);
}

/** The order an earlier run of this placement recorded, if one did. */
async function placedBefore(tx: Transaction, orderId: string): Promise<PlacedOrderRecord | undefined> {
  const existing = await tx.order.findUnique({ where: { id: orderId }, include: { items: true } });
  return existing ? toRecord(existing) : undefined;
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
    throw new DomainError(error.code, error.message, { required: input.amount, currency: input.currency });
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
