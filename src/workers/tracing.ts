/**
 * The worker's part of a trace (src/platform/tracing.ts): Temporal's OpenTelemetry interceptors
 * continue the trace a workflow was started or signalled in (the header the API's client
 * interceptor wrote) as RunWorkflow, StartActivity, HandleSignal, ... spans made inside the
 * workflow sandbox, and RunActivity spans around each activity, inside which the provider's
 * HTTP calls become client spans.
 *
 * The workflow interceptors run only in workflows started on a worker with tracing on. Each of
 * the two workflow bundles (`npm run build` and the tests build both,
 * scripts/lib/workflow-bundles.ts; a worker run from the sources bundles the one it needs,
 * src/workers/worker.ts) has an interceptor module of its own (workflowInterceptorModules below):
 * in tracing off's a new workflow gets no interceptors and never loads OpenTelemetry's modules,
 * which cost about a third of the worker's CPU per order and a copy of those modules in every
 * cached workflow while every workflow had them; in tracing on's it gets them. Either keeps a
 * workflow as its first task was, read from the SDK flags in its history
 * (src/workflows/tracing-by-history.ts): a workflow that ran with the interceptors fails to
 * replay without them. Their spans leave the sandbox through the `exporter` sink, which every
 * worker registers all the same (with tracing off it drops what it is given), since a workflow
 * started traced keeps sending to it. Replay stays deterministic either way: SDK flags recorded
 * in each history decide the interceptors' yield points, their ids never come from the
 * workflow's Math.random (src/workflows/tracing-interceptors.ts), and the replay tests run every
 * recorded history, made with them and without, through both bundles.
 *
 * Why a sink of our own rather than the package's makeWorkflowExporter: the package is built on
 * OpenTelemetry's 1.x SDK and hands 1.x-shaped spans (parentSpanId, instrumentationLibrary) to a
 * 2.x processor, whose OTLP exporter reads parentSpanContext and instrumentationScope; and it
 * copies the whole workflow info (the decoded memo, search attributes) into span attributes,
 * which would send customer data to the tracing backend. Ours keeps the ids only.
 */
import { createTraceState } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  type OpenTelemetrySinks,
  type SerializableSpan,
} from '@temporalio/interceptors-opentelemetry';
import type { InjectedSinks, WorkerInterceptors, WorkerOptions } from '@temporalio/worker';
import type { WorkflowInfo } from '@temporalio/workflow';
import type { Tracing } from '../platform/tracing';

/**
 * The workflow interceptor module of each bundle, for bundleWorkflowCode's
 * workflowInterceptorModules: with tracing on a new workflow gets Temporal's interceptors
 * (drawing their ids from a stream of their own: src/workflows/tracing-interceptors.ts), with it
 * off none; either way a workflow keeps what it started with (src/workflows/tracing-by-history.ts).
 */
export const workflowInterceptorModules = {
  traced: [require.resolve('../workflows/tracing-on')],
  untraced: [require.resolve('../workflows/tracing-off')],
};

/** A span made in the workflow sandbox, as OpenTelemetry's 2.x SDK reads one. */
export function workflowSpan(serialized: SerializableSpan, info: WorkflowInfo, tracing: Tracing): ReadableSpan {
  const { traceState, ...ids } = serialized.spanContext;
  const spanContext = { ...ids, traceState: traceState ? createTraceState(traceState) : undefined };
  return {
    name: serialized.name,
    kind: serialized.kind,
    spanContext: () => spanContext,
    parentSpanContext: serialized.parentSpanId
      ? { traceId: ids.traceId, spanId: serialized.parentSpanId, traceFlags: ids.traceFlags }
      : undefined,
    startTime: serialized.startTime,
    endTime: serialized.endTime,
    status: serialized.status,
    attributes: {
      ...serialized.attributes,
      temporalWorkflowId: info.workflowId,
      run_id: info.runId,
      temporalWorkflowType: info.workflowType,
      temporalNamespace: info.namespace,
      temporalTaskQueue: info.taskQueue,
    },
    links: serialized.links,
    events: serialized.events,
    duration: serialized.duration,
    ended: serialized.ended,
    resource: tracing.resource,
    instrumentationScope: serialized.instrumentationLibrary,
    droppedAttributesCount: serialized.droppedAttributesCount,
    droppedEventsCount: serialized.droppedEventsCount,
    droppedLinksCount: serialized.droppedLinksCount,
  };
}

/**
 * What a worker adds for traces: the exporter sink (always, see above) and, with tracing on, the
 * activity interceptors. (The workflow interceptors are in the traced bundle:
 * workflowInterceptorModules.)
 */
export function tracingWorkerOptions(
  tracing: Tracing | undefined,
): Required<Pick<WorkerOptions, 'sinks'>> & { interceptors: Pick<WorkerInterceptors, 'activity'> } {
  const sinks: InjectedSinks<OpenTelemetrySinks> = {
    exporter: {
      export: {
        // Not called while a workflow replays, so a span is exported once, when it ends.
        fn: (info, spans) => {
          if (!tracing) return;
          for (const span of spans) tracing.spanProcessor.onEnd(workflowSpan(span, info, tracing));
        },
      },
    },
  };
  const activity: NonNullable<WorkerInterceptors['activity']> = tracing
    ? [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ]
    : [];
  return { sinks, interceptors: { activity } };
}
