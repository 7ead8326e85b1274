/** The order email workflow's contract (`order-email-<orderId>-<sendId>`): one customer email about an order, sent again. */
export interface OrderEmailInput {
  orderId: string;
  /** Only the confirmation is re-sent today. */
  kind: 'ORDER_CONFIRMED';
  /** Makes this sending its own message (each admin re-send is a new one, each retry the same). */
  sendId: string;
}

export const orderEmailWorkflowId = (orderId: string, sendId: string) => `order-email-${orderId}-${sendId}`;
