/**
 * The worker's part of a trace (src/platform/tracing.ts): Temporal's OpenTelemetry interceptors
 * continue the trace a workflow was started or signalled in (the header the API's client
 * interceptor wrote) as RunWorkflow, StartActivity, HandleSignal, ... spans made inside the
 * workflow sandbox, and RunActivity spans around each activity, inside which the provider's
 * HTTP calls become client spans.
 *
 * The workflow interceptors are in every workflow bundle (bundleWorkflowCode's
 * workflowInterceptorModules: `npm run build`, the tests' bundle, and the bundle a worker makes
 * from the sources), whether tracing is on or not, so one bundle serves both. Their spans leave
 * the sandbox through the `exporter` sink, which every worker therefore registers; with tracing
 * off it drops them. The interceptors keep replay deterministic: SDK flags recorded in each
 * history decide their yield points, their ids never come from the workflow's Math.random
 * (src/workflows/tracing-interceptors.ts), and the replay tests run the recorded histories,
 * all made before tracing, through the same bundle.
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
 * The workflow interceptors (Temporal's, drawing their ids from a stream of their own: see the
 * module), for bundleWorkflowCode's workflowInterceptorModules.
 */
export const workflowInterceptorModules = [require.resolve('../workflows/tracing-interceptors')];

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
 * What a worker adds for traces: the exporter sink and, with tracing on, the activity
 * interceptors. (The workflow interceptors are in the bundle: workflowInterceptorModules.)
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
