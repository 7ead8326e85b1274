/**
 * The order workflow's database steps: thin adapters over src/orders (placement.ts for checkout,
 * records.ts for every later move), their refusals handed on as non-retryable failures. Each is
 * one transaction and safe to retry.
 */
import { Context } from '@temporalio/activity';
import type { PrismaClient } from '../platform/db';
import { newsCheckId } from '../payments/news';
import { refusing } from '../platform/errors';
import { placeOrder, type PlacementInput } from '../orders/placement';
import {
  recordCancelled,
  recordConfirmed,
  recordDelivered,
  recordPaymentFailed,
  recordPaymentSucceeded,
  recordShipped,
  recordSignalledPayment,
} from '../orders/records';

export type { SentThroughTemporal } from '../orders/records';
export type { PlacedOrderRecord } from '../orders/placement';
export type { SignalledPaymentAnswer } from '../orders/records';

export function orderActivities(prisma: PrismaClient) {
  return {
    /** Records the order and reserves its stock (and takes a wallet payment), or refuses and leaves nothing. */
    createOrderAndReserveStock: (input: PlacementInput) => refusing(() => placeOrder(prisma, input)),
    recordPaymentSucceeded: (input: Parameters<typeof recordPaymentSucceeded>[1]) =>
      recordPaymentSucceeded(prisma, input),
    /**
     * A signalled success for the open attempt, verified against its stored webhook event and
     * recorded with the order's confirmation in one transaction, or answered UNVERIFIED (audited
     * once per check, however often this is retried) or NOT_STORED, nothing moved.
     */
    recordSignalledPayment: (input: Omit<Parameters<typeof recordSignalledPayment>[1], 'checkId'>) => {
      const { workflowExecution, activityId } = Context.current().info;
      return recordSignalledPayment(prisma, { ...input, checkId: newsCheckId(workflowExecution?.runId, activityId) });
    },
    recordPaymentFailed: (input: Parameters<typeof recordPaymentFailed>[1]) => recordPaymentFailed(prisma, input),
    confirmOrder: (input: Parameters<typeof recordConfirmed>[1]) => recordConfirmed(prisma, input),
    cancelOrder: (input: Parameters<typeof recordCancelled>[1]) => recordCancelled(prisma, input),
    markShipped: (input: Parameters<typeof recordShipped>[1]) => refusing(() => recordShipped(prisma, input)),
    markDelivered: (input: Parameters<typeof recordDelivered>[1]) => recordDelivered(prisma, input),
  };
}
