/**
 * The runbook's "Reset Product Inventory" without its SQL: a reset is requested with its lines,
 * snapshotted, applied in one transaction (all or nothing; a bad line refuses the whole reset,
 * naming every bad line), verified against the ledger, and may be rolled back. The rollback
 * reverses each line's change as a delta, so sales made since the reset are kept (the runbook's
 * copy of the backup erased them); a line whose reversal would leave fewer units on hand than
 * unpaid orders hold is refused and reported. The workflow inventory-reset-<id> runs the steps.
 */
import { z } from 'zod';
import type { Prisma } from '../generated/prisma/client';
import { longTxOptions, type PrismaClient } from '../platform/db';
import { audit } from '../access/audit';
import { ErrorCode } from '../workflows/vocabulary';
import type { ResetLineResult, ResetRollbackLine, ResetStatus, ResetView } from '../workflows/inventory-reset/messages';
import { DomainError } from '../platform/errors';
import { recordStockMovement } from './ledger';

export const resetBody = z.object({
  adjustments: z
    .array(
      z.object({
        productId: z.string().uuid(),
        variantId: z.string().uuid().optional(),
        newQuantity: z.number().int().min(0).max(1_000_000),
        reason: z.string().trim().min(1).max(500),
      }),
    )
    .min(1)
    .max(1000),
  reason: z.string().trim().min(1).max(500),
  reference: z.string().trim().min(1).max(200),
});
export type ResetRequest = z.infer<typeof resetBody>;
type RequestedLine = ResetRequest['adjustments'][number];

const asJson = (value: unknown) => value as Prisma.InputJsonValue;

/** Records the request (PENDING) and audits it; the workflow does the rest. */
export async function requestReset(prisma: PrismaClient, resetId: string, input: ResetRequest, actorId: string) {
  await prisma.$transaction(async (tx) => {
    await tx.inventoryReset.create({
      data: {
        id: resetId,
        status: 'PENDING',
        reason: input.reason,
        reference: input.reference,
        requestedBy: actorId,
        lines: asJson(input.adjustments),
      },
    });
    await audit(tx, {
      actorId,
      action: 'INVENTORY_RESET_REQUESTED',
      targetType: 'inventory_reset',
      targetId: resetId,
      reason: input.reason,
      after: { reference: input.reference, lines: input.adjustments },
    });
  });
}

async function loadReset(prisma: PrismaClient, resetId: string) {
  const reset = await prisma.inventoryReset.findUnique({ where: { id: resetId } });
  if (!reset) throw new DomainError(ErrorCode.RESET_NOT_FOUND, `No inventory reset ${resetId}`);
  return { ...reset, requested: reset.lines as unknown as (RequestedLine & Partial<ResetLineResult>)[] };
}

async function setStatus(prisma: PrismaClient, resetId: string, status: ResetStatus, data: object = {}) {
  await prisma.inventoryReset.update({ where: { id: resetId }, data: { status, ...data } });
}

/** Step 1: the stock of every line as it stands now, kept with the reset (the runbook's backup). */
export async function snapshotReset(prisma: PrismaClient, resetId: string): Promise<void> {
  const reset = await loadReset(prisma, resetId);
  if (reset.snapshot) return;
  const snapshot = [];
  for (const line of reset.requested) {
    const row = line.variantId
      ? await prisma.productVariant.findFirst({ where: { id: line.variantId, productId: line.productId } })
      : await prisma.product.findUnique({ where: { id: line.productId } });
    snapshot.push({ ...target(line), stock: row?.stock ?? null, reservedStock: row?.reservedStock ?? null });
  }
  await setStatus(prisma, resetId, 'SNAPSHOTTED', { snapshot: asJson(snapshot) });
}

const target = (line: { productId: string; variantId?: string | null }) => ({
  productId: line.productId,
  ...(line.variantId ? { variantId: line.variantId } : {}),
});
const lineKey = (line: { productId: string; variantId?: string | null }) => `${line.productId}:${line.variantId ?? ''}`;

