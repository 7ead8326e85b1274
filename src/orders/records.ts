/**
 * The order's rows as its workflow moves it on after checkout: a payment attempt that succeeded
 * or failed, confirmed, cancelled, shipped, delivered. Each is one transaction, safe to run again
 * (the order workflow's activities retry them): stock moves are keyed by order id through the
 * ledger, payments by order and attempt, and each status update is guarded by the statuses it may
 * leave, as the runbook's "safe" SQL was.
 */
import { randomUUID } from 'node:crypto';
import { txOptions, type PrismaClient, type Transaction } from '../platform/db';
import { DomainError } from '../platform/errors';
import { moveStock } from '../inventory/stock';
import { paymentAttempts, reservationExpiries } from '../monitoring/metrics';
import { audit } from '../access/audit';
import type { CancelReason, PaymentEvent } from '../workflows/order/messages';
import { auditUnverifiedNews, checkAgainstStoredEvent } from '../payments/news';
import { ErrorCode, type Actor } from '../workflows/vocabulary';
import { lockOrder } from './lock';

/** An admin request sent through Temporal itself: audited as such, with the name it gave as typed. */
export interface SentThroughTemporal {
  via: 'temporal-update';
  named: string;
}

/** A payment attempt that succeeded, as the order workflow records it. */
export interface PaymentSucceeded {
  orderId: string;
  attempt: number;
  providerPaymentId: string;
  /** The provider's id of the payment itself (Razorpay's pay_..., which one Razorpay order may have two of). */
  chargeId?: string;
  confirmedBy: string;
  confirm?: { actor: Actor };
}

/**
 * Payment confirmed by the provider: the attempt SUCCEEDED and the order PAID. With `confirm`, the
 * same transaction also confirms it and sells its reserved units (recordConfirmed's work): the
 * order workflow's one step from a payment to CONFIRMED, since PAYMENT_CONFIRMED_IN_ONE_TRANSACTION.
 */
export async function recordPaymentSucceeded(prisma: PrismaClient, input: PaymentSucceeded): Promise<void> {
  const paid = await prisma.$transaction((tx) => recordSucceededIn(tx, input), txOptions);
  // Counted when this run moved it: a retry after the commit (its worker died) finds it SUCCEEDED.
  if (paid.moved) paymentAttempts.inc({ provider: paid.payment.provider, outcome: 'succeeded' });
}

/** What recordSignalledPayment did with the news it was given. */
export type SignalledPaymentAnswer =
  /** Verified and recorded, the order confirmed: now, or by an earlier run of the same step. */
  | { outcome: 'RECORDED' }
  /** The stored event it names says otherwise: nothing moved; audited under the check's id. */
  | { outcome: 'UNVERIFIED'; reason: string }
  /** No event is stored under its id: nothing moved; only the provider can vouch for it. */
  | { outcome: 'NOT_STORED' };

/**
 * A success signalled for the order's open attempt, with its total (the order workflow checked
 * both), verified and recorded in one transaction: checked against the stored verified webhook
 * event it names (checkAgainstStoredEvent, as verifyPaymentNews checks it), then recorded and the
 * order confirmed as recordPaymentSucceeded with `confirm` does. Since PAYMENT_NEWS_ONE_STEP
 * this is the order's one step from a webhook's news to CONFIRMED. Unverified news moves nothing
 * and is audited once per `checkId`; news no stored event names is answered NOT_STORED (the
 * workflow then asks the provider, as before). A second run (the activity retried after its
 * worker died past the commit) checks the same stored row, finds the attempt SUCCEEDED by this
 * very news and answers RECORDED again, writing nothing.
 */
