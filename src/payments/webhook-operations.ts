/**
 * The webhook inbox's operations (the runbook's "Replay Failed Webhooks" and "Webhook Health
 * Monitoring"), shared by the admin API and the ops CLI. Each is audited with the admin's id.
 * The inbox's own bookkeeping (storing a delivery, handing it to Temporal) is in ./webhook-inbox.ts.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { audit } from '../access/audit';
import type { Prisma } from '../generated/prisma/client';
import type { OperationsDeps } from '../platform/temporal';
import { webhookWorkflowId } from '../workflows/ids';
import type { PaymentProvider } from '../workflows/vocabulary';
import type { WebhookOutcome, WebhookWorkflowInput } from '../workflows/webhook/messages';
import { storedWebhookInput } from './webhook-events';
import { startWebhookWorkflow } from './webhook-inbox';

export interface WebhookFilter {
  provider?: PaymentProvider;
  status?: 'PENDING' | 'PROCESSED' | 'FAILED';
  from?: Date;
  to?: Date;
  limit?: number;
}

function where(filter: WebhookFilter): Prisma.WebhookEventWhereInput {
  return { provider: filter.provider, status: filter.status, receivedAt: { gte: filter.from, lte: filter.to } };
}

function summary(event: {
  id: string;
  provider: string;
  eventId: string;
  type: string;
  status: string;
  attemptCount: number;
  error: string | null;
  orderId: string | null;
  receivedAt: Date;
  processedAt: Date | null;
}) {
  const { id, provider, eventId, type, status, attemptCount, error, orderId, receivedAt, processedAt } = event;
  return {
    id,
    provider,
    eventId,
    type,
    status,
    attemptCount,
    error,
    orderId,
    receivedAt: receivedAt.toISOString(),
    processedAt: processedAt?.toISOString() ?? null,
  };
}

export async function listWebhookEvents(deps: OperationsDeps, filter: WebhookFilter, actorId: string) {
  const events = await deps.prisma.webhookEvent.findMany({
    where: where(filter),
    orderBy: { receivedAt: 'desc' },
    take: filter.limit ?? 100,
  });
  await audit(deps.prisma, {
    actorId,
    action: 'WEBHOOKS_LISTED',
    targetType: 'webhook_events',
    after: { filter, count: events.length },
  });
  return { events: events.map(summary) };
}

export interface ReplayResult {
  dryRun: boolean;
  count: number;
  events: ReturnType<typeof summary>[];
  success?: number;
  failed?: number;
  skipped?: number;
  errors?: { eventId: string; error: string }[];
}

/**
 * Replays the events of a provider received in [from, to] that need it: FAILED ones, and PENDING
 * ones Temporal never got (stored while it was down, and the provider gave up redelivering).
 * A dry run lists them; a real run processes each once, in the order received, and counts what
 * happened.
 */
export async function replayWebhookEvents(
  deps: OperationsDeps,
  request: { provider: PaymentProvider; from: Date; to: Date; dryRun: boolean; reason?: string },
  actorId: string,
): Promise<ReplayResult> {
  const stored = await deps.prisma.webhookEvent.findMany({
    where: {
      ...where({ provider: request.provider, from: request.from, to: request.to }),
      status: { in: ['FAILED', 'PENDING'] },
    },
    orderBy: { receivedAt: 'asc' },
  });
  const candidates = [];
  for (const event of stored) {
    if (event.status === 'FAILED' || !(await handedToTemporal(deps, event.provider, event.eventId)))
      candidates.push(event);
  }
  const listed = { dryRun: request.dryRun, count: candidates.length, events: candidates.map(summary) };
  const auditEntry = {
    actorId,
    targetType: 'webhook_events',
    reason: request.reason,
    before: { request, eventIds: candidates.map((c) => c.eventId) },
  };
  if (request.dryRun) {
    await audit(deps.prisma, { ...auditEntry, action: 'WEBHOOKS_REPLAY_DRY_RUN' });
    return listed;
  }

  let success = 0;
  let failed = 0;
  let skipped = 0;
  const errors: { eventId: string; error: string }[] = [];
  for (const event of candidates) {
    let outcome: WebhookOutcome | 'SKIPPED';
    try {
      outcome = await processOnce(deps, storedWebhookInput(event.provider, event.eventId, event.payload));
    } catch (error) {
      failed += 1;
      errors.push({
        eventId: event.eventId,
        error: error instanceof WorkflowFailedError ? (error.cause?.message ?? error.message) : String(error),
      });
      continue;
    }
    if (outcome === 'SKIPPED')
      skipped += 1; // processed meanwhile (a redelivery, another replay)
    else if (outcome.status === 'PROCESSED') success += 1;
  }
  const result = { ...listed, success, failed, skipped, errors };
  await audit(deps.prisma, { ...auditEntry, action: 'WEBHOOKS_REPLAYED', after: { success, failed, skipped, errors } });
  return result;
}

