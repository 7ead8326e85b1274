/**
 * Data backfills: the runbook's one-off `migrateProductImages` loop, which logged failures and
 * moved on and started over after a crash, made resumable. A backfill walks its table in key
 * order, one batch at a time; each row is done in a transaction of its own together with its
 * record in `backfill_rows`, so a batch retried after a crash skips the rows it already did, and
 * a row that fails is kept with its reason while the rest go on. The workflow that drives a
 * backfill is src/workflows/backfill; this module is the one implementation of each step.
 */
import { z } from 'zod';
import { audit } from '../access/audit';
import type { PrismaClient, Transaction } from '../platform/db';

export type RowOutcome = 'CHANGED' | 'UNCHANGED' | 'WOULD_CHANGE' | 'FAILED';

/** One kind of backfill: how to read a batch after a key, and what to do to one row. */
interface Backfill<Row extends { id: string }> {
  description: string;
  batch(prisma: PrismaClient, after: string | undefined, limit: number): Promise<Row[]>;
  /** Answers whether the row changes; writes only when `write` is true. Throws to fail the row. */
  apply(tx: Transaction, row: Row, write: boolean): Promise<boolean>;
}

export const productImage = z.object({
  url: z.url({ protocol: /^https?$/ }),
  alt: z.string(),
  order: z.number().int().min(0),
});
export type ProductImage = z.infer<typeof productImage>;

/** The normalised images of a product with the old single `image_url`: `[{url, alt, order}]`. */
export function normaliseImages(product: { name: string; imageUrl: string | null }): ProductImage[] {
  const urls = (product.imageUrl ?? '')
    .split(',')
    .map((url) => url.trim())
    .filter(Boolean);
  return urls.map((url, order) => {
    const image = productImage.safeParse({ url, alt: product.name, order });
    if (!image.success) throw new Error(`not an http(s) image URL: ${url.slice(0, 200)}`);
    return image.data;
  });
}

const productImages: Backfill<{ id: string; name: string; imageUrl: string | null; images: unknown }> = {
  description:
    "normalise each product's image_url into images [{url, alt, order}] (the runbook's migrateProductImages)",
  batch: (prisma, after, limit) =>
    prisma.product.findMany({
      where: after ? { id: { gt: after } } : {},
      orderBy: { id: 'asc' },
      take: limit,
      select: { id: true, name: true, imageUrl: true, images: true },
    }),
  async apply(tx, row, write) {
    const images = normaliseImages(row);
    if (JSON.stringify(row.images) === JSON.stringify(images)) return false;
    if (write) await tx.product.update({ where: { id: row.id }, data: { images } });
    return true;
  },
};

export const backfills = { 'product-images': productImages } as const;
export type BackfillName = keyof typeof backfills;
export const backfillNames = Object.keys(backfills) as BackfillName[];

export function isBackfillName(name: string): name is BackfillName {
  return Object.hasOwn(backfills, name);
}

export interface BatchResult {
  /** The last key read: where the next batch starts. */
  lastKey?: string;
  /** Fewer rows than asked for: the table is walked. */
  done: boolean;
  /** SKIPPED stays 0: a row done by an earlier attempt counts as its recorded outcome (kept for carried progress). */
  counts: Record<RowOutcome | 'SKIPPED', number>;
}

/**
 * Does one batch of `name` after `after`: each row in its own transaction with its record, so
 * a row already recorded for this backfill (a retried batch) is never done twice; it counts as
 * the outcome recorded for it, which the workflow never heard of.
 */
