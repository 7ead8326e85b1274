/**
 * Scheduling, reading and cancelling price changes: what the admin API and the ops CLI both
 * call (one path per action). The steps run in the workflow price-schedule-<scheduleId>; this
 * module records the request, starts the workflow, hands it an admin's cancel, and reads the
 * schedules with their lines as they stand.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { z } from 'zod';
import type { Config } from '../platform/config';
import type { PrismaClient } from '../platform/db';
import { DomainError } from '../platform/errors';
import { ErrorCode, type Actor } from '../workflows/vocabulary';
import { priceScheduleWorkflowId } from '../workflows/ids';
import type { priceScheduleWorkflow } from '../workflows/price-schedule/workflow';
import { cancelPriceScheduleUpdate, type PriceScheduleStatus } from '../workflows/price-schedule/messages';
import {
  markNotStarted,
  requestPriceSchedule,
  type PriceScheduleRequest,
  type priceSchedulesQuery,
} from './price-schedules';

export interface PriceScheduleDeps {
  prisma: PrismaClient;
  temporal: Client;
  config: Pick<Config, 'TEMPORAL_TASK_QUEUE' | 'PRICE_SCHEDULE_START_TOLERANCE'>;
}

/** Records the schedule and starts its workflow; answers the schedule as it stands (SCHEDULED). */
export async function schedulePriceChange(deps: PriceScheduleDeps, input: PriceScheduleRequest, actor: Actor) {
  const scheduleId = randomUUID();
  await requestPriceSchedule(deps.prisma, scheduleId, input, actor.id, {
    now: new Date(),
    startToleranceMs: deps.config.PRICE_SCHEDULE_START_TOLERANCE,
  });
  try {
    await deps.temporal.workflow.start<typeof priceScheduleWorkflow>('priceScheduleWorkflow', {
      workflowId: priceScheduleWorkflowId(scheduleId),
      taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
      args: [{ scheduleId, startsAt: input.startsAt, endsAt: input.endsAt ?? null }],
    });
  } catch (error) {
    // Even if the start did reach Temporal, the workflow finds NOT_STARTED and changes nothing.
    await markNotStarted(deps.prisma, scheduleId);
    throw error;
  }
  return showPriceSchedule(deps, scheduleId);
}

type ScheduleRow = Awaited<ReturnType<typeof loadSchedules>>[number];

async function loadSchedules(prisma: PrismaClient, where: object, take: number) {
  return prisma.priceSchedule.findMany({
    where,
    include: { lines: { orderBy: { line: 'asc' } } },
    orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
    take,
  });
}

/** The schedules with each line's product (SKU, currency) and where it stands. */
async function present(prisma: PrismaClient, schedules: ScheduleRow[]) {
  const lines = schedules.flatMap((s) => s.lines);
  const products = await prisma.product.findMany({
    where: { id: { in: [...new Set(lines.map((l) => l.productId))] } },
    select: { id: true, sku: true, currency: true },
  });
  const variants = await prisma.productVariant.findMany({
    where: { id: { in: lines.flatMap((l) => (l.variantId ? [l.variantId] : [])) } },
    select: { id: true, sku: true },
  });
  return schedules.map((s) => ({
    scheduleId: s.id,
    workflowId: priceScheduleWorkflowId(s.id),
    status: s.status as PriceScheduleStatus,
    reason: s.reason,
    reference: s.reference,
    startsAt: s.startsAt.toISOString(),
    endsAt: s.endsAt?.toISOString() ?? null,
    requestedBy: s.requestedBy,
    cancelledBy: s.cancelledBy,
    cancelReason: s.cancelReason,
    appliedAt: s.appliedAt?.toISOString() ?? null,
    endedAt: s.endedAt?.toISOString() ?? null,
    createdAt: s.createdAt.toISOString(),
    lines: s.lines.map((l) => {
      const product = products.find((p) => p.id === l.productId);
      return {
        line: l.line,
        productId: l.productId,
        variantId: l.variantId,
        sku: (l.variantId ? variants.find((v) => v.id === l.variantId)?.sku : product?.sku) ?? null,
        currency: product?.currency ?? null,
        price: l.price,
        previousPrice: l.previousPrice,
        appliedAt: l.appliedAt?.toISOString() ?? null,
        outcome: l.outcome,
        restoredPrice: l.restoredPrice,
      };
    }),
  }));
}

export type PriceScheduleView = Awaited<ReturnType<typeof present>>[number];

export async function showPriceSchedule(deps: Pick<PriceScheduleDeps, 'prisma'>, scheduleId: string) {
  const [schedule] = await present(deps.prisma, await loadSchedules(deps.prisma, { id: scheduleId }, 1));
  if (!schedule) throw new DomainError(ErrorCode.PRICE_SCHEDULE_NOT_FOUND, `No price schedule ${scheduleId}`);
  return schedule;
}

/** Schedules newest first, optionally only those of one product or in one status. */
export async function listPriceSchedules(
  deps: Pick<PriceScheduleDeps, 'prisma'>,
  query: z.output<typeof priceSchedulesQuery>,
) {
  const where = {
    ...(query.status ? { status: query.status } : {}),
    ...(query.productId ? { lines: { some: { productId: query.productId } } } : {}),
  };
  return { schedules: await present(deps.prisma, await loadSchedules(deps.prisma, where, query.limit)) };
}

/**
 * Hands an admin's cancel to the schedule's workflow (its validator refuses what cannot be
 * cancelled) and answers the schedule once it is settled: CANCELLED, with the prices restored
 * when the sale had begun.
 */
export async function cancelPriceSchedule(
  deps: PriceScheduleDeps,
  scheduleId: string,
  request: { actor: Actor; reason: string },
): Promise<PriceScheduleView> {
  const view = await showPriceSchedule(deps, scheduleId);
  if (view.status !== 'SCHEDULED' && view.status !== 'ACTIVE')
    throw new DomainError(
      ErrorCode.INVALID_PRICE_SCHEDULE_STATE,
      `A price schedule that is ${view.status} cannot be cancelled`,
      { status: view.status },
    );
  await deps.temporal.workflow.getHandle(view.workflowId).executeUpdate(cancelPriceScheduleUpdate, { args: [request] });
  return showPriceSchedule(deps, scheduleId);
}