/** Whether the event's workflow exists (a PENDING event with one is being processed right now). */
async function handedToTemporal(deps: OperationsDeps, provider: PaymentProvider, eventId: string): Promise<boolean> {
  try {
    await deps.temporal.workflow.getHandle(webhookWorkflowId(provider, eventId)).describe();
    return true;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

/**
 * Runs an event's workflow again and answers its outcome. A run still in flight (its failure
 * recorded, its workflow not yet closed) is waited for first; one that succeeded is not repeated.
 */
async function processOnce(deps: OperationsDeps, input: WebhookWorkflowInput): Promise<WebhookOutcome | 'SKIPPED'> {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      return await (await startWebhookWorkflow(deps, input)).result();
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      const earlier = deps.temporal.workflow.getHandle(webhookWorkflowId(input.provider, input.eventId));
      if ((await earlier.describe()).status.name !== 'RUNNING') return 'SKIPPED';
      await earlier.result().catch(() => undefined);
    }
  }
  return 'SKIPPED';
}

const ALERT_BELOW_PERCENT = 95;
const ALERT_ABOVE_EVENTS = 10;

/**
 * Per provider over the last `hours`: stored events by status and the success rate, flagged when
 * low, and the deliveries refused before storage by reason (a run of INVALID_SIGNATURE means the
 * webhook secret here and in the provider's dashboard differ).
 */
export async function webhookHealth(deps: OperationsDeps, hours: number, actorId: string) {
  const since = new Date(Date.now() - hours * 3_600_000);
  const groups = await deps.prisma.webhookEvent.groupBy({
    by: ['provider', 'status'],
    where: { receivedAt: { gte: since } },
    _count: { _all: true },
  });
  const sinceHour = new Date(Math.floor(since.getTime() / 3_600_000) * 3_600_000);
  const rejections = await deps.prisma.webhookRejection.groupBy({
    by: ['provider', 'reason'],
    where: { hour: { gte: sinceHour } },
    _sum: { count: true },
  });
  const providers = Object.fromEntries(
    (['STRIPE', 'RAZORPAY'] as const).map((provider) => {
      const count = (status: string) =>
        groups.find((g) => g.provider === provider && g.status === status)?._count._all ?? 0;
      const [processed, failed, pending] = [count('PROCESSED'), count('FAILED'), count('PENDING')];
      const total = processed + failed + pending;
      const successRate = total > 0 ? Math.round((processed / total) * 10_000) / 100 : 100;
      const byReason = Object.fromEntries(
        rejections.filter((r) => r.provider === provider).map((r) => [r.reason, r._sum.count ?? 0]),
      );
      const rejected = { total: Object.values(byReason).reduce((sum, n) => sum + n, 0), byReason };
      return [
        provider,
        {
          total,
          processed,
          failed,
          pending,
          successRate,
          alert: successRate < ALERT_BELOW_PERCENT && total > ALERT_ABOVE_EVENTS,
          rejected,
        },
      ];
    }),
  );
  const report = { since: since.toISOString(), hours, providers };
  await audit(deps.prisma, { actorId, action: 'WEBHOOKS_HEALTH_CHECKED', targetType: 'webhook_events', after: report });
  return report;
}
