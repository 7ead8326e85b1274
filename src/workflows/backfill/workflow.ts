/**
 * backfill-<name>-<backfillId>: a data backfill as a workflow instead of a one-off loop. It walks
 * the table in key order, a batch per activity (each row done once, see src/backfills), keeps
 * its progress in its query and search attributes, can be paused and resumed by signal, and
 * continues as new every `batchesPerRun` batches so its history stays short. A worker that dies
 * mid-batch costs nothing: the batch is retried and skips the rows it had already done.
 */
import {
  condition,
  continueAsNew,
  sleep,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { activitiesFor } from '../policies';
import { searchAttributes } from '../search-attributes';
import {
  getBackfillQuery,
  pauseBackfillSignal,
  resumeBackfillSignal,
  type BackfillInput,
  type BackfillProgress,
  type BackfillView,
} from './messages';

// A batch runs under the bulk policy (src/workflows/policies.ts): a worker lost mid-batch is noticed
// and the batch runs again elsewhere, skipping the rows already recorded.
const { runBackfillBatch } = activitiesFor('runBackfillBatch');

export async function backfillWorkflow(input: BackfillInput): Promise<BackfillView> {
  const state = resume(input);
  registerHandlers(state);

  for (let batchesThisRun = 0; ; batchesThisRun++) {
    await condition(() => !state.paused);
    if (batchesThisRun >= input.batchesPerRun || workflowInfo().continueAsNewSuggested) {
      return continueAsNew<typeof backfillWorkflow>({ ...input, progress: carried(state) });
    }
    if (await runBatch(input, state)) break;
    if (input.throttleMs) await sleep(input.throttleMs);
  }
  state.status = 'DONE';
  report(state);
  return state;
}

function resume(input: BackfillInput): BackfillView {
  const progress: BackfillProgress = input.progress
    ? { ...input.progress, runs: input.progress.runs + 1 }
    : {
        batches: 0,
        runs: 1,
        paused: false,
        counts: { CHANGED: 0, UNCHANGED: 0, WOULD_CHANGE: 0, FAILED: 0, SKIPPED: 0 },
      };
  const view: BackfillView = {
    ...progress,
    backfillId: input.backfillId,
    name: input.name,
    dryRun: input.dryRun,
    status: progress.paused ? 'PAUSED' : 'RUNNING',
    processed: 0,
  };
  view.processed = processed(view);
  return view;
}

function registerHandlers(state: BackfillView): void {
  setHandler(getBackfillQuery, () => state);
  setHandler(pauseBackfillSignal, () => {
    state.paused = true;
    state.status = 'PAUSED';
    report(state);
  });
  setHandler(resumeBackfillSignal, () => {
    state.paused = false;
    state.status = 'RUNNING';
    report(state);
  });
}

/** One batch; true once the table is walked. */
async function runBatch(input: BackfillInput, state: BackfillView): Promise<boolean> {
  const batch = await runBackfillBatch({
    backfillId: input.backfillId,
    name: input.name,
    after: state.cursor,
    limit: input.batchSize,
    dryRun: input.dryRun,
  });
  state.cursor = batch.lastKey;
  state.batches++;
  for (const [outcome, count] of Object.entries(batch.counts))
    state.counts[outcome as keyof typeof state.counts] += count;
  state.processed = processed(state);
  report(state);
  return batch.done;
}

function processed(state: BackfillProgress): number {
  return Object.values(state.counts).reduce((sum, count) => sum + count, 0);
}

function carried({ cursor, batches, runs, paused, counts }: BackfillView): BackfillProgress {
  return { cursor, batches, runs, paused, counts };
}

function report(state: BackfillView): void {
  upsertSearchAttributes([
    { key: searchAttributes.backfillName, value: state.name },
    { key: searchAttributes.backfillProcessed, value: state.processed },
  ]);
  setCurrentDetails(
    `${state.status}: ${state.processed} rows (${state.counts.CHANGED} changed, ${state.counts.WOULD_CHANGE} would change, ` +
      `${state.counts.FAILED} failed) in ${state.batches} batches, run ${state.runs}`,
  );
}
