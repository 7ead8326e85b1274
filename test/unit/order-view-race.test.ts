/**
 * The order view reads the order's row, then asks its workflow. A payment committed between the
 * two (the workflow confirms the order right after its one step commits) must not show a
 * CONFIRMED, PAID order beside a payment still PENDING: when the live status is ahead of the row,
 * the row is read again. Stubbed database and Temporal client: the interleaving is forced here,
 * where against the real parts it happens only now and then (it did, in a full test run).
 */
import pino from 'pino';
import { orderView, type StoredOrder } from '../../src/orders/view';
import type { PrismaClient } from '../../src/platform/db';
import type { Client } from '@temporalio/client';

const orderId = '7d5d76c3-0000-4000-8000-000000000001';
const customerId = '7d5d76c3-0000-4000-8000-000000000002';

function row(status: string, paymentStatus: string, payment: string): StoredOrder {
  return {
    id: orderId,
    customerId,
    status,
    paymentStatus,
    paymentMethod: 'CARD',
    paymentProvider: 'STRIPE',
    totalAmount: 5000,
    currency: 'USD',
    createdAt: new Date('2026-12-01T22:58:39.918Z'),
    cancelReason: null,
    trackingNumber: null,
    carrier: null,
    reservationExpiresAt: null,
    deliveredAt: null,
    disputeStatus: null,
    items: [],
    payments: [
      {
        attempt: 1,
        provider: 'STRIPE',
        providerPaymentId: 'pi_1',
        amount: 5000,
        currency: 'USD',
        status: payment,
        createdAt: '2026-12-01T22:58:39.918',
      },
    ],
    refunds: [],
    returns: [],
  } as unknown as StoredOrder;
}

/** A database whose reads answer `rows` in turn (the last one from then on). */
function database(...rows: StoredOrder[]) {
  let reads = 0;
  const prisma = { $queryRaw: async () => [rows[Math.min(reads++, rows.length - 1)]] } as unknown as PrismaClient;
  return { prisma, reads: () => reads };
}

function workflowAnswering(status: string, paymentStatus: string): Client {
  const live = { orderId, status, paymentStatus, totalAmount: 5000, currency: 'USD', timeline: [] };
  return { workflow: { getHandle: () => ({ query: async () => live }) } } as unknown as Client;
}

const customer = { id: customerId, role: 'CUSTOMER' as const };
const logger = pino({ level: 'silent' });

test('the payment committed between the row and the query: the row is read again, the view is consistent', async () => {
  const db = database(row('PENDING', 'PENDING', 'PENDING'), row('CONFIRMED', 'PAID', 'SUCCEEDED'));
  const view = await orderView(
    { prisma: db.prisma, temporal: workflowAnswering('CONFIRMED', 'PAID'), logger },
    orderId,
    customer,
  );
  expect(view).toMatchObject({ status: 'CONFIRMED', paymentStatus: 'PAID', source: 'workflow' });
  expect(view.payments).toEqual([expect.objectContaining({ status: 'SUCCEEDED', amount: 5000 })]);
  expect(db.reads()).toBe(2);
});

test('row and workflow agree: one read', async () => {
  const db = database(row('PENDING', 'PENDING', 'PENDING'));
  const view = await orderView(
    { prisma: db.prisma, temporal: workflowAnswering('PENDING', 'PENDING'), logger },
    orderId,
    customer,
  );
  expect(view.payments).toEqual([expect.objectContaining({ status: 'PENDING' })]);
  expect(db.reads()).toBe(1);
});
