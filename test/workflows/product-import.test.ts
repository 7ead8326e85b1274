/**
 * The product import workflow's logic against the real Temporal dev server, with stubbed
 * activities: header, batches carried across continue-as-new from offset to offset, then one
 * landing; a dry run that only counts; a file refused as a whole failing with its refusal. With
 * RECORD_HISTORIES=1 scenarios write their histories for replay.test.ts.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import type { productImportWorkflow } from '../../src/workflows/product-import/workflow';
import { getImportProgressQuery } from '../../src/workflows/product-import/messages';
import { productImportWorkflowId } from '../../src/workflows/ids';
import type { BatchInput } from '../../src/inventory/imports';
import { keepHistory, recording, useStubWorker } from '../helpers/workflow-worker';

const ROWS = 7; // rows 2..8, three to a batch: batches at rows 2, 5 and 8
const refused = new Set<string>();

const stubs = {
  async readImportHeader(input: { importId: string }) {
    if (refused.has(input.importId))
      throw ApplicationFailure.create({
        type: 'VALIDATION_ERROR',
        message: 'The header (row 1) lacks the column stock',
        details: [{ missing: ['stock'] }],
        nonRetryable: true,
      });
    return { columns: ['sku', 'name', 'price', 'stock'], ignoredColumns: [], offset: 22 };
  },
  async validateImportBatch(input: BatchInput) {
    const last = Math.min(input.firstRow + input.limit - 1, ROWS + 1);
    const read = last - input.firstRow + 1;
    return {
      offset: input.offset + read * 10,
      nextRow: last + 1,
      read,
      valid: read - 1,
      invalid: 1,
      done: last === ROWS + 1,
    };
  },
  async commitProductImport() {
    return { imported: 4, failed: 3 };
  },
  async finishProductImportDryRun() {
    return { valid: 4, failed: 3 };
  },
};

const { wrapped, callsOf } = recording(stubs, (input) => String(input.importId));

const worker = useStubWorker(wrapped);

function start(importId: string, options: { dryRun?: boolean; batchesPerRun?: number } = {}) {
  return worker.client.workflow.start<typeof productImportWorkflow>('productImportWorkflow', {
    workflowId: productImportWorkflowId(importId),
    taskQueue: worker.taskQueue,
    args: [
      {
        importId,
        dryRun: options.dryRun ?? false,
        fileBytes: 92,
        batchSize: 3,
        batchesPerRun: options.batchesPerRun ?? 50,
      },
    ],
  });
}

const importId = () => randomUUID().replaceAll('-', '');

test('reads the header, judges batch after batch from each offset, then lands once', async () => {
  const id = importId();
  const handle = await start(id);
  expect(await handle.result()).toEqual({ importId: id, dryRun: false, valid: 4, imported: 4, failed: 3 });
  expect(callsOf(id).map((c) => c.name)).toEqual([
    'readImportHeader',
    'validateImportBatch',
    'validateImportBatch',
    'validateImportBatch',
    'commitProductImport',
  ]);
  expect(callsOf(id, 'validateImportBatch').map((c) => [c.input.offset, c.input.firstRow])).toEqual([
    [22, 2],
    [52, 5],
    [82, 8],
  ]);
  expect(await handle.query(getImportProgressQuery)).toMatchObject({
    phase: 'DONE',
    rowsRead: ROWS,
    valid: 4,
    invalid: 3,
    batches: 3,
    runs: 1,
    offset: 92,
    imported: 4,
  });
  await keepHistory('product-import-landed', handle);
});

test('continues as new every batchesPerRun batches, carrying where it stands', async () => {
  const id = importId();
  const handle = await start(id, { batchesPerRun: 2 });
  expect(await handle.result()).toMatchObject({ imported: 4, failed: 3 });
  expect(callsOf(id, 'readImportHeader')).toHaveLength(1);
  expect(callsOf(id, 'validateImportBatch').map((c) => c.input.firstRow)).toEqual([2, 5, 8]);
  expect(await handle.query(getImportProgressQuery)).toMatchObject({ runs: 2, batches: 3, rowsRead: ROWS });
  await keepHistory('product-import-continued-as-new', handle);
});

test('a dry run counts and lands nothing', async () => {
  const id = importId();
  const handle = await start(id, { dryRun: true });
  expect(await handle.result()).toEqual({ importId: id, dryRun: true, valid: 4, imported: 0, failed: 3 });
  expect(callsOf(id, 'commitProductImport')).toHaveLength(0);
  expect(callsOf(id, 'finishProductImportDryRun')).toHaveLength(1);
  await keepHistory('product-import-dry-run', handle);
});

test('a file refused as a whole fails the import with its refusal', async () => {
  const id = importId();
  refused.add(id);
  const error = await (await start(id)).result().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
  expect(cause.type).toBe('VALIDATION_ERROR');
  expect(cause.details?.[0]).toEqual({ missing: ['stock'] });
  expect(callsOf(id, 'validateImportBatch')).toHaveLength(0);
  await keepHistory('product-import-refused', worker.client.workflow.getHandle(productImportWorkflowId(id)));
});
