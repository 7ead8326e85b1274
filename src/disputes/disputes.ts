/**
 * Provider disputes (chargebacks) of our payments, one record per provider dispute, written only
 * by the dispute workflow's activities and read by the admin API and the ops CLI. Events may come
 * twice or out of order: a decided dispute stays decided, an event older than the newest one
 * applied changes no field, and every change is audited as the provider's. Here too the provider
 * calls a dispute needs: finding a charge's PaymentIntent, submitting evidence to Stripe.
 */
import type Stripe from 'stripe';
import { DomainError } from '../platform/errors';
import { callStripe } from '../payments/provider-calls';
import { v5 as uuidv5 } from 'uuid';
import { audit } from '../access/audit';
import { lockOrder } from '../orders/lock';
import { paymentStatusAfterRefunds } from '../refunds/refundable';
import { txOptions, type PrismaClient } from '../platform/db';
import { ErrorCode, type PaymentProvider } from '../workflows/vocabulary';
import type { DisputeEvent, DisputeState } from '../workflows/dispute/messages';
import { disputeWorkflowId } from '../workflows/ids';

const DISPUTE_NAMESPACE = '0d6c2a57-8a53-4b8e-9a4e-6f1f3f3b9c11';

/** Our id for a provider's dispute: the same whichever of its events arrives first. */
export const disputeRecordId = (provider: PaymentProvider, providerDisputeId: string) =>
  uuidv5(`${provider}:${providerDisputeId}`, DISPUTE_NAMESPACE);

/** The payment of ours a dispute names (PaymentIntent id or Razorpay order id), never metadata. */
export async function findDisputedPayment(
  prisma: PrismaClient,
  provider: PaymentProvider,
  providerPaymentId: string | undefined,
): Promise<{ orderId: string; paymentId: string }> {
  const payment = providerPaymentId
    ? await prisma.payment.findFirst({
        where: { provider, providerPaymentId, status: { in: ['SUCCEEDED', 'REFUNDED'] } },
        select: { id: true, orderId: true },
      })
    : null;
  if (!payment)
    throw new DomainError(
      ErrorCode.ORDER_NOT_FOUND,
      `No payment of ours matches the disputed ${provider} payment ${providerPaymentId ?? '(none named)'}`,
    );
  return { orderId: payment.orderId, paymentId: payment.id };
}

/**
 * Which of our payments (and orders) a dispute is about, and our record's id. An older Stripe API
 * version's dispute names only the charge: its PaymentIntent is ours, or nothing is.
 */
export async function routeDispute(
  prisma: PrismaClient,
  stripe: Stripe,
  input: { provider: PaymentProvider; disputeId: string; providerPaymentId?: string; chargeId?: string },
): Promise<{ orderId: string; paymentId: string; recordId: string }> {
  let providerPaymentId = input.providerPaymentId;
  if (!providerPaymentId && input.provider === 'STRIPE' && input.chargeId) {
    const charge = await callStripe(() => stripe.charges.retrieve(input.chargeId!));
    providerPaymentId = typeof charge.payment_intent === 'string' ? charge.payment_intent : charge.payment_intent?.id;
  }
  const found = await findDisputedPayment(prisma, input.provider, providerPaymentId);
  return { ...found, recordId: disputeRecordId(input.provider, input.disputeId) };
}

export interface DisputeRecord {
  status: DisputeState;
  amount: number;
  currency: string;
  reason: string;
  evidenceDueBy?: string;
  /** This event changed nothing: a duplicate, older than what was applied, or after the decision. */
  ignored: boolean;
}

const decided = (s: DisputeState) => s !== 'OPEN';

/**
 * Applies one provider event to the dispute, the order and its payment, with the order locked.
 * A lost dispute is money the bank gave back: the payment's status counts it (REFUNDED or
 * PARTIALLY_REFUNDED), and a delivered order takes that status as it does for refunds.
 */
