/**
 * The database set-up a fresh clone runs (`npm run dev` migrates and seeds): migrations are
 * applied once, in order, with Prisma's own `_prisma_migrations` bookkeeping (so `prisma migrate
 * deploy` accepts the same history), a changed migration is refused, concurrent runners do not
 * collide, and the seed can run again without changing anything, leaving accounts that sign in.
 */
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { dropDatabase } from '../../scripts/lib/databases';
import { migrate } from '../../scripts/migrate';
import { startStack } from '../helpers/stack';

const root = path.join(__dirname, '..', '..');
const migrationsDir = path.join(root, 'prisma', 'migrations');
const migrations = readdirSync(migrationsDir, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();
const checksumOf = (name: string) =>
  createHash('sha256')
    .update(readFileSync(path.join(migrationsDir, name, 'migration.sql'), 'utf8'))
    .digest('hex');

const databases: string[] = [];
function freshDatabase(): string {
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `/${url.pathname.slice(1)}_setup_${randomUUID().slice(0, 8)}`;
  databases.push(url.toString());
  return url.toString();
}
afterAll(async () => {
  for (const url of databases) await dropDatabase(url);
});

async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    return (await db.query(sql, params)).rows as T[];
  } finally {
    await db.end();
  }
}

test("migrations apply once, in order, with Prisma's bookkeeping; a changed one is refused", async () => {
  const url = freshDatabase();
  expect(migrations.length).toBeGreaterThan(0);
  expect(await migrate(url)).toEqual(migrations);
  expect(await migrate(url)).toEqual([]);

  const rows = await query<{
    migration_name: string;
    checksum: string;
    finished_at: Date | null;
    applied_steps_count: number;
  }>(
    url,
    'SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name',
  );
  expect(rows.map((r) => [r.migration_name, r.checksum, r.finished_at !== null, r.applied_steps_count])).toEqual(
    migrations.map((m) => [m, checksumOf(m), true, 1]),
  );

  // Someone edits an applied migration: the runner stops and says what to do.
  await query(url, 'UPDATE "_prisma_migrations" SET checksum = $1 WHERE migration_name = $2', [
    '0'.repeat(64),
    migrations[0],
  ]);
  await expect(migrate(url)).rejects.toThrow(
    `Migration ${migrations[0]} was changed after it was applied; add a new migration instead.`,
  );
});

test('two runners at once apply each migration exactly once', async () => {
  const racing = freshDatabase();
  const [first, second] = await Promise.all([migrate(racing), migrate(racing)]);
  expect([...first, ...second].sort()).toEqual(migrations);
  expect(await query<{ n: string }>(racing, 'SELECT count(*) AS n FROM "_prisma_migrations"')).toEqual([
    { n: String(migrations.length) },
  ]);
});

test('the seed runs twice without changing anything, and its accounts sign in', async () => {
  const url = freshDatabase();
  await migrate(url);
  const seed = () =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'seed.ts')], {
      env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'silent' },
    });
  await seed();
  const counts = async () =>
    (
      await query<{ users: string; products: string; restocks: string; audited: string }>(
        url,
        `SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM products) AS products,
              (SELECT count(*) FROM inventory_ledger WHERE type = 'RESTOCK') AS restocks,
              (SELECT count(*) FROM audit_log WHERE action = 'PRODUCT_CREATED') AS audited`,
      )
    )[0];
  const once = await counts();
  expect(once).toEqual({ users: '2', products: '3', restocks: '3', audited: '3' });
  await seed();
  expect(await counts()).toEqual(once);

  const stack = await startStack({ worker: false, env: { DATABASE_URL: url } });
  try {
    const admin = await stack.http.post('/api/auth/login', {
      email: stack.config.SEED_ADMIN_EMAIL,
      password: stack.config.SEED_ADMIN_PASSWORD,
    });
    expect(admin.body.user).toMatchObject({ role: 'ADMIN' });
    const customer = await stack.http.post('/api/auth/login', {
      email: stack.config.SEED_CUSTOMER_EMAIL,
      password: stack.config.SEED_CUSTOMER_PASSWORD,
    });
    expect(customer.body.user).toMatchObject({ role: 'CUSTOMER' });
    expect((await stack.http.get('/api/products')).body.products.map((p: { sku: string }) => p.sku).sort()).toEqual([
      'OIL-1L',
      'RICE-5KG',
      'SAREE-SILK',
    ]);
  } finally {
    await stack.stop();
  }
});
