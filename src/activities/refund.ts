/**
 * The refund workflow's activities: thin adapters over src/refunds (the refund's record in
 * records.ts, its payout in payouts.ts), refusals handed on as non-retryable failures. Each is
 * safe to retry: refund rows are keyed by the refund id, wallet credits and provider refunds
 * carry `refund-<refundId>` as idempotency key.
 */
import type Stripe from 'stripe';
import type { PrismaClient } from '../platform/db';
import type { RazorpayGateway } from '../payments/razorpay';
import { refusing } from '../platform/errors';
import {
  completeRefund,
  failRefund,
  isTrustedCustomer,
  openRefund,
  recordRefundDecision,
  reverseCompletedRefund,
  type OpenedRefund,
  type RefundDecision,
  type RefundToOpen,
} from '../refunds/records';
import { recordHeldRefundDecision, type HeldRefundDecisionRecord } from '../refunds/hold-decisions';
import {
  createProviderRefund,
  creditRefundToWallet,
  fetchProviderRefundStatus,
  type ProviderRefund,
} from '../refunds/payouts';
import type { Actor, OrderStatus, PaymentStatus } from '../workflows/vocabulary';
import type { RefundSettlement } from '../workflows/refund/messages';

export type { OpenedRefund } from '../refunds/records';

export function refundActivities(prisma: PrismaClient, stripe: Stripe, razorpay: RazorpayGateway) {
  return {
    /** Records a refund request after the runbook's checks, with the order locked (src/refunds/records.ts). */
    async openRefund(input: RefundToOpen): Promise<OpenedRefund> {
      return refusing(() => openRefund(prisma, input));
    },

    /** The runbook's "future consideration": trusted customers have more than 10 delivered orders and no refund before. */
    async isTrustedCustomer(input: { customerId: string; refundId: string }): Promise<boolean> {
      return isTrustedCustomer(prisma, input);
    },

    /** The decision, and its audit entry, once, however it came. */
    async recordRefundDecision(input: RefundDecision): Promise<{ decidedBy: string } | void> {
      return recordRefundDecision(prisma, input);
    },

    /** A decision on a refund held for a dispute, in the audit log once (src/refunds/hold-decisions.ts). */
    async recordHeldRefundDecision(input: HeldRefundDecisionRecord): Promise<void> {
      await recordHeldRefundDecision(prisma, input);
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
      // The wallet was opened in another currency after the request, or is full: retrying cannot help.
      return refusing(() => creditRefundToWallet(prisma, input));
    },

    /** ORIGINAL_PAYMENT: a refund with the provider, at most once per refund id. */
    async createProviderRefund(input: { refundId: string; orderId: string; amount: number }): Promise<ProviderRefund> {
      return refusing(() => createProviderRefund({ prisma, stripe, razorpay }, input));
    },

    async fetchProviderRefundStatus(input: { refundId: string; providerRefundId: string }): Promise<RefundSettlement> {
      return fetchProviderRefundStatus(stripe, input);
    },

    /** COMPLETED, and the order's statuses (and, for a full refund before shipment, its stock) follow. */
    async completeRefund(input: {
      refundId: string;
      orderId: string;
      actor: Actor;
    }): Promise<{ orderStatus: OrderStatus; paymentStatus: PaymentStatus }> {
      return completeRefund(prisma, input);
    },

    async failRefund(input: { refundId: string; reason: string }): Promise<void> {
      await failRefund(prisma, input);
    },

    /** A refund the provider failed after we recorded it COMPLETED becomes FAILED; answers what changed. */
    async reverseCompletedRefund(input: {
      refundId: string;
      reason: string;
    }): Promise<{ orderId: string; amount: number; currency: string; paymentStatus: PaymentStatus } | undefined> {
      return reverseCompletedRefund(prisma, input);
    },
  };
}
