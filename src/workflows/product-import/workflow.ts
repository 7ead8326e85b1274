/**
 * product-import-<importId>: a CSV product import as a workflow. It reads the header, judges the
 * rows a batch per activity (each batch reads the file from its byte offset, so no batch, and no
 * event of this history, holds more than one batch of it), then lands every valid row in one
 * transaction, or for a dry run only counts them. Progress is in its query and search
 * attributes; it continues as new every `batchesPerRun` batches so its history stays short. A
 * worker lost mid-batch costs a retry of that batch, which replaces its own rows; the landing
 * transaction is all or nothing and done once.
 */
import {
  continueAsNew,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { activitiesFor } from '../policies';
import { businessFailure } from '../failures';
import { searchAttributes } from '../search-attributes';
import {
  getImportProgressQuery,
  type ImportProgress,
  type ImportView,
  type ProductImportInput,
  type ProductImportResult,
} from './messages';

const { readImportHeader, validateImportBatch, commitProductImport, finishProductImportDryRun } = activitiesFor(
  'readImportHeader',
  'validateImportBatch',
  'commitProductImport',
  'finishProductImportDryRun',
);

export async function productImportWorkflow(input: ProductImportInput): Promise<ProductImportResult> {
  const state = resume(input);
  setHandler(getImportProgressQuery, () => state);

  if (!state.columns) await refusing(() => readHeader(input, state));
  for (let batchesThisRun = 0; state.phase === 'VALIDATING'; batchesThisRun++) {
    if (batchesThisRun >= input.batchesPerRun || workflowInfo().continueAsNewSuggested)
      return continueAsNew<typeof productImportWorkflow>({ ...input, progress: carried(state) });
    await refusing(() => validateBatch(input, state));
  }
  await land(input, state);
  return {
    importId: input.importId,
    dryRun: input.dryRun,
    valid: state.valid,
    imported: state.imported,
    failed: state.failed,
  };
}

/** A file refused as a whole (no CSV, a required column missing) fails the import with its refusal. */
async function refusing(step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (error) {
    throw businessFailure(error);
  }
}

function resume(input: ProductImportInput): ImportView {
  const progress: ImportProgress = input.progress
    ? { ...input.progress, runs: input.progress.runs + 1 }
    : { phase: 'READING_HEADER', offset: 0, nextRow: 2, rowsRead: 0, valid: 0, invalid: 0, batches: 0, runs: 1 };
  return {
    ...progress,
    importId: input.importId,
    dryRun: input.dryRun,
    fileBytes: input.fileBytes,
    imported: 0,
    failed: 0,
  };
}

async function readHeader(input: ProductImportInput, state: ImportView): Promise<void> {
  const header = await readImportHeader({ importId: input.importId });
  state.columns = header.columns;
  state.offset = header.offset;
  state.phase = 'VALIDATING';
  report(state);
}

async function validateBatch(input: ProductImportInput, state: ImportView): Promise<void> {
  const batch = await validateImportBatch({
    importId: input.importId,
    columns: state.columns!,
    offset: state.offset,
    firstRow: state.nextRow,
    limit: input.batchSize,
  });
  state.offset = batch.offset;
  state.nextRow = batch.nextRow;
  state.rowsRead += batch.read;
  state.valid += batch.valid;
  state.invalid += batch.invalid;
  state.batches++;
  if (batch.done) state.phase = 'IMPORTING';
  report(state);
}

async function land(input: ProductImportInput, state: ImportView): Promise<void> {
  if (input.dryRun) {
    const counted = await finishProductImportDryRun({ importId: input.importId });
    state.failed = counted.failed;
  } else {
    const landed = await commitProductImport({ importId: input.importId });
    state.imported = landed.imported;
    state.failed = landed.failed; // with any row whose SKU the catalogue took since it was judged
  }
  state.phase = 'DONE';
  report(state);
}

function carried(state: ImportView): ImportProgress {
  const { phase, columns, offset, nextRow, rowsRead, valid, invalid, batches, runs } = state;
  return { phase, columns, offset, nextRow, rowsRead, valid, invalid, batches, runs };
}

function report(state: ImportView): void {
  upsertSearchAttributes([{ key: searchAttributes.importRowsRead, value: state.rowsRead }]);
  setCurrentDetails(
    `${state.phase}${state.dryRun ? ' (dry run)' : ''}: ${state.rowsRead} rows read (${state.valid} valid, ` +
      `${state.invalid} refused), ${state.offset} of ${state.fileBytes} bytes, ${state.batches} batches, run ${state.runs}` +
      (state.phase === 'DONE' ? `; ${state.imported} imported, ${state.failed} failed` : ''),
  );
}
