/**
 * Starting and following CSV product imports: what the admin API and the ops CLI both call. The
 * file is stored as it arrives; its import id is derived from its SHA-256 and the import's
 * options, and its workflow is product-import-<importId>, so the same file posted twice is one
 * import: Temporal refuses a second workflow under the id, and a finished import answers its
 * recorded result. Who asked and why is in the audit log.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { z } from 'zod';
import { audit } from '../access/audit';
import type { Config } from '../platform/config';
import type { PrismaClient } from '../platform/db';
import { DomainError } from '../platform/errors';
import { productImportWorkflowId } from '../workflows/ids';
import { ErrorCode, isErrorCode } from '../workflows/vocabulary';
import { getImportProgressQuery, type ImportView } from '../workflows/product-import/messages';
import type { productImportWorkflow } from '../workflows/product-import/workflow';
import { discardUpload, storeUpload } from './import-files';
import { isCurrency } from './import-rows';
import { importView } from './imports';

export interface ImportDeps {
  prisma: PrismaClient;
  temporal: Client;
  config: Pick<
    Config,
    | 'TEMPORAL_TASK_QUEUE'
    | 'PRODUCT_IMPORT_MAX_BYTES'
    | 'PRODUCT_IMPORT_BATCH_SIZE'
    | 'PRODUCT_IMPORT_BATCHES_PER_RUN'
    | 'PRODUCT_IMPORT_CURRENCY'
  >;
}

const flag = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1')
  .or(z.boolean());

/** The options of an import (query parameters or multipart fields beside `file`). */
export const importOptions = z.object({
  dryRun: flag.default(false),
  currency: z
    .string()
    .trim()
    .transform((c) => c.toUpperCase())
    .refine(isCurrency, 'an ISO 4217 currency code such as USD')
    .optional(),
  reason: z.string().trim().min(1).max(500).optional(),
});
export type ImportOptions = z.output<typeof importOptions>;

export const importParams = z.object({ id: z.string().regex(/^[0-9a-f]{32}$/, 'an import id') });
export const importStatusQuery = z.object({
  afterRow: z.coerce.number().int().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});

/** The import's id: the file's SHA-256 with the options that change its outcome. */
export function importIdOf(sha256: string, dryRun: boolean, currency: string): string {
  return createHash('sha256')
    .update(`${sha256}\n${dryRun ? 'dry-run' : 'import'}\n${currency}`)
    .digest('hex')
    .slice(0, 32);
}

export interface StartedImport {
  importId: string;
  workflowId: string;
  fileBytes: number;
  /** False when this file (with these options) was posted before: this is that import. */
  created: boolean;
}

/** Stores the file as it arrives, records the import (once per file) and starts its workflow. */
export async function startProductImport(
  deps: ImportDeps,
  file: { source: Readable; fileName?: string },
  options: ImportOptions,
  actorId: string,
): Promise<StartedImport> {
  const received = await receiveProductImport(deps, file, options, actorId);
  await runProductImport(deps, received.importId);
  return received;
}

/** Stores the file as it arrives and records the import (once per file); it is not started yet. */
export async function receiveProductImport(
  deps: ImportDeps,
  file: { source: Readable; fileName?: string },
  options: ImportOptions,
  actorId: string,
): Promise<StartedImport> {
  const currency = options.currency ?? deps.config.PRODUCT_IMPORT_CURRENCY;
  const upload = await storeUpload(deps.prisma, file.source, deps.config.PRODUCT_IMPORT_MAX_BYTES);
  const importId = importIdOf(upload.sha256, options.dryRun, currency);
  const reason = options.reason ?? 'CSV product import';
  const { count } = await deps.prisma.productImport.createMany({
    data: [
      {
        id: importId,
        dryRun: options.dryRun,
        status: 'RUNNING',
        currency,
        uploadId: upload.uploadId,
        fileName: file.fileName?.slice(0, 255) ?? null,
        fileSha256: upload.sha256,
        fileBytes: upload.bytes,
        requestedBy: actorId,
        reason,
      },
    ],
    skipDuplicates: true,
  });
  const created = count === 1;
  if (created)
    await audit(deps.prisma, {
      actorId,
      action: options.dryRun ? 'PRODUCT_IMPORT_DRY_RUN_STARTED' : 'PRODUCT_IMPORT_STARTED',
      targetType: 'product_import',
      targetId: importId,
      reason,
      after: { fileName: file.fileName ?? null, fileBytes: upload.bytes, fileSha256: upload.sha256, currency },
    });
  else await discardUpload(deps.prisma, upload.uploadId); // the file is stored already, under its import
  return { importId, workflowId: productImportWorkflowId(importId), fileBytes: upload.bytes, created };
}

