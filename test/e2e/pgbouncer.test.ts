/**
 * The system behind a real PgBouncer (Debian's package) in transaction mode, the long-term fix
 * of the runbook's scenario 6: the API, the worker and the test all connect through it, with
 * fewer server connections than clients, so consecutive statements of one client land on
 * different server connections. Sign-in (a transaction-scoped advisory lock), concurrent
 * checkouts (no oversell), a payment webhook to CONFIRMED and the database diagnosis all work.
 * Migrations run directly against PostgreSQL (they hold a session lock), as the README says.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { dropDatabase } from '../../scripts/lib/databases';
import { startPgBouncer, type PgBouncer } from '../../scripts/lib/pgbouncer';
import { createDatabase, reachesPostgresItself } from '../../src/platform/db';
import { createProduct, createUser, eventually, untilOrder, useStack } from '../helpers/stack';
import { deliverStripeEvent, paymentIntentEvent } from '../helpers/webhooks';
import { migratedScratchDatabase } from '../helpers/databases';

let bouncer: PgBouncer;
let direct: string;
beforeAll(async () => {
  direct = await migratedScratchDatabase('bouncer');
  bouncer = await startPgBouncer({ upstreamUrl: direct, poolSize: 3 });
});
const { stack, admin } = useStack(() => ({ env: { DATABASE_URL: bouncer.urlFor(direct) } }));
afterAll(async () => {
  // After the stack stops.
  await bouncer?.stop();
  await dropDatabase(direct);
});

async function adminConsole(command: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: bouncer.urlFor(direct).replace(/\/[^/?]+(\?|$)/, '/pgbouncer$1') });
  await client.connect();
  try {
    return (await client.query(command)).rows;
  } finally {
    await client.end();
  }
}

test('checkout, sign-in, webhooks and the diagnosis work through PgBouncer in transaction mode', async () => {
  const product = await createProduct(stack, admin, { stock: 4, price: 900 });
  const customers = await Promise.all(Array.from({ length: 6 }, () => createUser(stack)));
  const checkouts = await Promise.all(
    customers.map((c) =>
      stack.http.post(
        '/api/checkout',
        { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' },
        c.token,
      ),
    ),
  );
  expect(checkouts.map((c) => c.status).sort()).toEqual([201, 201, 201, 201, 409, 409]);
  const stored = await stack.prisma.product.findUniqueOrThrow({ where: { id: product.id } });
  expect([stored.stock, stored.reservedStock]).toEqual([4, 4]);

  const index = checkouts.findIndex((c) => c.status === 201);
  const orderId = checkouts[index].body.orderId as string;
  const order = (await stack.http.get(`/api/orders/${orderId}`, customers[index].token)).body;
  const event = paymentIntentEvent('payment_intent.succeeded', {
    id: order.paymentIntentId,
    orderId,
    amount: 900,
    currency: 'usd',
  });
  expect((await deliverStripeEvent(stack, event)).status).toBe(200);
  await untilOrder(stack, orderId, customers[index].token, (o) => o.status === 'CONFIRMED', 'order confirmed');

  const diagnosis = await stack.http.get('/admin/system/database', admin.token);
  expect(diagnosis.status).toBe(200);

  // It really went through PgBouncer, in transaction mode, on at most 3 server connections.
  const database = new URL(direct).pathname.slice(1);
  const pools = (await adminConsole('SHOW POOLS')).filter((p) => p.database === database);
  expect(pools).toEqual([expect.objectContaining({ pool_mode: 'transaction' })]);
  const servers = (await adminConsole('SHOW SERVERS')).filter((s) => s.database === database);
  expect(servers.length).toBeLessThanOrEqual(3);
  const clients = (await adminConsole('SHOW CLIENTS')).filter((c) => c.database === database);
  expect(clients.length).toBeGreaterThan(servers.length);
  const [stats] = (await adminConsole('SHOW STATS')).filter((s) => s.database === database);
  expect(Number(stats.total_xact_count)).toBeGreaterThan(50);
  // The keyring did not LISTEN through PgBouncer: it saw a pooler and keeps its copy for the TTL only.
  expect(stack.apiLogs.join('\n')).toContain('KEYRING_LISTEN_URL reaches a connection pooler');
});

test('statements are prepared by name straight to PostgreSQL, and go unnamed through PgBouncer', async () => {
  // Named statements through PgBouncer 1.18 in transaction mode would land on server connections
  // that never prepared them (the checkout above would fail): the pool asks first.
  const throughBouncer = new pg.Pool({ connectionString: bouncer.urlFor(direct), max: 1 });
  const straight = new pg.Pool({ connectionString: direct, max: 1 });
  try {
    expect(await reachesPostgresItself(throughBouncer)).toBe(false);
    expect(await reachesPostgresItself(straight)).toBe(true);
  } finally {
    await Promise.all([throughBouncer.end(), straight.end()]);
  }
  // With `auto`, a pool straight to PostgreSQL names its statements once it has asked.
  const { prisma } = createDatabase(direct, 1, 5000, 'auto');
  try {
    const preparedHere = async () =>
      (
        await prisma.$queryRaw<
          { n: number }[]
        >`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'dc\_%'`
      )[0].n;
    await eventually(async () => (await preparedHere()) > 0, 'a statement prepared by name', 10_000);
    // ... and the same text keeps its one prepared statement.
    const before = await preparedHere();
    for (let i = 0; i < 5; i++) await prisma.product.findMany({ take: 1 });
    expect(await preparedHere()).toBeLessThanOrEqual(before + 1);
  } finally {
    await prisma.$disconnect();
  }
});

test('application code takes only transaction-scoped advisory locks and keeps no session state', () => {
  // Session-scoped locks, LISTEN, session settings and named prepared statements would each
  // outlive the transaction, on a server connection PgBouncer hands to someone else next. The one
  // LISTEN is the keyring's, on a connection of its own to KEYRING_LISTEN_URL (never the pool's),
  // which refuses a pooler (src/keys/keyring-changes.ts); the one statement name generator is the
  // pool's, which names nothing through a pooler (src/platform/db.ts, namedStatements).
  const listen = /\bLISTEN\s+\w/i;
  const statementNames = /statementNameGenerator\s*:/i;
  const forbidden = [
    /pg_(try_)?advisory_lock(_shared)?\(/i,
    listen,
    /\bSET\s+SESSION\b/i,
    /\bSET\s+(search_path|role|statement_timeout|lock_timeout|time zone)\b/i,
    statementNames,
  ];
  const allowed: Record<string, RegExp> = {
    [path.join('src', 'keys', 'keyring-changes.ts')]: listen,
    [path.join('src', 'platform', 'db.ts')]: statementNames,
  };
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== 'generated') walk(file);
      else if (entry.isFile() && file.endsWith('.ts')) {
        const text = readFileSync(file, 'utf8');
        const exempt = Object.entries(allowed).find(([own]) => file.endsWith(own))?.[1];
        for (const pattern of forbidden)
          if (pattern !== exempt && pattern.test(text)) offenders.push(`${file}: ${pattern.source}`);
      }
    }
  };
  walk(path.join(__dirname, '..', '..', 'src'));
  expect(offenders).toEqual([]);
});
