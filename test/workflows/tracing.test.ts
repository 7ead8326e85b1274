/**
 * The tracing interceptors every workflow bundle carries (src/workflows/tracing-interceptors.ts)
 * leave the workflow's own randomness alone. A return is asked to receive more than was
 * requested (its update validator refuses, live, and leaves nothing in history) and is queried
 * before its refund's id is drawn with uuid4(); had the validator's or the query's span ids
 * come from the workflow's Math.random, the replay of that very history (which runs neither)
 * would draw another refund id and fail. The workflow's spans reach the worker's span processor
 * with their parent links, into the child refund workflow too.
 */
import { WithStartWorkflowOperation } from '@temporalio/client';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { dataConverterFor } from '../../src/platform/codec';
import type { Tracing } from '../../src/platform/tracing';
import { tracingWorkerOptions } from '../../src/workers/tracing';
import { getReturnQuery, receiveReturnUpdate, requestReturnUpdate } from '../../src/workflows/return/messages';
import type { returnWorkflow } from '../../src/workflows/return/workflow';
import { product, returnStubs } from '../helpers/return-stubs';
import { config, updateRefusal, useStubWorker } from '../helpers/workflow-worker';

const exported = new InMemorySpanExporter();
const tracing: Tracing = {
  resource: resourceFromAttributes({ 'service.name': 'workflow-test' }),
  spanProcessor: new SimpleSpanProcessor(exported),
  shutdown: async () => undefined,
};

const worker = useStubWorker(returnStubs, tracing);

test('spans made in a workflow draw no ids from its randomness, and keep their parents', async () => {
  const { client, taskQueue } = worker;
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
  await client.workflow.executeUpdateWithStart(requestReturnUpdate, { startWorkflowOperation: start });
  const handle = await start.workflowHandle();
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
  const result = await handle.result();
  expect(result).toMatchObject({ status: 'REFUNDED', refundStatus: 'COMPLETED' });

  // The same bundle replays the history it just wrote: the same refund id is drawn.
  await Worker.runReplayHistory(
    {
      workflowBundle: { codePath: process.env.WORKFLOW_BUNDLE_PATH! },
      dataConverter: dataConverterFor(config),
      sinks: tracingWorkerOptions(undefined).sinks,
    },
    await handle.fetchHistory(),
    handle.workflowId,
  );

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
