/**
 * The runbook's database diagnosis and emergency action, through the admin API and the ops CLI:
 * a long query and a lock wait seen as they happen, and a long query (pg_sleep in a connection
 * of its own) actually terminated, audited with what was killed, while the API's own
 * connections carry on; queries of another database and queries under the limit are left alone,
 * and admins are emailed what was killed. Its own database, so no other test file's queries are in reach.
 */
import pg from 'pg';
import { createProduct, createUser, eventually, mailsTo, runOps, runOpsWithInput, useStack } from '../helpers/stack';

// With a worker: the admins are emailed what was terminated.
const { stack, admin, beforeStop } = useStack({ isolatedDatabase: true });
const clients: pg.Client[] = [];
beforeStop(() => Promise.all(clients.map((c) => c.end().catch(() => undefined))));

async function connection(databaseUrl = stack.config.DATABASE_URL): Promise<{ client: pg.Client; pid: number }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on('error', () => undefined); // a terminated connection reports here too
  await client.connect();
  clients.push(client);
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return { client, pid: rows[0].pid };
}

/** Starts `SELECT pg_sleep(600)` in a connection of its own; answers its pid and how the query ended. */
async function longQuery(
  databaseUrl?: string,
  text = 'SELECT pg_sleep(600) /* long report */',
): Promise<{ pid: number; ended: Promise<unknown> }> {
  const { client, pid } = await connection(databaseUrl);
  const ended = client.query(text).then(
    () => 'finished',
    (error: { code?: string }) => error.code,
  );
  return { pid, ended };
}

/** Whether backend `pid` (any database on the server) is still running its query. */
async function stillRunning(pid: number): Promise<boolean> {
  const rows = await stack.prisma.$queryRaw<{ state: string }[]>`SELECT state FROM pg_stat_activity WHERE pid = ${pid}`;
  return rows[0]?.state === 'active';
}

