/**
 * The ops CLI's backfill commands: start a data backfill (or its dry run) and watch it with a
 * progress bar, see where one stands with every row that failed, pause and resume it. Each
 * calls src/backfills/runs.ts as the acting admin, audited there.
 */
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { backfillNames } from '../src/backfills/backfills';
import { backfillStatus, controlBackfill, startBackfill } from '../src/backfills/runs';
import type { OpsKit } from './ops-inventory';
import { positiveInteger } from './lib/cli-args';

export function registerBackfillCommands(program: Command, kit: OpsKit): void {
  const { withOperations, actor, print } = kit;
  const backfill = program
    .command('backfill')
    .description(`data backfills as resumable workflows (${backfillNames.join(', ')})`);

  backfill
    .command('run <name>', { isDefault: true })
    .description('start a backfill and show its progress until it is done (Ctrl-C leaves it running)')
    .option('--dry-run', 'read every row and report what would change; write nothing', false)
    .requiredOption('--reason <text>', 'why (recorded in the audit log)')
    .option('--batch-size <n>', 'rows per batch (one activity each)', positiveInteger, 100)
    .option('--batches-per-run <n>', 'batches before the workflow continues as new', positiveInteger, 50)
    .option('--throttle <ms>', 'pause this long between batches, to spare the database', positiveInteger)
    .option('--no-wait', 'start it and print its workflow id only')
    .action(
      async (
        name: string,
        options: {
          dryRun: boolean;
          reason: string;
          batchSize: number;
          batchesPerRun: number;
          throttle?: number;
          wait: boolean;
        },
      ) => {
        await withOperations(actor(), async (deps, actorId) => {
          const started = await startBackfill(deps, { name, ...options, throttleMs: options.throttle }, actorId);
          if (!options.wait) return print(started);
          const total = await deps.prisma.product.count(); // every backfill so far walks the products
          const done = await follow(deps, name, started.workflowId, total);
          print({ ...started, ...done });
          if (done.workflowStatus !== 'COMPLETED' || done.counts.FAILED > 0) process.exitCode = 1;
        });
      },
    );

  backfill
    .command('status <workflowId>')
    .description(
      'where a backfill stands, with the rows that failed and why (in key order; page on with --failures-after)',
    )
    .option('--failures <n>', 'list at most this many failed rows', positiveInteger, 1000)
    .option('--failures-after <rowKey>', 'list the failed rows after this key (the last one listed before)')
    .action(async (workflowId: string, options: { failures: number; failuresAfter?: string }) =>
      print(
        await withOperations(actor(), (deps) =>
          backfillStatus(deps, workflowId, { failuresLimit: options.failures, failuresAfter: options.failuresAfter }),
        ),
      ),
    );

  for (const action of ['pause', 'resume'] as const) {
    backfill
      .command(`${action} <workflowId>`)
      .description(
        `${action} a running backfill (it ${action === 'pause' ? 'stops after the batch in hand' : 'goes on where it stopped'})`,
      )
      .requiredOption('--reason <text>', 'why (recorded in the audit log)')
      .action(async (workflowId: string, options: { reason: string }) =>
        print(
          await withOperations(actor(), (deps, actorId) =>
            controlBackfill(deps, workflowId, action, options.reason, actorId),
          ),
        ),
      );
  }
}

/**
 * A progress bar from the workflow's query until it is no longer running: on a terminal it
 * redraws; on anything else (a log, a CI job, a pipe) it prints a line every second.
 */
async function follow(deps: Parameters<typeof backfillStatus>[0], name: string, workflowId: string, total: number) {
  const bar = new SingleBar(
    {
      format: `${name} [{bar}] {value}/{total} rows | {status} | {changed} {verb}, {failed} failed | batch {batches}, run {runs}`,
      hideCursor: true,
      noTTYOutput: !process.stderr.isTTY,
      notTTYSchedule: 1000,
    },
    Presets.shades_classic,
  );
  bar.start(Math.max(1, total), 0, { status: 'STARTING', changed: 0, verb: 'changed', failed: 0, batches: 0, runs: 1 });
  try {
    for (;;) {
      const status = await backfillStatus(deps, workflowId, { failuresLimit: 100 });
      bar.setTotal(Math.max(1, total, status.processed));
      bar.update(status.processed, {
        status: status.status,
        changed: status.dryRun ? status.counts.WOULD_CHANGE : status.counts.CHANGED,
        verb: status.dryRun ? 'would change' : 'changed',
        failed: status.counts.FAILED,
        batches: status.batches,
        runs: status.runs,
      });
      if (status.workflowStatus !== 'RUNNING' && status.workflowStatus !== 'CONTINUED_AS_NEW') return status;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    bar.stop();
  }
}
