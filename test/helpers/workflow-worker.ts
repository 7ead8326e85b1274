/**
 * Workflow tests: a worker with stubbed activities on a task queue of its own, against the real
 * Temporal dev server, and the recording of histories for replay.test.ts.
 */
import { WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { ApplicationFailure, Duration } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { dataConverterFor } from '../../src/platform/codec';
import { loadConfig } from '../../src/platform/config';
import { connectClient, temporalConnectionOptions } from '../../src/platform/temporal';
import type { Tracing } from '../../src/platform/tracing';
import { tracingWorkerOptions } from '../../src/workers/tracing';
import { ensureTool } from '../../scripts/lib/services';

export const config = loadConfig();

/**
 * The bundle test/setup/global-setup.ts built for a worker with tracing on (with the tracing
 * interceptors) or off (without them), as production's worker picks (src/workers/worker.ts).
 */
export function workflowBundlePath(traced: boolean): string {
  return traced ? process.env.WORKFLOW_BUNDLE_TRACED_PATH! : process.env.WORKFLOW_BUNDLE_PATH!;
}

/**
 * Replays `handle`'s history through both bundles, with the tracing interceptors and without (a
 * workflow may move between a traced and an untraced worker), and answers the history.
 */
export async function replayThroughBothBundles(handle: WorkflowHandle) {
  const history = await handle.fetchHistory();
  for (const traced of [true, false]) {
    await Worker.runReplayHistory(
      {
        workflowBundle: { codePath: workflowBundlePath(traced) },
        dataConverter: dataConverterFor(config),
        sinks: tracingWorkerOptions(undefined).sinks,
      },
      history,
      handle.workflowId,
    );
  }
  return history;
}

export async function startStubWorker(
  activities: object,
  /** Where the workflows' spans go (test/workflows/tracing.test.ts), with the traced bundle; otherwise the bundle without the tracing interceptors, as in production with tracing off. */
  tracing?: Tracing,
  {
    taskQueue = `workflow-test-${randomUUID()}`,
    tracedBundle = !!tracing,
    stickyQueueScheduleToStartTimeout,
  }: {
    /** A task queue another worker served before (a worker restarted with tracing switched); otherwise one of its own. */
    taskQueue?: string;
    /**
     * The bundle of a worker with tracing on (by default, whether `tracing` is given). The bundle
     * of tracing off with `tracing` given shows what its workflows send through the sink, which
     * production's worker with tracing off drops.
     */
    tracedBundle?: boolean;
    /**
     * How long the server holds a workflow's task for this worker once it cached the workflow:
     * a worker that another replaces gives its workflows up after this (the SDK's 10 s otherwise).
     */
    stickyQueueScheduleToStartTimeout?: Duration;
  } = {},
): Promise<{ client: Client; taskQueue: string; stop: () => Promise<void> }> {
  const client = await connectClient(config);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const worker = await Worker.create({
    connection,
    taskQueue,
    activities,
    workflowBundle: { codePath: workflowBundlePath(tracedBundle) },
    dataConverter: dataConverterFor(config),
    ...(stickyQueueScheduleToStartTimeout ? { stickyQueueScheduleToStartTimeout } : {}),
    ...tracingWorkerOptions(tracing), // a workflow's tracing interceptors export through its sink
  });
  const running = worker.run();
  return {
    client,
    taskQueue,
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
      await client.connection.close();
    },
  };
}

/**
 * A workflow test file's preamble: a worker of its own (startStubWorker) started before the
 * file's tests and stopped after them; read `client` and `taskQueue` inside tests. `tracing` as
 * for startStubWorker.
 */
export function useStubWorker(
  activities: object,
  tracing?: Tracing,
): { readonly client: Client; readonly taskQueue: string } {
  let started: Awaited<ReturnType<typeof startStubWorker>> | undefined;
  beforeAll(async () => {
    started = await startStubWorker(activities, tracing);
  });
  afterAll(() => started?.stop());
  const running = () => {
    if (!started) throw new Error('the stub worker starts in beforeAll: read it inside a test');
    return started;
  };
  return {
    get client() {
      return running().client;
    },
    get taskQueue() {
      return running().taskQueue;
    },
  };
}

/** With RECORD_HISTORIES=1, saves the workflow's history to test/histories/<name>.json. */
export async function keepHistory(name: string, handle: WorkflowHandle): Promise<void> {
  if (!process.env.RECORD_HISTORIES) return;
  // The CLI's JSON is the format Temporal documents for replay tests.
  const json = execFileSync(ensureTool('temporal'), [
    'workflow',
    'show',
    '--workflow-id',
    handle.workflowId,
    '--address',
    config.TEMPORAL_ADDRESS,
    '--output',
    'json',
  ]);
  writeFileSync(path.join(__dirname, '..', 'histories', `${name}.json`), json);
}

/** Wraps each activity so every call is recorded under the id `keyOf` picks from its input. */
export function recording(activities: object, keyOf: (input: Record<string, unknown>) => string) {
  const calls = new Map<string, { name: string; input: Record<string, unknown> }[]>();
  const wrapped = Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [
      name,
      async (input: Record<string, unknown>) => {
        const key = keyOf(input);
        calls.set(key, [...(calls.get(key) ?? []), { name, input }]);
        return (fn as (i: unknown) => Promise<unknown>)(input);
      },
    ]),
  );
  const callsOf = (key: string, name?: string) => (calls.get(key) ?? []).filter((c) => !name || c.name === name);
  return { wrapped, callsOf };
}

/** The workflow's refusal of an update (its validator's or handler's ApplicationFailure); fails the test if it was taken. */
export async function updateRefusal(
  update: Promise<unknown>,
): Promise<{ type?: string | null; message: string; details?: unknown[] | null }> {
  const error = await update.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (error as WorkflowUpdateFailedError).cause as ApplicationFailure;
  return { type: cause.type, message: cause.message, details: cause.details };
}