test('the diagnosis shows a long query and a lock wait; the long query is terminated, audited', async () => {
  const product = await createProduct(stack, admin, { stock: 3 });
  const sleeper = await longQuery();
  // The same server's other database: never this database's to list or to terminate.
  const elsewhere = new URL(stack.config.DATABASE_URL);
  elsewhere.pathname = '/postgres';
  const foreign = await longQuery(elsewhere.toString());
  // A transaction holding a row lock, and an update waiting for it.
  const holder = await connection();
  await holder.client.query('BEGIN');
  await holder.client.query('SELECT * FROM products WHERE id = $1 FOR UPDATE', [product.id]);
  const waiter = await connection();
  const waited = waiter.client.query('UPDATE products SET stock = stock WHERE id = $1', [product.id]);

  const diagnosis = await eventually(async () => {
    const { status, body } = await stack.http.get('/admin/system/database?longerThan=1s', admin.token);
    expect(status).toBe(200);
    return body.longQueries.some((q: { pid: number }) => q.pid === sleeper.pid) && body.lockWaits.length > 0 && body;
  }, 'long query and lock wait visible');
  expect(diagnosis.connectionMs).toBeGreaterThanOrEqual(0);
  expect(diagnosis.connections).toMatchObject({ poolSize: stack.config.DATABASE_POOL_SIZE });
  expect(diagnosis.connections.maxConnections).toBeGreaterThan(0);
  expect(diagnosis.connections.byState.active).toBeGreaterThanOrEqual(2);
  expect(diagnosis.longQueries.find((q: { pid: number }) => q.pid === sleeper.pid)).toMatchObject({
    state: 'active',
    query: 'SELECT pg_sleep(600) /* long report */',
  });
  expect(diagnosis.longQueries.map((q: { pid: number }) => q.pid)).not.toContain(foreign.pid);
  expect(diagnosis.lockWaits).toEqual([
    expect.objectContaining({ pid: waiter.pid, blockedBy: [holder.pid], waitEventType: 'Lock' }),
  ]);
  // The default window is 5 minutes: nothing of ours is that old.
  expect((await stack.http.get('/admin/system/database', admin.token)).body).toMatchObject({
    longerThanSeconds: 300,
    longQueries: [],
  });
  await holder.client.query('COMMIT');
  await waited;

  // Bad input changes nothing.
  for (const body of [{ olderThan: 'soon', reason: 'x' }, { olderThan: '10m' }, { olderThan: '500ms', reason: 'x' }]) {
    const refused = await stack.http.post('/admin/system/database/terminate-long-queries', body, admin.token);
    expect([refused.status, refused.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);
  }
  const customer = await createUser(stack);
  expect(
    (
      await stack.http.post(
        '/admin/system/database/terminate-long-queries',
        { olderThan: '1s', reason: 'x' },
        customer.token,
      )
    ).status,
  ).toBe(403);

  // Past a limit it has not reached, the long query is left alone.
  const notYet = await stack.http.post(
    '/admin/system/database/terminate-long-queries',
    { olderThan: '10m', reason: 'only the stuck ones' },
    admin.token,
  );
  expect([notYet.status, notYet.body.terminated, notYet.body.adminsNotified]).toEqual([200, [], false]);
  expect(await stillRunning(sleeper.pid)).toBe(true);

  const done = await stack.http.post(
    '/admin/system/database/terminate-long-queries',
    { olderThan: '1s', reason: 'report query hogging the database' },
    admin.token,
  );
  expect(done.status).toBe(200);
  expect(done.body.terminated).toEqual([
    expect.objectContaining({ pid: sleeper.pid, terminated: true, query: 'SELECT pg_sleep(600) /* long report */' }),
  ]);
  expect(await sleeper.ended).toBe('57P01'); // terminating connection due to administrator command
  expect((await stack.http.get('/api/products')).status).toBe(200); // the API's own connections are untouched
  // Only this database's: the other database's long query runs on.
  expect(await stillRunning(foreign.pid)).toBe(true);
  const [entry] = await stack.prisma.auditLog.findMany({
    where: { action: 'DATABASE_QUERIES_TERMINATED', reason: 'report query hogging the database' },
  });
  expect(entry).toMatchObject({ actorId: admin.id, targetId: new URL(stack.config.DATABASE_URL).pathname.slice(1) });
  expect(entry.after).toEqual({
    olderThanSeconds: 1,
    terminated: [
      expect.objectContaining({ pid: sleeper.pid, terminated: true, query: 'SELECT pg_sleep(600) /* long report */' }),
    ],
  });
  await eventually(
    async () => mailsTo(stack, admin.email, `1 long-running queries terminated on ${entry.targetId}`).length === 1,
    'the admins emailed what was terminated',
  );
  await stack.prisma.$queryRaw`SELECT pg_terminate_backend(${foreign.pid}::int)`; // the test's own clean-up
  expect(await foreign.ended).toBe('57P01');
});

test('the CLI diagnoses, and terminates only after a confirmation', async () => {
  const sleeper = await longQuery();
  const diagnosis = await eventually(async () => {
    const run = await runOps(stack, admin.email, 'db', 'diagnose', '--longer-than', '1s');
    expect(run.code).toBe(0);
    const body = JSON.parse(run.stdout);
    return body.longQueries.some((q: { pid: number }) => q.pid === sleeper.pid) && body;
  }, 'the CLI sees the long query');
  expect(diagnosis.connections.maxConnections).toBeGreaterThan(0);

  const refused = await runOpsWithInput(
    stack,
    admin.email,
    'no\n',
    'db',
    'terminate-long-queries',
    '--older-than',
    '1s',
    '--reason',
    'x',
  );
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain(`pid ${sleeper.pid}`);
  const confirmed = await runOpsWithInput(
    stack,
    admin.email,
    'yes\n',
    'db',
    'terminate-long-queries',
    '--older-than',
    '1s',
    '--reason',
    'stuck export',
  );
  expect(confirmed.code).toBe(0);
  expect(JSON.parse(confirmed.stdout).terminated).toEqual([
    expect.objectContaining({ pid: sleeper.pid, terminated: true }),
  ]);
  expect(await sleeper.ended).toBe('57P01');

  // A query with a long text (a report with its column list) is shown cut to 300 characters.
  const report = `SELECT pg_sleep(600) /* ${'monthly revenue by region and channel, '.repeat(20)} */`;
  const other = await longQuery(undefined, report);
  const seen = await eventually(async () => {
    const body = JSON.parse((await runOps(stack, admin.email, 'db', 'diagnose', '--longer-than', '1s')).stdout);
    return body.longQueries.find((q: { pid: number }) => q.pid === other.pid);
  }, 'the second long query is past the limit');
  expect(seen.query).toBe(`${report.replace(/\s+/g, ' ').slice(0, 300)}…`);
  expect(seen.durationSeconds).toBeGreaterThanOrEqual(1);
  const yes = await runOps(
    stack,
    admin.email,
    'db',
    'terminate-long-queries',
    '--older-than',
    '1s',
    '--reason',
    'again',
    '--yes',
  );
  expect(yes.code).toBe(0);
  expect(await other.ended).toBe('57P01');
  expect(await stack.prisma.auditLog.count({ where: { action: 'DATABASE_QUERIES_TERMINATED' } })).toBe(4);
});
