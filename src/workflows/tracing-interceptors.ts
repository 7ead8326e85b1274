/**
 * Temporal's OpenTelemetry workflow interceptors (RunWorkflow, HandleSignal, HandleUpdate,
 * StartActivity, SignalWorkflow, ... spans; src/workers/tracing.ts), for the workflows that
 * have them, those started on a worker with tracing on (src/workflows/tracing-by-history.ts
 * loads this module for them only), with one change: the span and trace ids they draw come from
 * a random stream of their own, never from the workflow's Math.random.
 *
 * Why: in the sandbox Math.random is the workflow's seeded, replayed sequence, and
 * OpenTelemetry's id generator draws from it. A span made before a `uuid4()` shifts the uuid,
 * so every workflow that draws one (a return's refund id, a key rotation's version id) would
 * replay its recorded history with other values and fail with a nondeterminism error; and a
 * query or an update validator, which run live but are never replayed, would shift it between
 * a run and its replay. Each method runs inside `WorkflowRandomStream.with`, which the SDK made
 * for interceptors: the scope covers the interceptor's own code, and `next(...)` re-enters the
 * workflow's scope, so the workflow code it calls still draws from its own sequence.
 *
 * Spans of the main path (run, signals, updates, activities) draw from one named stream, which
 * replays with the workflow, so a span begun before a cache eviction keeps its id after it;
 * queries and update validators draw from another, so what they draw never moves the first.
 */
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import {
  getRandomStream,
  type ActivityInput,
  type ContinueAsNewInput,
  type LocalActivityInput,
  type Next,
  type QueryInput,
  type SignalInput,
  type SignalWorkflowInput,
  type StartChildWorkflowExecutionInput,
  type StartNexusOperationInput,
  type UpdateInput,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptors,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';

const mainPathIds = () => getRandomStream('durable-commerce/trace-ids');
const readOnlyIds = () => getRandomStream('durable-commerce/trace-ids-read-only');

type Inbound<M extends keyof WorkflowInboundCallsInterceptor> = Next<WorkflowInboundCallsInterceptor, M>;
type Outbound<M extends keyof WorkflowOutboundCallsInterceptor> = Next<WorkflowOutboundCallsInterceptor, M>;

class TracingInboundInterceptor extends OpenTelemetryInboundInterceptor {
  execute(input: WorkflowExecuteInput, next: Inbound<'execute'>) {
    return mainPathIds().with(() => super.execute(input, next));
  }
  handleSignal(input: SignalInput, next: Inbound<'handleSignal'>) {
    return mainPathIds().with(() => super.handleSignal(input, next));
  }
  handleUpdate(input: UpdateInput, next: Inbound<'handleUpdate'>) {
    return mainPathIds().with(() => super.handleUpdate(input, next));
  }
  validateUpdate(input: UpdateInput, next: Inbound<'validateUpdate'>) {
    return readOnlyIds().with(() => super.validateUpdate(input, next));
  }
  handleQuery(input: QueryInput, next: Inbound<'handleQuery'>) {
    return readOnlyIds().with(() => super.handleQuery(input, next));
  }
}

class TracingOutboundInterceptor extends OpenTelemetryOutboundInterceptor {
  scheduleActivity(input: ActivityInput, next: Outbound<'scheduleActivity'>) {
    return mainPathIds().with(() => super.scheduleActivity(input, next));
  }
  scheduleLocalActivity(input: LocalActivityInput, next: Outbound<'scheduleLocalActivity'>) {
    return mainPathIds().with(() => super.scheduleLocalActivity(input, next));
  }
  startNexusOperation(input: StartNexusOperationInput, next: Outbound<'startNexusOperation'>) {
    return mainPathIds().with(() => super.startNexusOperation(input, next));
  }
  startChildWorkflowExecution(input: StartChildWorkflowExecutionInput, next: Outbound<'startChildWorkflowExecution'>) {
    return mainPathIds().with(() => super.startChildWorkflowExecution(input, next));
  }
  continueAsNew(input: ContinueAsNewInput, next: Outbound<'continueAsNew'>) {
    return mainPathIds().with(() => super.continueAsNew(input, next));
  }
  signalWorkflow(input: SignalWorkflowInput, next: Outbound<'signalWorkflow'>) {
    return mainPathIds().with(() => super.signalWorkflow(input, next));
  }
}

export const interceptors = (): WorkflowInterceptors => ({
  inbound: [new TracingInboundInterceptor()],
  outbound: [new TracingOutboundInterceptor()],
  internals: [new OpenTelemetryInternalsInterceptor()],
});
