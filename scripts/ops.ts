/**
 * The operations CLI: the runbook's scripts, done through the same audited operations as the
 * admin API. `npm run ops -- --help` lists them. The acting admin is named with --actor (or
 * OPS_ACTOR) and must exist with role ADMIN; every command is recorded under that admin's id.
 *
 * Exit codes: 0 done, 1 the operation ran but reported failures, 2 bad usage or refused.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { loadConfig } from '../src/config';
import { createPrisma } from '../src/db';
import { orderHistory } from '../src/operations/history';
import { setPaymentsEnabled } from '../src/operations/payments';
import { listWebhookEvents, replayWebhookEvents, webhookHealth, type OperationsDeps } from '../src/operations/webhooks';
import { connectClient } from '../src/temporal';

class UsageError extends Error {}

function date(value: string): Date {
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime())) throw new InvalidArgumentError(`not a date: ${value} (use ISO 8601, e.g. 2026-01-15T00:00:00Z)`);
  return parsed;
}
function positive(value: string): number {
  const parsed = Number(value);
  if (!(parsed > 0)) throw new InvalidArgumentError(`not a positive number: ${value}`);
  return parsed;
}
const providerOption = () => new Option('--provider <provider>', 'payment provider').choices(['STRIPE', 'RAZORPAY']);

/** Connects, resolves the acting admin, runs `work`, and always disconnects. */
async function withOperations<T>(actorEmail: string | undefined, work: (deps: OperationsDeps, actorId: string) => Promise<T>): Promise<T> {
  if (!actorEmail) throw new UsageError('name the acting admin with --actor <email> (or OPS_ACTOR)');
  const config = loadConfig();
  const prisma = createPrisma(config.DATABASE_URL, 2);
  try {
    const actor = await prisma.user.findUnique({ where: { email: actorEmail.toLowerCase() } });
    if (actor?.role !== 'ADMIN') throw new UsageError(`${actorEmail} is not an admin`);
    const temporal = await connectClient(config);
    try {
      return await work({ prisma, temporal, config }, actor.id);
    } finally {
      await temporal.connection.close();
    }
  } finally {
    await prisma.$disconnect();
  }
}

function print(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

const program = new Command('ops')
  .description('durable-commerce operations (audited)')
  .option('--actor <email>', 'the admin running the command', process.env.OPS_ACTOR)
  .exitOverride()
  .showHelpAfterError();
const actor = () => program.opts<{ actor?: string }>().actor;

const webhooks = program.command('webhooks').description('the webhook inbox');

webhooks
  .command('list')
  .description('stored webhook events, newest first')
  .addOption(providerOption())
  .addOption(new Option('--status <status>').choices(['PENDING', 'PROCESSED', 'FAILED']))
  .option('--from <date>', 'received at or after', date)
  .option('--to <date>', 'received at or before', date)
  .option('--limit <n>', 'at most this many', positive, 100)
  .action(async (options) => print(await withOperations(actor(), (deps, actorId) => listWebhookEvents(deps, options, actorId))));

webhooks
  .command('replay')
  .description('reprocess FAILED events received between --from and --to (processed ones are skipped)')
  .addOption(providerOption().makeOptionMandatory())
  .requiredOption('--from <date>', 'received at or after', date)
  .requiredOption('--to <date>', 'received at or before', date)
  .option('--dry-run', 'only list what would be replayed', false)
  .option('--reason <text>', 'why (recorded in the audit log)')
  .action(async (options) => {
    const result = await withOperations(actor(), (deps, actorId) => replayWebhookEvents(deps, { ...options, dryRun: options.dryRun }, actorId));
    print(result);
    if ((result.failed ?? 0) > 0) process.exitCode = 1;
  });

webhooks
  .command('health')
  .description('per provider: total, processed, failed, pending, success rate; flags rates under 95% over more than 10 events')
  .option('--hours <n>', 'look back this many hours', positive, 24)
  .action(async (options) => {
    const report = await withOperations(actor(), (deps, actorId) => webhookHealth(deps, options.hours, actorId));
    print(report);
    for (const [provider, stats] of Object.entries(report.providers)) {
      if (stats.alert) console.error(`warning: low webhook success rate for ${provider}: ${stats.successRate}%`);
    }
  });

const payments = program.command('payments').description('the emergency payments switch');
for (const [name, enabled] of [['disable', false], ['enable', true]] as const) {
  payments
    .command(name)
    .description(enabled ? 'take payments again' : 'refuse new card checkouts and payment retries (503 PAYMENTS_DISABLED)')
    .requiredOption('--reason <text>', 'why (recorded in the audit log)')
    .action(async (options) => print(await withOperations(actor(), (deps, actorId) => setPaymentsEnabled(deps.prisma, enabled, options.reason, actorId))));
}

program
  .command('audit')
  .description('audit trails')
  .command('order <orderId>')
  .description("an order's timeline from its workflow history: who did what, and when")
  .option('--page <n>', 'page', positive, 1)
  .option('--page-size <n>', 'entries per page', positive, 500)
  .option('--json', 'print JSON instead of lines', false)
  .action(async (orderId: string, options) => {
    const history = await withOperations(actor(), (deps, actorId) => orderHistory(deps, orderId, { page: options.page, pageSize: options.pageSize }, actorId));
    if (options.json) return print(history);
    for (const e of history.entries) {
      console.log([e.at, e.workflowId, e.kind, e.name, e.actor && `by ${e.actor}`, e.detail].filter(Boolean).join('  '));
    }
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : 2; // help and version exit 0; usage errors 2
    return;
  }
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
