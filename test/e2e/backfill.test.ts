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
import { runBackfillBatch } from '../../src/backfills/backfills';
import { getBackfillQuery, type BackfillView } from '../../src/workflows/backfill/messages';
import { eventually, runOps, startWorkerProcess, useStack } from '../helpers/stack';

const { stack, admin, beforeStop } = useStack({ worker: false, isolatedDatabase: true });
let worker: ChildProcess | undefined;
beforeStop(() => stopProcess(worker, 'SIGKILL'));

const VALID = 30;
const EMPTY = 5;
const BROKEN = 5;

beforeAll(async () => {
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

test('`ops backfill <name> --dry-run` shows its progress, reports what would change and writes nothing', async () => {
  worker = await startWorkerProcess(stack);
  // The issue's own form: no `run`, waiting with its progress bar (lines, as stderr is no terminal here).
  const run = await runOps(
    stack,
    admin.email,
    'backfill',
    'product-images',
    '--dry-run',
    '--reason',
    'see what the image migration would do',
    '--batch-size',
    '10',
  );
  expect(run.code).toBe(1); // it ran, and some rows would fail
  const done = JSON.parse(run.stdout) as BackfillView & { failures: { rowKey: string; error: string }[] };
  expect(done).toMatchObject({ status: 'DONE', dryRun: true, workflowStatus: 'COMPLETED', moreFailures: false });
  expect(done.counts).toMatchObject({ WOULD_CHANGE: VALID + EMPTY, FAILED: BROKEN, CHANGED: 0 });
  expect(done.failures).toHaveLength(BROKEN);
  const progress = run.stderr.split('\n').filter((line) => line.startsWith('product-images ['));
  expect(progress.length).toBeGreaterThanOrEqual(2); // the first line, and the last
  expect(progress.at(-1)).toContain(`${VALID + EMPTY + BROKEN}/${VALID + EMPTY + BROKEN} rows | DONE`);
  expect(progress.at(-1)).toContain(`${VALID + EMPTY} would change, ${BROKEN} failed`);
  const [written] = await stack.prisma.$queryRawUnsafe<{ n: bigint }[]>(
    'SELECT count(*) AS n FROM products WHERE images IS NOT NULL',
  );
  expect(Number(written.n)).toBe(0);
  expect(await stack.prisma.auditLog.count({ where: { action: 'BACKFILL_DRY_RUN_STARTED', actorId: admin.id } })).toBe(
    1,
  );
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
  expect(done.counts).toEqual({ CHANGED: VALID + EMPTY, FAILED: BROKEN, WOULD_CHANGE: 0, UNCHANGED: 0, SKIPPED: 0 });
  // 40 rows 4 at a time: 10 full batches and an empty one, continued as new after every 3.
  expect([done.batches, done.runs]).toEqual([11, 4]);
  const runs = await eventually(async () => {
    const found = [];
    for await (const run of stack.temporal.workflow.list({ query: `WorkflowId = '${workflowId}'` })) found.push(run);
    return found.length === 4 && found;
  }, 'four runs in visibility');
  expect(runs.filter((run) => run.status.name === 'CONTINUED_AS_NEW')).toHaveLength(3);
  // Its progress is in its search attributes, for `temporal workflow list --query`.
  await eventually(async () => {
    const query = `BackfillName = 'product-images' AND BackfillProcessed = ${VALID + EMPTY + BROKEN} AND ExecutionStatus = 'Completed'`;
    for await (const run of stack.temporal.workflow.list({ query })) if (run.workflowId === workflowId) return true;
    return false;
  }, 'the search attributes');

  // Paused meant paused: no batch was scheduled between the pause signal and the resume signal.
  const events = [];
  for (const run of runs) {
    const history = await stack.temporal.workflow.getHandle(workflowId, run.runId).fetchHistory();
    events.push(...(history.events ?? []));
  }
  const kinds = events.map((e) =>
    e.workflowExecutionSignaledEventAttributes
      ? e.workflowExecutionSignaledEventAttributes.signalName
      : e.activityTaskScheduledEventAttributes
        ? 'batch'
        : undefined,
  );
  const pausedAt = kinds.indexOf('pauseBackfill');
  const resumedAt = kinds.indexOf('resumeBackfill');
  expect(pausedAt).toBeGreaterThan(0);
  expect(resumedAt).toBeGreaterThan(pausedAt);
  expect(kinds.slice(pausedAt, resumedAt).filter((k) => k === 'batch')).toEqual([]);
  expect(kinds.slice(resumedAt).filter((k) => k === 'batch').length).toBeGreaterThan(0);

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
  const broken = products.filter((p) => p.imageUrl?.startsWith('ftp:')).map((p) => p.id);
  expect(failures.map((f) => f.rowKey)).toEqual([...broken].sort());
  // Paged, every failure is reached: 2, then the rest after the last key seen.
  const first = JSON.parse(
    (await runOps(stack, admin.email, 'backfill', 'status', workflowId, '--failures', '2')).stdout,
  );
  expect([first.failures.length, first.moreFailures]).toEqual([2, true]);
  const rest = JSON.parse(
    (await runOps(stack, admin.email, 'backfill', 'status', workflowId, '--failures-after', first.failures[1].rowKey))
      .stdout,
  );
  expect([...first.failures, ...rest.failures]).toEqual(failures);
  expect(rest.moreFailures).toBe(false);

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

test('a batch retried after its worker died midway redoes no row and counts each row as first recorded', async () => {
  // Three products first in key order: an unusable URL, then two good ones.
  const early = ['ftp://old/a.png', 'https://cdn.example.test/b.jpg', 'https://cdn.example.test/c.jpg'].map(
    (imageUrl, i) => ({
      id: `00000000-0000-4000-8000-00000000000${i + 1}`,
      sku: `BF-EARLY-${i}`,
      name: `Early ${i}`,
      price: 1000,
      currency: 'INR',
      stock: 1,
      imageUrl,
    }),
  );
  await stack.prisma.product.createMany({ data: early });
  const backfillId = randomUUID();
  const attempt = (limit: number) =>
    runBackfillBatch(stack.prisma, { backfillId, name: 'product-images', limit, dryRun: false });
  const versions = async () =>
    stack.prisma.$queryRawUnsafe<{ id: string; xmin: string }[]>(
      'SELECT id::text, xmin::text FROM products WHERE id = ANY($1::uuid[]) ORDER BY id',
      early.map((p) => p.id),
    );

  // The first attempt of a 3-row batch got through two rows, each committed with its record, then its worker died.
  const died = await attempt(2);
  expect(died.counts).toMatchObject({ FAILED: 1, CHANGED: 1 });
  const before = await versions();
  // Temporal runs the batch again from the same cursor: the two are not done again, and still count as they went.
  const retried = await attempt(3);
  expect(retried.counts).toEqual({ FAILED: 1, CHANGED: 2, UNCHANGED: 0, WOULD_CHANGE: 0, SKIPPED: 0 });
  const after = await versions();
  expect(after.slice(0, 2)).toEqual(before.slice(0, 2)); // the same row versions: not rewritten
  expect(after[2].xmin).not.toBe(before[2].xmin); // the third, new to this attempt, was written
  const recorded = await stack.prisma.backfillRow.findMany({ where: { backfillId }, orderBy: { rowKey: 'asc' } });
  expect(recorded.map((r) => r.outcome)).toEqual(['FAILED', 'CHANGED', 'CHANGED']);
  expect(recorded[0].error).toMatch(/not an http\(s\) image URL: ftp:/);
});
