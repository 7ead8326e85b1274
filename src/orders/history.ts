/**
 * An order's audit trail, read from Temporal: the order workflow's history and the workflows
 * that acted on it (its refunds, returns and disputes, the webhook events about its payments),
 * as one timeline in time order: what arrived, who asked for what, which steps ran or failed,
 * which timers fired.
 * Only chosen fields are shown, never whole payloads (no card data, no addresses, no secrets).
 */
import { ENCRYPTED } from '../platform/codec';
import { isGrpcServiceError, WorkflowNotFoundError } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { tsToDate } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import { audit } from '../access/audit';
import type { OperationsDeps } from '../platform/temporal';
import {
  disputeWorkflowId,
  orderWorkflowId,
  refundWorkflowId,
  returnWorkflowId,
  webhookWorkflowId,
} from '../workflows/ids';

export interface TimelineEntry {
  at: string;
  workflowId: string;
  kind:
    | 'STARTED'
    | 'SIGNAL'
    | 'UPDATE'
    | 'UPDATE_RESULT'
    | 'ACTIVITY_COMPLETED'
    | 'ACTIVITY_FAILED'
    | 'TIMER_FIRED'
    | 'COMPLETED'
    | 'FAILED'
    | 'TERMINATED';
  name?: string;
  actor?: string;
  detail?: string;
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const isEncrypted = (payload: Payload) =>
  payload.metadata?.encoding !== undefined &&
  payload.metadata?.encoding !== null &&
  Buffer.from(payload.metadata.encoding).toString() === ENCRYPTED;

type Decode = (payloads: { payloads?: Payload[] | null } | null | undefined) => unknown[];

/** Decrypts every payload of a history up front (the codec is async), then reads them as values. */
async function decrypted(deps: OperationsDeps, events: HistoryEvent[]): Promise<Decode> {
  const codecs = [...deps.temporal.options.loadedDataConverter.payloadCodecs].reverse();
  const plain = new Map<Payload, Payload>();
  const all: Payload[] = [];
  const collect = (value: unknown): void => {
    if (!value || typeof value !== 'object') return;
    if (Array.isArray((value as { payloads?: unknown }).payloads))
      all.push(...(value as { payloads: Payload[] }).payloads);
    // A failure's message and stack trace travel encrypted too (src/failure-converter.ts).
    const encodedAttributes = (value as { encodedAttributes?: Payload | null }).encodedAttributes;
    if (encodedAttributes) all.push(encodedAttributes);
    for (const child of Object.values(value)) collect(child);
  };
  events.forEach(collect);
  // Only sealed payloads go to the codec (which refuses plaintext): one in clear (history from
  // before encryption, a signal someone typed straight into Temporal) is shown as it is.
  const sealed = all.filter(isEncrypted);
  let decoded = sealed;
  for (const codec of codecs) decoded = await codec.decode(decoded);
  sealed.forEach((payload, i) => plain.set(payload, decoded[i]));
  return (payloads) => decode((payloads?.payloads ?? []).map((p) => plain.get(p) ?? p));
}

function decode(payloads: Payload[]): unknown[] {
  return payloads.map((p) => {
    try {
      return defaultPayloadConverter.fromPayload(p);
    } catch {
      return undefined; // encrypted or foreign: not shown
    }
  });
}

// The fields of a message worth showing in an audit trail, and nothing else.
const SHOWN = [
  'provider',
  'eventId',
  'outcome',
  'providerPaymentId',
  'amount',
  'currency',
  'trackingNumber',
  'carrier',
  'reason',
  'refundId',
  'returnId',
  'disputeId',
  'type',
  'paymentStatus',
  'orderStatus',
  'status',
];
function describe(value: unknown): string | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const shown = SHOWN.filter((key) => (value as Record<string, unknown>)[key] !== undefined).map(
    (key) => `${key}=${String((value as Record<string, unknown>)[key])}`,
  );
  return shown.length ? shown.join(' ') : undefined;
}
function actorOf(value: unknown): string | undefined {
  const v = value as { actor?: { id?: string; role?: string }; adminId?: string; provider?: string } | undefined;
  if (v?.actor?.id) return `${v.actor.role ?? 'USER'}:${v.actor.id}`;
  if (v?.adminId) return `ADMIN:${v.adminId}`;
  if (v?.provider) return `PROVIDER:${v.provider}`;
  return undefined;
}