export async function recordSignalledPayment(
  prisma: PrismaClient,
  input: Omit<PaymentSucceeded, 'providerPaymentId' | 'confirm'> & {
    event: PaymentEvent;
    confirm: { actor: Actor };
    checkId: string;
  },
): Promise<SignalledPaymentAnswer> {
  const { event } = input;
  let recordedFor: string | undefined;
  const answer = await prisma.$transaction(async (tx): Promise<SignalledPaymentAnswer> => {
    const check = await checkAgainstStoredEvent(tx, event);
    if (!check) return { outcome: 'NOT_STORED' };
    if (!check.verified) {
      await auditUnverifiedNews(tx, { kind: 'payment', orderId: input.orderId, event }, check.reason, input.checkId);
      return { outcome: 'UNVERIFIED', reason: check.reason };
    }
    const current = await currentAttempt(tx, input);
    const alreadyRecorded =
      current?.status === 'SUCCEEDED' &&
      current.providerPaymentId === event.providerPaymentId &&
      current.confirmedBy === input.confirmedBy;
    if (!alreadyRecorded) {
      const paid = await recordSucceededIn(
        tx,
        { ...input, providerPaymentId: event.providerPaymentId, chargeId: event.chargeId },
        current,
      );
      if (paid.moved) recordedFor = paid.payment.provider;
    }
    return { outcome: 'RECORDED' };
  }, txOptions);
  if (recordedFor) paymentAttempts.inc({ provider: recordedFor, outcome: 'succeeded' });
  return answer;
}

async function currentAttempt(tx: Transaction, input: { orderId: string; attempt: number }) {
  return tx.payment.findUnique({ where: { orderId_attempt: { orderId: input.orderId, attempt: input.attempt } } });
}

async function recordSucceededIn(
  tx: Transaction,
  input: PaymentSucceeded,
  read?: Awaited<ReturnType<typeof currentAttempt>>,
) {
  // Usually the current attempt; sometimes an earlier one paid after all, and the current one is closed.
  const current = read === undefined ? await currentAttempt(tx, input) : read;
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
  const before = earlier ?? current;
  const moved = !(before?.status === 'SUCCEEDED' && before.providerPaymentId === input.providerPaymentId);
  const payment = await tx.payment.update({
    where: { orderId_attempt: { orderId: input.orderId, attempt: earlier?.attempt ?? input.attempt } },
    data: {
      status: 'SUCCEEDED',
      providerPaymentId: input.providerPaymentId,
      ...(input.chargeId ? { chargeId: input.chargeId } : {}),
      confirmedBy: input.confirmedBy,
      processedAt: new Date(),
    },
  });
  if (input.confirm) await confirmPaidIn(tx, input.orderId, input.confirm.actor);
  else
    await tx.order.updateMany({
      where: { id: input.orderId, status: 'PENDING' },
      data: { status: 'PAID', paymentStatus: 'PAID', paidAt: new Date() },
    });
  /** `moved`: this run made the attempt SUCCEEDED with this payment (a retry after the commit did not). */
  return { payment, moved };
}

/**
 * PAID and CONFIRMED at once, the reserved units sold: what marking the order PAID and then
 * confirmIn (commitStock) did, with one update of the order row instead of two. A PENDING order
 * is paid now; one already PAID (a retry, or paid before the patch) keeps its paid_at. The order
 * row is updated before the stock moves, as before, so the locks are taken in the same order.
 */
async function confirmPaidIn(tx: Transaction, orderId: string, actor: Actor) {
  // The columns are UTC timestamps without a zone, as Prisma writes them.
  await tx.$executeRaw`UPDATE orders
      SET status = 'CONFIRMED'::"OrderStatus", payment_status = 'PAID'::"PaymentStatus",
          paid_at = CASE WHEN status = 'PENDING' THEN now() AT TIME ZONE 'UTC' ELSE paid_at END,
          confirmed_at = now() AT TIME ZONE 'UTC', updated_at = now() AT TIME ZONE 'UTC'
    WHERE id = ${orderId}::uuid AND status IN ('PENDING', 'PAID')`;
  await moveOrderStock(tx, 'SALE', orderId, actor, 'Sold: payment confirmed');
}

/** The attempt FAILED; an unpaid PENDING order's payment status says so (the customer may retry). */
export async function recordPaymentFailed(
  prisma: PrismaClient,
  input: { orderId: string; attempt: number; reason: string },
): Promise<void> {
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
  // Counted per failure reported: one PaymentIntent may be declined several times (cards tried in turn).
  paymentAttempts.inc({ provider: failed.provider, outcome: 'failed' });
}

