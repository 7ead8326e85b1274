/**
 * What one statement costs this project's processes, by the way it is sent: a Prisma model call,
 * a Prisma raw query, the same SQL straight through the pg pool Prisma runs on, and a Prisma
 * interactive transaction around one model call; Prisma's each sent unnamed and prepared by name
 * (DATABASE_PREPARED_STATEMENTS, src/platform/db.ts). A card order sends about 28 statements (issue
 * 18, README "Benchmarks"), so the client's share of each is a good part of the worker's and the
 * API's CPU per order; this prints it, in CPU microseconds of this process and of the PostgreSQL
 * backend serving it (one connection, so one backend), per call. It prints figures and asserts
 * nothing.
 *
 *   npm run bench:statements -- [calls]       (3,000 by default, after 300 not counted)
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createDatabase } from '../../src/platform/db';
import { dropDatabase } from '../lib/databases';
import { migrate } from '../migrate';

/** CPU seconds a process has used, user and system (Linux /proc; ticks of 10 ms). */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function main(): Promise<void> {
  const calls = Number(process.argv[2] ?? 3000);
  const databaseUrl =
    process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/durable_commerce_bench_statements';
  await dropDatabase(databaseUrl);
  await migrate(databaseUrl);
  // One connection each: every statement of a client is served by one backend, whose CPU is read
  // from /proc. One client sends its statements unnamed, the other prepares them by name.
  const unnamed = createDatabase(databaseUrl, 1, 5000, 'off');
  const named = createDatabase(databaseUrl, 1, 5000, 'on');
  const id = randomUUID();
  await unnamed.prisma.product.create({
    data: { id, sku: 'STATEMENT-COST', name: 'Statement cost', price: 100, currency: 'USD', stock: 1 },
  });
  const backendOf = async (pool: typeof unnamed.pool) =>
    ((await pool.query('SELECT pg_backend_pid() AS pid')) as { rows: { pid: number }[] }).rows[0].pid;

  const ways: [string, ReturnType<typeof createDatabase>, () => Promise<unknown>][] = [];
  for (const [how, database] of [
    ['unnamed', unnamed],
    ['named', named],
  ] as const) {
    const { prisma, pool } = database;
    ways.push(
      [
        `Prisma model findUnique, ${how}`,
        database,
        () => prisma.product.findUnique({ where: { id }, select: { id: true, stock: true } }),
      ],
      [
        `Prisma model updateMany, ${how}`,
        database,
        () => prisma.product.updateMany({ where: { id, stock: -1 }, data: { stock: 0 } }),
      ],
      [
        `Prisma $queryRaw, ${how}`,
        database,
        () => prisma.$queryRaw`SELECT id, stock FROM products WHERE id = ${id}::uuid`,
      ],
      [
        `Prisma $transaction, 1 model, ${how}`,
        database,
        () => prisma.$transaction(async (tx) => tx.product.findUnique({ where: { id }, select: { stock: true } })),
      ],
    );
    if (how === 'unnamed')
      ways.push([
        'pg pool.query, unnamed',
        database,
        () => pool.query('SELECT id, stock FROM products WHERE id = $1::uuid', [id]),
      ]);
  }
  console.log(`statement cost: ${calls} calls each, after ${calls / 10} not counted; CPU per call`);
  for (const [name, database, call] of ways) {
    for (let i = 0; i < calls / 10; i++) await call();
    const backend = await backendOf(database.pool);
    const client = process.cpuUsage();
    const server = processCpuMs(backend);
    const started = performance.now();
    for (let i = 0; i < calls; i++) await call();
    const wallUs = ((performance.now() - started) * 1000) / calls;
    const { user, system } = process.cpuUsage(client);
    const serverUs = ((processCpuMs(backend) - server) * 1000) / calls;
    console.log(
      `  ${name.padEnd(38)} client ${((user + system) / calls).toFixed(0).padStart(4)} µs, ` +
        `PostgreSQL ${serverUs.toFixed(0).padStart(4)} µs, round trip ${wallUs.toFixed(0).padStart(4)} µs`,
    );
  }
  await unnamed.prisma.$disconnect();
  await named.prisma.$disconnect();
  await dropDatabase(databaseUrl);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
