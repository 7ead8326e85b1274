/**
 * Whether a workflow runs with the tracing interceptors (src/workflows/tracing-interceptors.ts),
 * decided once, when it starts, and kept for its whole life whichever worker runs it: a workflow
 * started on a worker with tracing on has them, one started with tracing off never has them. The
 * two workflow bundles (src/workers/worker.ts) differ only in which of the two a new workflow gets.
 *
 * Why per workflow and not per worker: the interceptors wrap update handlers, the run and
 * activity results in awaits of their own, so with them a handler's result resolves some
 * microtasks later; where it races another step in the same workflow task (an update that
 * cancels a timer: the recorded key rotations) the commands come out in another order. Taking
 * the interceptors away from a workflow that ran with them therefore breaks its replay
 * (nondeterminism: "Update machine does not handle this event: TimerCanceled"), and the SDK flags
 * the interceptors consult only guard adding them to a workflow that ran without. Keeping the
 * choice of the workflow's first task makes both bundles replay every history as it was made.
 *
 * How a replay knows the first task's choice: the interceptors ask for their SDK flags (flag 5,
 * OpenTelemetryInterceporsAvoidsExtraYields, at least, when the run starts), the SDK records the
 * flags a task used in its completion, and a replayed task's recorded flags are known to the
 * workflow once its activation begins. That is after the interceptor modules are called (when
 * the workflow is created), so the interceptors given to the SDK decide at their first call,
 * inside the first activation, and from then on pass every call to Temporal's interceptors or
 * straight to `next`, synchronously, adding no yield of their own. The known flags are read
 * directly: asking hasFlag() would record the flag in a new workflow, and during replay its
 * SDK-version fallback answers yes for every 1.24 history.
 *
 * The interceptors' module (and OpenTelemetry's) is loaded only for a workflow that has them: a
 * workflow's modules are evaluated per workflow, which is what cost ~4 MiB and ~27 ms of CPU per
 * order with tracing off while every workflow had them.
 */
