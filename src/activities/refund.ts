/**
 * Refunds' records and money movements. Each is safe to retry: refund rows are keyed by the
 * refund id, wallet credits and provider refunds carry `refund-<refundId>` as idempotency key.
 */
import { moveStock } from '../inventory/stock';
import Stripe from 'stripe';
import { findActiveAdmin, isActiveAdmin } from '../access/admins';
import { audit } from '../access/audit';
import { txOptions, type PrismaClient, type Transaction } from '../platform/db';
import { capturedPayment, type RazorpayGateway } from '../payments/razorpay';
import { stripeRefundOutcome } from '../payments/stripe';
import { creditWallet } from '../refunds/wallet';
import { DomainError, refusalFailure, refusing } from '../platform/errors';
import { disputeStanding, refuseWhileDisputed } from '../disputes/standing';
import { paymentStatusAfterRefunds, refundableAmount } from '../refunds/refundable';
import { lockOrder } from '../orders/lock';
import { callRazorpay, callStripe } from '../payments/provider-calls';
import { ErrorCode, type Actor, type OrderStatus, type PaymentStatus } from '../workflows/vocabulary';
import { type RefundDestination, type RefundSettlement } from '../workflows/refund/messages';

export interface OpenedRefund {
  customerId: string;
  amount: number;
  currency: string;
  destination: RefundDestination;
}

