/**
 * The runbook's "Manually Adjusting Inventory": an admin sets one product's (or variant's) count
 * on hand, with a reason, and the change is an ADJUSTMENT row in the ledger (who, why, before and
 * after) and an audit entry. Setting it below the units unpaid orders hold is refused
 * (STOCK_BELOW_RESERVED): those units are promised. The list of adjustments is the ledger's.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { PrismaClient } from '../platform/db';
import { audit } from '../access/audit';
import { ErrorCode } from '../workflows/vocabulary';
import { DomainError } from '../platform/errors';
import { recordStockMovement, type MovementResult } from './ledger';

export const adjustmentBody = z.object({
  productId: z.string().uuid(),
  variantId: z.string().uuid().optional(),
  newStock: z.number().int().min(0).max(1_000_000),
  reason: z.string().trim().min(1).max(500),
  reference: z.string().trim().min(1).max(200).optional(),
});
export type AdjustmentInput = z.infer<typeof adjustmentBody>;

export const adjustmentsQuery = z.object({
  productId: z.string().uuid().optional(),
  from: z.coerce.date().optional(),
  to: z.coerce.date().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** Turns a refused movement into the error its caller shows. */
export function movementRefused(
  result: Extract<MovementResult, { status: 'REFUSED' }>,
  target: { productId: string; variantId?: string | null },
  requested: number,
): DomainError {
  if (result.refusal === 'NOT_FOUND')
    return target.variantId
      ? new DomainError(ErrorCode.VARIANT_NOT_FOUND, `No variant ${target.variantId} of product ${target.productId}`)
      : new DomainError(ErrorCode.PRODUCT_NOT_FOUND, `No product ${target.productId}`);
  const reserved = result.current?.reserved ?? 0;
  return new DomainError(
    ErrorCode.STOCK_BELOW_RESERVED,
    `Stock cannot be ${requested}: unpaid orders hold ${reserved} units`,
    { ...target, requested, reserved, stock: result.current?.stock },
  );
}

/** A product with variants keeps its stock on the variants: name one. */
export async function assertStockTarget(
  prisma: Pick<PrismaClient, 'productVariant'>,
  target: { productId: string; variantId?: string | null },
) {
  if (target.variantId) return;
  if ((await prisma.productVariant.count({ where: { productId: target.productId } })) > 0)
    throw new DomainError(ErrorCode.VARIANT_REQUIRED, `Product ${target.productId} has variants: name a variantId`, {
      productId: target.productId,
    });
}

/**
 * Sets the count on hand. With `idempotencyKey` (the client's Idempotency-Key), a retry answers
 * the first adjustment and changes nothing.
 */
export async function adjustStock(
  prisma: PrismaClient,
  input: AdjustmentInput,
  actorId: string,
  idempotencyKey?: string,
) {
  await assertStockTarget(prisma, input);
  return prisma.$transaction(async (tx) => {
    const result = await recordStockMovement(tx, {
      productId: input.productId,
      variantId: input.variantId,
      type: 'ADJUSTMENT',
      setStock: input.newStock,
      actor: actorId,
      reason: input.reason,
      reference: input.reference,
      idempotencyKey: `adjustment:${idempotencyKey ? `${actorId}:${idempotencyKey}` : randomUUID()}`,
    });
    if (result.status === 'REFUSED') throw movementRefused(result, input, input.newStock);
    const adjustment = {
      adjustmentId: result.entryId,
      productId: input.productId,
      ...(input.variantId ? { variantId: input.variantId } : {}),
      previousStock: result.previous.stock,
      newStock: result.next.stock,
      quantity: result.next.stock - result.previous.stock,
      reservedStock: result.next.reserved,
      reason: input.reason,
      reference: input.reference ?? null,
    };
    if (result.status === 'APPLIED')
      await audit(tx, {
        id: result.entryId,
        actorId,
        action: 'INVENTORY_ADJUSTED',
        targetType: input.variantId ? 'product_variant' : 'product',
        targetId: input.variantId ?? input.productId,
        reason: input.reason,
        before: { stock: result.previous.stock },
        after: { stock: result.next.stock, reference: input.reference },
      });
    return adjustment;
  });
}

/** Adjustments, newest first, with who made each (id and email) and why. */
export async function listAdjustments(prisma: PrismaClient, query: z.infer<typeof adjustmentsQuery>) {
  const rows = await prisma.inventoryLedger.findMany({
    where: {
      type: 'ADJUSTMENT',
      productId: query.productId,
      createdAt: { gte: query.from, lte: query.to },
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: query.limit,
  });
  const actors = await prisma.user.findMany({
    where: { id: { in: [...new Set(rows.map((r) => r.actor))].filter((id) => /^[0-9a-f-]{36}$/.test(id)) } },
    select: { id: true, email: true },
  });
  return {
    adjustments: rows.map((r) => ({
      adjustmentId: r.id,
      productId: r.productId,
      variantId: r.variantId,
      previousStock: r.previousStock,
      newStock: r.newStock,
      quantity: r.newStock - r.previousStock,
      reason: r.reason,
      reference: r.reference,
      adjustedBy: { id: r.actor, email: actors.find((a) => a.id === r.actor)?.email ?? null },
      adjustedAt: r.createdAt.toISOString(),
    })),
  };
}
