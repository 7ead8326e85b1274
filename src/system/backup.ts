/**
 * The runbook's backup and restore scripts, made safe: `pg_dump --format=custom` of a consistent
 * snapshot, verified with `pg_restore --list`, its SHA-256 and the row count of every table in
 * that same snapshot written beside it as a manifest, and old backups removed after the
 * retention. A restore checks the file, takes a pre-restore backup, stops the other connections,
 * restores in one transaction, and verifies row counts and migrations against the manifest.
 *
 * pg_dump and pg_restore must be on PATH (the postgresql-client package) and speak to the server
 * directly (not through PgBouncer in transaction mode: the dump shares an exported snapshot).
 * The password goes to them in PGPASSWORD, never on a command line. The ops CLI and the backup
 * schedule run them through recordedBackup and recordedRestore, which audit who ran them and why.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { audit } from '../access/audit';
import { paymentsSwitch, setPaymentsEnabled } from '../payments/switch';
import type { PrismaClient } from '../platform/db';
import { maintenanceState, setMaintenance } from './maintenance';

const run = promisify(execFile);

export interface BackupManifest {
  database: string;
  file: string;
  createdAt: string;
  size: number;
  sha256: string;
  /** Entries pg_restore --list found in the archive. */
  entries: number;
  rowCounts: Record<string, number>;
  migrations: string[];
}

export interface BackupResult extends BackupManifest {
  manifest: string;
  /** Backups older than the retention, removed now. */
  removed: string[];
}

/** libpq's environment for `databaseUrl`: nothing secret on a command line. */
function libpqEnv(databaseUrl: string): NodeJS.ProcessEnv {
  const url = new URL(databaseUrl);
  return {
    ...process.env,
    PGHOST: url.hostname,
    PGPORT: url.port || '5432',
    PGUSER: decodeURIComponent(url.username || 'postgres'),
    PGPASSWORD: decodeURIComponent(url.password),
    PGDATABASE: decodeURIComponent(url.pathname.slice(1)),
    ...(url.searchParams.get('sslmode') ? { PGSSLMODE: url.searchParams.get('sslmode')! } : {}),
  };
}

