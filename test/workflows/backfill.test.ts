/**
 * The backfill workflow's logic against the real Temporal dev server, with its one activity
 * stubbed over ten keys: batches walk the keys from the cursor, carried with the counts across
 * continue-as-new; a pause signal that arrives during a batch lets that batch finish and
 * schedules no other until the resume signal. With RECORD_HISTORIES=1 both write their
 * histories for replay.test.ts.
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { getBackfillQuery, pauseBackfillSignal, resumeBackfillSignal } from '../../src/workflows/backfill/messages';
import type { backfillWorkflow } from '../../src/workflows/backfill/workflow';
import { backfillWorkflowId } from '../../src/workflows/ids';
import { keepHistory, recording, useStubWorker } from '../helpers/workflow-worker';

const KEYS = Array.from({ length: 10 }, (_, i) => `k${String(i + 1).padStart(2, '0')}`);
const FAILING = 'k05';
/** Batches held until the test lets them go, by backfill id. */
const held = new Map<string, Promise<void>>();

const stubs = {
  async runBackfillBatch(input: { backfillId: string; after?: string; limit: number; dryRun: boolean }) {
    await held.get(input.backfillId);
    const rows = KEYS.filter((key) => !input.after || key > input.after).slice(0, input.limit);
    const failed = rows.filter((key) => key === FAILING).length;
    return {
      lastKey: rows.at(-1) ?? input.after,
      done: rows.length < input.limit,
      counts: {
        CHANGED: input.dryRun ? 0 : rows.length - failed,
        WOULD_CHANGE: input.dryRun ? rows.length - failed : 0,
        UNCHANGED: 0,
        FAILED: failed,
        SKIPPED: 0,
      },
    };
  },
};
const { wrapped, callsOf } = recording(stubs, (input) => String(input.backfillId));
const worker = useStubWorker(wrapped);

function start(
  options: { batchSize: number; batchesPerRun: number },
  backfillId: string = randomUUID(),
): Promise<WorkflowHandle<typeof backfillWorkflow>> {
  return worker.client.workflow.start<typeof backfillWorkflow>('backfillWorkflow', {
    workflowId: backfillWorkflowId('product-images', backfillId),
    taskQueue: worker.taskQueue,
    args: [{ backfillId, name: 'product-images', dryRun: false, ...options }],
  });
}

async function scheduledBatches(handle: WorkflowHandle): Promise<number> {
  const { events } = await worker.client.workflow.getHandle(handle.workflowId).fetchHistory();
  return (events ?? []).filter((e) => e.activityTaskScheduledEventAttributes).length;
}

test('batches walk the keys from the cursor, carried with the counts across continue-as-new', async () => {
  const handle = await start({ batchSize: 3, batchesPerRun: 2 });
  const done = await handle.result();
  expect(done).toMatchObject({
    status: 'DONE',
    cursor: 'k10',
    batches: 4,
    runs: 2,
    processed: 10,
    counts: { CHANGED: 9, FAILED: 1, WOULD_CHANGE: 0, UNCHANGED: 0, SKIPPED: 0 },
  });
  const backfillId = done.backfillId;
  expect(callsOf(backfillId).map((c) => c.input.after)).toEqual([undefined, 'k03', 'k06', 'k09']);
  // The second run was started by continue-as-new with the first run's progress.
  const runs = [];
  for await (const run of worker.client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) runs.push(run);
  expect(runs.map((r) => r.status.name).sort()).toEqual(['COMPLETED', 'CONTINUED_AS_NEW']);
  await keepHistory('backfill-continued-as-new', handle);
});

test('a pause during a batch lets it finish and schedules no other until resumed', async () => {
  let release!: () => void;
  const backfillId = randomUUID();
  held.set(
    backfillId,
    new Promise<void>((resolve) => {
      release = resolve;
    }),
  );
  const handle = await start({ batchSize: 4, batchesPerRun: 50 }, backfillId);
  // The first batch is held in its activity when the pause comes.
  await handle.signal(pauseBackfillSignal, { adminId: 'admin-1', reason: 'peak hour' });
  expect(await waitFor(handle, (v) => v.status === 'PAUSED')).toMatchObject({ batches: 0, paused: true });
  release();
  const paused = await waitFor(handle, (v) => v.batches === 1);
  // The batch in hand finished and was counted; no other was scheduled after it.
  expect(paused).toMatchObject({ status: 'PAUSED', cursor: 'k04', processed: 4 });
  expect(await scheduledBatches(handle)).toBe(1);

  await handle.signal(resumeBackfillSignal, { adminId: 'admin-1', reason: 'peak over' });
  const done = await handle.result();
  expect(done).toMatchObject({ status: 'DONE', paused: false, batches: 3, processed: 10, counts: { FAILED: 1 } });
  expect(callsOf(backfillId).map((c) => c.input.after)).toEqual([undefined, 'k04', 'k08']);
  await keepHistory('backfill-paused-resumed', handle);
});

/** Polls the workflow's query until `ready` holds (condition-based, no fixed sleep). */
async function waitFor(
  handle: WorkflowHandle<typeof backfillWorkflow>,
  ready: (view: Awaited<ReturnType<typeof backfillWorkflow>>) => boolean,
) {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
    const view = await handle.query(getBackfillQuery);
    if (ready(view)) return view;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the backfill never got there');
}
