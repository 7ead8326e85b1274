/**
 * The price schedule workflow's contract (`price-schedule-<scheduleId>`): its input, where it
 * stands, and the cancel update. The API, the CLI, the activities and the workflow import it.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Actor } from '../vocabulary';

/**
 * SCHEDULED until its start; ACTIVE while a sale runs; COMPLETED once applied for good (no end)
 * or restored at its end; CANCELLED by an admin (before its start: nothing changed; during the
 * sale: restored at once); MISSED when its whole window passed before it could apply; NOT_STARTED
 * when its workflow could not be started (the API answered 503 and nothing ever changes).
 */
export type PriceScheduleStatus = 'SCHEDULED' | 'ACTIVE' | 'COMPLETED' | 'CANCELLED' | 'MISSED' | 'NOT_STARTED';

/**
 * How a line ended: RESTORED to its previous price; KEPT when something else had set the price
 * meanwhile (that price stays); HANDED_OVER when the next change on the product started before
 * this one's restore ran (the next one restores the original price); APPLIED for good (no end);
 * SKIPPED when a later change had applied first.
 */
export type PriceLineOutcome = 'RESTORED' | 'KEPT' | 'HANDED_OVER' | 'APPLIED' | 'SKIPPED';

export interface PriceScheduleInput {
  scheduleId: string;
  /** ISO 8601; the workflow sleeps on a Temporal timer until then. */
  startsAt: string;
  /** ISO 8601, after startsAt; absent for a change for good. */
  endsAt?: string | null;
}

export interface CancelPriceScheduleRequest {
  actor: Actor;
  reason: string;
}

export interface PriceScheduleProgress {
  status: PriceScheduleStatus;
  cancelRequested: boolean;
}

/** What the steps answer: the schedule's status once the step is done. */
export interface PriceScheduleStep {
  status: PriceScheduleStatus;
}

export const getPriceScheduleProgressQuery = defineQuery<PriceScheduleProgress>('getPriceScheduleProgress');
export const cancelPriceScheduleUpdate = defineUpdate<PriceScheduleStep, [CancelPriceScheduleRequest]>(
  'cancelPriceSchedule',
);
