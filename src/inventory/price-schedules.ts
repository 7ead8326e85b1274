/**
 * Scheduled price changes (issue 15 point 7, RachelFoods' "future consideration"): an admin
 * names new prices for a set of products or variants, a start and an optional end (a sale that
 * reverts), with a reason. This module validates and records the request; the workflow
 * price-schedule-<id> runs its steps (src/inventory/price-schedule-steps).
 *
 * Overlaps are refused, not layered: schedules that have not finished never hold one product
 * or variant at the same time (a sale from its start to its end, a change for good at its start
 * only). A second one whose window meets the first is refused (409 PRICE_SCHEDULE_OVERLAP, naming
 * it), so what a price will be at any moment is one schedule's answer, and a sale's end never
 * undoes another change. Back to back is fine. Orders are unaffected: each order line keeps the
 * unit price it was placed at.
 */
import { z } from 'zod';
import type { PrismaClient, Transaction } from '../platform/db';
import { audit } from '../access/audit';
import { ErrorCode } from '../workflows/vocabulary';
import { DomainError } from '../platform/errors';
import { price } from './catalogue';
import type { PriceScheduleStatus } from '../workflows/price-schedule/messages';

const instant = z.iso.datetime({ offset: true });

export const priceScheduleBody = z.object({
  lines: z
    .array(z.object({ productId: z.string().uuid(), variantId: z.string().uuid().optional(), price }))
    .min(1)
    .max(500),
  startsAt: instant,
  endsAt: instant.optional(),
  reason: z.string().trim().min(1).max(500),
  reference: z.string().trim().min(1).max(200).optional(),
});
export type PriceScheduleRequest = z.infer<typeof priceScheduleBody>;