/** CONFIRMED: for a paid order the reserved units become a SALE in the same transaction. */
export async function recordConfirmed(
  prisma: PrismaClient,
  input: { orderId: string; commitStock: boolean; actor: Actor },
): Promise<void> {
  await prisma.$transaction((tx) => confirmIn(tx, input), txOptions);
}

async function confirmIn(tx: Transaction, input: { orderId: string; commitStock: boolean; actor: Actor }) {
  if (input.commitStock) await moveOrderStock(tx, 'SALE', input.orderId, input.actor, 'Sold: payment confirmed');
  await tx.order.updateMany({
    where: { id: input.orderId, status: { in: ['PENDING', 'PAID'] } },
    data: { status: 'CONFIRMED', confirmedAt: new Date() },
  });
}

/** CANCELLED: the reservation is released in the same transaction. */
export async function recordCancelled(
  prisma: PrismaClient,
  input: { orderId: string; reason: CancelReason; note?: string; actor: Actor },
): Promise<void> {
  const cancelled = await prisma.$transaction(async (tx) => {
    const detail = input.note ? `${input.reason}: ${input.note}` : input.reason;
    await moveOrderStock(tx, 'RELEASE', input.orderId, input.actor, `Released: ${detail}`);
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
}

/**
 * SHIPPED. Cash-on-delivery stock stays reserved until now, when it leaves as a SALE. The order
 * row is locked first, as completeRefund locks it: a refund completed in the same moment is
 * seen, and the shipment refused (INVALID_ORDER_STATE), rather than goods leaving for an order
 * paid back in full.
 */
export async function recordShipped(
  prisma: PrismaClient,
  input: {
    orderId: string;
    trackingNumber: string;
    carrier?: string;
    commitStock: boolean;
    actor: Actor;
    /** Sent through Temporal itself (Web UI, CLI), naming its admin so: audited here, with the shipment. */
    sentThrough?: SentThroughTemporal;
  },
): Promise<void> {
  await prisma.$transaction(async (tx) => {
    await lockOrder(tx, input.orderId);
    const order = await tx.order.findUniqueOrThrow({ where: { id: input.orderId } });
    if (order.status === 'SHIPPED' && order.trackingNumber === input.trackingNumber) return; // a retry of this very shipment
    if (order.status !== 'CONFIRMED' && order.status !== 'PARTIALLY_REFUNDED') {
      throw new DomainError(
        ErrorCode.INVALID_ORDER_STATE,
        `Order is ${order.status} (payment ${order.paymentStatus}): it cannot be shipped`,
        { status: order.status, paymentStatus: order.paymentStatus },
      );
    }
    if (input.commitStock)
      await moveOrderStock(tx, 'SALE', input.orderId, input.actor, 'Sold: shipped cash on delivery');
    await tx.order.update({
      where: { id: input.orderId },
      data: { status: 'SHIPPED', trackingNumber: input.trackingNumber, carrier: input.carrier, shippedAt: new Date() },
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
}

/** DELIVERED. For cash on delivery this is when the payment is collected and recorded. */
export async function recordDelivered(
  prisma: PrismaClient,
  input: {
    orderId: string;
    cashCollected?: { amount: number; currency: string };
    actor: Actor;
    /** Sent through Temporal itself (Web UI, CLI), naming its admin so: audited here, with the delivery. */
    sentThrough?: SentThroughTemporal;
  },
): Promise<void> {
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
}

/** Moves every unit of an order's lines at once: the reserved units sold, or released. */
async function moveOrderStock(tx: Transaction, type: 'SALE' | 'RELEASE', orderId: string, actor: Actor, why: string) {
  const items = await tx.orderItem.findMany({
    where: { orderId },
    select: { productId: true, variantId: true, quantity: true },
  });
  await moveStock(tx, type, orderId, items, actor, why);
}