export async function applyDisputeEvent(
  prisma: PrismaClient,
  input: { recordId: string; orderId: string; paymentId: string; event: DisputeEvent },
): Promise<DisputeRecord> {
  const { event } = input;
  const occurredAt = new Date(event.occurredAt);
  return prisma.$transaction(async (tx) => {
    await lockOrder(tx, input.orderId);
    const existing = await tx.dispute.findUnique({ where: { id: input.recordId } });
    const fresh = !existing || (occurredAt >= existing.lastEventAt && !decided(existing.status));
    const status: DisputeState = existing && decided(existing.status) ? existing.status : event.state;
    const funds = {
      fundsWithdrawn: (existing?.fundsWithdrawn ?? false) || event.funds === 'WITHDRAWN',
      fundsReinstated: (existing?.fundsReinstated ?? false) || event.funds === 'REINSTATED',
    };
    const fields = {
      status,
      providerStatus: event.providerStatus,
      amount: event.amount,
      currency: event.currency,
      reason: event.reason,
      evidenceDueBy: event.evidenceDueBy ? new Date(event.evidenceDueBy) : undefined,
      lastEventAt: occurredAt,
      closedAt: decided(status) ? new Date() : undefined,
      ...funds,
    };
    // A decision is final and always applies; otherwise only news newer than what we have.
    const applies = !existing || (!decided(existing.status) && (fresh || decided(event.state)));
    const row = !existing
      ? await tx.dispute.create({
          data: {
            id: input.recordId,
            provider: event.provider,
            providerDisputeId: event.disputeId,
            orderId: input.orderId,
            paymentId: input.paymentId,
            ...fields,
          },
        })
      : applies
        ? await tx.dispute.update({ where: { id: input.recordId }, data: fields })
        : funds.fundsWithdrawn !== existing.fundsWithdrawn || funds.fundsReinstated !== existing.fundsReinstated
          ? await tx.dispute.update({ where: { id: input.recordId }, data: funds })
          : existing;
    const changed = !existing || applies;
    if (changed) {
      await tx.payment.update({ where: { id: input.paymentId }, data: { disputeStatus: row.status } });
      const order = await tx.order.findUniqueOrThrow({ where: { id: input.orderId } });
      const paymentStatus = row.status === 'LOST' ? await paymentStatusAfterRefunds(tx, order) : order.paymentStatus;
      const orderStatus =
        row.status === 'LOST' &&
        order.deliveredAt &&
        (paymentStatus === 'REFUNDED' || paymentStatus === 'PARTIALLY_REFUNDED')
          ? paymentStatus
          : order.status;
      await tx.order.update({
        where: { id: input.orderId },
        data: { disputeStatus: row.status, paymentStatus, status: orderStatus },
      });
      await audit(tx, {
        id: uuidv5(`${input.recordId}:${event.eventId}`, DISPUTE_NAMESPACE),
        actorId: `provider:${event.provider.toLowerCase()}`,
        action: !existing ? 'DISPUTE_OPENED' : decided(row.status) ? `DISPUTE_${row.status}` : 'DISPUTE_UPDATED',
        targetType: 'dispute',
        targetId: input.recordId,
        reason: `${event.eventType} (${event.eventId}): ${event.reason}`,
        before: existing ? { status: existing.status, providerStatus: existing.providerStatus } : undefined,
        after: { status: row.status, providerStatus: row.providerStatus, amount: row.amount, orderId: input.orderId },
      });
    }
    return {
      status: row.status,
      amount: row.amount,
      currency: row.currency,
      reason: row.reason,
      evidenceDueBy: row.evidenceDueBy?.toISOString(),
      ignored: !changed,
    };
  }, txOptions);
}

/** Records that evidence went in (through the provider's API where it has one), once, audited. */
export async function recordEvidence(
  prisma: PrismaClient,
  input: { recordId: string; adminId: string; note: string; submittedToProvider: boolean },
): Promise<{ at: string }> {
  return prisma.$transaction(async (tx) => {
    const dispute = await tx.dispute.findUniqueOrThrow({ where: { id: input.recordId } });
    if (dispute.evidenceSubmittedAt) return { at: dispute.evidenceSubmittedAt.toISOString() };
    const at = new Date();
    await tx.dispute.update({
      where: { id: input.recordId },
      data: { evidenceSubmittedAt: at, evidenceSubmittedBy: input.adminId, evidenceNote: input.note },
    });
    await audit(tx, {
      actorId: input.adminId,
      action: 'DISPUTE_EVIDENCE_SUBMITTED',
      targetType: 'dispute',
      targetId: input.recordId,
      reason: input.note,
      after: { submittedToProvider: input.submittedToProvider },
    });
    return { at: at.toISOString() };
  }, txOptions);
}

/** Evidence through the provider where it has an API (Stripe, once per dispute), then our record of it. */
export async function submitEvidence(
  prisma: PrismaClient,
  stripe: Stripe,
  input: { recordId: string; provider: PaymentProvider; disputeId: string; adminId: string; note: string },
): Promise<{ at: string; submittedToProvider: boolean }> {
  const submittedToProvider = input.provider === 'STRIPE';
  if (submittedToProvider)
    await callStripe(() =>
      stripe.disputes.update(
        input.disputeId,
        { evidence: { uncategorized_text: input.note }, submit: true },
        { idempotencyKey: `dispute-evidence-${input.recordId}` },
      ),
    );
  const { at } = await recordEvidence(prisma, { ...input, submittedToProvider });
  return { at, submittedToProvider };
}

/** Disputes for the admin list: the nearest evidence deadline first. */
export async function listDisputes(
  prisma: PrismaClient,
  filter: { status?: DisputeState; provider?: PaymentProvider; orderId?: string; limit?: number },
) {
  const disputes = await prisma.dispute.findMany({
    where: { status: filter.status, provider: filter.provider, orderId: filter.orderId },
    orderBy: [{ evidenceDueBy: { sort: 'asc', nulls: 'last' } }, { createdAt: 'desc' }],
    take: filter.limit ?? 50,
  });
  return disputes.map(presentDispute);
}

export function presentDispute(d: {
  id: string;
  provider: string;
  providerDisputeId: string;
  orderId: string;
  status: string;
  providerStatus: string;
  amount: number;
  currency: string;
  reason: string;
  evidenceDueBy: Date | null;
  evidenceSubmittedAt: Date | null;
  evidenceSubmittedBy: string | null;
  evidenceNote: string | null;
  fundsWithdrawn: boolean;
  fundsReinstated: boolean;
  closedAt: Date | null;
  createdAt: Date;
}) {
  return {
    disputeId: d.id,
    provider: d.provider,
    providerDisputeId: d.providerDisputeId,
    workflowId: disputeWorkflowId(d.provider as PaymentProvider, d.providerDisputeId),
    orderId: d.orderId,
    status: d.status,
    providerStatus: d.providerStatus,
    amount: d.amount,
    currency: d.currency,
    reason: d.reason,
    evidenceDueBy: d.evidenceDueBy?.toISOString() ?? null,
    evidenceSubmittedAt: d.evidenceSubmittedAt?.toISOString() ?? null,
    evidenceSubmittedBy: d.evidenceSubmittedBy,
    evidenceNote: d.evidenceNote,
    fundsWithdrawn: d.fundsWithdrawn,
    fundsReinstated: d.fundsReinstated,
    closedAt: d.closedAt?.toISOString() ?? null,
    createdAt: d.createdAt.toISOString(),
  };
}
