/**
 * Whether a product import holds anything after it: the import's steps (store, header, every
 * batch, the landing transaction) run in this one process, one file after another, with the
 * heap measured after a forced collection at each step. A heap that returns to the same size
 * after files of 10,000 and 40,000 rows holds neither file. The workers' own heap figures (from
 * bench-import.ts) include garbage V8 has not collected yet; this tells the two apart.
 *
 *   node --expose-gc --import tsx scripts/bench/import-heap.ts [rows,rows,...]
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { storeUpload } from '../../src/inventory/import-files';
import { commitProductImport, readImportHeader, validateImportBatch } from '../../src/inventory/imports';
import { createPrisma } from '../../src/platform/db';
import { dropDatabase } from '../lib/databases';
import { migrate } from '../migrate';

const gc = (globalThis as { gc?: () => void }).gc;
const heapMiB = () => {
  gc!();
  return Math.round(process.memoryUsage().heapUsed / 1024 / 1024);
};

/** The CSV of `rows` products, produced a row at a time. */
function csv(rows: number, prefix: string): Readable {
  return Readable.from(
    (function* () {
      yield 'sku,name,price,stock\n';
      for (let i = 0; i < rows; i++) yield `${prefix}-${i},"Product ${i}, boxed",${i}.25,${i % 50}\n`;
    })(),
  );
}

async function main(): Promise<void> {
  if (!gc) throw new Error('run with node --expose-gc');
  const sizes = (process.argv[2] ?? '10000,10000,40000').split(',').map(Number);
  const databaseUrl =
    process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/durable_commerce_bench_import_heap';
  await dropDatabase(databaseUrl);
  await migrate(databaseUrl);
  const prisma = createPrisma(databaseUrl, 4);
  try {
    for (const rows of sizes) {
      const upload = await storeUpload(prisma, csv(rows, `H${rows}-${randomUUID().slice(0, 6)}`), 1e9);
      const importId = randomUUID().replaceAll('-', '');
      await prisma.productImport.create({
        data: {
          id: importId,
          dryRun: false,
          status: 'RUNNING',
          currency: 'USD',
          uploadId: upload.uploadId,
          fileSha256: upload.sha256,
          fileBytes: upload.bytes,
          requestedBy: randomUUID(),
          reason: 'heap check',
        },
      });
      const stored = heapMiB();
      const header = await readImportHeader(prisma, importId);
      for (let at = { offset: header.offset, firstRow: 2 }; ;) {
        const batch = await validateImportBatch(prisma, { importId, columns: header.columns, ...at, limit: 500 });
        at = { offset: batch.offset, firstRow: batch.nextRow };
        if (batch.done) break;
      }
      const judged = heapMiB();
      const landed = await commitProductImport(prisma, importId);
      console.log(
        `${rows} rows (${(upload.bytes / 1024 / 1024).toFixed(1)} MiB, ${landed.imported} imported): heap after a forced ` +
          `collection ${stored} MiB stored, ${judged} MiB judged, ${heapMiB()} MiB landed`,
      );
    }
  } finally {
    await prisma.$disconnect();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
