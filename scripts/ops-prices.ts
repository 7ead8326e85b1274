/**
 * The ops CLI's scheduled price changes: schedule, list, show and cancel, each calling the same
 * operation as the admin API (src/inventory/price-schedule-runs), as the acting admin, audited there.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { priceScheduleBody, priceSchedulesQuery } from '../src/inventory/price-schedules';
import {
  cancelPriceSchedule,
  listPriceSchedules,
  schedulePriceChange,
  showPriceSchedule,
} from '../src/inventory/price-schedule-runs';
import type { OpsKit } from './ops-inventory';
import { positiveInteger } from './lib/cli-args';

/** `<productId>=<price>` or `<productId>/<variantId>=<price>`, the price in minor units. */
function priceLine(value: string, previous: { productId: string; variantId?: string; price: number }[] = []) {
  const match = /^([0-9a-f-]{36})(?:\/([0-9a-f-]{36}))?=(\d+)$/i.exec(value.trim());
  if (!match) throw new InvalidArgumentError(`not <productId>[/<variantId>]=<price in minor units>: ${value}`);
  return [...previous, { productId: match[1], ...(match[2] ? { variantId: match[2] } : {}), price: Number(match[3]) }];
}

export function registerPriceCommands(program: Command, kit: OpsKit): void {
  const { withOperations, actor, print } = kit;
  const prices = program.command('prices').description('scheduled price changes and sales');

  prices
    .command('schedule')
    .description('schedule new prices from a start to an optional end (a sale: the previous prices come back then)')
    .requiredOption(
      '--set <productId[/variantId]=price>',
      'a new price in minor units (repeat for more products)',
      priceLine,
    )
    .requiredOption('--starts-at <time>', 'ISO 8601 start, e.g. 2026-12-24T00:00:00Z')
    .option('--ends-at <time>', 'ISO 8601 end; without it the change is for good')
    .requiredOption('--reason <text>', 'why (recorded in the audit log)')
    .option('--reference <text>', 'a campaign or ticket')
    .action(async (options) => {
      const input = priceScheduleBody.parse({
        lines: options.set,
        startsAt: options.startsAt,
        endsAt: options.endsAt,
        reason: options.reason,
        reference: options.reference,
      });
      print(
        await withOperations(actor(), (deps, actorId) =>
          schedulePriceChange(deps, input, { id: actorId, role: 'ADMIN' }),
        ),
      );
    });

  prices
    .command('list')
    .description('price schedules, newest first')
    .option('--product <id>', 'only those changing this product')
    .addOption(
      new Option('--status <status>', 'only in this status').choices(priceSchedulesQuery.shape.status.unwrap().options),
    )
    .option('--limit <n>', 'at most this many', positiveInteger, 50)
    .action(async (options) => {
      const query = priceSchedulesQuery.parse({
        productId: options.product,
        status: options.status,
        limit: options.limit,
      });
      print(await withOperations(actor(), (deps) => listPriceSchedules(deps, query)));
    });

  prices
    .command('show <scheduleId>')
    .description('one schedule: its window, status and each line before and after')
    .action(async (scheduleId: string) => {
      print(await withOperations(actor(), (deps) => showPriceSchedule(deps, scheduleId)));
    });

  prices
    .command('cancel <scheduleId>')
    .description('cancel a schedule: before its start nothing changes; during a sale the prices are restored at once')
    .requiredOption('--reason <text>', 'why')
    .action(async (scheduleId: string, options) => {
      print(
        await withOperations(actor(), (deps, actorId) =>
          cancelPriceSchedule(deps, scheduleId, { actor: { id: actorId, role: 'ADMIN' }, reason: options.reason }),
        ),
      );
    });
}