export async function runBackfillBatch(
  prisma: PrismaClient,
  input: { backfillId: string; name: string; after?: string; limit: number; dryRun: boolean },
): Promise<BatchResult> {
  if (!isBackfillName(input.name)) throw new TypeError(`No backfill is named ${input.name}`); // callers check first
  const backfill = backfills[input.name] as Backfill<{ id: string }>;
  const rows = await backfill.batch(prisma, input.after, input.limit);
  const counts: BatchResult['counts'] = { CHANGED: 0, UNCHANGED: 0, WOULD_CHANGE: 0, FAILED: 0, SKIPPED: 0 };
  for (const row of rows) {
    const outcome = await prisma.$transaction(async (tx) => {
      const claimed = await tx.backfillRow.createMany({
        data: [{ backfillId: input.backfillId, rowKey: row.id, outcome: 'PENDING' }],
        skipDuplicates: true,
      });
      // Recorded already: an earlier attempt of this batch did the row, then its worker died before the
      // workflow heard back. It is not done again, and it counts as what was recorded, so a row that
      // failed then is still counted as failed.
      if (claimed.count === 0) return recordedOutcome(tx, input.backfillId, row.id);
      let result: RowOutcome;
      let error: string | undefined;
      try {
        // A savepoint, so a row that fails is recorded as failed while its change is undone.
        result = await applyInSavepoint(tx, () => backfill.apply(tx, row, !input.dryRun)).then((changed) =>
          changed ? (input.dryRun ? 'WOULD_CHANGE' : 'CHANGED') : 'UNCHANGED',
        );
      } catch (failure) {
        result = 'FAILED';
        error = (failure instanceof Error ? failure.message : String(failure)).slice(0, 1000);
      }
      await tx.backfillRow.update({
        where: { backfillId_rowKey: { backfillId: input.backfillId, rowKey: row.id } },
        data: { outcome: result, error },
      });
      return result;
    });
    counts[outcome]++;
  }
  return { lastKey: rows.at(-1)?.id ?? input.after, done: rows.length < input.limit, counts };
}

async function recordedOutcome(tx: Transaction, backfillId: string, rowKey: string): Promise<RowOutcome> {
  const recorded = await tx.backfillRow.findUniqueOrThrow({ where: { backfillId_rowKey: { backfillId, rowKey } } });
  return recorded.outcome as RowOutcome; // never PENDING: a row is claimed and recorded in one transaction
}

async function applyInSavepoint<T>(tx: Transaction, work: () => Promise<T>): Promise<T> {
  await tx.$executeRawUnsafe('SAVEPOINT backfill_row');
  try {
    const result = await work();
    await tx.$executeRawUnsafe('RELEASE SAVEPOINT backfill_row');
    return result;
  } catch (error) {
    await tx.$executeRawUnsafe('ROLLBACK TO SAVEPOINT backfill_row');
    throw error;
  }
}

/**
 * The rows of a backfill that failed, with their reasons, in key order: a page of `limit` after
 * `after`, and whether more follow. Every failure stays in `backfill_rows`; paging reaches them all.
 */
export async function backfillFailures(
  prisma: PrismaClient,
  backfillId: string,
  page: { after?: string; limit?: number } = {},
): Promise<{ failures: { rowKey: string; error: string | null }[]; moreFailures: boolean }> {
  const limit = page.limit ?? 1000;
  const rows = await prisma.backfillRow.findMany({
    where: { backfillId, outcome: 'FAILED', ...(page.after ? { rowKey: { gt: page.after } } : {}) },
    orderBy: { rowKey: 'asc' },
    take: limit + 1,
  });
  return {
    failures: rows.slice(0, limit).map((row) => ({ rowKey: row.rowKey, error: row.error })),
    moreFailures: rows.length > limit,
  };
}

/** Records who started a backfill and why: the audit entry every admin action has. */
export async function auditBackfillStarted(
  prisma: PrismaClient,
  input: { backfillId: string; workflowId: string; name: string; dryRun: boolean; reason: string; actorId: string },
) {
  await audit(prisma, {
    actorId: input.actorId,
    action: input.dryRun ? 'BACKFILL_DRY_RUN_STARTED' : 'BACKFILL_STARTED',
    targetType: 'backfill',
    targetId: input.workflowId,
    reason: input.reason,
    after: { name: input.name, backfillId: input.backfillId, dryRun: input.dryRun },
  });
}
