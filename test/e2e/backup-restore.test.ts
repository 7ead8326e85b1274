/**
 * The runbook's backup and restore, for real against a scratch database: `ops db backup` writes
 * a verified custom-format dump with its checksum; the data changes; `ops db restore` refuses
 * until the database name is typed, then takes a pre-restore backup, stops the connections,
 * restores, verifies row counts and migrations, and the data is back. The Temporal Schedule runs
 * the same backup on a worker.
 */
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stopProcess } from '../../scripts/lib/services';
import { backupScheduleId, ensureBackupSchedule } from '../../src/system/backup-schedule';
import { createProduct, eventually, runOpsWithInput, startWorkerProcess, useStack } from '../helpers/stack';

const backupDir = mkdtempSync(path.join(os.tmpdir(), 'dc-backups-'));
const { stack, admin } = useStack({ isolatedDatabase: true, env: { BACKUP_DIR: backupDir } });
afterAll(() => rmSync(backupDir, { recursive: true, force: true })); // after the stack stops

const ops = (input: string, ...args: string[]) => runOpsWithInput(stack, admin.email, input, ...args);

test('back up, change data, restore after typing the database name: the data is back, verified', async () => {
  const kept = await createProduct(stack, admin, { stock: 7 });
  const backup = await ops('', 'db', 'backup', '--reason', 'before the price update');
  expect(backup.code).toBe(0);
  const made = JSON.parse(backup.stdout);
  expect(made.file.startsWith(backupDir)).toBe(true);
  expect(made.size).toBeGreaterThan(0);
  expect(made.entries).toBeGreaterThan(10);
  expect(made.sha256).toBe(createHash('sha256').update(readFileSync(made.file)).digest('hex'));
  expect(JSON.parse(readFileSync(`${made.file}.json`, 'utf8')).rowCounts.products).toBe(1);
  const backedUp = await stack.prisma.auditLog.findMany({ where: { action: 'DATABASE_BACKED_UP' } });
  expect(backedUp).toEqual([
    expect.objectContaining({
      actorId: admin.id,
      reason: 'before the price update',
      after: expect.objectContaining({ file: made.file, sha256: made.sha256 }),
    }),
  ]);

  // The data changes after the backup.
  await stack.prisma.product.update({ where: { id: kept.id }, data: { stock: 1 } });
  const added = await createProduct(stack, admin, { stock: 3 });

  const database = new URL(stack.config.DATABASE_URL).pathname.slice(1);
  const refused = await ops('durable_commerce\n', 'db', 'restore', made.file, '--reason', 'bad price update');
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain('nothing was restored');
  expect((await stack.prisma.product.findUniqueOrThrow({ where: { id: kept.id } })).stock).toBe(1);

  const restored = await ops(`${database}\n`, 'db', 'restore', made.file, '--reason', 'bad price update');
  expect(restored.stderr).not.toContain('error');
  expect(restored.code).toBe(0);
  const result = JSON.parse(restored.stdout);
  expect(result.verified).toEqual({ rowCounts: true, migrations: true, mismatches: [] });
  expect(result.migrations.length).toBeGreaterThan(5);
  expect(existsSync(result.preRestoreBackup.file)).toBe(true);
  expect(result.preRestoreBackup.file).toContain('pre-restore');
  expect(result.preRestoreBackup.rowCounts.products).toBe(2);
  expect(result.terminatedConnections).toBeGreaterThan(0); // the API's, the worker's and this test's own

  // The data is back (the test's own connections were terminated too: the pool reconnects).
  const product = await eventually(() => stack.prisma.product.findUnique({ where: { id: kept.id } }), 'product read');
  expect(product.stock).toBe(7);
  expect(await stack.prisma.product.findUnique({ where: { id: added.id } })).toBeNull();
  await eventually(async () => (await stack.http.get('/api/products')).status === 200, 'the API serves again');
  const audits = await stack.prisma.auditLog.findMany({ where: { action: 'DATABASE_RESTORED' } });
  expect(audits).toEqual([expect.objectContaining({ actorId: admin.id, reason: 'bad price update' })]);
});

