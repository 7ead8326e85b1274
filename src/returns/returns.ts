/**
 * Returns after delivery (DESIGN.md "Returns and disputes"): one implementation of each step,
 * called by the return workflow's activities and read by the admin API and the ops CLI. A
 * customer may send back delivered units within the return window, each unit once; the admin
 * who receives the parcel says what came back and in which condition; resellable units go back
 * to stock (ledger RETURN); the refund itself is the refund workflow's, under the refund rules.
 * Every step is one transaction with its audit entry, safe to retry (keyed by the return id).
 */
import { DomainError } from '../platform/errors';
import { audit } from '../access/audit';
import { disputeStanding, refuseWhileDisputed } from '../disputes/standing';
import { moveStock } from '../inventory/stock';
import { refundableAmount } from '../refunds/refundable';
import { txOptions, type PrismaClient, type Transaction } from '../platform/db';
import { lockOrder } from '../orders/lock';
import { ErrorCode, SYSTEM, type Actor } from '../workflows/vocabulary';
import type { ReturnLineRequest, ReturnReceipt, ReturnStatus, ReturnWorkflowInput } from '../workflows/return/messages';

export interface OpenedReturn {
  currency: string;
  expiresAt: string;
  lines: (ReturnLineRequest & { unitPrice: number })[];
}

/** Units of each product already on their way back or received under the order's other returns. */
async function unitsReturned(tx: Transaction, orderId: string, except: string): Promise<Map<string, number>> {
  const returns = await tx.return.findMany({
    where: { orderId, id: { not: except }, status: { notIn: ['REJECTED', 'EXPIRED'] } },
    include: { lines: true },
  });
  const units = new Map<string, number>();
  for (const r of returns)
    for (const line of r.lines) {
      const counted = r.status === 'REQUESTED' ? line.quantity : line.restocked + line.damaged;
      units.set(line.productId, (units.get(line.productId) ?? 0) + counted);
    }
  return units;
}

/**
 * Records a customer's return request after checking, with the order locked: delivered, within
 * the window, not disputed, something left to refund, and every line at most what was delivered
 * and not returned already (409 RETURN_QUANTITY_TOO_HIGH for the same units twice).
 */
export async function openReturn(
  prisma: PrismaClient,
  input: Pick<
    ReturnWorkflowInput,
    'returnId' | 'orderId' | 'customerId' | 'lines' | 'reason' | 'returnWindowMs' | 'receiveWithinMs'
  >,
): Promise<OpenedReturn> {
  return prisma.$transaction(async (tx) => {
    if (!(await lockOrder(tx, input.orderId)))
      throw new DomainError(ErrorCode.ORDER_NOT_FOUND, `No order ${input.orderId}`);
    const existing = await tx.return.findUnique({ where: { id: input.returnId }, include: { lines: true } });
    if (existing) return presentOpened(existing);
    const order = await tx.order.findUniqueOrThrow({ where: { id: input.orderId }, include: { items: true } });
    if (order.customerId !== input.customerId)
      throw new DomainError(ErrorCode.FORBIDDEN, 'This order belongs to another customer');
    if (!order.deliveredAt)
      throw new DomainError(
        ErrorCode.ORDER_NOT_DELIVERED,
        `Only a delivered order can be returned (order ${order.status})`,
        {
          status: order.status,
        },
      );
    const closesAt = new Date(order.deliveredAt.getTime() + input.returnWindowMs);
    if (Date.now() > closesAt.getTime())
      throw new DomainError(ErrorCode.RETURN_WINDOW_CLOSED, `The return window closed at ${closesAt.toISOString()}`, {
        deliveredAt: order.deliveredAt.toISOString(),
        closedAt: closesAt.toISOString(),
      });
    const standing = await disputeStanding(tx, input.orderId);
    refuseWhileDisputed(standing);
    if (order.paymentStatus === 'REFUNDED' || (await refundableAmount(tx, order, standing)) <= 0)
      throw new DomainError(ErrorCode.REFUND_ALREADY_PROCESSED, 'Refund already processed for this order', {
        status: order.status,
        paymentStatus: order.paymentStatus,
      });
    const returned = await unitsReturned(tx, input.orderId, input.returnId);
    const lines = input.lines.map((line) => {
      const item = order.items.find((i) => i.productId === line.productId);
      if (!item)
        throw new DomainError(
          ErrorCode.VALIDATION_ERROR,
          `Product ${line.productId} is not in order ${input.orderId}`,
          {
            productId: line.productId,
          },
        );
      const returnable = item.quantity - (returned.get(line.productId) ?? 0);
      if (line.quantity > returnable)
        throw new DomainError(
          ErrorCode.RETURN_QUANTITY_TOO_HIGH,
          `At most ${returnable} of ${item.sku} can still be returned (${item.quantity} delivered)`,
          { productId: line.productId, delivered: item.quantity, returnable },
        );
      return { ...line, unitPrice: item.unitPrice };
    });
    const created = await tx.return.create({
      data: {
        id: input.returnId,
        orderId: input.orderId,
        customerId: input.customerId,
        reason: input.reason,
        currency: order.currency,
        expiresAt: new Date(Date.now() + input.receiveWithinMs),
        lines: { create: lines },
      },
      include: { lines: true },
    });
    await audit(tx, {
      actorId: input.customerId,
      action: 'RETURN_REQUESTED',
      targetType: 'return',
      targetId: input.returnId,
      reason: input.reason,
      after: { orderId: input.orderId, lines: input.lines },
    });
    return presentOpened(created);
  }, txOptions);
}

