/**
 * The steps of a scheduled price change, run by its workflow price-schedule-<id> as activities
 * (src/inventory/price-schedules has the request and why schedules never overlap):
 *
 * - apply (at the start): every line's new price in one transaction, each keeping the price it
 *   replaces, taken then, not when scheduled; a sale whose whole window has passed is MISSED.
 * - end (at the end, or an admin's cancel): each line goes back to that price unless something
 *   else set the price meanwhile (then that price is kept, and said so).
 *
 * Each runs once: a retry finds the schedule past its step and answers the status. Each writes
 * one audit entry for the schedule and one per product, under `system` (with the workflow id) or
 * the admin who cancelled.
 */
import type { PrismaClient, Transaction } from '../platform/db';
import { audit } from '../access/audit';
import { ErrorCode, SYSTEM } from '../workflows/vocabulary';
import { DomainError } from '../platform/errors';
import type { PriceLineOutcome, PriceScheduleStatus, PriceScheduleStep } from '../workflows/price-schedule/messages';
import { lockPrices, sameTarget, type Target } from './price-schedules';

async function priceOf(tx: Transaction, t: Target): Promise<number | null> {
  if (t.variantId) return (await tx.productVariant.findUniqueOrThrow({ where: { id: t.variantId } })).price;
  return (await tx.product.findUniqueOrThrow({ where: { id: t.productId } })).price;
}

async function setPrice(tx: Transaction, t: Target, value: number | null): Promise<void> {
  if (t.variantId) await tx.productVariant.update({ where: { id: t.variantId }, data: { price: value } });
  else await tx.product.update({ where: { id: t.productId }, data: { price: value! } });
}

async function loadForStep(tx: Transaction, scheduleId: string) {
  const schedule = await tx.priceSchedule.findUnique({
    where: { id: scheduleId },
    include: { lines: { orderBy: { line: 'asc' } } },
  });
  if (!schedule) throw new DomainError(ErrorCode.PRICE_SCHEDULE_NOT_FOUND, `No price schedule ${scheduleId}`);
  return schedule;
}

type LineRow = Awaited<ReturnType<typeof loadForStep>>['lines'][number];

/** A line as applied: the price it replaced, and the sale it was applied under when one was running. */
interface AppliedLine {
  productId: string;
  variantId: string | null;
  previousPrice: number | null;
  price: number;
  underSale?: string;
}

/**
 * One line at its start: the new price, keeping the one it replaces. After an outage the steps
 * of neighbouring schedules may run out of order, so this looks at the product's other lines:
 * - a change that starts later has applied already: this one comes first in time, so a change
 *   for good under a sale still running becomes the price that sale restores, after a sale
 *   already restored it is the standing price, and otherwise it is overwritten (SKIPPED);
 * - a sale that ended before this start but whose restore has not run: this change takes over
 *   its restore (that line HANDED_OVER), so the original price comes back at this one's end.
 * Answers what changed (undefined when skipped).
 */
async function applyLine(
  tx: Transaction,
  schedule: { id: string; startsAt: Date; forGood: boolean },
  line: LineRow,
  now: Date,
): Promise<AppliedLine | undefined> {
  const target = sameTarget(line);
  const settle = (outcome: PriceLineOutcome) => ({ settledAt: now, outcome });
  const mine = { scheduleId_line: { scheduleId: line.scheduleId, line: line.line } };
  const later = await tx.priceScheduleLine.findFirst({
    where: { ...target, appliedAt: { not: null }, schedule: { startsAt: { gt: schedule.startsAt } } },
    orderBy: { schedule: { startsAt: 'desc' } },
  });
  if (later && !(schedule.forGood && (!later.settledAt || later.outcome === 'RESTORED'))) {
    await tx.priceScheduleLine.update({ where: mine, data: settle('SKIPPED') });
    return undefined;
  }
  if (later && !later.settledAt) {
    await tx.priceScheduleLine.update({
      where: { scheduleId_line: { scheduleId: later.scheduleId, line: later.line } },
      data: { previousPrice: line.price },
    });
    await tx.priceScheduleLine.update({
      where: mine,
      data: { previousPrice: later.previousPrice, appliedAt: now, ...settle('APPLIED') },
    });
    return { ...target, previousPrice: later.previousPrice, price: line.price, underSale: later.scheduleId };
  }
  const open = await tx.priceScheduleLine.findFirst({
    where: { ...target, appliedAt: { not: null }, settledAt: null, scheduleId: { not: schedule.id } },
  });
  const previousPrice = open ? open.previousPrice : await priceOf(tx, target);
  if (open)
    await tx.priceScheduleLine.update({
      where: { scheduleId_line: { scheduleId: open.scheduleId, line: open.line } },
      data: settle('HANDED_OVER'),
    });
  await setPrice(tx, target, line.price);
  await tx.priceScheduleLine.update({
    where: mine,
    data: { previousPrice, appliedAt: now, ...(schedule.forGood ? settle('APPLIED') : {}) },
  });
  return { ...target, previousPrice, price: line.price };
}

/**
 * The start: every line's new price in one transaction, each keeping the price it replaces.
 * Once only: a retry after it finds the schedule past SCHEDULED and answers its status.
 */