/** Who started a workflow, read from its input the way each workflow type names it. */
function startedBy(workflowType: string | undefined, input: unknown): string | undefined {
  const v = input as { customerId?: string; requestedBy?: { id: string; role: string }; provider?: string } | undefined;
  if (workflowType === 'orderWorkflow' && v?.customerId) return `CUSTOMER:${v.customerId}`;
  if (workflowType === 'refundWorkflow' && v?.requestedBy) return `${v.requestedBy.role}:${v.requestedBy.id}`;
  if (workflowType === 'webhookWorkflow' && v?.provider) return `PROVIDER:${v.provider}`;
  if (workflowType === 'returnWorkflow' && v?.customerId) return `CUSTOMER:${v.customerId}`;
  if (workflowType === 'disputeWorkflow' && v?.provider) return `PROVIDER:${v.provider}`;
  return undefined;
}

function timelineOf(workflowId: string, events: HistoryEvent[], decode: Decode): TimelineEntry[] {
  const failureMessage = (failure: temporal.api.failure.v1.IFailure | null | undefined): string | undefined => {
    if (!failure) return undefined;
    const [attributes] = failure.encodedAttributes
      ? (decode({ payloads: [failure.encodedAttributes as Payload] }) as [{ message?: string } | undefined])
      : [];
    return attributes?.message ?? failure.message ?? undefined;
  };
  const activities = new Map<string, string>();
  const updates = new Map<string, string>();
  const timers = new Map<string, string>();
  const entries: TimelineEntry[] = [];
  for (const event of events) {
    const at = tsToDate(event.eventTime!).toISOString();
    const entry = (fields: Omit<TimelineEntry, 'at' | 'workflowId'>) => entries.push({ at, workflowId, ...fields });
    if (event.workflowExecutionStartedEventAttributes) {
      const [input] = decode(event.workflowExecutionStartedEventAttributes.input);
      const workflowType = event.workflowExecutionStartedEventAttributes.workflowType?.name ?? undefined;
      entry({ kind: 'STARTED', name: workflowType, actor: startedBy(workflowType, input) });
    } else if (event.workflowExecutionSignaledEventAttributes) {
      const [input] = decode(event.workflowExecutionSignaledEventAttributes.input);
      entry({
        kind: 'SIGNAL',
        name: event.workflowExecutionSignaledEventAttributes.signalName ?? undefined,
        actor: actorOf(input),
        detail: describe(input),
      });
    } else if (event.workflowExecutionUpdateAcceptedEventAttributes) {
      const request = event.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest;
      const [input] = decode(request?.input?.args);
      const name = request?.input?.name ?? undefined;
      updates.set(String(event.eventId), name ?? '');
      entry({ kind: 'UPDATE', name, actor: actorOf(input), detail: describe(input) });
    } else if (event.workflowExecutionUpdateCompletedEventAttributes) {
      const attributes = event.workflowExecutionUpdateCompletedEventAttributes;
      const failure = attributes.outcome?.failure;
      entry({
        kind: 'UPDATE_RESULT',
        name: updates.get(String(attributes.acceptedEventId)),
        detail: failure ? `refused: ${failureMessage(failure)}` : 'done',
      });
    } else if (event.activityTaskScheduledEventAttributes) {
      activities.set(String(event.eventId), event.activityTaskScheduledEventAttributes.activityType?.name ?? '');
    } else if (event.activityTaskCompletedEventAttributes) {
      entry({
        kind: 'ACTIVITY_COMPLETED',
        name: activities.get(String(event.activityTaskCompletedEventAttributes.scheduledEventId)),
      });
    } else if (event.activityTaskFailedEventAttributes) {
      const attributes = event.activityTaskFailedEventAttributes;
      entry({
        kind: 'ACTIVITY_FAILED',
        name: activities.get(String(attributes.scheduledEventId)),
        detail: failureMessage(attributes.failure),
      });
    } else if (event.timerStartedEventAttributes) {
      const timeout = event.timerStartedEventAttributes.startToFireTimeout;
      const seconds = Number(timeout?.seconds ?? 0) + (timeout?.nanos ?? 0) / 1e9;
      timers.set(String(event.eventId), `set for ${Number(seconds.toFixed(1))}s`);
    } else if (event.timerFiredEventAttributes) {
      // The workflow's timers are its deadlines: the reservation, the reminder, the status check.
      entry({
        kind: 'TIMER_FIRED',
        name: 'timer',
        detail: timers.get(String(event.timerFiredEventAttributes.startedEventId)),
      });
    } else if (event.workflowExecutionCompletedEventAttributes) {
      const [result] = decode(event.workflowExecutionCompletedEventAttributes.result);
      entry({ kind: 'COMPLETED', detail: describe(result) });
    } else if (event.workflowExecutionFailedEventAttributes) {
      entry({ kind: 'FAILED', detail: failureMessage(event.workflowExecutionFailedEventAttributes.failure) });
    } else if (event.workflowExecutionTerminatedEventAttributes) {
      entry({ kind: 'TERMINATED', detail: event.workflowExecutionTerminatedEventAttributes.reason ?? undefined });
    }
  }
  return entries;
}

