/**
 * The webhook inbox's own bookkeeping: storing a delivery, handing an event to Temporal, how
 * processing it ended, and counting deliveries refused before storage. The admins' operations on
 * the inbox (list, replay, health) are in ./webhook-operations.ts.
 *
 * A delivery's path to its answer is kept to two statements of the inbox's own (besides the
 * keyring's read of the webhook secret) and a signal (issue 18: acknowledged once the event is
 * durable, never waiting for the order). One statement (storeWebhookEvent) routes the event by
 * the payment attempt it names, stores it, and reads what a redelivery or a replay needs to know
 * of the row stored before; the signal (or the webhook workflow's start) hands it to Temporal;
 * one more statement marks the row PROCESSED once its order has it.
 *
 * That mark stays on the answer's path, on purpose. Answering before it would answer no faster
 * for anything the provider can tell (the event is durable as soon as the signal returns), and
 * would lose three things the inbox promises: (1) the duplicate answer: a delivery of an event
 * already handed over meets a PROCESSED row and answers `duplicate` with no second signal, and of
 * the same event delivered twice at once exactly one answers `received` (the one whose mark
 * counted); with the mark after the answer, a redelivery arriving before it would signal again
 * and be answered `received`. (2) the row's count: the mark is one attempt more, taken once,
 * because only the delivery that moves the row out of PENDING or FAILED counts it; two hand-offs
 * before either mark would count two. (3) its repair: a mark that fails (the database lost just
 * then) is a 5xx today and the provider delivers again, which marks it; after a 2xx nothing would
 * come back, and the row would stay PENDING for an admin's replay. An API that dies between the
 * signal and the mark leaves the row PENDING, as before, for the redelivery that its unanswered
 * request brings, or a replay.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { PrismaClient } from '../platform/db';
import type { OperationsDeps } from '../platform/temporal';
import type { PaymentProvider } from '../workflows/vocabulary';
import { webhookEvents } from '../monitoring/metrics';
import type { WebhookOutcome, WebhookWorkflowInput } from '../workflows/webhook/messages';
import type { webhookWorkflow } from '../workflows/webhook/workflow';
import { orderWorkflowId, webhookWorkflowId } from '../workflows/ids';
import { paymentEventSignal } from '../workflows/order/messages';
import { orderOfPaymentAttemptSql } from './attempts';

/**
 * What to do with a verified delivery, once stored: hand it to Temporal (its first delivery, or
 * one of an event not yet processed), or answer it as the duplicate it is: its signed body is
 * stored under another event id (a Razorpay replay), or the event is processed already.
 */
export type StoredDelivery =
  { next: 'hand-off'; orderId?: string } | { next: 'replayed'; storedAs: string } | { next: 'processed' };

/**
 * Stores a verified delivery once per provider and event id, and once per signed body (Razorpay's
 * dedupeKey), filed under the order that opened the payment attempt it names (orderOfPaymentAttemptSql,
 * never one its metadata names), and tells what to do next. One statement routes it, inserts it,
 * and reads the row a redelivery or a replay meets instead (its event id, its status); they were
 * three or four. `orderId` is the route as it is now, a redelivery's too, as it always was.
 *
 * The statement sees the table as it was when it began: a row that another delivery of the same
 * event committed while the statement ran (two deliveries at once) stops the insert unseen. When
 * the insert was stopped and the statement saw no row for what it reads (that case, or a Razorpay
 * event id stored before with another body), the row is read on its own, as every delivery read
 * it before.
 */
export async function storeWebhookEvent(
  prisma: PrismaClient,
  input: WebhookWorkflowInput,
  payload: object,
  dedupeKey?: string,
): Promise<StoredDelivery> {
  const { provider, eventId } = input;
  const route = orderOfPaymentAttemptSql(provider, input.payment?.providerPaymentId ?? null);
  const [row] = await prisma.$queryRaw<
    { orderId: string | null; inserted: boolean; status: string | null; storedAs: string | null }[]
  >`
    WITH route AS (SELECT ${route} AS order_id),
    stored AS (
      INSERT INTO webhook_events (id, provider, event_id, type, payload, order_id, received_at, dedupe_key)
      SELECT ${randomUUID()}::uuid, ${provider}::"WebhookProvider", ${eventId}, ${input.eventType},
        ${JSON.stringify(payload)}::jsonb, route.order_id, ${new Date()}, ${dedupeKey ?? null}
      FROM route
      ON CONFLICT DO NOTHING
      RETURNING id
    )
    SELECT (SELECT order_id FROM route) AS "orderId", EXISTS (SELECT 1 FROM stored) AS inserted,
      (SELECT status::text FROM webhook_events
        WHERE provider = ${provider}::"WebhookProvider" AND event_id = ${eventId}) AS status,
      (SELECT event_id FROM webhook_events
        WHERE provider = ${provider}::"WebhookProvider" AND dedupe_key = ${dedupeKey ?? null}) AS "storedAs"`;
  const handOff = { next: 'hand-off' as const, orderId: row.orderId ?? undefined };
  if (row.inserted) return handOff;
  // The same signed body stored under another event id is a replay.
  if (dedupeKey) {
    const storedAs =
      row.storedAs ??
      (await prisma.webhookEvent.findFirst({ where: { provider, dedupeKey }, select: { eventId: true } }))?.eventId;
    if (storedAs !== undefined && storedAs !== eventId) return { next: 'replayed', storedAs };
  }
  // Processed once already (a redelivery): nothing more to do.
  const status = row.status ?? (await storedStatus(prisma, provider, eventId));
  return status === 'PROCESSED' ? { next: 'processed' } : handOff;
}

