/**
 * A product import survives its worker: a 1,000-row file posted over HTTP, the worker process
 * killed (SIGKILL) while the rows are being judged and another started; every valid row becomes
 * exactly one product with one IMPORT ledger row, and the ledger still proves the stock. Then the
 * ops CLI: `products import <file>` shows its progress bar and prints the result (exit 1 for a
 * file with refused rows), the same file again is the same import, `import-status` answers it.
 * With no worker at all, a small file is answered 202 once the request's Temporal deadline passes
 * (never a hung request), and finishes when a worker is back.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stopProcess } from '../../scripts/lib/services';
import { checkLedger } from '../../src/inventory/ledger';
import { eventually, runOps, startWorkerProcess, useStack } from '../helpers/stack';

const { stack, admin, beforeStop } = useStack({
  worker: false,
  env: {
    PRODUCT_IMPORT_BATCH_SIZE: '25',
    PRODUCT_IMPORT_BATCHES_PER_RUN: '10',
    PRODUCT_IMPORT_WAIT_MAX_BYTES: '1024',
  },
});
let worker: ChildProcess | undefined;
beforeAll(async () => {
  worker = await startWorkerProcess(stack);
});
beforeStop(() => stopProcess(worker, 'SIGKILL'));

const ROWS = 1000;

test('a worker killed mid-import leaves each row imported once', async () => {
  const p = `KILL-${randomUUID().slice(0, 6)}`;
  // Every 100th row is refused (a bad price); the rest are valid, stock 0 to 9.
  const rows = Array.from({ length: ROWS }, (_, i) =>
    i % 100 === 99 ? `${p}-${i},Bad ${i},,abc,1` : `${p}-${i},Product ${i},${i}.99,${i % 10}`,
  );
  const file = new File([`sku,name,price,stock\n${rows.join('\n')}\n`], 'kill.csv');
  const started = await stack.http.upload('/admin/products/import', { file }, admin.token);
  expect(started.status).toBe(202);
  const importId: string = started.body.importId;
  const status = async () => (await stack.http.get(`/admin/products/imports/${importId}`, admin.token)).body;

  await eventually(async () => {
    const now = await status();
    return now.progress?.phase === 'VALIDATING' && now.progress.rowsRead >= 150 && now;
  }, 'a few batches judged');
  await stopProcess(worker, 'SIGKILL'); // mid-batch: no chance to finish the batch in hand
  const atKill = await status();
  expect(atKill.status).toBe('RUNNING');
  expect(atKill.rowsRead).toBeLessThan(ROWS);
  worker = await startWorkerProcess(stack);

  const done = await eventually(
    async () => {
      const now = await status();
      return now.status === 'COMPLETED' && now;
    },
    'the import to finish on the new worker',
    150_000,
  );
  const refused = ROWS / 100;
  expect(done).toMatchObject({ imported: ROWS - refused, failed: refused, rowsRead: ROWS });
  expect(done.errors.map((e: { row: number }) => e.row)).toEqual(
    Array.from({ length: refused }, (_, k) => 100 * k + 101), // file row i is spreadsheet row i + 2
  );
  // Each row once: one product per SKU, one ledger row per stocked product, the ledger proving stock.
  const products = await stack.prisma.product.findMany({ where: { sku: { startsWith: `${p}-` } } });
  expect(products).toHaveLength(ROWS - refused);
  expect(new Set(products.map((x) => x.sku)).size).toBe(ROWS - refused);
  const stocked = products.filter((x) => x.stock > 0).length;
  expect(await stack.prisma.inventoryLedger.count({ where: { reference: `product-import:${importId}` } })).toBe(
    stocked,
  );
  expect(await stack.prisma.productImportRow.count({ where: { importId } })).toBe(ROWS);
  const { mismatches } = await checkLedger(stack.prisma); // other files' products are theirs to judge
  expect(mismatches.filter((m) => m.sku.startsWith(`${p}-`))).toEqual([]);
}, 240_000);

test('ops products import shows a progress bar and the result; the same file again is the same import', async () => {
  const p = `OPS-${randomUUID().slice(0, 6)}`;
  const file = path.join(process.env.TEST_WORK_DIR!, `${p}.csv`);
  const rows = Array.from({ length: 120 }, (_, i) => `${p}-${i},"Dal, ${i}",Pulses,${i}.50,${i % 7}`);
  writeFileSync(file, `sku,name,category,price,stock\r\n${rows.join('\r\n')}\r\n${p}-0,Again,Pulses,1.00,1\r\n`);

  const first = await runOps(stack, admin.email, 'products', 'import', file, '--reason', 'pulses from the sheet');
  expect(first.code).toBe(1); // it ran; one row was refused
  const result = JSON.parse(first.stdout);
  expect(result).toMatchObject({ imported: 120, failed: 1, fileName: `${p}.csv`, status: 'COMPLETED' });
  expect(result.errors).toEqual([{ row: 122, column: 'sku', reason: `Duplicate SKU: ${p}-0 is also in row 2` }]);
  expect(first.stderr).toMatch(/import \[.*\] 100% \| 121 rows, 1 refused \| COMPLETED/);
  const product = await stack.prisma.product.findFirstOrThrow({ where: { sku: `${p}-3` } });
  expect(product).toMatchObject({ name: 'Dal, 3', price: 350, currency: 'USD', stock: 3, category: 'Pulses' });

  const again = await runOps(stack, admin.email, 'products', 'import', file, '--reason', 'once more');
  expect(JSON.parse(again.stdout)).toMatchObject({ importId: result.importId, imported: 120, failed: 1 });
  expect(await stack.prisma.product.count({ where: { sku: { startsWith: `${p}-` } } })).toBe(120);

  const shown = await runOps(stack, admin.email, 'products', 'import-status', result.importId);
  expect(shown.code).toBe(0);
  expect(JSON.parse(shown.stdout)).toMatchObject({ importId: result.importId, status: 'COMPLETED', imported: 120 });
  const audit = await stack.prisma.auditLog.findMany({ where: { targetId: result.importId } });
  expect(audit.map((a) => [a.action, a.actorId, a.reason]).sort()).toEqual([
    ['PRODUCT_IMPORT_COMPLETED', admin.id, 'pulses from the sheet'],
    ['PRODUCT_IMPORT_STARTED', admin.id, 'pulses from the sheet'],
  ]);

  const refused = await runOps(stack, admin.email, 'products', 'import', file, '--reason', 'x', '--currency', 'EURO');
  expect(refused.code).toBe(2);
});

test('with no worker, a small file is answered 202 at the deadline and finishes when a worker is back', async () => {
  await stopProcess(worker);
  worker = undefined;
  const p = `NOWORKER-${randomUUID().slice(0, 6)}`;
  const file = new File([`sku,name,price,stock\n${p}-1,Lentils,2.00,5\n`], 'small.csv');
  const posted = await stack.http.upload('/admin/products/import', { file }, admin.token);
  expect(posted.status).toBe(202);
  expect(posted.body).toMatchObject({ status: 'RUNNING', imported: 0 });
  worker = await startWorkerProcess(stack);
  const done = await eventually(async () => {
    const { body } = await stack.http.get(`/admin/products/imports/${posted.body.importId}`, admin.token);
    return body.status === 'COMPLETED' && body;
  }, 'the import to finish once a worker is back');
  expect(done).toMatchObject({ imported: 1, failed: 0 });
});
