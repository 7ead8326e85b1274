/**
 * The ops CLI's inventory and catalogue commands (and re-sending an order's confirmation) (the runbooks' stock procedures without SQL):
 * each calls the same operation as the admin API, as the acting admin, and is audited there.
 */
import type { Command } from 'commander';
import type { Config } from '../src/platform/config';
import type { OperationsDeps } from '../src/platform/temporal';
import { checkLedger } from '../src/inventory/ledger';
import { adjustmentBody, adjustStock, listAdjustments } from '../src/inventory/adjustments';
import { resetBody } from '../src/inventory/resets';
import { rollbackResetRun, showReset, startReset } from '../src/inventory/reset-runs';
import { readFileSync } from 'node:fs';
import { resendConfirmation } from '../src/orders/confirmation';
import { lowStockList } from '../src/inventory/low-stock';
import { count, date, positiveInteger as positive } from './lib/cli-args';

export interface OpsKit {
  withOperations: <T>(
    actorEmail: string | undefined,
    work: (deps: OperationsDeps & { config: Config }, actorId: string) => Promise<T>,
  ) => Promise<T>;
  actor: () => string | undefined;
  print: (value: unknown) => void;
}

export function registerInventoryCommands(program: Command, kit: OpsKit): void {
  const { withOperations, actor, print } = kit;
  const inventory = program.command('inventory').description('stock on hand, the ledger, adjustments and resets');

  inventory
    .command('check')
    .description('prove that every product and variant has the stock its ledger rows add up to (exit 1 if not)')
    .action(async () => {
      const result = await withOperations(actor(), ({ prisma }) => checkLedger(prisma));
      print(result);
      if (result.mismatches.length > 0) process.exitCode = 1;
    });

  inventory
    .command('adjust')
    .description("set a product's (or variant's) count on hand, with a reason (the runbook's manual adjustment)")
    .requiredOption('--product <id>', 'product id')
    .option('--variant <id>', 'variant id')
    .requiredOption('--new-stock <n>', 'the count on hand', count)
    .requiredOption('--reason <text>', 'why (recorded in the ledger and the audit log)')
    .option('--reference <text>', 'a count sheet or ticket')
    .action(async (options) => {
      const input = adjustmentBody.parse({
        productId: options.product,
        variantId: options.variant,
        newStock: options.newStock,
        reason: options.reason,
        reference: options.reference,
      });
      print(await withOperations(actor(), ({ prisma }, actorId) => adjustStock(prisma, input, actorId)));
    });

  inventory
    .command('adjustments')
    .description('adjustments, newest first, with who and why')
    .option('--product <id>', 'only this product')
    .option('--from <date>', 'made at or after', date)
    .option('--to <date>', 'made at or before', date)
    .option('--limit <n>', 'at most this many', positive, 100)
    .action(async (options) => {
      print(
        await withOperations(actor(), ({ prisma }) =>
          listAdjustments(prisma, {
            productId: options.product,
            from: options.from,
            to: options.to,
            limit: options.limit,
          }),
        ),
      );
    });

  inventory
    .command('reset <file>')
    .description(
      'reset many counts at once (physical-count reconciliation) from a JSON file {adjustments:[{productId, variantId?, newQuantity, reason}], reason, reference}',
    )
    .action(async (file: string) => {
      const input = resetBody.parse(JSON.parse(readFileSync(file, 'utf8')));
      print(await withOperations(actor(), (deps, actorId) => startReset(deps, input, { id: actorId, role: 'ADMIN' })));
    });

  inventory
    .command('reset-status <resetId>')
    .description('where a reset stands: status, each line before and after, errors, rollback')
    .action(async (resetId: string) => {
      print(await withOperations(actor(), (deps) => showReset(deps, resetId)));
    });

  inventory
    .command('rollback <resetId>')
    .description("reverse a reset's lines as deltas (sales since are kept)")
    .requiredOption('--reason <text>', 'why')
    .action(async (resetId: string, options) => {
      const result = await withOperations(actor(), (deps, actorId) =>
        rollbackResetRun(deps, resetId, { actor: { id: actorId, role: 'ADMIN' }, reason: options.reason }),
      );
      print(result);
      if (result.lines.some((l) => l.status === 'REFUSED')) process.exitCode = 1;
    });

  inventory
    .command('low-stock')
    .description('everything at or below its low-stock threshold, lowest first')
    .action(async () => {
      print({ items: await withOperations(actor(), ({ prisma }) => lowStockList(prisma)) });
    });

  program
    .command('orders')
    .description('order operations')
    .command('send-confirmation <orderId>')
    .description("re-send a confirmed order's confirmation email to its customer (audited)")
    .requiredOption('--reason <text>', 'why')
    .action(async (orderId: string, options) => {
      print(
        await withOperations(actor(), (deps, actorId) =>
          resendConfirmation(deps, { orderId, actorId, reason: options.reason }),
        ),
      );
    });
}