/**
 * Hands an event to Temporal. The id makes a second run impossible while one runs or after one
 * succeeded; an event whose run failed may run again (a redelivery or a replay).
 */
export async function startWebhookWorkflow(deps: OperationsDeps, input: WebhookWorkflowInput) {
  return deps.temporal.workflow.start<typeof webhookWorkflow>('webhookWorkflow', {
    workflowId: webhookWorkflowId(input.provider, input.eventId),
    taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
    args: [input],
    workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
  });
}

/**
 * Records how processing a stored webhook event ended (PROCESSED or FAILED with the error).
 * Each workflow run (the first delivery, each replay) counts one attempt: `runId` names the run,
 * so a second call in the same run (a retried activity whose worker died after the write) counts
 * nothing more.
 */
export async function recordWebhookOutcome(
  prisma: PrismaClient,
  input: Pick<WebhookWorkflowInput, 'provider' | 'eventId'> & WebhookOutcome,
  runId: string,
): Promise<void> {
  const where = { provider: input.provider, eventId: input.eventId };
  const [counted] = await prisma.$transaction([
    prisma.webhookEvent.updateMany({
      where: { ...where, OR: [{ countedRunId: null }, { countedRunId: { not: runId } }] },
      data: { attemptCount: { increment: 1 }, countedRunId: runId },
    }),
    prisma.webhookEvent.update({
      where: { provider_eventId: where },
      data: {
        status: input.status,
        error: input.status === 'FAILED' ? input.detail : null,
        processedAt: new Date(),
      },
    }),
  ]);
  // Counted once per attempt, as the row counts it.
  if (counted.count > 0) webhookEvents.inc({ provider: input.provider, outcome: input.status.toLowerCase() });
}

/**
 * Hands a stored event to Temporal, by the shortest way that keeps its guarantees. A payment's
 * news for an order of ours (`orderId`: the order that opened the attempt it names,
 * src/payments/attempts.ts, never one its metadata names) is signalled straight to that order's
 * workflow: the signal is durable once Temporal answers, and the order believes it only after
 * checking it against the stored row (src/payments/news.ts), as it checks the webhook workflow's,
 * and takes a second signal of the same event id as the redelivery it is. The row then becomes
 * PROCESSED with one attempt more, as the webhook workflow records it; a delivery that finds it
 * processed meanwhile (the same event delivered twice at once) is a duplicate. Everything else,
 * and news for an order whose workflow has closed (a late payment, to refund), starts the event's
 * own webhook workflow. If the API dies between the signal and the row's update, the row stays
 * PENDING with no webhook workflow: the provider's redelivery or a replay hands it over again.
 */
export async function handOffWebhookEvent(
  deps: OperationsDeps,
  input: WebhookWorkflowInput,
  orderId: string | undefined,
): Promise<'handed' | 'duplicate'> {
  if (input.payment && orderId) {
    let signalled = true;
    try {
      await deps.temporal.workflow.getHandle(orderWorkflowId(orderId)).signal(paymentEventSignal, input.payment);
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
      signalled = false; // the order's workflow has closed: the webhook workflow deals with it
    }
    if (signalled) return (await recordHandedToOrder(deps.prisma, input)) ? 'handed' : 'duplicate';
  }
  await startWebhookWorkflow(deps, input);
  return 'handed';
}

/** A payment's news signalled to its order: processed, one attempt more; false if it was already. */
async function recordHandedToOrder(prisma: PrismaClient, input: WebhookWorkflowInput): Promise<boolean> {
  const { count } = await prisma.webhookEvent.updateMany({
    where: { provider: input.provider, eventId: input.eventId, status: { in: ['PENDING', 'FAILED'] } },
    data: { status: 'PROCESSED', error: null, processedAt: new Date(), attemptCount: { increment: 1 } },
  });
  if (count > 0) webhookEvents.inc({ provider: input.provider, outcome: 'processed' });
  return count > 0;
}

/** A stored event's status (PROCESSED: a redelivery of it needs nothing more). */
async function storedStatus(
  prisma: PrismaClient,
  provider: PaymentProvider,
  eventId: string,
): Promise<string | undefined> {
  const stored = await prisma.webhookEvent.findUnique({
    where: { provider_eventId: { provider, eventId } },
    select: { status: true },
  });
  return stored?.status;
}

/**
 * Counts a delivery refused before it was stored (INVALID_SIGNATURE, MISSING_SIGNATURE,
 * MALFORMED_EVENT): one row per provider, hour and reason, however many arrive.
 */
export async function countRejection(prisma: PrismaClient, provider: PaymentProvider, reason: string): Promise<void> {
  await prisma.$executeRaw`
    INSERT INTO webhook_rejections (provider, hour, reason, count, last_at)
    VALUES (${provider}::"WebhookProvider", date_trunc('hour', now() AT TIME ZONE 'UTC'), ${reason}, 1, now() AT TIME ZONE 'UTC')
    ON CONFLICT (provider, hour, reason) DO UPDATE SET count = webhook_rejections.count + 1, last_at = EXCLUDED.last_at`;
}
