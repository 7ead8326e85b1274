/**
 * Applies prisma/migrations/<timestamp>_<name>/migration.sql in order and keeps Prisma's own
 * `_prisma_migrations` bookkeeping (same table, same checksums), so `prisma migrate deploy` on
 * a machine with the schema engine accepts the same history. Creates the database if missing.
 * Safe to run concurrently: an advisory lock serialises runners.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';

// scripts/ under the sources, dist/scripts/ once compiled: the migrations stay in the repository's prisma/.
const migrationsDir = [
  path.join(__dirname, '..', 'prisma', 'migrations'),
  path.join(__dirname, '..', '..', 'prisma', 'migrations'),
].find((dir) => existsSync(dir))!;
const LOCK_ID = 727_020_331; // arbitrary, constant across runs

export async function migrate(databaseUrl: string, log: (line: string) => void = () => {}): Promise<string[]> {
  await createDatabaseIfMissing(databaseUrl);
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  const applied: string[] = [];
  try {
    await db.query('SELECT pg_advisory_lock($1)', [LOCK_ID]);
    await db.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum" VARCHAR(64) NOT NULL,
      "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL,
      "logs" TEXT,
      "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`);
    const { rows } = await db.query<{
      migration_name: string;
      checksum: string;
      finished_at: Date | null;
      rolled_back_at: Date | null;
    }>('SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"');
    for (const name of listMigrations()) {
      const sql = readFileSync(path.join(migrationsDir, name, 'migration.sql'), 'utf8');
      const checksum = createHash('sha256').update(sql).digest('hex');
      const records = rows.filter((r) => r.migration_name === name && !r.rolled_back_at);
      if (records.some((r) => r.finished_at)) {
        if (!records.some((r) => r.finished_at && r.checksum === checksum)) {
          throw new Error(`Migration ${name} was changed after it was applied; add a new migration instead.`);
        }
        continue;
      }
      if (records.length > 0) {
        throw new Error(
          `Migration ${name} failed earlier and needs attention (see _prisma_migrations.logs) before others run.`,
        );
      }
      const id = randomUUID();
      await db.query('INSERT INTO "_prisma_migrations" (id, checksum, migration_name) VALUES ($1, $2, $3)', [
        id,
        checksum,
        name,
      ]);
      try {
        await db.query('BEGIN');
        await db.query(sql);
        await db.query('COMMIT');
      } catch (error) {
        await db.query('ROLLBACK');
        await db.query('UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1', [id, String(error)]);
        throw new Error(`Migration ${name} failed: ${(error as Error).message}`);
      }
      await db.query('UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1', [
        id,
      ]);
      applied.push(name);
      log(`applied migration ${name}`);
    }
  } finally {
    await db.query('SELECT pg_advisory_unlock($1)', [LOCK_ID]).catch(() => undefined);
    await db.end();
  }
  return applied;
}

function listMigrations(): string[] {
  return readdirSync(migrationsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(migrationsDir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort();
}

async function createDatabaseIfMissing(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString() });
  try {
    await admin.connect();
  } catch {
    return; // no rights on the maintenance database: the target must already exist
  }
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount)
      await admin.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`).catch((error: { code?: string }) => {
        // Created concurrently by another runner: 42P04, or 23505 when both passed the catalogue check at once.
        if (error.code !== '42P04' && error.code !== '23505') throw error;
      });
  } finally {
    await admin.end();
  }
}

if (require.main === module) {
  const url = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/durable_commerce';
  migrate(url, console.log)
    .then((applied) =>
      console.log(applied.length ? `${applied.length} migration(s) applied` : 'database is up to date'),
    )
    .catch((error) => {
      console.error(error.message);
      process.exit(1);
    });
}
