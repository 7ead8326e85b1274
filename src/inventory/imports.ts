/**
 * The steps of a CSV product import, each the one implementation its activity calls: read the
 * header; judge a batch of rows and record each (product_import_rows, once per row: a retried
 * batch replaces what its earlier attempt wrote, so nothing counts twice); then land every valid
 * row in one transaction, a page of rows a few statements at a time, opening stock through the
 * ledger's writer (an IMPORT movement each). A duplicate SKU is a row error, whether the file has it
 * twice (the first row keeps it) or the catalogue has it already. A dry run stops after judging.
 */
import { Prisma } from '../generated/prisma/client';
import { v5 as uuidv5 } from 'uuid';
import { audit } from '../access/audit';
import type { PrismaClient, Transaction } from '../platform/db';
import { DomainError } from '../platform/errors';
import { ErrorCode } from '../workflows/vocabulary';
import { recordStockAdditions } from './ledger';
import { readUpload } from './import-files';
import { judgeRow, readHeader, readRows, type ImportedProduct, type RowError } from './import-rows';

export type ImportStatus = 'RUNNING' | 'COMPLETED' | 'REFUSED';

/** Product ids are derived from (import, row), so a row can only ever become one product. */
const PRODUCT_ID_NAMESPACE = '8f0c1b36-6a47-4f5e-9d1c-3c1f4a6e2b90';
export const importedProductId = (importId: string, row: number) => uuidv5(`${importId}:${row}`, PRODUCT_ID_NAMESPACE);

async function findImport(prisma: Pick<PrismaClient, 'productImport'>, importId: string) {
  const found = await prisma.productImport.findUnique({ where: { id: importId } });
  if (!found) throw new DomainError(ErrorCode.IMPORT_NOT_FOUND, `No product import ${importId}`);
  return found;
}

/** Row 1: the columns, and where row 2 starts. A file refused as a whole is recorded as REFUSED. */
export async function readImportHeader(prisma: PrismaClient, importId: string) {
  const record = await findImport(prisma, importId);
  try {
    const header = await readHeader(readUpload(prisma, record.uploadId, 0));
    return { columns: header.columns, ignoredColumns: header.ignored, offset: header.offset };
  } catch (error) {
    if (error instanceof DomainError) await refuseImport(prisma, importId, error);
    throw error;
  }
}

async function refuseImport(prisma: PrismaClient, importId: string, error: DomainError) {
  await prisma.productImport.update({
    where: { id: importId },
    data: {
      status: 'REFUSED',
      completedAt: new Date(),
      refusal: { code: error.code, message: error.message, details: (error.details ?? null) as Prisma.InputJsonValue },
    },
  });
}

export interface BatchInput {
  importId: string;
  columns: string[];
  /** Where the batch's first row starts in the file (bytes). */
  offset: number;
  /** That row's number (the header is row 1). */
  firstRow: number;
  limit: number;
}

export interface BatchOutcome {
  offset: number;
  nextRow: number;
  /** Rows read, blank ones included (they count for the numbering and are skipped). */
  read: number;
  valid: number;
  invalid: number;
  done: boolean;
}

