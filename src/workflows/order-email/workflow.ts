/**
 * Sends one customer email about an order outside the order's own workflow (an admin re-sending
 * the confirmation after the order workflow has moved on or closed): the activity retries until
 * SMTP takes it, and its key makes it go at most once per sending.
 */
import { activitiesFor } from '../policies';
import type { OrderEmailInput } from './messages';

const act = activitiesFor('sendOrderEmail');

export async function orderEmailWorkflow(input: OrderEmailInput): Promise<void> {
  await act.sendOrderEmail({ orderId: input.orderId, kind: input.kind, key: `resend:${input.sendId}` });
}
