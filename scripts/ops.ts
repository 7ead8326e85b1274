/**
 * The operations CLI: the runbook's scripts, done through the same audited operations as the
 * admin API. `npm run ops -- --help` lists them. The acting admin is named with --actor (or
 * OPS_ACTOR) and must be an active admin; every command is recorded under that admin's id. The
 * one exception is `users create --role ADMIN` on a deployment with no admin account yet.
 *
 * Exit codes: 0 done, 1 the operation ran but reported failures (or could not run: a dependency
 * is down), 2 bad usage or refused (the code of a DomainError, or of a workflow's refusal, decides:
 * scripts/lib/exit-status.ts; the code is printed after the message).
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ZodError } from 'zod';
import { Command, CommanderError, Option } from 'commander';
import os from 'node:os';
import { loadConfig, type Config } from '../src/platform/config';
import { createPrisma, type PrismaClient } from '../src/platform/db';
import { DomainError } from '../src/platform/errors';
import { isErrorCode } from '../src/workflows/vocabulary';
import { Keyring, secretPurposes } from '../src/keys/keyring';
import { orderHistory } from '../src/orders/history';
import {
  cancelKeyRotation,
  confirmRotationStep,
  keyRotationView,
  listKeyRotations,
  rewrapKeyring,
  startKeyRotation,
  supplyRotationSecret,
} from '../src/keys/rotations';
import { setPaymentsEnabled } from '../src/payments/switch';
import {
  BOOTSTRAP_ACTOR,
  changeRole,
  createAccount,
  hasNoAdmin,
  newUserBody,
  restoreUser,
  suspendUser,
  userIdOf,
} from '../src/access/users';
import { grantGoodwillCredit } from '../src/refunds/wallet';
import { listWebhookEvents, replayWebhookEvents, webhookHealth } from '../src/payments/webhook-operations';
import { connectClient, type OperationsDeps } from '../src/platform/temporal';
import { maintenanceNotice, setMaintenance } from '../src/system/maintenance';
import { diagnoseDatabase, longQueries, terminateLongQueries, terminationNotice } from '../src/system/database';
import { notifyAdmins } from '../src/system/notices';
import { diagnosePayments } from '../src/system/payments-diagnosis';
import { databaseName, recordedBackup, recordedRestore } from '../src/system/backup';
import { createStripe } from '../src/payments/stripe';
import { keyringRazorpayGateway } from '../src/payments/razorpay';
import { registerInventoryCommands } from './ops-inventory';
import { registerBackfillCommands } from './ops-backfill';
import { registerProductCommands } from './ops-products';
import { registerReturnsCommands } from './ops-returns';
import { registerPriceCommands } from './ops-prices';
import { actingAdminId } from '../src/access/admins';
import { RequestSeals } from '../src/access/request-seals';
import { ask, currencyCode, date, positive, positiveInteger, readStdin, seconds } from './lib/cli-args';
import { DONE, exitStatusOf, LATER, REFUSED } from './lib/exit-status';

class UsageError extends Error {}

const providerOption = () => new Option('--provider <provider>', 'payment provider').choices(['STRIPE', 'RAZORPAY']);

/**
 * Connects, resolves the acting admin, runs `work`, and always disconnects. With `bootstrap`, a
 * command may run without an acting admin while the deployment has no admin account at all.
 */
async function withOperations<T>(
  actorEmail: string | undefined,
  work: (deps: OperationsDeps & { config: Config }, actorId: string) => Promise<T>,
  options: { bootstrap?: boolean } = {},
): Promise<T> {
  const config = loadConfig();
  const prisma = createPrisma(config.DATABASE_URL, 2);
  try {
    const actorId = await actingAdmin(prisma, actorEmail, options.bootstrap ?? false);
    const temporal = await connectClient(config);
    try {
      return await work({ prisma, temporal, config }, actorId);
    } finally {
      await temporal.connection.close();
    }
  } finally {
    await prisma.$disconnect();
  }
}

