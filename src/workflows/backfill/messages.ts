/**
 * The backfill workflow's contract (`backfill-<name>-<backfillId>`): its input, the progress it
 * carries across continue-as-new and answers in its query, and the pause and resume signals
 * (from the ops CLI or the Temporal Web UI).
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';

export type BackfillCounts = Record<'CHANGED' | 'UNCHANGED' | 'WOULD_CHANGE' | 'FAILED' | 'SKIPPED', number>;

export interface BackfillProgress {
  /** The last key done: the next batch starts after it. */
  cursor?: string;
  batches: number;
  /** Runs of this workflow so far (one more after each continue-as-new). */
  runs: number;
  paused: boolean;
  counts: BackfillCounts;
}

export interface BackfillInput {
  backfillId: string;
  name: string;
  dryRun: boolean;
  batchSize: number;
  /** Continue as new after this many batches, so the history stays short however big the table. */
  batchesPerRun: number;
  /** A pause between batches, so a big backfill leaves the database room for the shop. */
  throttleMs?: number;
  /** Where an earlier run of this workflow left off. */
  progress?: BackfillProgress;
}

export interface BackfillView extends BackfillProgress {
  backfillId: string;
  name: string;
  dryRun: boolean;
  status: 'RUNNING' | 'PAUSED' | 'DONE';
  /** Rows read so far, whatever became of them. */
  processed: number;
}

/** `{"adminId": "...", "reason": "..."}` from the CLI or the Web UI's signal menu. */
export interface BackfillControl {
  adminId: string;
  reason?: string;
}

export const getBackfillQuery = defineQuery<BackfillView>('getBackfill');
export const pauseBackfillSignal = defineSignal<[BackfillControl]>('pauseBackfill');
export const resumeBackfillSignal = defineSignal<[BackfillControl]>('resumeBackfill');