function presentOpened(r: {
  currency: string;
  expiresAt: Date;
  lines: { productId: string; quantity: number; unitPrice: number }[];
}): OpenedReturn {
  return {
    currency: r.currency,
    expiresAt: r.expiresAt.toISOString(),
    lines: r.lines.map((l) => ({ productId: l.productId, quantity: l.quantity, unitPrice: l.unitPrice })),
  };
}

export interface ReceivedReturn {
  /** What the received lines are worth (plus shipping when the admin said so), minor units. */
  amount: number;
  currency: string;
  lines: { productId: string; restocked: number; damaged: number }[];
}

/**
 * The parcel arrived: records each line's units by condition (fewer than asked is fine), puts the
 * resellable ones back in stock (ledger RETURN, keyed by the return), and answers what the
 * received lines are worth. Orders carry no shipping charge, so `refundShipping` adds nothing yet.
 */
export async function receiveReturn(
  prisma: PrismaClient,
  input: { returnId: string } & ReturnReceipt,
): Promise<ReceivedReturn> {
  return prisma.$transaction(async (tx) => {
    const ret = await tx.return.findUnique({ where: { id: input.returnId }, include: { lines: true } });
    if (!ret) throw new DomainError(ErrorCode.RETURN_NOT_FOUND, `No return ${input.returnId}`);
    if (ret.status !== 'REQUESTED') {
      if (ret.receivedBy) return presentReceived(ret); // recorded by an earlier attempt
      throw new DomainError(ErrorCode.INVALID_RETURN_STATE, `The return is ${ret.status}`, { status: ret.status });
    }
    await lockOrder(tx, ret.orderId);
    const counts = receivedCounts(input.lines);
    for (const line of ret.lines) {
      const got = counts.get(line.productId) ?? { restocked: 0, damaged: 0 };
      await tx.returnLine.update({ where: { id: line.id }, data: got });
      line.restocked = got.restocked;
      line.damaged = got.damaged;
    }
    const resellable = ret.lines
      .filter((l) => l.restocked > 0)
      .map((l) => ({ productId: l.productId, quantity: l.restocked }));
    const actor: Actor = { id: input.adminId, role: 'ADMIN' };
    await moveStock(tx, 'RETURN', ret.id, resellable, actor, `Returned in resellable condition (return ${ret.id})`);
    const received = await tx.return.update({
      where: { id: ret.id },
      data: {
        status: 'RECEIVED',
        receivedBy: input.adminId,
        receivedAt: new Date(),
        refundShipping: input.refundShipping ?? false,
      },
      include: { lines: true },
    });
    const result = presentReceived(received);
    await audit(tx, {
      actorId: input.adminId,
      action: 'RETURN_RECEIVED',
      targetType: 'return',
      targetId: ret.id,
      reason: input.note,
      before: { status: 'REQUESTED' },
      after: { status: 'RECEIVED', ...result, refundShipping: input.refundShipping ?? false },
    });
    return result;
  }, txOptions);
}

function receivedCounts(lines: ReturnReceipt['lines']): Map<string, { restocked: number; damaged: number }> {
  const counts = new Map<string, { restocked: number; damaged: number }>();
  for (const line of lines) {
    const c = counts.get(line.productId) ?? { restocked: 0, damaged: 0 };
    if (line.condition === 'RESTOCK') c.restocked += line.quantity;
    else c.damaged += line.quantity;
    counts.set(line.productId, c);
  }
  return counts;
}