export function refundActivities(prisma: PrismaClient, stripe: Stripe, razorpay: RazorpayGateway) {
  return {
    /**
     * Records a refund request after checking, with the order locked, everything the runbook
     * checks by hand: paid, not shipped (for customers), one pending request at a time, never
     * more than what is still refundable, cash on delivery only to the wallet.
     */
    async openRefund(input: {
      refundId: string;
      orderId: string;
      amount?: number;
      destination?: RefundDestination;
      reason: string;
      requestedBy: Actor;
      /** The refund of a return's received lines: allowed after delivery, at most what is still refundable. */
      returnId?: string;
    }): Promise<OpenedRefund> {
      return refusing(() =>
        prisma.$transaction(async (tx) => {
          const existing = await tx.refund.findUnique({ where: { id: input.refundId } });
          if (!(await lockOrder(tx, input.orderId)))
            throw refusalFailure(ErrorCode.ORDER_NOT_FOUND, `No order ${input.orderId}`);
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
            throw refusalFailure(ErrorCode.REFUND_ALREADY_PROCESSED, 'Refund already processed for this order', state);
          if (details.paymentStatus !== 'PAID' && details.paymentStatus !== 'PARTIALLY_REFUNDED') {
            throw refusalFailure(
              ErrorCode.ORDER_NOT_PAID,
              `Order is not paid (payment ${details.paymentStatus})`,
              state,
            );
          }
          const standing = await disputeStanding(tx, input.orderId);
          refuseWhileDisputed(standing);
          if (
            input.requestedBy.role === 'CUSTOMER' &&
            !input.returnId &&
            (details.shippedAt || details.status === 'SHIPPED' || details.status === 'DELIVERED')
          ) {
            throw refusalFailure(
              ErrorCode.ORDER_ALREADY_SHIPPED,
              'The order has shipped; contact support for a refund',
              state,
            );
          }
          // Cash and store credit have no provider payment to refund: they go back to the wallet.
          const walletOnly = details.paymentMethod === 'COD' || details.paymentMethod === 'WALLET';
          const destination = input.destination ?? (walletOnly ? 'WALLET' : 'ORIGINAL_PAYMENT');
          if (destination === 'ORIGINAL_PAYMENT' && walletOnly) {
            const paidWith =
              details.paymentMethod === 'COD' ? 'A cash-on-delivery order' : 'An order paid from the wallet';
            throw refusalFailure(
              ErrorCode.REFUND_DESTINATION_NOT_ALLOWED,
              `${paidWith} can only be refunded to the wallet`,
              {
                destination,
              },
            );
          }
          const wallet =
            destination === 'WALLET' ? await tx.wallet.findUnique({ where: { userId: details.customerId } }) : null;
          if (wallet && wallet.currency !== details.currency) {
            throw refusalFailure(
              ErrorCode.WALLET_CURRENCY_MISMATCH,
              `The customer's wallet holds ${wallet.currency}; a ${details.currency} order cannot be refunded to it`,
              { walletCurrency: wallet.currency, currency: details.currency },
            );
          }
          const earlier = await tx.refund.findMany({
            where: { orderId: input.orderId, status: { in: ['PENDING_APPROVAL', 'APPROVED', 'COMPLETED'] } },
          });
          if (earlier.some((r) => r.status === 'PENDING_APPROVAL'))
            throw refusalFailure(ErrorCode.REFUND_PENDING, 'A refund for this order is already waiting for a decision');
          // A lost dispute is money the customer's bank already gave back.
          const refundable = await refundableAmount(tx, details, standing);
          if (refundable <= 0)
            throw refusalFailure(ErrorCode.REFUND_ALREADY_PROCESSED, 'Refund already processed for this order', state);
          // A return refunds its received lines, but never more than is left after other refunds.
          const amount = input.returnId
            ? Math.min(input.amount ?? refundable, refundable)
            : (input.amount ?? refundable);
          if (amount > refundable)
            throw refusalFailure(ErrorCode.REFUND_AMOUNT_TOO_HIGH, `At most ${refundable} can still be refunded`, {
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
        }, txOptions),
      );
    },

    /** The runbook's "future consideration": trusted customers have more than 10 delivered orders and no refund before. */
    async isTrustedCustomer(input: { customerId: string; refundId: string }): Promise<boolean> {
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
    },

    /** Whether `userId` names an active admin, by user id or email (decisions sent from the Web UI). */
    async isAdmin(input: { refundId: string; userId: string }): Promise<boolean> {
      return isActiveAdmin(prisma, input.userId);
    },

    /**
     * The decision, and its audit entry, once: whether it came through the API, from the Web UI as
     * a signal, from the admin making a manual refund, or from the trusted-customer policy.
     */
    async recordRefundDecision(input: {
      refundId: string;
      approved: boolean;
      decidedBy: string;
      reason: string;
      /** How the decision came: `signal` was sent through Temporal itself (Web UI, CLI), `update` by the API. */
      via?: 'signal' | 'update';
    }): Promise<{ decidedBy: string } | void> {
      const status = input.approved ? 'APPROVED' : 'REJECTED';
      // A decision sent from the Web UI may name its admin by email: the record names the account.
      const admin = input.decidedBy.includes('@') ? await findActiveAdmin(prisma, input.decidedBy) : undefined;
      const decidedBy = admin?.id ?? input.decidedBy;
      const sentThrough = input.via === 'signal' ? { via: 'temporal-signal', named: input.decidedBy } : {};
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
    },

    /** WALLET: instant store credit. */
    async creditRefundToWallet(input: {
      refundId: string;
      orderId: string;
      customerId: string;
      amount: number;
      currency: string;
      actor: string;
    }) {
      try {
        return await creditWallet(prisma, {
          userId: input.customerId,
          amount: input.amount,
          currency: input.currency,
          reason: `Refund ${input.refundId} for order ${input.orderId}`,
          actor: input.actor,
          reference: input.refundId,
          idempotencyKey: `refund-${input.refundId}`,
        });
      } catch (error) {
        // The wallet was opened in another currency after the request, or is full: retrying cannot help.
        if (error instanceof DomainError) throw refusalFailure(error.code, error.message);
        throw error;
      }
    },

    /** ORIGINAL_PAYMENT: a refund with the provider, at most once per refund id. */
    async createProviderRefund(input: {
      refundId: string;
      orderId: string;
      amount: number;
    }): Promise<{ providerRefundId: string; outcome: RefundSettlement['outcome'] }> {
      const payment = await prisma.payment.findFirst({
        where: { orderId: input.orderId, status: { in: ['SUCCEEDED'] }, provider: { in: ['STRIPE', 'RAZORPAY'] } },
      });
      if (!payment?.providerPaymentId)
        throw refusalFailure(ErrorCode.NO_PROVIDER_PAYMENT, `Order ${input.orderId} has no provider payment to refund`);
      const key = `refund-${input.refundId}`;
      let result: { providerRefundId: string; outcome: RefundSettlement['outcome'] };
      if (payment.provider === 'RAZORPAY') {
        const captured = capturedPayment(await razorpay.orderPayments(payment.providerPaymentId));
        if (!captured)
          throw refusalFailure(
            ErrorCode.NO_PROVIDER_PAYMENT,
            `Razorpay order ${payment.providerPaymentId} has no captured payment`,
          );
        const refund = await callRazorpay(() => razorpay.refundOnce(captured.id, input.amount, key));
        result = { providerRefundId: refund.id, outcome: 'SUCCEEDED' }; // Razorpay answers refunds as processed
      } else {
        const refund = await callStripe(() =>
          stripe.refunds.create(
            {
              payment_intent: payment.providerPaymentId!,
              amount: input.amount,
              metadata: { refundId: input.refundId, orderId: input.orderId },
            },
            { idempotencyKey: key },
          ),
        );
        // Stripe settles card refunds asynchronously: completion comes by webhook (or a status check),
        // even when the refund already reads succeeded; only a refusal is final here.
        const outcome = stripeRefundOutcome(refund.status);
        result = { providerRefundId: refund.id, outcome: outcome === 'FAILED' ? 'FAILED' : 'PENDING' };
      }
      await prisma.refund.update({
        where: { id: input.refundId },
        data: { providerRefundId: result.providerRefundId },
      });
      return result;
    },

    async fetchProviderRefundStatus(input: { refundId: string; providerRefundId: string }): Promise<RefundSettlement> {
      // Retried whatever Stripe answers: the refund exists, and a failed check must not fail it.
      const refund = await stripe.refunds.retrieve(input.providerRefundId);
      const outcome = stripeRefundOutcome(refund.status);
      return {
        refundId: input.refundId,
        providerRefundId: refund.id,
        outcome,
        eventId: `status-check-${refund.id}`,
        failureReason: refund.failure_reason ?? undefined,
      };
    },

    /**
     * COMPLETED, and the order's payment (and, before shipment or after delivery, the order
     * itself) becomes REFUNDED or PARTIALLY_REFUNDED. A full refund before shipment puts the
     * units back in stock.
     */
    async completeRefund(input: {
      refundId: string;
      orderId: string;
      actor: Actor;
    }): Promise<{ orderStatus: OrderStatus; paymentStatus: PaymentStatus }> {
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
          await restock(tx, input.orderId, order.items, input.actor);
        }
        await tx.order.update({ where: { id: input.orderId }, data: { paymentStatus, status: orderStatus } });
        return { orderStatus, paymentStatus };
      }, txOptions);
    },

    async failRefund(input: { refundId: string; reason: string }): Promise<void> {
      await prisma.refund.updateMany({
        where: { id: input.refundId, status: 'APPROVED' },
        data: { status: 'FAILED', failureReason: input.reason },
      });
    },

    /**
     * The provider failed a refund we had recorded COMPLETED (a card refund can fail days later):
     * the refund becomes FAILED and the payment's status counts only what really went back. The
     * order's own status is left for an admin, who is told (the goods may have been restocked).
     * Answers what changed, or nothing when the refund was not COMPLETED.
     */
    async reverseCompletedRefund(input: {
      refundId: string;
      reason: string;
    }): Promise<{ orderId: string; amount: number; currency: string; paymentStatus: PaymentStatus } | undefined> {
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
    },
  };
}

/** Units of a fully refunded, never shipped order go back on the shelf (RESTOCK in the ledger). */
async function restock(
  tx: Transaction,
  orderId: string,
  items: { productId: string; variantId: string | null; quantity: number }[],
  actor: Actor,
) {
  await moveStock(tx, 'RESTOCK', orderId, items, actor, 'Restocked: order refunded in full before shipment');
}
