/**
 * One workflow per provider event (`webhook-<provider>-<eventId>`): the id makes a second
 * processing of a redelivered event impossible by construction. It hands the payment outcome to
 * the order's workflow and records in the webhook inbox whether that worked.
 */
import { getExternalWorkflowHandle, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { paymentEventSignal, type WebhookOutcome, type WebhookWorkflowInput } from './messages';

const store = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

export async function webhookWorkflow(input: WebhookWorkflowInput): Promise<WebhookOutcome> {
  const outcome = await deliverToOrder(input);
  await store.recordWebhookOutcome({ provider: input.provider, eventId: input.eventId, ...outcome });
  return outcome;
}

async function deliverToOrder(input: WebhookWorkflowInput): Promise<WebhookOutcome> {
  if (!input.payment) return { status: 'PROCESSED', detail: `${input.eventType}: nothing to do` };
  if (!input.orderId) return { status: 'FAILED', detail: `${input.eventType}: the payment carries no orderId in its metadata` };
  const orderWorkflowId = `order-${input.orderId}`;
  try {
    await getExternalWorkflowHandle(orderWorkflowId).signal(paymentEventSignal, input.payment);
    return { status: 'PROCESSED', detail: `${input.payment.outcome} delivered to ${orderWorkflowId}` };
  } catch (error) {
    return { status: 'FAILED', detail: `${orderWorkflowId} is not accepting payment events: ${(error as Error).message}` };
  }
}