function presentReceived(r: {
  currency: string;
  lines: { productId: string; unitPrice: number; restocked: number; damaged: number }[];
}): ReceivedReturn {
  return {
    amount: r.lines.reduce((sum, l) => sum + l.unitPrice * (l.restocked + l.damaged), 0),
    currency: r.currency,
    lines: r.lines.map((l) => ({ productId: l.productId, restocked: l.restocked, damaged: l.damaged })),
  };
}

/** Ends a return that is still waiting for its goods: REJECTED by an admin, or EXPIRED. Answers whether it changed. */
export async function closeWaitingReturn(
  prisma: PrismaClient,
  input: { returnId: string; status: 'REJECTED' | 'EXPIRED'; actorId?: string; reason: string },
): Promise<boolean> {
  return prisma.$transaction(async (tx) => {
    const actorId = input.actorId ?? SYSTEM.id;
    const { count } = await tx.return.updateMany({
      where: { id: input.returnId, status: 'REQUESTED' },
      data: { status: input.status, decidedBy: actorId, decisionReason: input.reason, closedAt: new Date() },
    });
    if (count === 0) return false;
    await audit(tx, {
      actorId,
      action: input.status === 'REJECTED' ? 'RETURN_REJECTED' : 'RETURN_EXPIRED',
      targetType: 'return',
      targetId: input.returnId,
      reason: input.reason,
      before: { status: 'REQUESTED' },
      after: { status: input.status },
    });
    return true;
  }, txOptions);
}

/** How the return's refund ended (REFUNDED, or REFUND_FAILED with why), once. */
export async function recordReturnRefund(
  prisma: PrismaClient,
  input: { returnId: string; refundId?: string; amount: number; status: 'REFUNDED' | 'REFUND_FAILED'; detail: string },
): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const { count } = await tx.return.updateMany({
      where: { id: input.returnId, status: 'RECEIVED' },
      data: {
        status: input.status,
        refundId: input.refundId,
        refundAmount: input.amount,
        decisionReason: input.status === 'REFUND_FAILED' ? input.detail : undefined,
        closedAt: new Date(),
      },
    });
    if (count === 0) return;
    await audit(tx, {
      actorId: SYSTEM.id,
      action: input.status === 'REFUNDED' ? 'RETURN_REFUNDED' : 'RETURN_REFUND_FAILED',
      targetType: 'return',
      targetId: input.returnId,
      reason: input.detail,
      before: { status: 'RECEIVED' },
      after: { status: input.status, refundId: input.refundId, amount: input.amount },
    });
  }, txOptions);
}

/** Returns for the admin list, newest first. */
export async function listReturns(
  prisma: PrismaClient,
  filter: { status?: ReturnStatus; orderId?: string; limit?: number },
) {
  const returns = await prisma.return.findMany({
    where: { status: filter.status, orderId: filter.orderId },
    include: {
      lines: { select: { productId: true, quantity: true, unitPrice: true, restocked: true, damaged: true } },
    },
    orderBy: { createdAt: 'desc' },
    take: filter.limit ?? 50,
  });
  return returns.map(presentReturn);
}

export function presentReturn(r: {
  id: string;
  orderId: string;
  customerId: string;
  status: string;
  reason: string;
  currency: string;
  expiresAt: Date;
  receivedBy: string | null;
  refundId: string | null;
  refundAmount: number | null;
  decidedBy: string | null;
  decisionReason: string | null;
  createdAt: Date;
  lines: { productId: string; quantity: number; unitPrice: number; restocked: number; damaged: number }[];
}) {
  return {
    returnId: r.id,
    orderId: r.orderId,
    customerId: r.customerId,
    status: r.status,
    reason: r.reason,
    currency: r.currency,
    expiresAt: r.expiresAt.toISOString(),
    receivedBy: r.receivedBy,
    refundId: r.refundId,
    refundAmount: r.refundAmount,
    decidedBy: r.decidedBy,
    decisionReason: r.decisionReason,
    createdAt: r.createdAt.toISOString(),
    lines: r.lines.map((l) => ({
      productId: l.productId,
      quantity: l.quantity,
      unitPrice: l.unitPrice,
      restocked: l.restocked,
      damaged: l.damaged,
    })),
  };
}