/** Judges and records one batch of rows; a retry of the same batch replaces its own rows. */
export async function validateImportBatch(
  prisma: PrismaClient,
  input: BatchInput,
  progress: () => void = () => undefined,
): Promise<BatchOutcome> {
  const record = await findImport(prisma, input.importId);
  let batch;
  try {
    batch = await readRows(readUpload(prisma, record.uploadId, input.offset), input);
  } catch (error) {
    if (error instanceof DomainError) await refuseImport(prisma, input.importId, error);
    throw error;
  }
  progress();
  const judged = batch.rows.map(({ row, fields }) => ({ row, ...judgeRow(input.columns, fields, record.currency) }));
  const candidates = judged.filter((j): j is { row: number; product: ImportedProduct } => 'product' in j);
  const skus = candidates.map((c) => c.product.sku);

  const counts = await prisma.$transaction(async (tx) => {
    await tx.productImportRow.deleteMany({ where: { importId: input.importId, row: { gte: input.firstRow } } });
    const inCatalogue = await takenSkus(tx, skus);
    const earlier = new Map(
      (
        await tx.productImportRow.findMany({
          where: { importId: input.importId, sku: { in: skus }, errors: { equals: Prisma.DbNull } },
          select: { sku: true, row: true },
        })
      ).map((r) => [r.sku!, r.row]),
    );
    const rows: Prisma.ProductImportRowCreateManyInput[] = [];
    let valid = 0;
    for (const j of judged) {
      if ('blank' in j) continue;
      let errors: RowError[] | undefined = 'errors' in j ? j.errors : undefined;
      const sku = 'product' in j ? j.product.sku : undefined;
      if (sku && inCatalogue.has(sku))
        errors = [{ column: 'sku', reason: `Duplicate SKU: ${sku} is already in the catalogue` }];
      else if (sku && earlier.has(sku))
        errors = [{ column: 'sku', reason: `Duplicate SKU: ${sku} is also in row ${earlier.get(sku)}` }];
      if (sku && !errors) {
        earlier.set(sku, j.row);
        valid++;
      }
      rows.push({
        importId: input.importId,
        row: j.row,
        sku: sku ?? null,
        product: !errors && 'product' in j ? (j.product as Prisma.InputJsonValue) : Prisma.DbNull,
        errors: errors ? (errors as unknown as Prisma.InputJsonValue) : Prisma.DbNull,
      });
    }
    await tx.productImportRow.createMany({ data: rows });
    const lastRow = batch.rows.at(-1)?.row;
    if (lastRow) await tx.productImport.update({ where: { id: input.importId }, data: { rowsRead: lastRow - 1 } });
    return { valid, invalid: rows.length - valid };
  });
  const nextRow = (batch.rows.at(-1)?.row ?? input.firstRow - 1) + 1;
  return { offset: batch.offset, nextRow, read: batch.rows.length, ...counts, done: batch.done };
}

/** The SKUs among `skus` that a product or a variant of the catalogue already has. */
async function takenSkus(tx: Transaction, skus: string[]): Promise<Set<string>> {
  if (skus.length === 0) return new Set();
  const [products, variants] = await Promise.all([
    tx.product.findMany({ where: { sku: { in: skus } }, select: { sku: true } }),
    tx.productVariant.findMany({ where: { sku: { in: skus } }, select: { sku: true } }),
  ]);
  return new Set([...products, ...variants].map((r) => r.sku));
}

const COMMIT_PAGE = 500;

/**
 * Lands every valid row in one transaction (all of them or, on a crash, none: the retry starts
 * over). A SKU created in the catalogue since its row was judged makes that row an error. Done
 * once: a retry after the commit answers the recorded counts.
 */
export async function commitProductImport(
  prisma: PrismaClient,
  importId: string,
  progress: (imported: number) => void = () => undefined,
): Promise<{ imported: number; failed: number }> {
  return prisma.$transaction(
    async (tx) => {
      await tx.$queryRaw`SELECT id FROM product_imports WHERE id = ${importId} FOR UPDATE`;
      const record = await findImport(tx, importId);
      if (record.status !== 'RUNNING') return { imported: record.imported, failed: record.failed };
      const reference = `product-import:${importId}`;
      let imported = 0;
      for (let after = 0; ;) {
        const page = await tx.productImportRow.findMany({
          where: { importId, row: { gt: after }, errors: { equals: Prisma.DbNull } },
          orderBy: { row: 'asc' },
          take: COMMIT_PAGE,
        });
        if (page.length === 0) break;
        after = page.at(-1)!.row;
        const taken = await takenSkus(
          tx,
          page.map((r) => r.sku!),
        );
        const conflicts = page.filter((r) => taken.has(r.sku!));
        for (const row of conflicts)
          await tx.productImportRow.update({
            where: { importId_row: { importId, row: row.row } },
            data: { errors: [{ column: 'sku', reason: `Duplicate SKU: ${row.sku} is already in the catalogue` }] },
          });
        const landed = page
          .filter((r) => !taken.has(r.sku!))
          .map((r) => ({
            row: r.row,
            id: importedProductId(importId, r.row),
            product: r.product as unknown as ImportedProduct,
          }));
        await landPage(tx, landed, { actor: record.requestedBy, reference });
        if (landed.length > 0)
          await tx.$executeRaw`UPDATE product_import_rows r SET product_id = l.product_id
            FROM unnest(${landed.map((l) => l.row)}::int[], ${landed.map((l) => l.id)}::uuid[]) AS l(row, product_id)
            WHERE r.import_id = ${importId} AND r.row = l.row`;
        imported += landed.length;
        progress(imported);
      }
      const failed = await tx.productImportRow.count({ where: { importId, errors: { not: Prisma.DbNull } } });
      await tx.productImport.update({
        where: { id: importId },
        data: { status: 'COMPLETED', imported, failed, completedAt: new Date() },
      });
      await audit(tx, {
        actorId: record.requestedBy,
        action: 'PRODUCT_IMPORT_COMPLETED',
        targetType: 'product_import',
        targetId: importId,
        reason: record.reason,
        after: { imported, failed, fileName: record.fileName, fileSha256: record.fileSha256 },
      });
      return { imported, failed };
    },
    // One transaction for the whole file: as long as a large file takes (the activity heartbeats).
    { timeout: 30 * 60_000, maxWait: 30_000 },
  );
}

