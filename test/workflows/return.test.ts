/**
 * The return workflow's logic against the real Temporal dev server, with stubbed activities:
 * received (fewer than asked, one damaged) and refunded by its child refund workflow; rejected;
 * expired; refused at the request; receipts that do not match the request refused before they
 * enter history. With RECORD_HISTORIES=1 scenarios write their histories for replay.test.ts.
 */
import { WithStartWorkflowOperation, type WorkflowHandle } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import {
  getReturnQuery,
  receiveReturnUpdate,
  rejectReturnUpdate,
  requestReturnUpdate,
  type ReturnWorkflowInput,
} from '../../src/workflows/return/messages';
import type { returnWorkflow } from '../../src/workflows/return/workflow';
import { DISPUTED_ORDER, product, returnStubs } from '../helpers/return-stubs';
import { eventually } from '../helpers/stack';
import { keepHistory, recording, useStubWorker, updateRefusal } from '../helpers/workflow-worker';

const admin = randomUUID();
const { wrapped, callsOf } = recording(returnStubs, (input) => String(input.returnId ?? input.refundId));

const worker = useStubWorker(wrapped);

async function requestReturn(overrides: Partial<ReturnWorkflowInput> = {}) {
  const returnId = randomUUID();
  const input: ReturnWorkflowInput = {
    returnId,
    orderId: randomUUID(),
    customerId: randomUUID(),
    lines: [{ productId: product, quantity: 3 }],
    reason: 'wrong colour',
    returnWindowMs: 30 * 86_400_000,
    receiveWithinMs: 14 * 86_400_000,
    refundReminderAfterMs: 86_400_000,
    refundSettleCheckAfterMs: 600_000,
    ...overrides,
  };
  const start = new WithStartWorkflowOperation<typeof returnWorkflow>('returnWorkflow', {
    workflowId: `return-${returnId}`,
    taskQueue: worker.taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'FAIL',
  });
  const requested = await worker.client.workflow.executeUpdateWithStart(requestReturnUpdate, {
    startWorkflowOperation: start,
  });
  const handle: WorkflowHandle<typeof returnWorkflow> = await start.workflowHandle();
  return { returnId, handle, requested };
}

test('received in part with a damaged unit, refunded by its child refund workflow', async () => {
  const { returnId, handle, requested } = await requestReturn();
  expect(requested.status).toBe('REQUESTED');

  // Receipts that do not match the request are refused before they are accepted.
  const tooMany = await updateRefusal(
    handle.executeUpdate(receiveReturnUpdate, {
      args: [{ adminId: admin, lines: [{ productId: product, quantity: 4, condition: 'RESTOCK' }] }],
    }),
  );
  expect(tooMany.type).toBe('RETURN_QUANTITY_TOO_HIGH');
  const stranger = await updateRefusal(
    handle.executeUpdate(receiveReturnUpdate, {
      args: [{ adminId: admin, lines: [{ productId: randomUUID(), quantity: 1, condition: 'RESTOCK' }] }],
    }),
  );
  expect(stranger.type).toBe('VALIDATION_ERROR');

  const received = await handle.executeUpdate(receiveReturnUpdate, {
    args: [
      {
        adminId: admin,
        lines: [
          { productId: product, quantity: 1, condition: 'RESTOCK' },
          { productId: product, quantity: 1, condition: 'DAMAGED' },
        ],
      },
    ],
  });
  expect(received).toMatchObject({ status: 'RECEIVED', refundAmount: 2000 });
  const result = await handle.result();
  expect(result).toMatchObject({ status: 'REFUNDED', refundAmount: 2000, refundStatus: 'COMPLETED' });
  // The refund's request names the return (so it is allowed after delivery); its decision is the receiving admin's.
  expect(callsOf(returnId, 'openRefund')[0].input).toMatchObject({ amount: 2000, refundId: result.refundId });
  expect(callsOf(result.refundId!).map((c) => c.name)).toEqual([
    'recordRefundDecision',
    'refundHold',
    'creditRefundToWallet',
    'completeRefund',
    'sendRefundEmail',
  ]);
  expect(callsOf(result.refundId!, 'recordRefundDecision')[0].input).toMatchObject({ decidedBy: admin });
  expect(callsOf(returnId, 'sendReturnEmail').map((c) => c.input.kind)).toEqual([
    'RETURN_REQUESTED',
    'RETURN_RECEIVED',
    'RETURN_REFUNDED',
  ]);
  await keepHistory('return-received-refunded', handle);
});

test('rejected by an admin with a reason', async () => {
  const { returnId, handle } = await requestReturn();
  const rejected = await handle.executeUpdate(rejectReturnUpdate, { args: [{ adminId: admin, reason: 'used' }] });
  expect(rejected.status).toBe('REJECTED');
  expect((await handle.result()).status).toBe('REJECTED');
  expect(callsOf(returnId, 'closeWaitingReturn')[0].input).toMatchObject({ status: 'REJECTED', actorId: admin });
  expect(callsOf(returnId, 'sendReturnEmail').map((c) => c.input.kind)).toEqual([
    'RETURN_REQUESTED',
    'RETURN_REJECTED',
  ]);
  await keepHistory('return-rejected', handle);
});

test('expires when the goods do not arrive in time', async () => {
  const { returnId, handle } = await requestReturn({ receiveWithinMs: 500 });
  expect((await handle.result()).status).toBe('EXPIRED');
  expect(callsOf(returnId, 'closeWaitingReturn')[0].input).toMatchObject({ status: 'EXPIRED' });
  expect(callsOf(returnId, 'sendReturnEmail').map((c) => c.input.kind)).toEqual(['RETURN_REQUESTED', 'RETURN_EXPIRED']);
  await eventually(async () => (await handle.query(getReturnQuery)).status === 'EXPIRED', 'expired');
  await keepHistory('return-expired', handle);
});

test('a refused request answers the refusal and ends', async () => {
  const error = await requestReturn({ orderId: DISPUTED_ORDER }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(String((error as Error)?.cause ?? error)).toContain('disputed');
});