import type {
  ActivateInput,
  ActivityInput,
  ConcludeActivationInput,
  ContinueAsNewInput,
  DisposeInput,
  GetLogAttributesInput,
  GetMetricTagsInput,
  LocalActivityInput,
  Next,
  QueryInput,
  SignalInput,
  SignalWorkflowInput,
  StartChildWorkflowExecutionInput,
  StartNexusOperationInput,
  TimerInput,
  UpdateInput,
  WorkflowExecuteInput,
  WorkflowInboundCallsInterceptor,
  WorkflowInterceptors,
  WorkflowInternalsInterceptor,
  WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { workflowInfo } from '@temporalio/workflow';
import { SdkFlags } from '@temporalio/workflow/lib/flags';
import { getActivator } from '@temporalio/workflow/lib/global-attributes';

/** The SDK flags only Temporal's OpenTelemetry workflow interceptors ask for. */
const interceptorFlags = [
  SdkFlags.OpenTelemetryInterceptorsTracesInboundSignals,
  SdkFlags.OpenTelemetryInterceptorsTracesLocalActivities,
  SdkFlags.OpenTelemetryInterceporsAvoidsExtraYields,
  SdkFlags.OpenTelemetryInterceptorsInstrumentsAllMethods,
].map((flag) => flag.id);

/** True if this workflow's first task, replayed now, ran with the tracing interceptors. */
function firstTaskHadInterceptors(): boolean {
  // The SDK's set of flags this workflow's history has used so far (private in its types).
  const { knownFlags } = getActivator() as unknown as { knownFlags: unknown };
  if (!(knownFlags instanceof Set))
    throw new TypeError("the SDK no longer keeps a workflow's known flags as knownFlags");
  return interceptorFlags.some((id) => knownFlags.has(id));
}

interface Chosen {
  inbound?: WorkflowInboundCallsInterceptor;
  outbound?: WorkflowOutboundCallsInterceptor;
  internals?: WorkflowInternalsInterceptor;
}

type In<M extends keyof WorkflowInboundCallsInterceptor> = Next<WorkflowInboundCallsInterceptor, M>;
type Out<M extends keyof WorkflowOutboundCallsInterceptor> = Next<WorkflowOutboundCallsInterceptor, M>;
type Int<M extends keyof WorkflowInternalsInterceptor> = Next<WorkflowInternalsInterceptor, M>;

/**
 * The interceptors of a workflow as its first task chose them: when it replays, those recorded;
 * when it starts now, Temporal's tracing interceptors if `newWorkflowsTraced` (the bundle of a
 * worker with tracing on), none otherwise.
 */
export function tracingInterceptorsByHistory(newWorkflowsTraced: boolean): WorkflowInterceptors {
  let decided: Chosen | undefined;
  const chosen = (): Chosen => {
    if (decided) return decided;
    const traced = workflowInfo().unsafe.isReplaying ? firstTaskHadInterceptors() : newWorkflowsTraced;
    decided = {};
    if (traced) {
      // Loaded here, not imported: only a workflow that has the interceptors evaluates their
      // module and OpenTelemetry's. Webpack bundles the module all the same.
      // eslint-disable-next-line no-restricted-globals, @typescript-eslint/no-require-imports
      const { interceptors } = require('./tracing-interceptors') as typeof import('./tracing-interceptors');
      const { inbound = [], outbound = [], internals = [] } = interceptors();
      if (inbound.length > 1 || outbound.length > 1 || internals.length > 1)
        throw new TypeError('the tracing interceptors are expected one of each kind');
      decided = { inbound: inbound[0], outbound: outbound[0], internals: internals[0] };
    }
    return decided;
  };
  // Each method calls the chosen interceptor's, or `next`, and returns what it returns: no await.
  const inbound: WorkflowInboundCallsInterceptor = {
    execute: (input: WorkflowExecuteInput, next: In<'execute'>) => {
      const i = chosen().inbound;
      return i?.execute ? i.execute(input, next) : next(input);
    },
    handleUpdate: (input: UpdateInput, next: In<'handleUpdate'>) => {
      const i = chosen().inbound;
      return i?.handleUpdate ? i.handleUpdate(input, next) : next(input);
    },
    validateUpdate: (input: UpdateInput, next: In<'validateUpdate'>) => {
      const i = chosen().inbound;
      return i?.validateUpdate ? i.validateUpdate(input, next) : next(input);
    },
    handleSignal: (input: SignalInput, next: In<'handleSignal'>) => {
      const i = chosen().inbound;
      return i?.handleSignal ? i.handleSignal(input, next) : next(input);
    },
    handleQuery: (input: QueryInput, next: In<'handleQuery'>) => {
      const i = chosen().inbound;
      return i?.handleQuery ? i.handleQuery(input, next) : next(input);
    },
  };
  const outbound: WorkflowOutboundCallsInterceptor = {
    startTimer: (input: TimerInput, next: Out<'startTimer'>) => {
      const o = chosen().outbound;
      return o?.startTimer ? o.startTimer(input, next) : next(input);
    },
    scheduleActivity: (input: ActivityInput, next: Out<'scheduleActivity'>) => {
      const o = chosen().outbound;
      return o?.scheduleActivity ? o.scheduleActivity(input, next) : next(input);
    },
    scheduleLocalActivity: (input: LocalActivityInput, next: Out<'scheduleLocalActivity'>) => {
      const o = chosen().outbound;
      return o?.scheduleLocalActivity ? o.scheduleLocalActivity(input, next) : next(input);
    },
    startNexusOperation: (input: StartNexusOperationInput, next: Out<'startNexusOperation'>) => {
      const o = chosen().outbound;
      return o?.startNexusOperation ? o.startNexusOperation(input, next) : next(input);
    },
    startChildWorkflowExecution: (
      input: StartChildWorkflowExecutionInput,
      next: Out<'startChildWorkflowExecution'>,
    ) => {
      const o = chosen().outbound;
      return o?.startChildWorkflowExecution ? o.startChildWorkflowExecution(input, next) : next(input);
    },
    signalWorkflow: (input: SignalWorkflowInput, next: Out<'signalWorkflow'>) => {
      const o = chosen().outbound;
      return o?.signalWorkflow ? o.signalWorkflow(input, next) : next(input);
    },
    continueAsNew: (input: ContinueAsNewInput, next: Out<'continueAsNew'>) => {
      const o = chosen().outbound;
      return o?.continueAsNew ? o.continueAsNew(input, next) : next(input);
    },
    getLogAttributes: (input: GetLogAttributesInput, next: Out<'getLogAttributes'>) => {
      const o = chosen().outbound;
      return o?.getLogAttributes ? o.getLogAttributes(input, next) : next(input);
    },
    getMetricTags: (input: GetMetricTagsInput, next: Out<'getMetricTags'>) => {
      const o = chosen().outbound;
      return o?.getMetricTags ? o.getMetricTags(input, next) : next(input);
    },
  };
  const internals: WorkflowInternalsInterceptor = {
    activate: (input: ActivateInput, next: Int<'activate'>) => {
      const i = chosen().internals;
      return i?.activate ? i.activate(input, next) : next(input);
    },
    concludeActivation: (input: ConcludeActivationInput, next: Int<'concludeActivation'>) => {
      const i = chosen().internals;
      return i?.concludeActivation ? i.concludeActivation(input, next) : next(input);
    },
    // Also when the workflow leaves the cache before its first activation chose (nothing to load).
    dispose: (input: DisposeInput, next: Int<'dispose'>) => {
      const i = decided?.internals;
      return i?.dispose ? i.dispose(input, next) : next(input);
    },
  };
  return { inbound: [inbound], outbound: [outbound], internals: [internals] };
}