/**
 * One page of valid rows into the catalogue, a few statements for the lot: the products (with no
 * stock yet), their opening stock as IMPORT movements by the ledger's writer, and a
 * PRODUCT_CREATED audit entry each, as for a product created by hand.
 */
async function landPage(
  tx: Transaction,
  landed: { row: number; id: string; product: ImportedProduct }[],
  by: { actor: string; reference: string },
): Promise<void> {
  if (landed.length === 0) return;
  await tx.product.createMany({ data: landed.map(({ id, product }) => ({ ...product, id, stock: 0 })) });
  await recordStockAdditions(
    tx,
    landed.map(({ id, product }) => ({ productId: id, units: product.stock, idempotencyKey: `import:${id}:opening` })),
    { type: 'IMPORT', actor: by.actor, reason: 'Opening stock', reference: by.reference },
  );
  await tx.auditLog.createMany({
    data: landed.map(({ id, product }) => ({
      id: uuidv5(`${id}:created`, PRODUCT_ID_NAMESPACE),
      actorId: by.actor,
      action: 'PRODUCT_CREATED',
      targetType: 'product',
      targetId: id,
      reason: by.reference,
      after: { sku: product.sku, price: product.price, currency: product.currency, stock: product.stock, variants: [] },
    })),
  });
}

/** A dry run ends after judging: nothing lands; its counts say what would. */
export async function finishDryRun(prisma: PrismaClient, importId: string): Promise<{ valid: number; failed: number }> {
  const [valid, failed] = await Promise.all([
    prisma.productImportRow.count({ where: { importId, errors: { equals: Prisma.DbNull } } }),
    prisma.productImportRow.count({ where: { importId, errors: { not: Prisma.DbNull } } }),
  ]);
  await prisma.productImport.updateMany({
    where: { id: importId, status: 'RUNNING' },
    data: { status: 'COMPLETED', imported: 0, failed, completedAt: new Date() },
  });
  return { valid, failed };
}

export interface ImportErrorEntry extends RowError {
  row: number;
}

/** The import as the API and CLI show it: its counts, and its row errors in row order from `afterRow`. */
export async function importView(
  prisma: PrismaClient,
  importId: string,
  page: { afterRow?: number; limit?: number } = {},
) {
  const record = await findImport(prisma, importId);
  const limit = page.limit ?? 1000;
  const [valid, failedRows] = await Promise.all([
    prisma.productImportRow.count({ where: { importId, errors: { equals: Prisma.DbNull } } }),
    prisma.productImportRow.findMany({
      where: { importId, errors: { not: Prisma.DbNull }, row: { gt: page.afterRow ?? 0 } },
      orderBy: { row: 'asc' },
      take: limit + 1,
      select: { row: true, errors: true },
    }),
  ]);
  const shown = failedRows.slice(0, limit);
  const errors: ImportErrorEntry[] = shown.flatMap((r) =>
    (r.errors as unknown as RowError[]).map((e) => ({ row: r.row, ...e })),
  );
  return {
    importId,
    dryRun: record.dryRun,
    status: record.status as ImportStatus,
    currency: record.currency,
    fileName: record.fileName,
    fileBytes: record.fileBytes,
    fileSha256: record.fileSha256,
    requestedBy: record.requestedBy,
    reason: record.reason,
    rowsRead: record.rowsRead,
    valid,
    imported: record.imported,
    failed:
      record.status === 'RUNNING'
        ? await prisma.productImportRow.count({ where: { importId, errors: { not: Prisma.DbNull } } })
        : record.failed,
    refusal: record.refusal as { code: string; message: string; details?: unknown } | null,
    errors,
    /** Pass as afterRow for the next page of errors; null when these are the last. */
    nextErrorsAfterRow: failedRows.length > limit ? shown.at(-1)!.row : null,
    createdAt: record.createdAt,
    completedAt: record.completedAt,
  };
}
