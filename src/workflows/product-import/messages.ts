/**
 * The product import workflow's contract (`product-import-<importId>`): its input, the progress
 * it carries across continue-as-new and answers in its query (the ops CLI's progress bar
 * follows it), and its result. Only ids, offsets and counts: the file and its rows stay in
 * PostgreSQL, never in the history.
 */
import { defineQuery } from '@temporalio/workflow';

export type ImportPhase = 'READING_HEADER' | 'VALIDATING' | 'IMPORTING' | 'DONE';

export interface ImportProgress {
  phase: ImportPhase;
  /** The header's columns, once read (each batch judges its rows by them). */
  columns?: string[];
  /** Where the next batch starts: a byte offset in the file and that row's number. */
  offset: number;
  nextRow: number;
  /** Rows read so far (blank ones included), and how many of them were valid or refused. */
  rowsRead: number;
  valid: number;
  invalid: number;
  batches: number;
  /** Runs of this workflow so far (one more after each continue-as-new). */
  runs: number;
}

export interface ProductImportInput {
  importId: string;
  dryRun: boolean;
  fileBytes: number;
  /** Rows judged per activity. */
  batchSize: number;
  /** Continue as new after this many batches, so the history stays short however long the file. */
  batchesPerRun: number;
  /** Where an earlier run of this workflow left off. */
  progress?: ImportProgress;
}

export interface ImportView extends ImportProgress {
  importId: string;
  dryRun: boolean;
  fileBytes: number;
  /** Rows landed in the catalogue (0 for a dry run), once done. */
  imported: number;
  /** Rows refused, once done (a SKU taken since its row was judged included). */
  failed: number;
}

export interface ProductImportResult {
  importId: string;
  dryRun: boolean;
  valid: number;
  imported: number;
  failed: number;
}

export const getImportProgressQuery = defineQuery<ImportView>('getImportProgress');
