/**
 * The tracing interceptors a workflow started on a worker with tracing on has
 * (src/workflows/tracing-interceptors.ts) leave the workflow's own randomness alone. A return is
 * asked to receive more than was requested (its update validator refuses, live, and leaves
 * nothing in history) and is queried before its refund's id is drawn with uuid4(); had the
 * validator's or the query's span ids come from the workflow's Math.random, the replay of that
 * very history (which runs neither) would draw another refund id and fail. The workflow's spans
 * reach the worker's span processor with their parent links, into the child refund workflow too.
 *
 * A worker restarted with tracing switched: a return started with tracing on keeps its
 * interceptors on a worker with tracing off, one started with tracing off gets none on a worker
 * with tracing on (src/workflows/tracing-by-history.ts), and each history, made on both workers,
 * replays through both bundles. The return's receipt is an update that ends the wait on a timer,
 * where taking the interceptors away from a workflow that had them breaks its replay.
 */
import { WithStartWorkflowOperation, type WorkflowHandle } from '@temporalio/client';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { randomUUID } from 'node:crypto';
import type { Tracing } from '../../src/platform/tracing';
import { getReturnQuery, receiveReturnUpdate, requestReturnUpdate } from '../../src/workflows/return/messages';
import type { returnWorkflow } from '../../src/workflows/return/workflow';
import { product, returnStubs } from '../helpers/return-stubs';
import { replayThroughBothBundles, startStubWorker, updateRefusal, useStubWorker } from '../helpers/workflow-worker';

const exported = new InMemorySpanExporter();
const tracing: Tracing = {
  resource: resourceFromAttributes({ 'service.name': 'workflow-test' }),
  spanProcessor: new SimpleSpanProcessor(exported),
  shutdown: async () => undefined,
};

const worker = useStubWorker(returnStubs, tracing);

/** Starts a return on `taskQueue` with its request (update-with-start); it then waits for its receipt. */
async function requestReturn(taskQueue: string) {
  const returnId = randomUUID();
  const start = new WithStartWorkflowOperation<typeof returnWorkflow>('returnWorkflow', {
    workflowId: `return-${returnId}`,
    taskQueue,
    args: [
      {
        returnId,
        orderId: randomUUID(),
        customerId: randomUUID(),
        lines: [{ productId: product, quantity: 1 }],
        reason: 'too small',
        returnWindowMs: 30 * 86_400_000,
        receiveWithinMs: 14 * 86_400_000,
        refundReminderAfterMs: 86_400_000,
        refundSettleCheckAfterMs: 600_000,
      },
    ],
    workflowIdConflictPolicy: 'FAIL',
  });
  await worker.client.workflow.executeUpdateWithStart(requestReturnUpdate, { startWorkflowOperation: start });
  return start.workflowHandle();
}

/**
 * Receives the return after a refused receipt and a query (neither in its history), so its
 * refund id is drawn after both; resolves with its result.
 */
async function receiveReturn(handle: WorkflowHandle<typeof returnWorkflow>) {
  const refused = await updateRefusal(
    handle.executeUpdate(receiveReturnUpdate, {
      args: [{ adminId: randomUUID(), lines: [{ productId: product, quantity: 2, condition: 'RESTOCK' }] }],
    }),
  );
  expect(refused.type).toBe('RETURN_QUANTITY_TOO_HIGH');
  expect((await handle.query(getReturnQuery)).status).toBe('REQUESTED');
  await handle.executeUpdate(receiveReturnUpdate, {
    args: [{ adminId: randomUUID(), lines: [{ productId: product, quantity: 1, condition: 'RESTOCK' }] }],
  });
  return handle.result();
}

/** Whether any of the history's workflow tasks recorded an SDK flag of the OpenTelemetry interceptors (3 to 6). */
function usedInterceptorFlags(history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>>): boolean {
  return (history.events ?? []).some((e) =>
    (e.workflowTaskCompletedEventAttributes?.sdkMetadata?.langUsedFlags ?? []).some((f) => f >= 3 && f <= 6),
  );
}