test('retention removes old backups; a restore that does not match its manifest exits 1; a changed or unreadable file is refused', async () => {
  const database = new URL(stack.config.DATABASE_URL).pathname.slice(1);
  // A backup from two months ago (its manifest beside it), and someone else's file of that age.
  const old = path.join(backupDir, `${database}-20261001T000000Z.dump`);
  const foreign = path.join(backupDir, 'other-20261001T000000Z.dump');
  for (const file of [old, `${old}.json`, foreign]) writeFileSync(file, 'old');
  const twoMonthsAgo = new Date(Date.now() - 60 * 86_400_000);
  for (const file of [old, `${old}.json`, foreign]) utimesSync(file, twoMonthsAgo, twoMonthsAgo);
  const recent = readdirSync(backupDir).filter((name) => name.endsWith('.dump') && !name.includes('20261001'));

  const run = await ops('', 'db', 'backup', '--reason', 'nightly by hand', '--retention-days', '30');
  expect(run.code).toBe(0);
  const made = JSON.parse(run.stdout);
  expect(made.removed).toEqual([old]);
  expect([existsSync(old), existsSync(`${old}.json`), existsSync(foreign)]).toEqual([false, false, true]);
  for (const name of recent) expect(existsSync(path.join(backupDir, name))).toBe(true); // within the retention
  const products = await stack.prisma.product.count();

  // The manifest says 5 more products than the dump holds: the restore goes through, and says so.
  const manifest = JSON.parse(readFileSync(`${made.file}.json`, 'utf8'));
  writeFileSync(
    `${made.file}.json`,
    JSON.stringify({ ...manifest, rowCounts: { ...manifest.rowCounts, products: products + 5 } }),
  );
  const mismatch = await ops('', 'db', 'restore', made.file, '--yes', '--reason', 'restore drill');
  expect(mismatch.code).toBe(1);
  expect(JSON.parse(mismatch.stdout).verified).toEqual({
    rowCounts: false,
    migrations: true,
    mismatches: [`products: ${products} rows, the backup had ${products + 5}`],
  });

  // A file changed since its backup, and a file that is no backup at all: refused before anything happens.
  const changed = path.join(backupDir, `${database}-changed.dump`);
  copyFileSync(made.file, changed);
  writeFileSync(`${changed}.json`, JSON.stringify(manifest));
  writeFileSync(changed, Buffer.concat([readFileSync(changed), Buffer.from('x')]));
  // The restore ended every other connection: the pools reconnect.
  await eventually(async () => (await stack.http.get('/api/products')).status === 200, 'the API serves again');
  await eventually(() => stack.prisma.product.count(), 'the test reads again');
  const junk = path.join(backupDir, 'notes.dump');
  writeFileSync(junk, 'not a dump');
  await createProduct(stack, admin, { stock: 2 });
  const preRestores = () => readdirSync(backupDir).filter((name) => name.includes('pre-restore')).length;
  const preRestoresBefore = preRestores();
  const refusedChanged = await ops('', 'db', 'restore', changed, '--yes', '--reason', 'x');
  expect(refusedChanged.code).toBe(1);
  expect(refusedChanged.stderr).toContain('does not match the checksum in its manifest');
  const refusedJunk = await ops('', 'db', 'restore', junk, '--yes', '--reason', 'x');
  expect(refusedJunk.code).toBe(1);
  expect(refusedJunk.stderr).toContain('pg_restore');
  expect(await stack.prisma.product.count()).toBe(products + 1); // nothing was restored
  expect(preRestores()).toBe(preRestoresBefore); // nor a pre-restore backup taken
  expect(await stack.prisma.auditLog.count({ where: { action: 'DATABASE_RESTORED', reason: 'x' } })).toBe(0);
});

test('a worker started with BACKUP_SCHEDULE_INTERVAL=24h keeps a daily Temporal Schedule that backs up on a worker', async () => {
  const scheduleId = backupScheduleId(stack.config);
  const handle = stack.temporal.schedule.getHandle(scheduleId);
  const daily = await startWorkerProcess({ ...stack, env: { ...stack.env, BACKUP_SCHEDULE_INTERVAL: '24h' } });
  try {
    // The worker ensures its schedules while it already polls (src/workers/main.ts), so the
    // schedule appears shortly after the worker reports that it started.
    const described = await eventually(async () => {
      const current = await handle.describe();
      return (current.spec.intervals?.length ?? 0) > 0 && !current.state.paused && current;
    }, 'the daily backup schedule');
    expect(described.spec.intervals).toEqual([expect.objectContaining({ every: 24 * 3_600_000 })]);
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'databaseBackupWorkflow' });
    expect(described.state.paused).toBe(false);
    await handle.trigger();
    const entry = await eventually(
      () => stack.prisma.auditLog.findFirst({ where: { action: 'DATABASE_BACKED_UP', actorId: 'schedule' } }),
      'the scheduled backup',
      60_000,
    );
    expect(entry.reason).toBe('scheduled backup');
    const file = (entry.after as { file: string }).file;
    expect(existsSync(file)).toBe(true);
    expect(file.startsWith(backupDir)).toBe(true);
    expect((await handle.describe()).info.recentActions).toHaveLength(1);
  } finally {
    await stopProcess(daily);
  }
  try {
    // A worker started without the interval pauses the schedule, not leaving it running.
    await ensureBackupSchedule(stack.temporal, { ...stack.config, BACKUP_SCHEDULE_INTERVAL: undefined });
    expect((await handle.describe()).state.paused).toBe(true);
  } finally {
    await handle.delete();
  }
});
