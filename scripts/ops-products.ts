/**
 * The ops CLI's catalogue commands: `products import <file>` (the runbook's "Bulk Product Import"
 * without the dashboard) stores the file and starts the same import as POST
 * /admin/products/import, as the acting admin, then follows the workflow's progress query with a
 * progress bar until it is done; `products import-status <importId>` says where one stands.
 * Exit 1 when rows were refused (the import ran; the errors are printed), 2 when the file was.
 */
import { Presets, SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import {
  importOptions,
  productImportResult,
  productImportStatus,
  startProductImport,
} from '../src/inventory/import-runs';
import type { OpsKit } from './ops-inventory';
import { positiveInteger } from './lib/cli-args';

export function registerProductCommands(program: Command, kit: OpsKit): void {
  const { withOperations, actor, print } = kit;
  const products = program.command('products').description('the catalogue: CSV imports');

  products
    .command('import <file>')
    .description(
      'import products from a CSV (sku,name,description,price,stock,category,image_url[,currency]; price in major units) ' +
        'and show its progress until it is done (Ctrl-C leaves it running); the same file again is the same import',
    )
    .option('--dry-run', 'judge every row and report; write nothing', false)
    .option('--currency <code>', 'the currency of rows without one (PRODUCT_IMPORT_CURRENCY)')
    .requiredOption('--reason <text>', 'why (recorded in the audit log)')
    .option('--errors <n>', 'row errors to print at most', positiveInteger, 100)
    .option('--no-wait', 'start it and print its import id only')
    .action(
      async (
        file: string,
        options: { dryRun: boolean; currency?: string; reason: string; errors: number; wait: boolean },
      ) => {
        const parsed = importOptions.parse({
          dryRun: options.dryRun,
          currency: options.currency,
          reason: options.reason,
        });
        await withOperations(actor(), async (deps, actorId) => {
          const started = await startProductImport(
            deps,
            { source: createReadStream(file), fileName: path.basename(file) },
            parsed,
            actorId,
          );
          if (!options.wait) return print(started);
          await follow(deps, started.importId, started.fileBytes);
          const result = await productImportResult(deps, started.importId, { limit: options.errors });
          print(result);
          if (result.failed > 0) process.exitCode = 1;
        });
      },
    );

  products
    .command('import-status <importId>')
    .description('where an import stands: counts, progress while it runs, row errors')
    .option('--after-row <n>', 'row errors after this row', positiveInteger)
    .option('--errors <n>', 'row errors to print at most', positiveInteger, 100)
    .action(async (importId: string, options: { afterRow?: number; errors: number }) =>
      print(
        await withOperations(actor(), (deps) =>
          productImportStatus(deps, importId, { afterRow: options.afterRow, limit: options.errors }),
        ),
      ),
    );
}

/** A progress bar over the file's bytes, from the workflow's query, until the import is no longer running. */
async function follow(deps: Parameters<typeof productImportStatus>[0], importId: string, fileBytes: number) {
  const bar = new SingleBar(
    {
      format: 'import [{bar}] {percentage}% | {rows} rows, {invalid} refused | {phase}',
      hideCursor: true,
      // Printed line by line when stderr is no terminal (a log, a CI job), every second.
      noTTYOutput: !process.stderr.isTTY,
      notTTYSchedule: 1000,
    },
    Presets.shades_classic,
  );
  bar.start(Math.max(1, fileBytes), 0, { rows: 0, invalid: 0, phase: 'STARTING' });
  for (;;) {
    const status = await productImportStatus(deps, importId, { limit: 1 });
    if (status.status !== 'RUNNING') {
      bar.update(Math.max(1, fileBytes), { rows: status.rowsRead, invalid: status.failed, phase: status.status });
      bar.stop();
      return;
    }
    if (status.progress)
      bar.update(status.progress.bytesRead, {
        rows: status.progress.rowsRead,
        invalid: status.progress.invalid,
        phase: status.progress.phase,
      });
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
