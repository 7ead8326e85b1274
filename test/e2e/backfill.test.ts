/**
 * The runbook's migrateProductImages as a resumable backfill: a dry run that writes nothing,
 * then the real one with its worker killed (SIGKILL) halfway, paused while no worker runs, and
 * resumed. Every product ends with its images normalised, each row was written exactly once
 * (PostgreSQL's own update counter says so), the rows that could not be migrated are listed with
 * their reasons, and the workflow continued as new along the way.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { stopProcess } from '../../scripts/lib/services';
import { getBackfillQuery, type BackfillView } from '../../src/workflows/backfill/messages';
import {
  createUser,
  eventually,
  runOps,
  startStack,
  startWorkerProcess,
  type Stack,
  type TestUser,
} from '../helpers/stack';

let stack: Stack;
let admin: TestUser;
let worker: ChildProcess | undefined;

const VALID = 30;
const EMPTY = 5;
const BROKEN = 5;

beforeAll(async () => {
  stack = await startStack({ worker: false, isolatedDatabase: true });
  admin = await createUser(stack, 'ADMIN');
  const product = (i: number, imageUrl: string | null) => ({
    id: randomUUID(),
    sku: `BF-${i}-${randomUUID().slice(0, 8)}`,
    name: `Saree ${i}`,
    price: 1000,
    currency: 'INR',
    stock: 100,
    imageUrl,
  });
  await stack.prisma.product.createMany({
    data: [
      ...Array.from({ length: VALID }, (_, i) => product(i, `https://cdn.example.test/sarees/${i}.jpg`)),
      ...Array.from({ length: EMPTY }, (_, i) => product(VALID + i, null)),
      ...Array.from({ length: BROKEN }, (_, i) => product(VALID + EMPTY + i, `ftp://old-server/${i}.png`)),
    ],
  });
});
afterAll(async () => {
  await stopProcess(worker, 'SIGKILL');
  await stack.stop();
});

const view = (workflowId: string): Promise<BackfillView> =>
  stack.temporal.workflow.getHandle(workflowId).query(getBackfillQuery);

async function start(...flags: string[]): Promise<string> {
  const started = await runOps(stack, admin.email, 'backfill', 'run', 'product-images', '--no-wait', ...flags);
  expect(started.code).toBe(0);
  return (JSON.parse(started.stdout) as { workflowId: string }).workflowId;
}

async function productUpdates(): Promise<number> {
  const [row] = await stack.prisma.$queryRawUnsafe<{ n: bigint }[]>(
    "SELECT n_tup_upd AS n FROM pg_stat_user_tables WHERE relname = 'products'",
  );
  return Number(row.n);
}

test('a dry run reports what would change and writes nothing', async () => {
  worker = await startWorkerProcess(stack);
  const workflowId = await start(
    '--dry-run',
    '--reason',
    'see what the image migration would do',
    '--batch-size',
    '10',
  );
  const done = await eventually(async () => {
    const current = await view(workflowId);
    return current.status === 'DONE' && current;
  }, 'the dry run to finish');
  expect(done.counts).toMatchObject({ WOULD_CHANGE: VALID + EMPTY, FAILED: BROKEN, CHANGED: 0 });
  const [written] = await stack.prisma.$queryRawUnsafe<{ n: bigint }[]>(
    'SELECT count(*) AS n FROM products WHERE images IS NOT NULL',
  );
  expect(Number(written.n)).toBe(0);
});

test('killed halfway, paused and resumed, every row is done once and every failure kept', async () => {
  const updatesBefore = await productUpdates();
  const workflowId = await start(
    '--reason',
    "the runbook's product image migration",
    '--batch-size',
    '4',
    '--batches-per-run',
    '3',
    '--throttle',
    '300',
  );
  await eventually(async () => {
    const current = await view(workflowId);
    return current.processed >= 8 && current.status === 'RUNNING';
  }, 'two batches done');
  await stopProcess(worker, 'SIGKILL'); // mid-run: no chance to finish the batch in hand

  const paused = await runOps(stack, admin.email, 'backfill', 'pause', workflowId, '--reason', 'peak hour');
  expect(paused.code).toBe(0);
  worker = await startWorkerProcess(stack);
  const held = await eventually(async () => {
    const current = await view(workflowId);
    return current.status === 'PAUSED' && current;
  }, 'the backfill to show it is paused');
  expect(held.processed).toBeLessThan(VALID + EMPTY + BROKEN);

  expect((await runOps(stack, admin.email, 'backfill', 'resume', workflowId, '--reason', 'peak over')).code).toBe(0);
  const done = await eventually(
    async () => {
      const current = await view(workflowId);
      return current.status === 'DONE' && current;
    },
    'the backfill to finish',
    60_000,
  );
  expect(done.counts).toMatchObject({ CHANGED: VALID + EMPTY, FAILED: BROKEN, WOULD_CHANGE: 0 });
  expect(done.runs).toBeGreaterThan(1); // it continued as new every 3 batches

  // Every product has the runbook's shape; the broken ones are untouched and listed with why.
  const products = await stack.prisma.product.findMany({ orderBy: { sku: 'asc' } });
  for (const product of products) {
    if (product.imageUrl?.startsWith('https://'))
      expect(product.images).toEqual([{ url: product.imageUrl, alt: product.name, order: 0 }]);
    else if (product.imageUrl === null) expect(product.images).toEqual([]);
    else expect(product.images).toBeNull();
  }
  const status = await runOps(stack, admin.email, 'backfill', 'status', workflowId);
  const { failures } = JSON.parse(status.stdout) as { failures: { rowKey: string; error: string }[] };
  expect(failures).toHaveLength(BROKEN);
  for (const failure of failures) expect(failure.error).toMatch(/not an http\(s\) image URL: ftp:/);

  // Written once each: PostgreSQL counted exactly one update per changed row (the worker that
  // ran the rest is stopped first, so its connections' counts are in).
  await stopProcess(worker);
  worker = undefined;
  await eventually(async () => (await productUpdates()) - updatesBefore >= VALID + EMPTY, 'update counts');
  expect((await productUpdates()) - updatesBefore).toBe(VALID + EMPTY);
  expect(await stack.prisma.backfillRow.count({ where: { outcome: 'PENDING' } })).toBe(0);

  const audit = await stack.prisma.auditLog.findMany({
    where: { targetId: workflowId },
    orderBy: { createdAt: 'asc' },
  });
  expect(audit.map((entry) => [entry.action, entry.actorId])).toEqual([
    ['BACKFILL_STARTED', admin.id],
    ['BACKFILL_PAUSED', admin.id],
    ['BACKFILL_RESUMED', admin.id],
  ]);
});