/** Starts a received import's workflow unless it has finished (a file posted again). */
export async function runProductImport(deps: ImportDeps, importId: string): Promise<void> {
  const record = await deps.prisma.productImport.findUniqueOrThrow({ where: { id: importId } });
  if (record.status === 'RUNNING') await startWorkflow(deps, importId, record.dryRun, record.fileBytes);
}

/** Starts the import's workflow unless it runs or ran: the workflow id is the import's. */
async function startWorkflow(deps: ImportDeps, importId: string, dryRun: boolean, fileBytes: number) {
  try {
    await deps.temporal.workflow.start<typeof productImportWorkflow>('productImportWorkflow', {
      workflowId: productImportWorkflowId(importId),
      taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
      args: [
        {
          importId,
          dryRun,
          fileBytes,
          batchSize: deps.config.PRODUCT_IMPORT_BATCH_SIZE,
          batchesPerRun: deps.config.PRODUCT_IMPORT_BATCHES_PER_RUN,
        },
      ],
      workflowIdConflictPolicy: 'USE_EXISTING',
      // A run that was terminated or timed out may be started again by posting the file again.
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}

/** Waits for the import's workflow to finish (a refused file throws its refusal) and answers its result. */
export async function awaitProductImport(deps: ImportDeps, importId: string) {
  const handle: WorkflowHandle<typeof productImportWorkflow> = deps.temporal.workflow.getHandle(
    productImportWorkflowId(importId),
  );
  const view = await importView(deps.prisma, importId);
  if (view.status === 'RUNNING') await handle.result().catch(() => undefined); // the record says how it ended
  return productImportResult(deps, importId);
}

/** A finished import's answer: `{importId, imported, failed, errors}`; a refused file throws its refusal. */
export async function productImportResult(deps: Pick<ImportDeps, 'prisma'>, importId: string, page = {}) {
  const view = await importView(deps.prisma, importId, page);
  if (view.status === 'REFUSED' && view.refusal) {
    const code = isErrorCode(view.refusal.code) ? view.refusal.code : ErrorCode.VALIDATION_ERROR;
    throw new DomainError(code, view.refusal.message, { importId, ...(view.refusal.details ?? {}) });
  }
  return { ...view, workflowId: productImportWorkflowId(importId) };
}

/** Where an import stands: its record, and while it runs its workflow's progress. */
export async function productImportStatus(
  deps: Pick<ImportDeps, 'prisma' | 'temporal'>,
  importId: string,
  page: { afterRow?: number; limit?: number } = {},
) {
  const view = await importView(deps.prisma, importId, page);
  let progress: ImportView | undefined;
  if (view.status === 'RUNNING')
    progress = await deps.temporal.workflow
      .getHandle(productImportWorkflowId(importId))
      .query(getImportProgressQuery)
      .catch(() => undefined); // not started yet, or just finished: the record says enough
  return {
    ...view,
    workflowId: productImportWorkflowId(importId),
    progress: progress && {
      phase: progress.phase,
      rowsRead: progress.rowsRead,
      bytesRead: progress.offset,
      fileBytes: progress.fileBytes,
      valid: progress.valid,
      invalid: progress.invalid,
      batches: progress.batches,
      runs: progress.runs,
    },
  };
}
