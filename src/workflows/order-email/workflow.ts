/**
 * Sends one customer email about an order outside the order's own workflow (an admin re-sending
 * the confirmation after the order workflow has moved on or closed): the activity retries until
 * SMTP takes it, and its key makes it go at most once per sending.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { OrderEmailInput } from './messages';

const mail = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '5s', maximumInterval: '5m' },
});

export async function orderEmailWorkflow(input: OrderEmailInput): Promise<void> {
  await mail.sendOrderEmail({ orderId: input.orderId, kind: input.kind, key: `resend:${input.sendId}` });
}
