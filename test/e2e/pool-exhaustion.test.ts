/**
 * The runbook's scenario 6, "Database connection pool exhausted": with every connection of the
 * API's pool busy (a pool of one here), a request that cannot get one within DATABASE_ACQUIRE_TIMEOUT answers 503
 * DATABASE_UNAVAILABLE while the busy ones are still stuck (never a hang, never a 500), and the
 * API serves again once they finish. Its own database, since the test locks a table in it.
 */
import pg from 'pg';
import { createProduct, eventually, useStack } from '../helpers/stack';

const { stack, admin } = useStack({
  isolatedDatabase: true,
  worker: false,
  env: { DATABASE_POOL_SIZE: '1', DATABASE_ACQUIRE_TIMEOUT: '1s' },
});

test('a request that finds the pool exhausted answers 503 DATABASE_UNAVAILABLE at once, and the API recovers', async () => {
  await createProduct(stack, admin, { stock: 1 });
  // A migration-like lock: every catalogue read waits behind it, holding its pooled connection.
  const locker = new pg.Client({ connectionString: stack.config.DATABASE_URL });
  await locker.connect();
  await locker.query('BEGIN');
  await locker.query('LOCK TABLE products IN ACCESS EXCLUSIVE MODE');
  const stuck = [stack.http.get('/api/products')];
  await eventually(async () => {
    const { rows } = await locker.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
    );
    return rows[0].n === 1;
  }, 'the pooled connection waiting on the lock');

  let exhausted;
  try {
    exhausted = await stack.http.get('/api/products');
  } finally {
    if (!exhausted) await locker.query('COMMIT');
  }
  expect(exhausted.status).toBe(503);
  expect(exhausted.body.error.code).toBe('DATABASE_UNAVAILABLE');
  // An admin's diagnosis cannot get a connection either: 503 as well, not a hang.
  expect((await stack.http.get('/admin/system/database', admin.token)).status).toBe(503);
  // Answered while the first request is still stuck: the pool refused, it did not wait on the lock.
  const settled = await Promise.race([Promise.all(stuck).then(() => true), Promise.resolve(false)]);
  expect(settled).toBe(false);

  await locker.query('COMMIT');
  await locker.end();
  expect((await Promise.all(stuck)).map((r) => r.status)).toEqual([200]);
  expect((await stack.http.get('/api/products')).status).toBe(200);
});
