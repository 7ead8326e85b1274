/**
 * The runbook's backup and restore, for real against a scratch database: `ops db backup` writes
 * a verified custom-format dump with its checksum; the data changes; `ops db restore` refuses
 * until the database name is typed, then takes a pre-restore backup, stops the connections,
 * restores, verifies row counts and migrations, and the data is back. The Temporal Schedule runs
 * the same backup on a worker.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { backupScheduleId, ensureBackupSchedule } from '../../src/system/backup-schedule';
import {
  createProduct,
  createUser,
  eventually,
  runOpsWithInput,
  startStack,
  type Stack,
  type TestUser,
} from '../helpers/stack';

let stack: Stack;
let admin: TestUser;
const backupDir = mkdtempSync(path.join(os.tmpdir(), 'dc-backups-'));

beforeAll(async () => {
  stack = await startStack({ isolatedDatabase: true, env: { BACKUP_DIR: backupDir } });
  admin = await createUser(stack, 'ADMIN');
});
afterAll(async () => {
  await stack.stop();
  rmSync(backupDir, { recursive: true, force: true });
});

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

  // The data is back (the test's own connections were terminated too: the pool reconnects).
  const product = await eventually(() => stack.prisma.product.findUnique({ where: { id: kept.id } }), 'product read');
  expect(product.stock).toBe(7);
  expect(await stack.prisma.product.findUnique({ where: { id: added.id } })).toBeNull();
  await eventually(async () => (await stack.http.get('/api/products')).status === 200, 'the API serves again');
  const audits = await stack.prisma.auditLog.findMany({ where: { action: 'DATABASE_RESTORED' } });
  expect(audits).toEqual([expect.objectContaining({ actorId: admin.id, reason: 'bad price update' })]);
});

test('the Temporal Schedule backs the database up on a worker', async () => {
  const config = { ...stack.config, BACKUP_SCHEDULE_INTERVAL: 24 * 3_600_000 };
  const scheduleId = await ensureBackupSchedule(stack.temporal, config);
  expect(scheduleId).toBe(backupScheduleId(config));
  const handle = stack.temporal.schedule.getHandle(scheduleId!);
  try {
    await handle.trigger();
    const entry = await eventually(
      () => stack.prisma.auditLog.findFirst({ where: { action: 'DATABASE_BACKED_UP', actorId: 'schedule' } }),
      'the scheduled backup',
      60_000,
    );
    const file = (entry.after as { file: string }).file;
    expect(existsSync(file)).toBe(true);
    expect(file.startsWith(backupDir)).toBe(true);
    // Unset, the schedule is paused, not left running.
    await ensureBackupSchedule(stack.temporal, { ...config, BACKUP_SCHEDULE_INTERVAL: undefined });
    expect((await handle.describe()).state.paused).toBe(true);
  } finally {
    await handle.delete();
  }
});