async function actingAdmin(prisma: PrismaClient, actorEmail: string | undefined, bootstrap: boolean): Promise<string> {
  if (!actorEmail) {
    if (bootstrap && (await hasNoAdmin(prisma))) return BOOTSTRAP_ACTOR;
    throw new UsageError(
      `name the acting admin with --actor <email> (or OPS_ACTOR)${bootstrap ? '; only the first admin of a deployment is created without one' : ''}`,
    );
  }
  return actingAdminId(prisma, actorEmail);
}

/** Who runs this command, as the operating system knows them (a container user may have no name). */
function operatingSystemUser(): string {
  let user: string;
  try {
    user = os.userInfo().username;
  } catch {
    user = process.env.USER ?? `uid ${process.getuid?.() ?? 'unknown'}`;
  }
  return `${user}@${os.hostname()}`;
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
  .option('--limit <n>', 'at most this many', positiveInteger, 100)
  .action(async (options) =>
    print(await withOperations(actor(), (deps, actorId) => listWebhookEvents(deps, options, actorId))),
  );

webhooks
  .command('replay')
  .description('reprocess FAILED events received between --from and --to (processed ones are skipped)')
  .addOption(providerOption().makeOptionMandatory())
  .requiredOption('--from <date>', 'received at or after', date)
  .requiredOption('--to <date>', 'received at or before', date)
  .option('--dry-run', 'only list what would be replayed', false)
  .option('--reason <text>', 'why (recorded in the audit log)')
  .action(async (options) => {
    const result = await withOperations(actor(), (deps, actorId) =>
      replayWebhookEvents(deps, { ...options, dryRun: options.dryRun }, actorId),
    );
    print(result);
    if ((result.failed ?? 0) > 0) process.exitCode = 1;
  });

webhooks
  .command('health')
  .description(
    'per provider: total, processed, failed, pending, success rate; flags rates under 95% over more than 10 events',
  )
  .option('--hours <n>', 'look back this many hours', positive, 24)
  .action(async (options) => {
    const report = await withOperations(actor(), (deps, actorId) => webhookHealth(deps, options.hours, actorId));
    print(report);
    for (const [provider, stats] of Object.entries(report.providers)) {
      if (stats.alert) console.error(`warning: low webhook success rate for ${provider}: ${stats.successRate}%`);
    }
  });

const payments = program.command('payments').description('the emergency payments switch');
for (const [name, enabled] of [
  ['disable', false],
  ['enable', true],
] as const) {
  payments
    .command(name)
    .description(
      enabled ? 'take payments again' : 'refuse new card checkouts and payment retries (503 PAYMENTS_DISABLED)',
    )
    .requiredOption('--reason <text>', 'why (recorded in the audit log)')
    .action(async (options) =>
      print(
        await withOperations(actor(), (deps, actorId) =>
          setPaymentsEnabled(deps.prisma, enabled, options.reason, actorId),
        ),
      ),
    );
}

payments
  .command('diagnose')
  .description(
    'the last hour: failed and expired payments by provider and reason, webhook figures, provider connectivity with the active key, the switch',
  )
  .action(async () =>
    print(
      await withOperations(actor(), (deps, actorId) => {
        const keyring = new Keyring(deps.prisma, deps.config);
        return diagnosePayments(
          {
            ...deps,
            keyring,
            stripe: createStripe(deps.config, keyring),
            razorpay: keyringRazorpayGateway(deps.config, keyring),
          },
          actorId,
        );
      }),
    ),
  );

const keys = program.command('keys').description('the keyring and key rotations (the runbook\'s "Rotate API Keys")');

keys
  .command('list')
  .description('every key version: purpose, kid, status, grace (never the secret)')
  .addOption(new Option('--purpose <purpose>').choices(secretPurposes))
  .action(async (options) =>
    print(
      await withOperations(actor(), async (deps) =>
        (await new Keyring(deps.prisma, deps.config).list()).filter(
          (k) => !options.purpose || k.purpose === options.purpose,
        ),
      ),
    ),
  );

keys
  .command('rotate')
  .description('start a rotation; print its id and the manual steps it will wait for')
  .addOption(new Option('--purpose <purpose>').choices(secretPurposes).makeOptionMandatory())
  .requiredOption('--reason <text>', 'why (recorded in the audit log)')
  .option('--revoke-sessions', 'JWT_SIGNING: end every session at once', false)
  .action(async (options) =>
    print(
      await withOperations(actor(), async (deps, actorId) => {
        const started = await startKeyRotation(
          deps,
          { purpose: options.purpose, reason: options.reason, revokeSessions: options.revokeSessions },
          actorId,
        );
        return { ...started, view: await keyRotationView(deps, started.workflowId) };
      }),
    ),
  );

keys
  .command('show <workflowId>')
  .description('where a rotation stands')
  .action(async (workflowId: string) =>
    print(await withOperations(actor(), (deps) => keyRotationView(deps, workflowId))),
  );

keys
  .command('supply <workflowId>')
  .description(
    "hand a rotation the new secret from the provider's dashboard, read from standard input (never an argument: it would stay in shell history)",
  )
  .option('--key-id <keyId>', 'RAZORPAY_KEY: the key id; the key secret comes from standard input')
  .action(async (workflowId: string, options) => {
    const secret = (await readStdin()).trim();
    if (!secret) throw new UsageError('pipe the secret into standard input');
    const value = options.keyId ? { keyId: options.keyId as string, keySecret: secret } : { secret };
    print(await withOperations(actor(), (deps, actorId) => supplyRotationSecret(deps, workflowId, value, actorId)));
  });

keys
  .command('confirm <workflowId> <stepId>')
  .description('confirm a manual step of a rotation is done at the provider')
  .option('--note <text>', 'what was done (recorded in the audit log)')
  .action(async (workflowId: string, stepId: string, options) =>
    print(
      await withOperations(actor(), (deps, actorId) =>
        // Sealed as the API seals it: the ops CLI holds the master key too.
        confirmRotationStep(
          { ...deps, seals: RequestSeals.fromConfig(deps.config) },
          workflowId,
          stepId,
          options.note,
          actorId,
        ),
      ),
    ),
  );

keys
  .command('cancel <workflowId>')
  .description(
    'cancel a rotation: rolled back if its new key is not promoted yet; a promoted key finishes its rotation',
  )
  .requiredOption('--reason <text>', 'why (recorded in the audit log)')
  .action(async (workflowId: string, options) =>
    print(
      await withOperations(actor(), (deps, actorId) => cancelKeyRotation(deps, workflowId, options.reason, actorId)),
    ),
  );

keys
  .command('rotations')
  .description("this deployment's key rotations, newest first")
  .addOption(new Option('--purpose <purpose>').choices(secretPurposes))
  .option('--limit <n>', 'at most this many', positiveInteger, 50)
  .action(async (options) =>
    print(
      await withOperations(actor(), (deps) =>
        listKeyRotations(deps, { purpose: options.purpose, limit: options.limit }),
      ),
    ),
  );

keys
  .command('rewrap')
  .description(
    're-encrypt every keyring secret under MASTER_KEY_ID (after adding a new master key, so the old one can go, ' +
      'and after upgrading, for secrets still sealed the old way); running it again moves nothing',
  )
  .requiredOption('--reason <text>', 'why (recorded in the audit log)')
  .action(async (options) =>
    print(await withOperations(actor(), (deps, actorId) => rewrapKeyring(deps, options.reason, actorId))),
  );

const users = program
  .command('users')
  .description('accounts and their access (the runbook\'s "Creating Admin User" and "User Access Management")');

users
  .command('create')
  .description(
    'create an account; its initial password is read from standard input (never an argument: it would stay in shell history)',
  )
  .requiredOption('--email <email>', "the account's email address")
  .requiredOption('--name <name>', "the person's name")
  .addOption(new Option('--role <role>', 'CUSTOMER or ADMIN').choices(['CUSTOMER', 'ADMIN']).default('CUSTOMER'))
  .requiredOption('--reason <text>', 'why (recorded in the audit log)')
  .action(async (options) => {
    const password = (await readStdin()).replace(/\r?\n$/, '');
    if (!password) throw new UsageError('pipe the initial password into standard input');
    const parsed = newUserBody.safeParse({ ...options, password });
    if (!parsed.success)
      throw new UsageError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    // The first admin of a new deployment has no admin to vouch for it: recorded as the bootstrap.
    const bootstrap = parsed.data.role === 'ADMIN';
    print(
      await withOperations(
        actor(),
        (deps, actorId) =>
          createAccount(
            deps.prisma,
            parsed.data,
            actorId === BOOTSTRAP_ACTOR ? { bootstrap: { ranBy: operatingSystemUser() } } : actorId,
          ),
        { bootstrap },
      ),
    );
  });

users
  .command('suspend <user>')
  .description('suspend an account (id or email): every session ends at once, its tokens are refused')
  .requiredOption('--reason <text>', 'why (recorded on the account and in the audit log)')
  .action(async (user: string, options) =>
    print(
      await withOperations(actor(), async (deps, actorId) =>
        suspendUser(deps.prisma, { userId: await userIdOf(deps.prisma, user), reason: options.reason, actorId }),
      ),
    ),
  );

users
  .command('restore <user>')
  .description('lift a suspension (id or email): the user may sign in again')
  .requiredOption('--reason <text>', 'why (recorded in the audit log)')
  .action(async (user: string, options) =>
    print(
      await withOperations(actor(), async (deps, actorId) =>
        restoreUser(deps.prisma, { userId: await userIdOf(deps.prisma, user), reason: options.reason, actorId }),
      ),
    ),
  );

users
  .command('role <user> <role>')
  .description('make an account (id or email) a CUSTOMER or an ADMIN')
  .requiredOption('--reason <text>', 'why (recorded in the audit log)')
  .action(async (user: string, role: string, options) => {
    if (role !== 'CUSTOMER' && role !== 'ADMIN') throw new UsageError(`role is CUSTOMER or ADMIN, not ${role}`);
    print(
      await withOperations(actor(), async (deps, actorId) =>
        changeRole(deps.prisma, { userId: await userIdOf(deps.prisma, user), role, reason: options.reason, actorId }),
      ),
    );
  });

program
  .command('wallets')
  .description('store credit (the runbook\'s "Manually Crediting Wallet")')
  .command('credit <user>')
  .description("a goodwill credit to a customer's wallet (id or email), in minor units, audited")
  .requiredOption('--amount <n>', 'minor units (cents, paise)', positiveInteger)
  .requiredOption('--reason <text>', 'why (recorded in the ledger and the audit log)')
  .option('--currency <code>', "the wallet's currency (a new wallet's; default USD)", currencyCode)
  .option('--key <text>', 'an idempotency key: the same command run again with it credits once')
  .action(async (user: string, options) =>
    print(
      await withOperations(actor(), async (deps, actorId) =>
        grantGoodwillCredit(deps.prisma, {
          userId: await userIdOf(deps.prisma, user),
          amount: options.amount,
          currency: options.currency,
          reason: options.reason,
          adminId: actorId,
          requestKey: options.key,
        }),
      ),
    ),
  );

program
  .command('audit')
  .description('audit trails')
  .command('order <orderId>')
  .description("an order's timeline from its workflow history: who did what, and when")
  .option('--page <n>', 'page', positiveInteger, 1)
  .option('--page-size <n>', 'entries per page', positiveInteger, 500)
  .option('--json', 'print JSON instead of lines', false)
  .action(async (orderId: string, options) => {
    const history = await withOperations(actor(), (deps, actorId) =>
      orderHistory(deps, orderId, { page: options.page, pageSize: options.pageSize }, actorId),
    );
    if (options.json) return print(history);
    for (const e of history.entries) {
      console.log(
        [e.at, e.workflowId, e.kind, e.name, e.actor && `by ${e.actor}`, e.detail].filter(Boolean).join('  '),
      );
    }
  });

const system = program.command('system').description('incident controls (the runbook\'s "Emergency payment actions")');

system
  .command('maintenance <state>')
  .description('on: storefront writes answer 503 MAINTENANCE (reads, admin routes and webhooks go on); off: open again')
  .requiredOption('--reason <text>', 'why (recorded in the audit log and emailed to every admin)')
  .action(async (wanted: string, options) => {
    if (wanted !== 'on' && wanted !== 'off') throw new UsageError(`maintenance takes on or off, not ${wanted}`);
    print(
      await withOperations(actor(), async (deps, actorId) => {
        const state = await setMaintenance(deps.prisma, wanted === 'on', options.reason, actorId);
        const adminsNotified = await notifyAdmins(deps, maintenanceNotice(state));
        const { auditId: _auditId, ...view } = state;
        return { ...view, adminsNotified };
      }),
    );
  });

const db = program.command('db').description('the database: diagnosis, emergency actions, backup and restore');

db.command('diagnose')
  .description('connection time, connections by state against the pool and max_connections, long queries, lock waits')
  .option('--longer-than <duration>', 'list queries running longer than this', seconds, 300)
  .action(async (options) =>
    print(
      await withOperations(actor(), (deps) =>
        diagnoseDatabase(deps.prisma, {
          poolSize: deps.config.DATABASE_POOL_SIZE,
          longerThanSeconds: options.longerThan,
        }),
      ),
    ),
  );

db.command('terminate-long-queries')
  .description("terminate this database's queries running longer than --older-than (never this command's own)")
  .option('--older-than <duration>', 'the limit', seconds, 600)
  .requiredOption('--reason <text>', 'why (recorded in the audit log with what was terminated)')
  .option('--yes', 'do not ask for confirmation', false)
  .action(async (options) => {
    const result = await withOperations(actor(), async (deps, actorId) => {
      let onlyPids: number[] | undefined;
      if (!options.yes) {
        const found = await longQueries(deps.prisma, options.olderThan);
        if (found.length === 0) return { database: undefined, olderThanSeconds: options.olderThan, terminated: [] };
        for (const q of found) console.error(`pid ${q.pid}  ${q.user}  ${q.durationSeconds}s  ${q.state}  ${q.query}`);
        const answer = await ask(`Terminate these ${found.length} queries? Type yes to go on: `);
        if (answer !== 'yes') throw new UsageError('not confirmed: nothing was terminated');
        onlyPids = found.map((q) => q.pid);
      }
      const done = await terminateLongQueries(
        deps.prisma,
        { olderThanSeconds: options.olderThan, reason: options.reason, onlyPids },
        actorId,
      );
      if (done.terminated.length > 0) await notifyAdmins(deps, terminationNotice(done, options.reason));
      const { auditId: _auditId, ...view } = done;
      return view;
    });
    print(result);
    if (result.terminated.some((q) => !q.terminated)) process.exitCode = 1;
  });
registerInventoryCommands(program, { withOperations, actor, print });
registerBackfillCommands(program, { withOperations, actor, print });
registerProductCommands(program, { withOperations, actor, print });
registerReturnsCommands(program, { withOperations, actor, print });
registerPriceCommands(program, { withOperations, actor, print });

db.command('backup')
  .description(
    'pg_dump --format=custom, verified with pg_restore --list, with a manifest (checksum, row counts) and retention',
  )
  .option('--dir <dir>', 'where to write it (BACKUP_DIR)')
  .option('--retention-days <n>', 'remove backups older than this (BACKUP_RETENTION_DAYS)', positiveInteger)
  .requiredOption('--reason <text>', 'why (recorded in the audit log)')
  .action(async (options) =>
    print(
      await withOperations(actor(), async (deps, actorId) => {
        const result = await recordedBackup(
          deps.prisma,
          {
            databaseUrl: deps.config.DATABASE_ADMIN_URL ?? deps.config.DATABASE_URL,
            dir: options.dir ?? deps.config.BACKUP_DIR,
            retentionDays: options.retentionDays ?? deps.config.BACKUP_RETENTION_DAYS,
          },
          { actorId, reason: options.reason },
        );
        return {
          file: result.file,
          size: result.size,
          sha256: result.sha256,
          entries: result.entries,
          removed: result.removed,
        };
      }),
    ),
  );

db.command('restore <file>')
  .description(
    'overwrite the database with a backup: a pre-restore backup first, other connections terminated, restored in one transaction, row counts and migrations verified',
  )
  .option('--yes', 'do not ask to type the database name', false)
  .option('--dir <dir>', 'where the pre-restore backup goes (BACKUP_DIR)')
  .requiredOption('--reason <text>', 'why (recorded in the audit log)')
  .action(async (file: string, options) => {
    const config = loadConfig();
    const databaseUrl = config.DATABASE_ADMIN_URL ?? config.DATABASE_URL;
    const name = databaseName(databaseUrl);
    if (!options.yes) {
      console.error(`This overwrites the database ${name} with ${file}.`);
      const typed = await ask(`Type the database name (${name}) to go on: `);
      if (typed !== name) throw new UsageError('not confirmed: nothing was restored');
    }
    const result = await withOperations(actor(), async (deps, actorId) => {
      // Audited after the restore, into the restored database (before it, the entry would be overwritten).
      return recordedRestore(
        deps.prisma,
        {
          databaseUrl,
          file,
          dir: options.dir ?? deps.config.BACKUP_DIR,
          retentionDays: deps.config.BACKUP_RETENTION_DAYS,
        },
        { actorId, reason: options.reason },
      );
    });
    print(result);
    if (result.verified && result.verified.mismatches.length > 0) process.exitCode = 1;
  });

// Every command and its options as JSON (hidden from --help): what test/deploy/recovery-drill.test.ts
// checks the README's commands against, and what a shell completion can read.
program
  .command('commands', { hidden: true })
  .description('every command with its arguments and options, as JSON')
  .action(() => {
    const tree = (command: Command): Record<string, unknown> => ({
      name: command.name(),
      arguments: command.registeredArguments.map((a) => ({ name: a.name(), required: a.required })),
      options: command.options.map((o) => ({
        long: o.long,
        mandatory: o.mandatory,
        takesValue: o.required || o.optional,
      })),
      commands: command.commands.map(tree),
    });
    print(tree(program));
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? DONE : REFUSED; // help and version exit 0; usage errors 2
    return;
  }
  if (error instanceof ZodError) {
    console.error(`error: ${error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ')}`);
    process.exitCode = 2;
    return;
  }
  // A refusal by the workflow (an update's validator or handler) reads as its own message, with its code.
  const cause = (error as { cause?: unknown })?.cause;
  const refusal =
    error instanceof WorkflowUpdateFailedError && cause instanceof ApplicationFailure && isErrorCode(cause.type)
      ? new DomainError(cause.type, cause.message, cause.details?.[0])
      : undefined;
  const message =
    error instanceof WorkflowUpdateFailedError && cause instanceof Error
      ? cause.message
      : error instanceof Error
        ? error.message
        : String(error);
  const domain = refusal ?? (error instanceof DomainError ? error : undefined);
  console.error(`error: ${message}${domain ? ` (${domain.code})` : ''}`);
  if (domain) {
    process.exitCode = exitStatusOf(domain.code);
    return;
  }
  const refused = error instanceof UsageError || error instanceof WorkflowUpdateFailedError;
  process.exitCode = refused ? REFUSED : LATER;
});