const GRPC_NOT_FOUND = 5;

async function historyOf(deps: OperationsDeps, workflowId: string): Promise<TimelineEntry[]> {
  try {
    const history = await deps.temporal.workflow.getHandle(workflowId).fetchHistory();
    const events = history.events ?? [];
    return timelineOf(workflowId, events, await decrypted(deps, events));
  } catch (error) {
    // No such workflow: an event signalled straight to its open order, or one never handed over
    // (stored while Temporal was down) has no webhook workflow. fetchHistory answers gRPC NOT_FOUND.
    if (error instanceof WorkflowNotFoundError || (isGrpcServiceError(error) && error.code === GRPC_NOT_FOUND))
      return [];
    throw error;
  }
}

/** The timeline of an order and of what acted on it, oldest first, one page at a time. */
export async function orderHistory(
  deps: OperationsDeps,
  orderId: string,
  page: { page: number; pageSize: number },
  actorId: string,
) {
  const [refunds, webhooks, returns, disputes] = await Promise.all([
    deps.prisma.refund.findMany({ where: { orderId }, select: { id: true } }),
    deps.prisma.webhookEvent.findMany({ where: { orderId }, select: { provider: true, eventId: true } }),
    deps.prisma.return.findMany({ where: { orderId }, select: { id: true } }),
    deps.prisma.dispute.findMany({ where: { orderId }, select: { provider: true, providerDisputeId: true } }),
  ]);
  const workflowIds = [
    orderWorkflowId(orderId),
    ...refunds.map((r) => refundWorkflowId(r.id)),
    ...webhooks.map((w) => webhookWorkflowId(w.provider, w.eventId)),
    ...returns.map((r) => returnWorkflowId(r.id)),
    ...disputes.map((d) => disputeWorkflowId(d.provider, d.providerDisputeId)),
  ];
  const all = (await Promise.all(workflowIds.map((id) => historyOf(deps, id))))
    .flat()
    .sort((a, b) => a.at.localeCompare(b.at));
  const start = (page.page - 1) * page.pageSize;
  await audit(deps.prisma, { actorId, action: 'ORDER_HISTORY_READ', targetType: 'order', targetId: orderId });
  return {
    orderId,
    workflows: workflowIds,
    total: all.length,
    page: page.page,
    pageSize: page.pageSize,
    entries: all.slice(start, start + page.pageSize),
  };
}