/**
 * Step 2: every line in one transaction. Answers the lines with their stock before and after;
 * refuses (RESET_REFUSED, nothing changed) with one error per bad line.
 */
export async function applyReset(prisma: PrismaClient, resetId: string): Promise<ResetLineResult[]> {
  const reset = await loadReset(prisma, resetId);
  if (reset.status === 'REFUSED')
    throw new DomainError(ErrorCode.RESET_REFUSED, 'The reset was refused', { errors: reset.errors });
  const errors: { line: number; productId: string; variantId?: string; code: string; message: string }[] = [];
  const results: ResetLineResult[] = [];
  const seen = new Set<string>();
  try {
    await prisma.$transaction(async (tx) => {
      for (const [index, line] of reset.requested.entries()) {
        const refuse = (code: string, message: string) =>
          errors.push({ line: index + 1, ...target(line), code, message });
        if (seen.has(lineKey(line))) {
          refuse('DUPLICATE_LINE', 'The same product (or variant) is listed twice');
          continue;
        }
        seen.add(lineKey(line));
        if (!line.variantId && (await tx.productVariant.count({ where: { productId: line.productId } })) > 0) {
          refuse(ErrorCode.VARIANT_REQUIRED, 'This product keeps its stock on its variants: name a variantId');
          continue;
        }
        const result = await recordStockMovement(tx, {
          ...target(line),
          type: 'RESET',
          setStock: line.newQuantity,
          actor: reset.requestedBy,
          reason: `${reset.reason}: ${line.reason}`,
          reference: reset.reference,
          idempotencyKey: `reset:${resetId}:${index + 1}`,
        });
        if (result.status === 'REFUSED') {
          if (result.refusal === 'NOT_FOUND')
            refuse(
              line.variantId ? ErrorCode.VARIANT_NOT_FOUND : ErrorCode.PRODUCT_NOT_FOUND,
              line.variantId ? `No variant ${line.variantId} of this product` : `No product ${line.productId}`,
            );
          else
            refuse(
              ErrorCode.STOCK_BELOW_RESERVED,
              `Stock cannot be ${line.newQuantity}: unpaid orders hold ${result.current?.reserved} units`,
            );
          continue;
        }
        results.push({
          ...target(line),
          newQuantity: line.newQuantity,
          reason: line.reason,
          previousStock: result.previous.stock,
          newStock: result.next.stock,
        });
      }
      if (errors.length > 0) throw new DomainError(ErrorCode.RESET_REFUSED, 'refused');
      await tx.inventoryReset.update({ where: { id: resetId }, data: { status: 'APPLIED', lines: asJson(results) } });
    }, longTxOptions);
  } catch (error) {
    if (!(error instanceof DomainError) || errors.length === 0) throw error;
    await setStatus(prisma, resetId, 'REFUSED', { errors: asJson(errors) });
    throw new DomainError(
      ErrorCode.RESET_REFUSED,
      `The reset was refused: ${errors.length} of ${reset.requested.length} lines are invalid; nothing changed`,
      { errors },
    );
  }
  return results;
}

/** Step 3: each line's RESET row is in the ledger with its new count, and the ledger adds up for them. */
export async function verifyReset(
  prisma: PrismaClient,
  resetId: string,
): Promise<{ verified: boolean; problems: string[] }> {
  const reset = await loadReset(prisma, resetId);
  const problems: string[] = [];
  for (const [index, line] of reset.requested.entries()) {
    const entry = await prisma.inventoryLedger.findUnique({
      where: { idempotencyKey: `reset:${resetId}:${index + 1}` },
    });
    if (!entry || entry.newStock !== line.newQuantity)
      problems.push(`line ${index + 1}: no RESET row with ${line.newQuantity}`);
    const sums = await prisma.inventoryLedger.aggregate({
      where: { productId: line.productId, variantId: line.variantId ?? null },
      _sum: { newStock: true, previousStock: true },
    });
    const row = line.variantId
      ? await prisma.productVariant.findUnique({ where: { id: line.variantId } })
      : await prisma.product.findUnique({ where: { id: line.productId } });
    if ((sums._sum.newStock ?? 0) - (sums._sum.previousStock ?? 0) !== row?.stock)
      problems.push(`line ${index + 1}: stock ${row?.stock} disagrees with its ledger`);
  }
  await setStatus(prisma, resetId, problems.length === 0 ? 'VERIFIED' : 'VERIFY_FAILED', {
    ...(problems.length ? { errors: asJson(problems.map((message) => ({ message }))) } : {}),
  });
  return { verified: problems.length === 0, problems };
}