export const priceSchedulesQuery = z.object({
  productId: z.string().uuid().optional(),
  status: z.enum(['SCHEDULED', 'ACTIVE', 'COMPLETED', 'CANCELLED', 'MISSED', 'NOT_STARTED']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

/** Schedules that may still change a price. */
const UNFINISHED: PriceScheduleStatus[] = ['SCHEDULED', 'ACTIVE'];

export type Target = { productId: string; variantId?: string | null };
const targetKey = (t: Target) => `${t.productId}:${t.variantId ?? ''}`;
/** A Prisma filter for the lines of one product (or variant). */
export const sameTarget = (t: Target) => ({ productId: t.productId, variantId: t.variantId ?? null });

/** Every write to scheduled prices takes this lock first: the overlap check and each step see one another whole. */
export async function lockPrices(tx: Transaction) {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('price-schedules'))`;
}

/** The times and lines, refused with VALIDATION_ERROR (or a 404 code) before anything is recorded. */
async function validated(
  prisma: PrismaClient,
  input: PriceScheduleRequest,
  options: { now: Date; startToleranceMs: number },
) {
  const startsAt = new Date(input.startsAt);
  const endsAt = input.endsAt ? new Date(input.endsAt) : null;
  if (startsAt.getTime() < options.now.getTime() - options.startToleranceMs)
    throw new DomainError(ErrorCode.VALIDATION_ERROR, `startsAt ${input.startsAt} is in the past`, {
      field: 'startsAt',
      now: options.now.toISOString(),
    });
  if (endsAt && endsAt <= startsAt)
    throw new DomainError(ErrorCode.VALIDATION_ERROR, 'endsAt must be after startsAt', { field: 'endsAt' });
  const keys = input.lines.map(targetKey);
  const repeated = keys.filter((k, i) => keys.indexOf(k) !== i);
  if (repeated.length > 0)
    throw new DomainError(ErrorCode.VALIDATION_ERROR, 'A product (or variant) is listed twice', { repeated });
  const productIds = [...new Set(input.lines.map((l) => l.productId))];
  const found = await prisma.product.findMany({ where: { id: { in: productIds } }, select: { id: true } });
  const unknown = productIds.filter((id) => !found.some((p) => p.id === id));
  if (unknown.length > 0)
    throw new DomainError(ErrorCode.PRODUCT_NOT_FOUND, `Unknown products: ${unknown.join(', ')}`, {
      productIds: unknown,
    });
  const named = input.lines.filter((l) => l.variantId);
  const variants = await prisma.productVariant.findMany({
    where: { id: { in: named.map((l) => l.variantId!) } },
    select: { id: true, productId: true },
  });
  const unknownVariants = named.filter(
    (l) => !variants.some((v) => v.id === l.variantId && v.productId === l.productId),
  );
  if (unknownVariants.length > 0)
    throw new DomainError(ErrorCode.VARIANT_NOT_FOUND, 'Unknown variants of these products', {
      variantIds: unknownVariants.map((l) => l.variantId),
    });
  return { startsAt, endsAt };
}

/** The time a schedule holds its products: [start, end), or its start alone for a change for good. */
const window = (s: { startsAt: Date; endsAt: Date | null }) => ({
  from: s.startsAt.getTime(),
  to: s.endsAt ? s.endsAt.getTime() : s.startsAt.getTime() + 1,
});

/** Validates and records the schedule (SCHEDULED) with its lines, audited; refuses an overlap. */
export async function requestPriceSchedule(
  prisma: PrismaClient,
  scheduleId: string,
  input: PriceScheduleRequest,
  actorId: string,
  options: { now: Date; startToleranceMs: number },
): Promise<void> {
  const { startsAt, endsAt } = await validated(prisma, input, options);
  await prisma.$transaction(async (tx) => {
    await lockPrices(tx);
    const mine = window({ startsAt, endsAt });
    const held = await tx.priceScheduleLine.findMany({
      where: { schedule: { status: { in: UNFINISHED } }, OR: input.lines.map(sameTarget) },
      include: { schedule: true },
    });
    const conflicts = held.filter((l) => {
      const theirs = window(l.schedule);
      return mine.from < theirs.to && theirs.from < mine.to;
    });
    if (conflicts.length > 0)
      throw new DomainError(
        ErrorCode.PRICE_SCHEDULE_OVERLAP,
        `Another price schedule holds these products then: ${[...new Set(conflicts.map((c) => c.scheduleId))].join(', ')}`,
        {
          conflicts: conflicts.map((c) => ({
            scheduleId: c.scheduleId,
            productId: c.productId,
            variantId: c.variantId,
            startsAt: c.schedule.startsAt.toISOString(),
            endsAt: c.schedule.endsAt?.toISOString() ?? null,
          })),
        },
      );
    await tx.priceSchedule.create({
      data: {
        id: scheduleId,
        status: 'SCHEDULED',
        reason: input.reason,
        reference: input.reference,
        startsAt,
        endsAt,
        requestedBy: actorId,
        lines: {
          create: input.lines.map((l, i) => ({
            line: i + 1,
            productId: l.productId,
            variantId: l.variantId,
            price: l.price,
          })),
        },
      },
    });
    const when = { scheduleId, startsAt: startsAt.toISOString(), endsAt: endsAt?.toISOString() ?? null };
    await audit(tx, {
      actorId,
      action: 'PRICE_SCHEDULE_CREATED',
      targetType: 'price_schedule',
      targetId: scheduleId,
      reason: input.reason,
      after: { ...when, reference: input.reference, lines: input.lines },
    });
    for (const l of input.lines)
      await audit(tx, {
        actorId,
        action: 'PRICE_CHANGE_SCHEDULED',
        targetType: 'product',
        targetId: l.productId,
        reason: input.reason,
        after: { ...when, variantId: l.variantId ?? null, price: l.price },
      });
  });
}

/** A schedule whose workflow could not be started: it never changes anything and holds nothing. */
export async function markNotStarted(prisma: PrismaClient, scheduleId: string): Promise<void> {
  await prisma.priceSchedule.updateMany({
    where: { id: scheduleId, status: 'SCHEDULED' },
    data: { status: 'NOT_STARTED' },
  });
}