export async function applyPriceSchedule(
  prisma: PrismaClient,
  input: { scheduleId: string; workflowId: string },
): Promise<PriceScheduleStep> {
  return prisma.$transaction(async (tx) => {
    await lockPrices(tx);
    const schedule = await loadForStep(tx, input.scheduleId);
    if (schedule.status !== 'SCHEDULED') return { status: schedule.status as PriceScheduleStatus };
    const now = new Date();
    const system = { actorId: SYSTEM.id, reason: schedule.reason };
    if (schedule.endsAt && schedule.endsAt <= now) {
      await tx.priceSchedule.update({ where: { id: schedule.id }, data: { status: 'MISSED', endedAt: now } });
      await audit(tx, {
        ...system,
        action: 'PRICE_SCHEDULE_MISSED',
        targetType: 'price_schedule',
        targetId: schedule.id,
        after: { workflowId: input.workflowId, endsAt: schedule.endsAt.toISOString(), at: now.toISOString() },
      });
      return { status: 'MISSED' };
    }
    const forGood = !schedule.endsAt;
    const applied: AppliedLine[] = [];
    for (const line of schedule.lines) {
      const change = await applyLine(tx, { ...schedule, forGood }, line, now);
      if (!change) continue;
      applied.push(change);
      await audit(tx, {
        ...system,
        action: 'PRICE_CHANGED',
        targetType: 'product',
        targetId: line.productId,
        before: { variantId: line.variantId, price: change.previousPrice },
        after: {
          variantId: line.variantId,
          price: change.price,
          ...(change.underSale ? { underSale: change.underSale } : {}),
          scheduleId: schedule.id,
          workflowId: input.workflowId,
        },
      });
    }
    const status: PriceScheduleStatus = forGood ? 'COMPLETED' : 'ACTIVE';
    await tx.priceSchedule.update({
      where: { id: schedule.id },
      data: { status, appliedAt: now, ...(forGood ? { endedAt: now } : {}) },
    });
    await audit(tx, {
      ...system,
      action: 'PRICE_SCHEDULE_APPLIED',
      targetType: 'price_schedule',
      targetId: schedule.id,
      after: { workflowId: input.workflowId, status, lines: applied },
    });
    return { status };
  });
}

/**
 * The end of a sale, or a cancel: before the start it only closes the schedule (CANCELLED,
 * nothing changed); during the sale each line goes back to the price it replaced (KEPT when the
 * price is no longer this schedule's). Once only; audited under the admin who cancelled, or the system.
 */
export async function endPriceSchedule(
  prisma: PrismaClient,
  input: { scheduleId: string; workflowId: string; cancel?: { actorId: string; reason: string } },
): Promise<PriceScheduleStep> {
  return prisma.$transaction(async (tx) => {
    await lockPrices(tx);
    const schedule = await loadForStep(tx, input.scheduleId);
    const status = schedule.status as PriceScheduleStatus;
    if (status === 'SCHEDULED' && !input.cancel) return { status }; // never ends before it started
    if (status !== 'SCHEDULED' && status !== 'ACTIVE') return { status };
    const now = new Date();
    const who = input.cancel ?? { actorId: SYSTEM.id, reason: schedule.reason };
    const restored = [];
    if (status === 'SCHEDULED')
      for (const line of schedule.lines)
        await audit(tx, {
          ...who,
          action: 'PRICE_CHANGE_CANCELLED',
          targetType: 'product',
          targetId: line.productId,
          after: { variantId: line.variantId, price: line.price, scheduleId: schedule.id },
        });
    if (status === 'ACTIVE')
      for (const line of schedule.lines) {
        if (!line.appliedAt || line.settledAt) continue;
        const target = sameTarget(line);
        const current = await priceOf(tx, target);
        const outcome: PriceLineOutcome = current === line.price ? 'RESTORED' : 'KEPT';
        if (outcome === 'RESTORED') await setPrice(tx, target, line.previousPrice);
        await tx.priceScheduleLine.update({
          where: { scheduleId_line: { scheduleId: line.scheduleId, line: line.line } },
          data: { settledAt: now, outcome, restoredPrice: outcome === 'RESTORED' ? line.previousPrice : null },
        });
        restored.push({ ...target, outcome, price: outcome === 'RESTORED' ? line.previousPrice : current });
        await audit(tx, {
          ...who,
          action: outcome === 'RESTORED' ? 'PRICE_RESTORED' : 'PRICE_RESTORE_SKIPPED',
          targetType: 'product',
          targetId: line.productId,
          before: { variantId: line.variantId, price: current },
          after: {
            variantId: line.variantId,
            price: outcome === 'RESTORED' ? line.previousPrice : current,
            scheduleId: schedule.id,
            workflowId: input.workflowId,
          },
        });
      }
    const next: PriceScheduleStatus = input.cancel ? 'CANCELLED' : 'COMPLETED';
    await tx.priceSchedule.update({
      where: { id: schedule.id },
      data: {
        status: next,
        endedAt: now,
        ...(input.cancel ? { cancelledBy: input.cancel.actorId, cancelReason: input.cancel.reason } : {}),
      },
    });
    await audit(tx, {
      ...who,
      action: input.cancel ? 'PRICE_SCHEDULE_CANCELLED' : 'PRICE_SCHEDULE_ENDED',
      targetType: 'price_schedule',
      targetId: schedule.id,
      before: { status },
      after: { workflowId: input.workflowId, status: next, lines: restored },
    });
    return { status: next };
  });
}