export function databaseName(databaseUrl: string): string {
  return decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Row counts of every table in the public schema, as `db` sees them (its snapshot). */
async function rowCounts(db: pg.Client): Promise<Record<string, number>> {
  const { rows: tables } = await db.query<{ name: string }>(
    `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`,
  );
  const counts: Record<string, number> = {};
  for (const { name } of tables) {
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${db.escapeIdentifier(name)}`);
    counts[name] = rows[0].n;
  }
  return counts;
}

async function migrationsOf(db: pg.Client): Promise<string[]> {
  const exists = await db.query(`SELECT to_regclass('public._prisma_migrations') IS NOT NULL AS present`);
  if (!exists.rows[0].present) return [];
  const { rows } = await db.query<{ name: string }>(
    `SELECT migration_name AS name FROM _prisma_migrations
      WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY migration_name`,
  );
  return rows.map((r) => r.name);
}

/** Entries in a custom-format archive; throws when pg_restore cannot read it. */
export async function verifyArchive(file: string): Promise<number> {
  const { stdout } = await run('pg_restore', ['--list', file], { maxBuffer: 64 * 1024 * 1024 });
  return stdout.split('\n').filter((line) => line && !line.startsWith(';')).length;
}

export async function backupDatabase(options: {
  databaseUrl: string;
  dir: string;
  retentionDays: number;
  /** Part of the file name: `pre-restore` for the copy a restore takes first. */
  label?: string;
}): Promise<BackupResult> {
  const database = databaseName(options.databaseUrl);
  await mkdir(options.dir, { recursive: true });
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const base = `${database}-${options.label ? `${options.label}-` : ''}${stamp}`;
  const file = path.resolve(options.dir, `${base}.dump`);
  const partial = `${file}.partial`;
  // The dump and the counts read one exported snapshot, so the manifest describes exactly the file.
  const db = new pg.Client({ connectionString: options.databaseUrl });
  await db.connect();
  let counts: Record<string, number>;
  let migrations: string[];
  try {
    await db.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows } = await db.query<{ snapshot: string }>('SELECT pg_export_snapshot() AS snapshot');
    counts = await rowCounts(db);
    migrations = await migrationsOf(db);
    await run(
      'pg_dump',
      ['--format=custom', '--no-owner', '--no-privileges', `--snapshot=${rows[0].snapshot}`, `--file=${partial}`],
      { env: libpqEnv(options.databaseUrl) },
    );
    await db.query('COMMIT');
  } finally {
    await db.end();
  }
  const entries = await verifyArchive(partial);
  await rename(partial, file);
  const manifest: BackupManifest = {
    database,
    file,
    createdAt: new Date().toISOString(),
    size: (await stat(file)).size,
    sha256: await sha256Of(file),
    entries,
    rowCounts: counts,
    migrations,
  };
  const manifestFile = `${file}.json`;
  await writeFile(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  return {
    ...manifest,
    manifest: manifestFile,
    removed: await applyRetention(options.dir, database, options.retentionDays),
  };
}

/** Removes this database's backups (and their manifests) older than `days`. */
async function applyRetention(dir: string, database: string, days: number): Promise<string[]> {
  const cutoff = Date.now() - days * 86_400_000;
  const removed: string[] = [];
  for (const name of await readdir(dir)) {
    if (!name.startsWith(`${database}-`) || !name.endsWith('.dump')) continue;
    const file = path.join(dir, name);
    if ((await stat(file)).mtimeMs >= cutoff) continue;
    await rm(file, { force: true });
    await rm(`${file}.json`, { force: true });
    removed.push(file);
  }
  return removed;
}

export interface RestoreResult {
  database: string;
  file: string;
  preRestoreBackup: BackupResult;
  terminatedConnections: number;
  rowCounts: Record<string, number>;
  migrations: string[];
  /** Against the backup's manifest; undefined when the file came without one. */
  verified?: { rowCounts: boolean; migrations: boolean; mismatches: string[] };
}

export async function restoreDatabase(options: {
  databaseUrl: string;
  file: string;
  dir: string;
  retentionDays: number;
}): Promise<RestoreResult> {
  const file = path.resolve(options.file);
  await verifyArchive(file); // a file pg_restore cannot read stops here, before anything changes
  const manifest = await readFile(`${file}.json`, 'utf8').then(
    (text) => JSON.parse(text) as BackupManifest,
    () => undefined,
  );
  if (manifest && manifest.sha256 !== (await sha256Of(file)))
    throw new Error(`${file} does not match the checksum in its manifest: it changed since the backup`);
  const preRestoreBackup = await backupDatabase({ ...options, label: 'pre-restore' });

  const db = new pg.Client({ connectionString: options.databaseUrl });
  await db.connect();
  try {
    const { rowCount } = await db.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
    );
    await run(
      'pg_restore',
      [
        '--clean',
        '--if-exists',
        '--no-owner',
        '--no-privileges',
        '--single-transaction',
        '--exit-on-error',
        `--dbname=${databaseName(options.databaseUrl)}`,
        file,
      ],
      { env: libpqEnv(options.databaseUrl), maxBuffer: 64 * 1024 * 1024 },
    );
    const counts = await rowCounts(db);
    const migrations = await migrationsOf(db);
    let verified: RestoreResult['verified'];
    if (manifest) {
      const mismatches = Object.entries(manifest.rowCounts)
        .filter(([table, n]) => counts[table] !== n)
        .map(([table, n]) => `${table}: ${counts[table] ?? 'missing'} rows, the backup had ${n}`);
      const migrationsMatch = JSON.stringify(migrations) === JSON.stringify(manifest.migrations);
      if (!migrationsMatch) mismatches.push('_prisma_migrations differs from the backup');
      verified = {
        rowCounts: mismatches.length === (migrationsMatch ? 0 : 1),
        migrations: migrationsMatch,
        mismatches,
      };
    }
    return {
      database: databaseName(options.databaseUrl),
      file,
      preRestoreBackup,
      terminatedConnections: rowCount ?? 0,
      rowCounts: counts,
      migrations,
      verified,
    };
  } finally {
    await db.end();
  }
}

/** Who ran a backup or a restore, and why: recorded in the audit log beside what it did. */
export interface Recorded {
  actorId: string;
  reason: string;
}

/** A backup recorded in the audit log (DATABASE_BACKED_UP): the ops CLI's and the backup schedule's. */
export async function recordedBackup(
  prisma: Pick<PrismaClient, 'auditLog'>,
  options: Parameters<typeof backupDatabase>[0],
  by: Recorded,
): Promise<BackupResult> {
  const result = await backupDatabase(options);
  const { rowCounts: _rowCounts, ...summary } = result;
  await audit(prisma, {
    actorId: by.actorId,
    action: 'DATABASE_BACKED_UP',
    targetType: 'database',
    targetId: result.database,
    reason: by.reason,
    after: summary,
  });
  return result;
}

/**
 * A restore recorded in the audit log (DATABASE_RESTORED). The entry is written after the restore,
 * into the restored database: written before it, the restore would overwrite it. `prisma` must
 * reach the database restored.
 *
 * The backup's maintenance mode and payments switch are those of its own time: restored as they
 * are, a restore in the middle of an incident would reopen the shop (or switch payments back on)
 * behind the operator's back. So both are set back to what they were just before the restore,
 * audited under the same admin and reason, and the answer says which were (`switchesKept`).
 */
export async function recordedRestore(
  prisma: PrismaClient,
  options: Parameters<typeof restoreDatabase>[0],
  by: Recorded,
): Promise<RestoreResult & { switchesKept: string[] }> {
  const before = { maintenance: await maintenanceState(prisma), payments: await paymentsSwitch(prisma) };
  const restored = await restoreDatabase(options);
  const switchesKept: string[] = [];
  const kept = `kept across the restore: ${by.reason}`;
  if ((await maintenanceState(prisma)).enabled !== before.maintenance.enabled) {
    await setMaintenance(prisma, before.maintenance.enabled, kept, by.actorId);
    switchesKept.push('maintenance');
  }
  if ((await paymentsSwitch(prisma)).enabled !== before.payments.enabled) {
    await setPaymentsEnabled(prisma, before.payments.enabled, kept, by.actorId);
    switchesKept.push('payments');
  }
  await audit(prisma, {
    actorId: by.actorId,
    action: 'DATABASE_RESTORED',
    targetType: 'database',
    targetId: restored.database,
    reason: by.reason,
    after: {
      file: restored.file,
      preRestoreBackup: restored.preRestoreBackup.file,
      verified: restored.verified,
      migrations: restored.migrations,
      switchesKept,
    },
  });
  return { ...restored, switchesKept };
}
