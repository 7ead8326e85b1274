/**
 * An admin's actions on returns, one implementation shared by the admin API (src/api/returns.ts)
 * and the ops CLI (scripts/ops-returns.ts): list, show, receive the goods, reject. Receiving and
 * rejecting go through the return's workflow (`return-<returnId>`), whose activities write the
 * audit entry under the admin's id with the note or reason, so both callers are audited alike.
 */
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import type { PrismaClient } from '../platform/db';
import { DomainError } from '../platform/errors';
import { returnWorkflowId } from '../workflows/ids';
import { receiveReturnUpdate, rejectReturnUpdate, type ReturnView } from '../workflows/return/messages';
import { ErrorCode } from '../workflows/vocabulary';
import { presentReturn } from './returns';

const productId = z.string().uuid();
const quantity = z.number().int().min(1).max(1000);
const reason = z.string().trim().min(1).max(500);
export const returnStatuses = ['REQUESTED', 'RECEIVED', 'REFUNDED', 'REFUND_FAILED', 'REJECTED', 'EXPIRED'] as const;

/** A customer's request (POST /api/orders/:id/returns). */
export const requestBody = z.object({ lines: z.array(z.object({ productId, quantity })).min(1).max(100), reason });
/** What arrived: each line's units by condition (fewer than asked for is fine). */
export const receiveBody = z.object({
  lines: z
    .array(z.object({ productId, quantity, condition: z.enum(['RESTOCK', 'DAMAGED']) }))
    .min(1)
    .max(200),
  refundShipping: z.boolean().optional(),
  note: z.string().trim().min(1).max(500).optional(),
});
export const rejectBody = z.object({ reason });
export const listQuery = z.object({
  status: z.enum(returnStatuses).optional(),
  orderId: z.string().uuid().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

interface Deps {
  prisma: PrismaClient;
  temporal: Client;
}

async function stored(prisma: PrismaClient, returnId: string) {
  const ret = await prisma.return.findUnique({ where: { id: returnId }, include: { lines: true } });
  if (!ret) throw new DomainError(ErrorCode.RETURN_NOT_FOUND, `No return ${returnId}`);
  return ret;
}

/** A return still waiting for its goods, or 409 INVALID_RETURN_STATE. */
async function waiting(prisma: PrismaClient, returnId: string) {
  const ret = await stored(prisma, returnId);
  if (ret.status !== 'REQUESTED')
    throw new DomainError(ErrorCode.INVALID_RETURN_STATE, `The return is ${ret.status}`, { status: ret.status });
  return ret;
}

export async function showReturn(prisma: PrismaClient, returnId: string) {
  return presentReturn(await stored(prisma, returnId));
}

/** The goods arrived: restocked, and the received lines refunded, by the return's workflow. */
export async function receiveReturnGoods(
  deps: Deps,
  returnId: string,
  receipt: z.infer<typeof receiveBody>,
  adminId: string,
): Promise<ReturnView> {
  const ret = await waiting(deps.prisma, returnId);
  return deps.temporal.workflow
    .getHandle(returnWorkflowId(ret.id))
    .executeUpdate(receiveReturnUpdate, { args: [{ adminId, ...receipt }] });
}

export async function rejectReturn(deps: Deps, returnId: string, reason: string, adminId: string): Promise<ReturnView> {
  const ret = await waiting(deps.prisma, returnId);
  return deps.temporal.workflow
    .getHandle(returnWorkflowId(ret.id))
    .executeUpdate(rejectReturnUpdate, { args: [{ adminId, reason }] });
}
