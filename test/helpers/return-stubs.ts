/**
 * Stubbed activities for the return workflow and its child refund workflow, shared by the
 * workflow tests that run a return (return.test.ts, tracing.test.ts) so both run the same stubs.
 */
import { ApplicationFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import type { Activities } from '../../src/activities';

/** The product every stubbed return takes back. */
export const product = randomUUID();
/** An order the stubbed openReturn refuses as ORDER_DISPUTED. */
export const DISPUTED_ORDER = randomUUID();

/**
 * The return workflow's activities and its child refund workflow's: a return opens at 1000 a
 * unit, a receipt is refunded 1000 a unit received, and the refund goes to the wallet.
 */
export const returnStubs: Partial<Activities> = {
  async openReturn(input) {
    if (input.orderId === DISPUTED_ORDER)
      throw ApplicationFailure.create({ type: 'ORDER_DISPUTED', message: 'disputed', nonRetryable: true });
    return {
      currency: 'USD',
      expiresAt: new Date(Date.now() + input.receiveWithinMs).toISOString(),
      lines: input.lines.map((l) => ({ ...l, unitPrice: 1000 })),
    };
  },
  async receiveReturn(input) {
    const restocked = input.lines.filter((l) => l.condition === 'RESTOCK').reduce((s, l) => s + l.quantity, 0);
    const damaged = input.lines.filter((l) => l.condition === 'DAMAGED').reduce((s, l) => s + l.quantity, 0);
    return {
      amount: 1000 * (restocked + damaged),
      currency: 'USD',
      lines: [{ productId: product, restocked, damaged }],
    };
  },
  async closeWaitingReturn() {
    return true;
  },
  async recordReturnRefund() {},
  async sendReturnEmail() {},
  // The child refund workflow's activities.
  async openRefund(input) {
    return { customerId: input.requestedBy.id, amount: input.amount!, currency: 'USD', destination: 'WALLET' };
  },
  async recordRefundDecision() {},
  async refundHold() {
    return { held: false };
  },
  async creditRefundToWallet() {
    return { entryId: randomUUID(), balance: 2000 };
  },
  async completeRefund() {
    return { orderStatus: 'PARTIALLY_REFUNDED', paymentStatus: 'PARTIALLY_REFUNDED' };
  },
  async sendRefundEmail() {},
};
