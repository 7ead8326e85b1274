/**
 * The API process: connects to PostgreSQL and Temporal, serves the Express app, and on SIGTERM
 * stops gracefully within SHUTDOWN_TIMEOUT (src/platform/shutdown.ts).
 */
// First: tracing patches Express and http as they load (src/api/start-tracing.ts).
import { tracing } from './start-tracing';
import { loadConfig } from '../platform/config';
import { followDatabaseLogin } from '../keys/database-login';
import { createDatabase } from '../platform/db';
import { logger } from '../platform/logger';
import { Keyring } from '../keys/keyring';
import { keyringRazorpayGateway } from '../payments/razorpay';
import { createStripe } from '../payments/stripe';
import { connectClient } from '../platform/temporal';
import { stopGracefully } from '../platform/shutdown';
import { createApp } from './app';

/** Secrets stored before the keyring's subkeys are still read; an operator should move them (audited). */
async function warnOfLegacySecrets(keyring: Keyring): Promise<void> {
  const count = await keyring.legacyCount().catch(() => 0); // the database may not be up yet: not a reason to stop
  if (count)
    logger.warn(
      { secrets: count },
      'keyring secrets are sealed the old way (the master key itself, no AAD): run `npm run ops -- keys rewrap --reason "..."`',
    );
}

async function main(): Promise<void> {
  const config = loadConfig();
  const { prisma, pool } = createDatabase(
    config.DATABASE_URL,
    config.DATABASE_POOL_SIZE,
    config.DATABASE_ACQUIRE_TIMEOUT,
    config.DATABASE_PREPARED_STATEMENTS,
  );
  // Listens for keyring changes made by other processes (rotations run on the workers).
  const keyring = new Keyring(prisma, config).listen(logger);
  await warnOfLegacySecrets(keyring);
  const stopFollowing = await followDatabaseLogin(pool, keyring, config.DATABASE_LOGIN_REFRESH, logger);
  const temporal = await connectClient(config);
  const app = createApp({
    config,
    prisma,
    temporal,
    stripe: createStripe(config, keyring),
    razorpay: keyringRazorpayGateway(config, keyring),
    logger,
    keyring,
    pool,
  });
  const server = app.listen(config.PORT, () => logger.info({ port: config.PORT }, 'API listening'));
  const shutdown = stopGracefully(server, {
    timeoutMs: config.SHUTDOWN_TIMEOUT,
    logger,
    cleanup: async () => {
      stopFollowing();
      await keyring.close();
      await prisma.$disconnect();
      await pool.end().catch(() => undefined); // already ended with Prisma's adapter
      await temporal.connection.close();
      await tracing?.shutdown(); // the last spans, exported before the process exits
    },
  });
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error) => {
  logger.fatal({ err: error }, 'API failed to start');
  process.exit(1);
});