/**
 * Reverses each line's change as a delta (ROLLBACK rows), in one transaction. A line whose
 * reversal would leave stock below its reserved units (or below zero) is refused and reported;
 * the others are reversed.
 */
export async function rollbackReset(
  prisma: PrismaClient,
  input: { resetId: string; actorId: string; reason: string },
): Promise<ResetRollbackLine[]> {
  const reset = await loadReset(prisma, input.resetId);
  if (reset.rollback) return reset.rollback as unknown as ResetRollbackLine[];
  const lines = reset.requested as ResetLineResult[];
  return prisma.$transaction(async (tx) => {
    const outcome: ResetRollbackLine[] = [];
    for (const [index, line] of lines.entries()) {
      const delta = line.previousStock - line.newStock;
      const result = await recordStockMovement(tx, {
        ...target(line),
        type: 'ROLLBACK',
        stockDelta: delta,
        actor: input.actorId,
        reason: `Rollback of reset ${reset.reference ?? input.resetId}: ${input.reason}`,
        reference: reset.reference,
        idempotencyKey: `reset-rollback:${input.resetId}:${index + 1}`,
      });
      outcome.push(
        result.status === 'REFUSED'
          ? {
              ...target(line),
              delta,
              status: 'REFUSED',
              message:
                result.refusal === 'NOT_FOUND'
                  ? 'The product is gone'
                  : `Reversing ${delta} would leave ${(result.current?.stock ?? 0) + delta} on hand, below the ${result.current?.reserved} units unpaid orders hold`,
            }
          : {
              ...target(line),
              delta,
              status: 'REVERSED',
              previousStock: result.previous.stock,
              newStock: result.next.stock,
            },
      );
    }
    const refused = outcome.filter((l) => l.status === 'REFUSED').length;
    await tx.inventoryReset.update({
      where: { id: input.resetId },
      data: { status: refused ? 'PARTIALLY_ROLLED_BACK' : 'ROLLED_BACK', rollback: asJson(outcome) },
    });
    await audit(tx, {
      id: input.resetId,
      actorId: input.actorId,
      action: 'INVENTORY_RESET_ROLLED_BACK',
      targetType: 'inventory_reset',
      targetId: input.resetId,
      reason: input.reason,
      after: { lines: outcome },
    });
    return outcome;
  }, longTxOptions);
}

/** Where the reset stands, with its lines (and their rollback, if any). */
export async function resetView(prisma: PrismaClient, resetId: string, workflowId: string): Promise<ResetView> {
  const reset = await loadReset(prisma, resetId);
  return {
    resetId,
    workflowId,
    status: reset.status as ResetStatus,
    reason: reset.reason,
    reference: reset.reference,
    requestedBy: reset.requestedBy,
    lines: reset.requested.map((l) => ({
      ...target(l),
      newQuantity: l.newQuantity,
      reason: l.reason,
      previousStock: l.previousStock ?? null,
      newStock: l.newStock ?? null,
    })),
    errors: (reset.errors as ResetView['errors']) ?? [],
    rollback: (reset.rollback as unknown as ResetRollbackLine[]) ?? null,
    createdAt: reset.createdAt.toISOString(),
  };
}
