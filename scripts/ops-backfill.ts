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
          const bar = new SingleBar(
            { format: `${name} [{bar}] {value}/{total} rows | {status} | {failed} failed`, hideCursor: true },
            Presets.shades_classic,
          );
          bar.start(total, 0, { status: 'RUNNING', failed: 0 });
          for (;;) {
            const status = await backfillStatus(deps, started.workflowId);
            bar.update(status.processed, { status: status.status, failed: status.counts.FAILED });
            if (status.status === 'DONE') {
              bar.stop();
              print({ ...started, ...status });
              if (status.counts.FAILED > 0) process.exitCode = 1;
              return;
            }
            await new Promise((resolve) => setTimeout(resolve, 500));
          }
        });
      },
    );

  backfill
    .command('status <workflowId>')
    .description('where a backfill stands, with every row that failed and why')
    .action(async (workflowId: string) =>
      print(await withOperations(actor(), (deps) => backfillStatus(deps, workflowId))),
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
