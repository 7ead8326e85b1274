/**
 * Price schedule workflow steps (apply at the start, end at the end or on a cancel): each calls
 * the one implementation in src/inventory/price-schedule-steps and turns its refusals into
 * non-retryable failures. Each is idempotent: a retry finds its step done and answers the status.
 */
import type { PrismaClient } from '../platform/db';
import { refusing } from '../platform/errors';
import { applyPriceSchedule, endPriceSchedule } from '../inventory/price-schedule-steps';

export function priceScheduleActivities(prisma: PrismaClient) {
  return {
    async applyPriceSchedule(input: { scheduleId: string; workflowId: string }) {
      return refusing(() => applyPriceSchedule(prisma, input));
    },
    async endPriceSchedule(input: {
      scheduleId: string;
      workflowId: string;
      cancel?: { actorId: string; reason: string };
    }) {
      return refusing(() => endPriceSchedule(prisma, input));
    },
  };
}