test('spans made in a workflow draw no ids from its randomness, and keep their parents', async () => {
  const handle = await requestReturn(worker.taskQueue);
  const result = await receiveReturn(handle);
  expect(result).toMatchObject({ status: 'REFUNDED', refundStatus: 'COMPLETED' });

  // The same bundle replays the history it just wrote: the same refund id is drawn; and so does
  // the bundle without the interceptors.
  await replayThroughBothBundles(handle);

  const spans = exported.getFinishedSpans();
  const named = (name: string) => spans.find((s) => s.name === name);
  const parentOf = (span: ReadableSpan) => spans.find((s) => s.spanContext().spanId === span.parentSpanContext?.spanId);
  const run = named('RunWorkflow:returnWorkflow')!;
  expect(run.attributes).toMatchObject({
    temporalWorkflowId: handle.workflowId,
    temporalWorkflowType: 'returnWorkflow',
  });
  expect(run.resource.attributes['service.name']).toBe('workflow-test');
  expect(run.instrumentationScope.name).toBe('@temporalio/interceptor-workflow');
  expect(parentOf(named('StartActivity:openReturn')!)).toBe(run);
  // The child refund workflow continues the return's trace under the span that started it.
  const childRun = named('RunWorkflow:refundWorkflow')!;
  expect(childRun.spanContext().traceId).toBe(run.spanContext().traceId);
  expect(parentOf(childRun)?.name).toBe('StartChildWorkflow:refundWorkflow');
  expect(parentOf(parentOf(childRun)!)).toBe(run);
  expect(named('HandleQuery:getReturn')).toBeDefined();
  expect(spans.filter((s) => s.name === 'ValidateUpdate:receiveReturn')).toHaveLength(2);
});

describe('a worker restarted with tracing switched', () => {
  // (The first worker's workflows move to the second 1 s after it stops, not the SDK's 10 s.)
  type StubWorker = Awaited<ReturnType<typeof startStubWorker>>;
  const spansOf = (workflowId: string) =>
    exported.getFinishedSpans().filter((s) => s.attributes.temporalWorkflowId === workflowId);

  test('a return started with tracing on keeps the interceptors on a worker with tracing off, and replays', async () => {
    const taskQueue = `workflow-test-${randomUUID()}`;
    let traced: StubWorker | undefined = await startStubWorker(returnStubs, tracing, {
      taskQueue,
      stickyQueueScheduleToStartTimeout: '1s',
    });
    let untraced: StubWorker | undefined;
    try {
      const handle = await requestReturn(taskQueue);
      await traced.stop();
      traced = undefined;
      const before = spansOf(handle.workflowId).map((s) => s.name);
      expect(before).toContain('HandleUpdate:requestReturn');
      // A worker of its own, so it replays the return from its history before it receives it;
      // its bundle is tracing off's, its sink keeps what the interceptors send.
      untraced = await startStubWorker(returnStubs, tracing, { taskQueue, tracedBundle: false });
      expect(await receiveReturn(handle)).toMatchObject({ status: 'REFUNDED', refundStatus: 'COMPLETED' });
      const after = spansOf(handle.workflowId)
        .map((s) => s.name)
        .slice(before.length);
      expect(after).toEqual(expect.arrayContaining(['HandleUpdate:receiveReturn', 'RunWorkflow:returnWorkflow']));
      expect(usedInterceptorFlags(await replayThroughBothBundles(handle))).toBe(true);
    } finally {
      await traced?.stop();
      await untraced?.stop();
    }
  });

  test('a return started with tracing off gets no interceptors on a worker with tracing on, and replays', async () => {
    const taskQueue = `workflow-test-${randomUUID()}`;
    let untraced: StubWorker | undefined = await startStubWorker(returnStubs, undefined, {
      taskQueue,
      stickyQueueScheduleToStartTimeout: '1s',
    });
    let traced: StubWorker | undefined;
    try {
      const handle = await requestReturn(taskQueue);
      await untraced.stop();
      untraced = undefined;
      traced = await startStubWorker(returnStubs, tracing, { taskQueue });
      expect(await receiveReturn(handle)).toMatchObject({ status: 'REFUNDED', refundStatus: 'COMPLETED' });
      expect(usedInterceptorFlags(await replayThroughBothBundles(handle))).toBe(false);
      expect(spansOf(handle.workflowId)).toEqual([]);
    } finally {
      await untraced?.stop();
      await traced?.stop();
    }
  });
});
